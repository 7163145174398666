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


#: Hand-made AVC, USER_AVC, TTY and USER_TTY records in the kernel's and
#: auditd's layouts (this kernel has no SELinux and no pam_tty_audit here).
AVC_TTY = DATA / "avc_tty.log"


def same_as_aureport(log: Path | None, args: list[str], stdin: bytes | None = None) -> None:
    source = ["-if", str(log)] if log else []
    ref = subprocess.run(["aureport", *source, *args], capture_output=True, env=ENV, input=stdin)
    cmd = [sys.executable, "-m", "auditlink", "report", *source, *args]
    got = subprocess.run(cmd, capture_output=True, env=ENV, input=stdin)
    assert (got.stdout, got.returncode) == (ref.stdout, ref.returncode), args
    if ref.returncode:
        assert got.stderr == ref.stderr, args


@needs_aureport
@pytest.mark.parametrize("log", [AVC_TTY, DATA / "labels.log", *LOGS], ids=lambda p: p.name)
@pytest.mark.parametrize("option", ["-a", "--tty"])
def test_avc_and_tty_reports_equal_aureport(log: Path, option: str) -> None:
    for extra in EXTRAS:
        same_as_aureport(log, [option, *extra])


@needs_aureport
def test_tty_record_without_data_equals_aureport(tmp_path: Path) -> None:
    # aureport prints the line number and date, then nothing (no newline).
    log = tmp_path / "tty.log"
    lines = AVC_TTY.read_text().splitlines()
    tty = [line for line in lines if line.startswith("type=TTY")]
    log.write_text(tty[0] + "\n" + tty[1].replace(" data=", " nodata=") + "\n" + tty[2] + "\n")
    same_as_aureport(log, ["--tty"])


def _rotated(tmp_path: Path, log: Path, cuts: list[float]) -> Path:
    """``log`` split into audit.log.N ... audit.log at the fractions ``cuts``
    (mid-event, so events carry over to the next file), with an empty file
    in the middle and the oldest file's last line unterminated."""
    lines = log.read_bytes().splitlines(keepends=True)
    bounds = [0, *(int(len(lines) * c) for c in cuts), len(lines)]
    parts = [b"".join(lines[a:b]) for a, b in zip(bounds, bounds[1:])]
    # A file's last line without its newline still ends with the file.
    parts[0] = parts[0].rstrip(b"\n")
    parts.insert(len(parts) // 2, b"")
    d = tmp_path / "logs"
    d.mkdir()
    for i, part in enumerate(reversed(parts)):
        (d / ("audit.log" + (f".{i}" if i else ""))).write_bytes(part)
    return d


@needs_aureport
def test_log_time_report_equals_aureport(tmp_path: Path, seed_log: Path) -> None:
    """-t on logs recorded from the real kernel: a file, a rotated directory
    (events cut across files, an empty file), stdin, a time range."""
    for log in LOGS:
        same_as_aureport(log, ["-t"])
        same_as_aureport(None, ["-t"], stdin=log.read_bytes())
    d = _rotated(tmp_path, seed_log, [0.3, 0.61, 0.9])
    for args in (["-t"], [], ["-x", "--summary"], ["-t", "-ts", "01/01/20", "-te", "12/31/30"]):
        same_as_aureport(d, args)
    same_as_aureport(AVC_TTY, ["-t", "-ts", "11/14/23", "22:15:05", "-i"])


@needs_aureport
def test_reports_without_summary_form_fail_as_aureport() -> None:
    for option in ("-t", "--tty"):
        same_as_aureport(AVC_TTY, [option, "--summary"])
        same_as_aureport(AVC_TTY, ["--summary", option])


def test_avc_tty_time_rows_api() -> None:
    a = auditlink.report(AVC_TTY, "avc")
    assert a.columns[2:] == (
        "comm",
        "subj",
        "syscall",
        "class",
        "permission",
        "obj",
        "result",
        "event",
    )
    assert (a.rows[0][2], a.rows[0][8], a.rows[0][9]) == ("cat", "denied", "101")
    assert len([r for r in a.rows if r[-1] == "102"]) == 2
    s = auditlink.report(AVC_TTY, "avc", summary=True)
    assert s.columns == ("total", "obj") and s.rows[0][0] == "2"
    t = auditlink.report(AVC_TTY, "tty")
    assert t.columns[-1] == "data" and t.rows[0][-1] == '"ls -l",<ret>'
    r = auditlink.report(AVC_TTY, "time")
    assert r.columns == ("file", "first", "last") and r.rows[0][0] == str(AVC_TTY)
    for kind in ("tty", "time"):
        with pytest.raises(ValueError):
            auditlink.report(AVC_TTY, kind, summary=True)


def test_unimplemented_options_fail_clearly() -> None:
    for option in ("-nc", "--escape", "--debug"):
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
