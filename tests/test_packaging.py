"""The package as users install it: one version everywhere, a cheap import, the man
pages and the CLI reference generated from the argparse parsers.

CI runs this file (with the whole suite) against the installed wheel in a fresh
virtualenv per CPython, with ``AUDITLINK_TEST_INSTALLED=1``: then ``auditlink`` must
come from site-packages, not from the source tree.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

import auditlink
from auditlink import __main__ as cli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import check_dist  # noqa: E402
import cli_model  # noqa: E402
import gen_exports  # noqa: E402
import gen_man  # noqa: E402
import mkdocs_hooks  # noqa: E402

PACKAGE_DIR = Path(auditlink.__file__).resolve().parent
MAN_DIR = PACKAGE_DIR / "share" / "man"

# Modules `import auditlink` must not pull in: each costs more than the package itself
# and only some programs use them (asyncio is imported by messages_async on first use).
HEAVY_MODULES = ("asyncio", "concurrent.futures", "subprocess", "multiprocessing", "http")


def test_one_version_everywhere() -> None:
    assert auditlink.__version__ == check_dist.cargo_version()
    assert importlib.metadata.version("auditlink") == auditlink.__version__
    out = subprocess.run(
        [sys.executable, "-m", "auditlink", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == f"auditlink {auditlink.__version__}\n"


def test_each_stub_describes_an_importable_area_of_the_extension() -> None:
    """``_native/<area>.pyi`` describes ``auditlink._native.<area>``: the stub folder
    does not shadow the extension module, and every area's names are the
    extension's own objects."""
    from auditlink import _native

    assert Path(_native.__file__).name.startswith("_native.")  # the .so, not the folder
    areas = sorted(p.stem for p in (PACKAGE_DIR / "_native").glob("*.pyi"))
    areas.remove("__init__")
    exported = {"__version__", "message_types"}
    for area in areas:
        module = importlib.import_module(f"auditlink._native.{area}")
        assert getattr(_native, area) is module
        assert module.__all__, area
        for name in module.__all__:
            assert getattr(_native, name) is getattr(module, name)
        exported |= set(module.__all__)
    assert set(vars(_native)["__all__"]) == exported  # PyO3 makes it; the stub has none


