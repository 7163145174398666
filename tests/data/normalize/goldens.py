"""Make the reference outputs for a log: libauparse's normalizer (python3-audit)
and ``ausearch --format csv/text``, in UTC and the C.UTF-8 locale.

    python tests/data/normalize/goldens.py LOG OUTDIR NAME

writes OUTDIR/NAME.norm.jsonl (``make_golden.py``), NAME.csv, NAME.xcsv
(``--extra-keys --extra-labels --extra-obj2 --extra-time``), NAME.text. The
tests call ``make_goldens`` when the peers are installed and fall back to the
committed files under tests/data/normalize/golden/ otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"
EXTRA = ["--extra-keys", "--extra-labels", "--extra-obj2", "--extra-time"]
ENV = {"TZ": "UTC", "LC_ALL": "C.UTF-8", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def peers_present() -> bool:
    if shutil.which("ausearch") is None or not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import auparse"], capture_output=True, check=False
    )
    return probe.returncode == 0


def _ausearch(log: Path, args: list[str]) -> bytes:
    # ausearch exits 1 (and says "<no matches>") for an empty selection.
    r = subprocess.run(
        ["ausearch", "-if", str(log), *args], capture_output=True, env=ENV, check=False
    )
    return r.stdout


def make_goldens(log: Path, outdir: Path, name: str) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "make_golden.py"), str(log), str(outdir / f"{name}.norm.jsonl")],
        check=True,
        env=ENV,
    )
    (outdir / f"{name}.csv").write_bytes(_ausearch(log, ["--format", "csv"]))
    (outdir / f"{name}.xcsv").write_bytes(_ausearch(log, ["--format", "csv", *EXTRA]))
    (outdir / f"{name}.text").write_bytes(_ausearch(log, ["--format", "text"]))


if __name__ == "__main__":
    make_goldens(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
