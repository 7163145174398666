"""auditlink top: counting, the 80x24 layout, the plain-text mode when stdout
is not a terminal, the TTY mode under tmux (q/s keys), bounded memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditlink import _native
from auditlink.top import SORT_COLUMNS, render

DATA = Path(__file__).parent / "data"
LOG = DATA / "corpus_raw.log"


def counted() -> _native.TopCounter:
    c = _native.TopCounter()
    c.feed_log(LOG.read_bytes())
    c.idle()
    return c


def test_counts_match_the_log() -> None:
    c = counted()
    events, records = c.totals()
    assert records == len(LOG.read_bytes().splitlines())
    ev, rec, tables = c.snapshot(2.0, 50)
    assert (ev, rec) == (events / 2.0, records / 2.0)
    names = list(_native.TOP_TABLES)
    types = dict((v, t) for v, _, t in tables[names.index("type")])
    assert types["SYSCALL"] == LOG.read_bytes().count(b"type=SYSCALL ")
    keys = [v for v, _, _ in tables[names.index("key")]]
    assert "exec" in keys
    # The next interval starts from zero, totals stay.
    ev2, _, tables2 = c.snapshot(1.0, 50)
    assert ev2 == 0.0 and tables2[0][0][2] > 0


def test_render_fits_80x24() -> None:
    snap = counted().snapshot(1.0, 20)
    for sort in SORT_COLUMNS:
        screen = render(snap, {"lost": 3, "backlog": 1, "backlog_limit": 8192}, sort)
        lines = screen.split("\n")
        assert len(lines) <= 24 and max(len(x) for x in lines) <= 80
        assert "lost 3" in lines[0] and f"sort: {sort}" in lines[-1]


def test_plain_mode_follows_a_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(b"")
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "auditlink",
            "top",
            "-f",
            str(path),
            "--interval",
            "0.5",
            "--iterations",
            "12",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    with open(path, "ab") as f:
        f.write(LOG.read_bytes())
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    text = out.decode()
    assert text.count("--- ") == 12
    assert "\x1b[" not in text  # no terminal control codes when not a TTY
    assert "execve" in text and "/usr/bin/setpriv" in text


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_tty_mode_keys_under_tmux(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(b"")
    session = f"auditlink-top-{os.getpid()}"
    cmd = f"{sys.executable} -m auditlink top -f {path} --interval 0.3; echo EXITED; sleep 5"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd], check=True
    )
    try:

        def screen() -> str:
            return subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout

        deadline = time.monotonic() + 15
        while "sort: rate" not in screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "sort: rate" in screen()
        subprocess.run(["tmux", "send-keys", "-t", session, "s"], check=True)
        deadline = time.monotonic() + 10
        while "sort: total" not in screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "sort: total" in screen()
        assert len(screen().rstrip("\n").split("\n")) <= 24
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while "EXITED" not in screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "EXITED" in screen()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_memory_bounded_on_a_followed_log() -> None:
    """Feeding the same log over and over (with fresh serials and times so
    every event is new) must not grow memory: the grouping window and the
    tables are bounded."""
    base = LOG.read_bytes().splitlines(keepends=True)
    c = _native.TopCounter()

    def round_(n: int) -> bytes:
        shift = n * 1000
        out = []
        for line in base:
            out.append(line.replace(b"msg=audit(17955", b"msg=audit(%d" % (17955 + shift), 1))
        return b"".join(out)

    for n in range(20):
        c.feed_log(round_(n))
    before = _rss_kib()
    for n in range(20, 220):
        c.feed_log(round_(n))
        c.snapshot(1.0, 5)
    after = _rss_kib()
    assert c.totals()[1] >= 200 * len(base)
    assert after - before < 20_000, (before, after)