def test_import_pulls_in_no_heavy_module() -> None:
    code = (
        f"import sys, auditlink; print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def _modules_after(code: str) -> set[str]:
    run = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(run.stdout.split())


def test_import_loads_no_submodule() -> None:
    loaded = _modules_after("import auditlink")
    assert sorted(m for m in loaded if m.startswith("auditlink")) == ["auditlink"]
    assert "typing" not in loaded


def test_every_public_name_is_importable_from_the_package() -> None:
    for name in auditlink.__all__:
        module = importlib.import_module(auditlink._MODULE_OF[name], "auditlink")
        assert getattr(auditlink, name) is getattr(module, name), name
    assert set(auditlink.__all__) <= set(dir(auditlink))
    assert set(auditlink._MODULE_OF) == set(auditlink.__all__)
    star: dict[str, object] = {}
    exec("from auditlink import *", star)
    assert set(auditlink.__all__) <= set(star)
    with pytest.raises(AttributeError, match="no_such_name"):
        auditlink.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_the_copies_of_the_package_names_are_up_to_date() -> None:
    """``_MODULE_OF`` is the one list; the type checkers' imports and the literal
    ``__all__`` of ``__init__.py`` are written from it by tools/gen_exports.py."""
    text = (ROOT / "python" / "auditlink" / "__init__.py").read_text()
    assert gen_exports.render(text) == text, "run python tools/gen_exports.py"


def test_daemon_command_registers_before_other_imports(tmp_path: Path) -> None:
    """What ``auditlink daemon`` has imported when it starts the native daemon
    (which registers): after a restart, every module imported before that is
    time in which the kernel has no daemon to hand records to."""
    (tmp_path / "auditd.conf").write_text("")
    code = f"""
import sys
from auditlink import _native
def started(*args, **kwargs):
    print(" ".join(sys.modules))
    raise SystemExit(0)
_native.AuditClient = lambda *a, **k: None
_native.Daemon = started
from auditlink.__main__ import main
main(["daemon", "-n", "-c", {str(tmp_path)!r}])
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(run.stdout.split())
    # The extension's own areas (auditlink._native.<area>) come with it, no import.
    ours = {
        m for m in loaded if m.startswith("auditlink") and not m.startswith("auditlink._native.")
    }
    assert ours == {
        "auditlink",
        "auditlink._native",
        "auditlink.__main__",
        "auditlink._cli_daemon",
        "auditlink.daemon",
    }
    assert not loaded & {"logging", "pathlib", "socket", "signal", "json", *HEAVY_MODULES}


def test_asyncio_api_still_works_after_lazy_import() -> None:
    import asyncio

    from auditlink.testing import FakeKernel

    async def first_record(fake: FakeKernel) -> bytes:
        with fake.client() as client:
            fake.send_record(1107, b"audit(1.000:1): msg='hi'")
            async for msg in client.messages_async(timeout=2.0):
                return msg.data
        return b""

    with FakeKernel() as fake:
        assert asyncio.run(first_record(fake)).endswith(b"msg='hi'")


@pytest.mark.skipif(
    os.environ.get("AUDITLINK_TEST_INSTALLED") != "1",
    reason="only when testing an installed wheel (AUDITLINK_TEST_INSTALLED=1)",
)
def test_package_comes_from_site_packages() -> None:
    site = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    assert PACKAGE_DIR.parent in site, f"auditlink imported from {PACKAGE_DIR}"
    assert ROOT / "python" not in PACKAGE_DIR.parents


def _expected_pages() -> set[str]:
    return {f"man1/{cmd.name}.1" for cmd in cli_model.commands()}


def test_every_command_has_its_man_page_in_the_package() -> None:
    found = {str(p.relative_to(MAN_DIR)) for p in MAN_DIR.glob("man1/*.1")}
    assert found == _expected_pages()
    assert "man1/auditlink.1" in found


def _man_warnings(page: Path) -> str:
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    run = subprocess.run(
        ["man", "--warnings", "-l", str(page)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert page.stem.split(".")[0].split("-")[0] in run.stdout.lower()
    return run.stderr


@pytest.mark.skipif(shutil.which("man") is None, reason="man (man-db) is not installed")
def test_installed_man_pages_render_without_warnings() -> None:
    pages = sorted(MAN_DIR.glob("man*/*"))
    assert pages
    for page in pages:
        assert _man_warnings(page) == "", page


@pytest.fixture
def extra_subcommand(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A parser with one more subcommand, as another module would register it."""
    original = cli.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        p = sub.add_parser("frobnicate", help="a command added later", description="Frobs.")
        p.add_argument("--level", type=int, default=3, help="how much (default %(default)s)")
        p.add_argument("target", help="what to frob")
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    yield


@pytest.mark.usefixtures("extra_subcommand")
def test_a_new_subcommand_gets_a_man_page_and_a_reference_section() -> None:
    pages = gen_man.render(None)
    page = pages["man1/auditlink-frobnicate.1"]
    assert ".B \\-\\-level LEVEL\nhow much (default 3)" in page
    assert "auditlink\\-frobnicate (1)" in pages["man1/auditlink.1"]
    assert "## `auditlink frobnicate`" in mkdocs_hooks.cli_markdown()
    assert "| `--level LEVEL` | how much (default 3) |" in mkdocs_hooks.cli_markdown()


def test_the_committed_man_pages_are_current() -> None:
    if not (ROOT / "python" / "auditlink" / "share").is_dir():
        pytest.skip("no source tree next to the tests")
    assert gen_man.main(["--check", "--out", str(ROOT / "python/auditlink/share/man")]) == 0


SAMPLE_CONFIG = """\
# auditlink.toml: the daemon's configuration.
# Every key is optional.

# Where events go.
[log]
# The log file, in auditd's format.
file = "/var/log/audit/audit.log"
# Rotate after this many bytes
# (0: never).
max_size = 8388608

[[plugins]]
name = "syslog"
"""


def test_config_page_from_the_commented_sample(tmp_path: Path) -> None:
    sample = tmp_path / "auditlink.toml"
    sample.write_text(SAMPLE_CONFIG)
    page = gen_man.render(sample)["man5/auditlink.toml.5"]
    assert '.TH "AUDITLINK.TOML" "5"' in page
    assert "auditlink.toml: the daemon's configuration. Every key is optional." in page
    assert "\\fB[log]\\fR\n.PP\nWhere events go." in page
    assert "\\fBmax_size\\fR = 8388608\nRotate after this many bytes (0: never)." in page
    assert "\\fB[plugins]\\fR" in page
    if shutil.which("man"):
        out = tmp_path / "auditlink.toml.5"
        out.write_text(page)
        assert _man_warnings(out) == ""


def test_roff_escapes() -> None:
    assert gen_man.roff(".x\n'y -z \\ \u2014") == "\\&.x\n\\&'y \\-z \\e \\[u2014]"
