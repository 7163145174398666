"""The core client against the real kernel, cross-checked with Debian's auditctl and
python3-audit. Every test restores the kernel audit state (fixtures in conftest.py)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

import pytest

from auditlink import (
    AUDIT_GET,
    NETLINK_AUDIT,
    AuditClient,
    AuditError,
    AuditFeatureBitmap,
    FailureMode,
    MessageType,
    NetlinkClient,
    NetlinkMessage,
    RawAuditMessage,
    WaitMode,
    parse_netlink_error,
)
from auditlink.testing import NLMSG_ERROR

from .helpers import add_syscall_rule, as_nobody, auditctl_status, auditctl_status_text

pytestmark = pytest.mark.kernel

DEBIAN_PYTHON = "/usr/bin/python3"


def test_get_status_matches_auditctl(kernel_client: AuditClient) -> None:
    s = kernel_client.get_status()
    ref = auditctl_status()
    for name in ("enabled", "failure", "pid", "rate_limit", "backlog_limit", "backlog_wait_time"):
        assert getattr(s, name) == ref[name], name
    # The kernel on this machine is new enough for every field.
    assert s.feature_bitmap & AuditFeatureBitmap.LOST_RESET
    assert s.backlog_wait_time > 0


def test_set_with_auditlink_read_with_auditctl(kernel_client: AuditClient) -> None:
    c = kernel_client
    c.set_rate_limit(123)
    c.set_backlog_limit(777)
    c.set_backlog_wait_time(4321)
    c.set_failure(FailureMode.SILENT)
    c.set_enabled(True)
    ref = auditctl_status()
    assert (ref["rate_limit"], ref["backlog_limit"], ref["backlog_wait_time"]) == (123, 777, 4321)
    assert (ref["failure"], ref["enabled"]) == (0, 1)
    c.set_enabled(False)
    c.set_failure(FailureMode.PRINTK)
    ref = auditctl_status()
    assert (ref["failure"], ref["enabled"]) == (1, 0)


def test_set_with_auditctl_read_with_auditlink(kernel_client: AuditClient) -> None:
    subprocess.run(
        ["auditctl", "-r", "55", "-b", "999", "--backlog_wait_time", "1234", "-f", "0"],
        check=True,
        capture_output=True,
    )
    s = kernel_client.get_status()
    assert (s.rate_limit, s.backlog_limit, s.backlog_wait_time, s.failure) == (55, 999, 1234, 0)


@pytest.mark.skipif(not os.path.exists(DEBIAN_PYTHON), reason="Debian python3 not installed")
def test_python3_audit_cross_check(kernel_client: AuditClient) -> None:
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import audit"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("python3-audit is not installed")
    kernel_client.set_backlog_limit(4242)
    # libaudit's own status request, through its SWIG bindings.
    script = (
        "import audit\n"
        "fd = audit.audit_open()\n"
        "assert audit.audit_set_backlog_limit(fd, 2468) > 0\n"
        "assert audit.audit_set_rate_limit(fd, 11) > 0\n"
        "audit.audit_close(fd)\n"
    )
    subprocess.run([DEBIAN_PYTHON, "-c", script], check=True, capture_output=True)
    s = kernel_client.get_status()
    assert (s.backlog_limit, s.rate_limit) == (2468, 11)


def test_out_of_range_backlog_wait_time_is_einval(kernel_client: AuditClient) -> None:
    before = kernel_client.get_status().backlog_wait_time
    with pytest.raises(OSError) as ei:
        kernel_client.set_backlog_wait_time(10**9)
    assert ei.value.errno == errno.EINVAL
    assert isinstance(ei.value, AuditError)
    assert "set_backlog_wait_time" in str(ei.value)
    assert kernel_client.get_status().backlog_wait_time == before


def test_invalid_failure_mode_never_reaches_the_kernel(kernel_client: AuditClient) -> None:
    with pytest.raises(ValueError):
        kernel_client.set_failure(3)  # type: ignore[arg-type]


def test_reset_counters(kernel_client: AuditClient) -> None:
    assert kernel_client.reset_lost() >= 0
    assert kernel_client.get_status().lost == 0
    assert kernel_client.reset_backlog_wait_time_actual() >= 0
    assert kernel_client.get_status().backlog_wait_time_actual == 0


def test_no_wait_calls(kernel_client: AuditClient) -> None:
    c = kernel_client
    c.set_rate_limit(7, WaitMode.NO_WAIT)
    c.set_backlog_limit(321, WaitMode.NO_WAIT)
    c.set_backlog_wait_time(10**9, WaitMode.NO_WAIT)  # EINVAL, reported later
    with pytest.raises(OSError) as ei:
        c.wait_for_pending_acks()
    assert ei.value.errno == errno.EINVAL
    s = c.get_status()
    assert (s.rate_limit, s.backlog_limit) == (7, 321)


def test_set_pid_and_close_unregisters(kernel_state: object) -> None:
    c = AuditClient()
    c.set_pid()
    assert c.get_status().pid == os.getpid()
    assert auditctl_status()["pid"] == os.getpid()
    # A second registration is refused while we hold it.
    with AuditClient() as other, pytest.raises(FileExistsError):
        other.set_pid()
    c.close()
    assert auditctl_status()["pid"] == 0


def test_permission_error_when_unprivileged(kernel_state: object) -> None:
    """A child that dropped to uid 65534 gets EPERM as PermissionError."""

    def body() -> str:
        try:
            with AuditClient() as c:
                c.get_status()
        except PermissionError as e:
            return f"PermissionError {e.errno} {isinstance(e, AuditError)}"
        return "no error"

    assert as_nobody(body) == f"PermissionError {errno.EPERM} True"


def _spawn_waiting_child(count: int) -> subprocess.Popen[bytes]:
    """A child that waits for a line on stdin, then calls getppid() `count` times."""
    code = f"import os, sys\nsys.stdin.readline()\nfor _ in range({count}): os.getppid()\n"
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)


def test_receive_real_records_from_own_child(kernel_client: AuditClient) -> None:
    c = kernel_client
    c.set_enabled(True)  # enable BEFORE forking: children forked earlier never audit
    child = _spawn_waiting_child(5)
    try:
        add_syscall_rule("getppid", f"pid={child.pid}", "auditlink-test")
        c.set_pid()
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        child.stdin.flush()
        child.wait(timeout=30)
        syscalls: list[RawAuditMessage] = []
        deadline = time.monotonic() + 10
        while len(syscalls) < 5 and time.monotonic() < deadline:
            m = c.receive(nonblocking=True)
            if m is None:
                time.sleep(0.01)
                continue
            if m.type == MessageType.SYSCALL and f" pid={child.pid} ".encode() in m.data:
                syscalls.append(m)
        assert len(syscalls) == 5
        for m in syscalls:
            assert m.data.startswith(b"audit(")
            assert b"syscall=110 " in m.data  # getppid on x86_64
            assert b'key="auditlink-test"' in m.data
            assert not m.data.endswith(b"\0")
        c.unregister()
        assert c.get_status().pid == 0
    finally:
        child.kill()
        child.wait()


def test_netlink_client_raw_get(kernel_state: object) -> None:
    with NetlinkClient(NETLINK_AUDIT) as nl:
        seq = nl.send(AUDIT_GET)
        got: list[NetlinkMessage] = []
        while len(got) < 2:
            got.extend(nl.receive())
        types = [m.type for m in got]
        assert types == [NLMSG_ERROR, AUDIT_GET]  # the kernel acks first
        assert all(m.seq == seq for m in got)
        assert parse_netlink_error(got[0].data) is None
        assert len(got[1].data) == 44
        assert nl.port_id != 0


def test_netlink_error_from_kernel(kernel_state: object) -> None:
    with NetlinkClient(NETLINK_AUDIT) as nl:
        # AUDIT_SET with an out-of-range backlog_wait_time: EINVAL in NLMSG_ERROR.
        from auditlink import AuditStatus, AuditStatusMask

        bad = AuditStatus(mask=AuditStatusMask.BACKLOG_WAIT_TIME, backlog_wait_time=10**9)
        seq = nl.send(1001, bad.to_bytes())
        (msg,) = nl.receive()
        assert msg.type == NLMSG_ERROR and msg.seq == seq
        err = parse_netlink_error(msg.data)
        assert isinstance(err, OSError) and err.errno == errno.EINVAL
        assert isinstance(err, AuditError) and err.seq == seq


def test_get_status_many_round_trips(kernel_client: AuditClient) -> None:
    for _ in range(2000):
        kernel_client.get_status()
    st = kernel_client.stats
    assert st["stale_replies"] == 0 and st["malformed"] == 0


def test_cli_status_prints_what_auditctl_prints(kernel_state: object) -> None:
    ours = subprocess.run(
        [sys.executable, "-m", "auditlink", "status"], check=True, capture_output=True, text=True
    ).stdout
    assert ours == auditctl_status_text()
