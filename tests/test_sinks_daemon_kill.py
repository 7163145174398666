"""``auditlink daemon`` with a ``[[sink]]`` killed with SIGKILL while its receiver is
down, then restarted: the spool it left on disk is delivered when the receiver comes
back, every event once.

The events of the outage are counted in the spool's files before the kill (so the
kill tests the spool, not the in-memory queue in front of it, which a kill loses by
design; docs/fleet.md). Receivers: rsyslog over TCP and a central Debian auditd
(remote protocol, acknowledged), both on 127.0.0.1 and started and stopped by PID.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from auditlink import AuditClient

from .helpers import KernelState
from .test_daemon_fanout_kernel import (
    daemon,
    final_sink_line,
    sink_conf,
    stop,
    wait_until,
    with_central_auditd,
)
from .test_daemon_kernel import burst, wait_registered
from .test_sinks_engines import Rsyslog
from .test_sinks_syslog import rsyslog  # noqa: F401  (fixture)

pytestmark = pytest.mark.kernel

N = 300


def spooled(spool: Path, pid: int) -> int:
    """SYSCALL records of `pid` in the spool's segment files (the frames carry
    the records as text)."""
    needle = f" pid={pid} ".encode()
    return sum(
        1
        for f in spool.glob("*.spool")
        for rec in f.read_bytes().split(b"type=SYSCALL ")[1:]
        if needle in rec.split(b"\n", 1)[0]
    )


@contextmanager
def killable_daemon(client: AuditClient, conf_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``auditlink daemon -n -c DIR``, registered, for the test to kill (killed at
    the end if it was not)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "auditlink", "daemon", "-n", "-c", str(conf_dir)],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_registered(client, proc.pid)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def sigkill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL


def kill_run(
    tmp_path: Path,
    arrived: Callable[[int], int],
    down: Callable[[], None],
    up: Callable[[], None],
) -> None:
    """N calls delivered live; the receiver down; N calls spooled; the daemon
    killed (SIGKILL); a new daemon on the same configuration; the receiver back
    after 10 s: both bursts arrive, each event once."""
    with AuditClient() as client:
        client.set_backlog_limit(8192)
        with killable_daemon(client, tmp_path) as proc:
            pid = burst(client, N)
            assert wait_until(lambda: arrived(pid) >= N, 30), arrived(pid)
            down()
            t0 = time.monotonic()
            pid2 = burst(client, N)
            spool = tmp_path / "spool"
            assert wait_until(lambda: spooled(spool, pid2) >= N, 30), spooled(spool, pid2)
            sigkill(proc)
        assert spooled(spool, pid2) == N
        with daemon(tmp_path) as proc2:
            time.sleep(max(0.0, 10 - (time.monotonic() - t0)))
            assert arrived(pid2) == 0
            up()
            assert wait_until(lambda: arrived(pid2) >= N, 60), arrived(pid2)
            time.sleep(1)
            stop(proc2)
    assert arrived(pid) == N
    assert arrived(pid2) == N
    line = final_sink_line(tmp_path)
    assert " dropped=0 " in line and " spooled=0 " in line, line


def test_syslog_spool_survives_sigkill_of_the_daemon(
    kernel_state: KernelState,
    rsyslog: Rsyslog,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    sink_conf(tmp_path, f'type = "syslog"\ntransport = "tcp"\nport = {rsyslog.tcp_port}\n')

    def arrived(pid: int) -> int:
        needle = f" pid={pid} "
        return sum(1 for ln in rsyslog.lines() if "type=SYSCALL" in ln and needle in ln)

    kill_run(tmp_path, arrived, rsyslog.stop, rsyslog.start)


def test_remote_spool_survives_sigkill_of_the_daemon(
    kernel_state: KernelState, tmp_path: Path
) -> None:
    with_central_auditd(tmp_path, kill_run)
