"""Sinks with ``read_log = true`` on the real kernel: ``auditlink daemon`` leaves the
forwarding to a reader of its own log (docs/fleet.md). A central Debian auditd
(remote protocol, acknowledged, on 127.0.0.1) receives every event through a 10 s
outage, across the log's rotations, and after the daemon was killed (SIGKILL) with
events in its log that the reader, holding back while the log grew, had not read
yet: the next daemon reads them from the cursor it left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from auditlink import AuditClient

from .helpers import KernelState
from .test_daemon_fanout_kernel import (
    daemon,
    final_sink_line,
    outage_run,
    stop,
    wait_until,
    with_central_auditd,
)
from .test_daemon_kernel import burst
from .test_sinks_daemon_kill import killable_daemon, sigkill, spooled

pytestmark = pytest.mark.kernel

READ_LOG = "read_log = true\n"
AUDIT_USER = 1005


def logged(log_dir: Path, pid: int) -> int:
    """SYSCALL records of ``pid`` in the log and its rotated files."""
    needle = f" pid={pid} ".encode()
    return sum(
        1
        for f in log_dir.glob("audit.log*")
        for ln in f.read_bytes().splitlines()
        if b"type=SYSCALL " in ln and needle in ln
    )


def test_remote_sink_reading_the_log_through_an_outage(
    kernel_state: KernelState, tmp_path: Path
) -> None:
    with_central_auditd(tmp_path, outage_run, READ_LOG)


def test_the_reader_follows_the_log_through_its_rotations(
    kernel_state: KernelState, tmp_path: Path
) -> None:
    n = 4000

    def run(
        tmp_path: Path,
        arrived: Callable[[int], int],
        _down: Callable[[], None],
        _up: Callable[[], None],
    ) -> None:
        with AuditClient() as client:
            client.set_backlog_limit(8192)
            with daemon(tmp_path) as proc:
                pid = burst(client, n)
                assert wait_until(lambda: arrived(pid) >= n, 60), arrived(pid)
                time.sleep(1)
                stop(proc)
        assert arrived(pid) == n
        # 1 MB files: the burst filled several, read one after the other.
        assert (tmp_path / "log" / "audit.log.2").exists()
        line = final_sink_line(tmp_path)
        assert " dropped=0 " in line and " spooled=0 " in line, line

    with_central_auditd(
        tmp_path, run, READ_LOG, max_log_file=1, num_logs=9, max_log_file_action="ROTATE"
    )


class Ticker:
    """A user message every 30 ms: the log grows at every look of the reader."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        with AuditClient() as c:
            while not self.done.wait(0.03):
                c.send_user_message(AUDIT_USER, "auditlink read_log test tick")

    def __enter__(self) -> Ticker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def test_what_the_reader_had_not_read_at_a_sigkill_arrives_after_a_restart(
    kernel_state: KernelState, tmp_path: Path
) -> None:
    n = 300

    def run(
        tmp_path: Path,
        arrived: Callable[[int], int],
        _down: Callable[[], None],
        _up: Callable[[], None],
    ) -> None:
        spool = tmp_path / "spool"
        with AuditClient() as client:
            client.set_backlog_limit(8192)
            with killable_daemon(client, tmp_path) as proc:
                # The reader has read the daemon's start: its cursor is on disk.
                assert wait_until((spool / "log.cursor").exists, 15)
                with Ticker():
                    time.sleep(0.5)
                    pid = burst(client, n)
                    assert wait_until(lambda: logged(tmp_path / "log", pid) >= n, 30)
                    time.sleep(0.5)
                    # Held back (the log keeps growing): in the log only.
                    assert arrived(pid) == 0
                    assert spooled(spool, pid) == 0
                    sigkill(proc)
            with daemon(tmp_path) as proc2:
                assert wait_until(lambda: arrived(pid) >= n, 60), arrived(pid)
                time.sleep(1)
                stop(proc2)
        assert arrived(pid) == n
        line = final_sink_line(tmp_path)
        assert " dropped=0 " in line and " spooled=0 " in line, line

    with_central_auditd(tmp_path, run, READ_LOG + "read_log_hold = 120\n")
