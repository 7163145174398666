"""Check what `make wheel` put in dist/: one abi3 manylinux wheel and one sdist.

- the wheel is ``auditlink-<Cargo.toml version>-cp39-abi3-<tags>.whl`` and claims
  ``manylinux_2_17_x86_64``;
- ``auditwheel show`` finds it consistent with that tag, i.e. the extension links
  nothing beyond the manylinux2014 policy (its output is printed);
- the wheel holds the extension, the typed stubs, ``py.typed`` and every man page
  of python/auditlink/share/man; the sdist holds what a build from it needs.

    python tools/check_dist.py dist
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLAIMED_TAG = "manylinux_2_17_x86_64"
STUBS = sorted(
    str(p.relative_to(ROOT / "python"))
    for p in (ROOT / "python" / "auditlink" / "_native").glob("*.pyi")
)


def cargo_version() -> str:
    """The one version: ``[package] version`` of Cargo.toml."""
    text = (ROOT / "Cargo.toml").read_text()
    package = text.split("[package]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', package, re.M)
    if not match:
        raise SystemExit("no version in Cargo.toml [package]")
    return match.group(1)


def man_pages() -> list[str]:
    base = ROOT / "python"
    return sorted(str(p.relative_to(base)) for p in (base / "auditlink/share/man").glob("man*/*"))


def check_wheel(wheel: Path, version: str) -> list[str]:
    errors = []
    name = re.fullmatch(r"auditlink-([^-]+)-cp39-abi3-([^-]+)\.whl", wheel.name)
    if not name:
        return [f"{wheel.name}: not an auditlink cp39-abi3 wheel"]
    if name.group(1) != version:
        errors.append(f"{wheel.name}: version {name.group(1)}, Cargo.toml says {version}")
    if CLAIMED_TAG not in name.group(2).split("."):
        errors.append(f"{wheel.name}: does not claim {CLAIMED_TAG}")
    show = subprocess.run(
        [sys.executable, "-m", "auditwheel", "show", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    print(show.stdout.strip())
    consistent = re.search(r'consistent with the following platform tag:\s*"([^"]+)"', show.stdout)
    if show.returncode != 0 or not consistent:
        errors.append(f"auditwheel show failed: {show.stderr.strip() or show.stdout.strip()}")
    elif consistent.group(1) != CLAIMED_TAG:
        errors.append(f"auditwheel: consistent with {consistent.group(1)}, not {CLAIMED_TAG}")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = ["auditlink/_native.abi3.so", *STUBS, "auditlink/py.typed"]
    wanted += man_pages()
    errors += [f"{wheel.name}: missing {w}" for w in wanted if w not in names]
    if not man_pages():
        errors.append("no man pages in python/auditlink/share/man: run make man")
    return errors


def check_sdist(sdist: Path, version: str) -> list[str]:
    if sdist.name != f"auditlink-{version}.tar.gz":
        return [f"{sdist.name}: expected auditlink-{version}.tar.gz"]
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    wanted = ["pyproject.toml", "Cargo.toml", "Cargo.lock", "rust/lib.rs"]
    wanted += ["python/auditlink/__init__.py", *(f"python/{s}" for s in STUBS)]
    wanted += [f"python/{page}" for page in man_pages()]
    return [f"{sdist.name}: missing {w}" for w in wanted if w not in names]


def main(argv: list[str]) -> int:
    dist = Path(argv[1] if len(argv) > 1 else "dist")
    version = cargo_version()
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"{dist}: want one wheel and one sdist, found {wheels + sdists}", file=sys.stderr)
        return 1
    errors = check_wheel(wheels[0], version) + check_sdist(sdists[0], version)
    for error in errors:
        print(f"check_dist: {error}", file=sys.stderr)
    if not errors:
        print(f"check_dist: {wheels[0].name} and {sdists[0].name} OK (version {version})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
