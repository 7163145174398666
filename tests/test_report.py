"""auditlink report against aureport 3.0.9: the same text for every report,
with and without --summary, -i, --failed/--success; the typed rows API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import auditlink
from auditlink.report import REPORT_KINDS

DATA = Path(__file__).parent / "data"
LOGS = [DATA / "corpus_raw.log", DATA / "corpus_enriched.log"]
ENV = dict(os.environ, LC_ALL="C")
OPTIONS = [
    "",
    "-x",
    "-k",
    "-f",
    "-u",
    "-l",
    "-au",
    "-m",
    "-c",
    "-s",
    "-e",
    "-p",
    "-tm",
    "-h",
    "-n",
    "--comm",
]
EXTRAS = [[], ["--summary"], ["-i"], ["-i", "--summary"], ["--failed"], ["--success", "--summary"]]
needs_aureport = pytest.mark.skipif(shutil.which("aureport") is None, reason="aureport missing")


def run(cmd: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, capture_output=True, env=ENV)


@needs_aureport
@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o or "summary")
def test_report_text_equals_aureport(log: Path, option: str) -> None:
    for extra in EXTRAS:
        args = [a for a in [option, *extra] if a]
        ref = run(["aureport", "-if", str(log), *args])
        got = run([sys.executable, "-m", "auditlink", "report", "-if", str(log), *args])
        assert (got.stdout, got.returncode) == (ref.stdout, ref.returncode), args


#: Reports whose events only a SELinux/virt/crypto machine writes: checked
#: on crafted records of those kinds (tests/data/labels.log), with the other
#: reports that agree there (the rest differ: docs/search.md).
TYPED_OPTIONS = ["-ma", "--integrity", "--virt", "-cr", "-r"]
AGREEING = ["-k", "-l", "-au", "-m", "-c", "-s", "-e", "-p", "-h", "-n", "--comm"]


@needs_aureport
@pytest.mark.parametrize("option", AGREEING + TYPED_OPTIONS)
def test_typed_reports_equal_aureport(option: str) -> None:
    log = DATA / "labels.log"
    for extra in EXTRAS:
        args = [a for a in [option, *extra] if a]
        ref = run(["aureport", "-if", str(log), *args])
        got = run([sys.executable, "-m", "auditlink", "report", "-if", str(log), *args])
        assert (got.stdout, got.returncode) == (ref.stdout, ref.returncode), args


def test_unimplemented_options_fail_clearly() -> None:
    for option in ("-a", "-t", "--tty", "-nc"):
        got = run([sys.executable, "-m", "auditlink", "report", "-if", str(LOGS[0]), option])
        assert got.returncode == 2 and b"not implemented" in got.stderr, option


@needs_aureport
def test_time_range_and_nothing_found() -> None:
    log = str(LOGS[0])
    for args in (
        ["-ts", "01/01/20", "00:00:00", "-te", "12/31/30", "00:00:00"],
        ["-ts", "11/24/26", "15:28:15", "-te", "11/24/26", "15:28:16"],
        ["-x", "-ts", "01/01/31"],
    ):
        ref = run(["aureport", "-if", log, *args])
        got = run([sys.executable, "-m", "auditlink", "report", "-if", log, *args])
        assert (got.stdout, got.returncode) == (ref.stdout, ref.returncode)


def test_rows_api() -> None:
    r = auditlink.report(LOGS[0], "executable", summary=True)
    assert r.columns == ("total", "file") and r.found
    counts = [int(row[0]) for row in r.rows]
    assert counts == sorted(counts, reverse=True)
    d = auditlink.report(LOGS[0], "key")
    assert d.columns[:2] == ("date", "time") and d.columns[2] == "key"
    assert all(len(row) == len(d.columns) for row in d.rows)
    s = auditlink.report(LOGS[0])
    labels = {row[0]: row[1] for row in s.rows}
    assert int(labels["Number of events"]) > 0
    failed = auditlink.report(LOGS[0], "syscall", failed=True)
    assert all(row[-1] for row in failed.rows)
    assert set(REPORT_KINDS) >= {"summary", "executable", "comm"}
    with pytest.raises(ValueError):
        auditlink.report(LOGS[0], "nope")
