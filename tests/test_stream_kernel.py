"""The event stream against the real kernel: daemon mode loses nothing of a known
burst, a multicast listener sees what the daemon beside it sees, close() unregisters
under load, and the receive buffer size is what the kernel granted.

Children are started only after auditing is enabled (a task forked before audit was
first enabled since boot never produces syscall records). Every load is bounded in
count and time; the fixtures restore the kernel state."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from auditlink import AuditClient, AuditRule, MessageType, RawAuditMessage

from .helpers import KernelState, as_nobody

pytestmark = pytest.mark.kernel

SEQ = re.compile(rb"^audit\(\d+\.\d+:(\d+)\)")


@contextmanager
def getppid_child(client: AuditClient, count: int) -> Iterator[subprocess.Popen[bytes]]:
    """A child that makes `count` getppid() calls once told to, audited by a rule that
    matches only it. Yields before the go; the rule is removed afterwards."""
    code = "import os, sys\nsys.stdin.readline()\n" + f"for _ in range({count}): os.getppid()\n"
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    rule = AuditRule.parse(
        f"-a always,exit -F arch=b64 -S getppid -F pid={child.pid} -k auditlink-stream"
    )
    client.add_rule(rule)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        client.delete_rule(rule)


def go(child: subprocess.Popen[bytes]) -> None:
    assert child.stdin is not None
    child.stdin.write(b"go\n")
    child.stdin.flush()


def collect(client: AuditClient, pid: int, want: int, limit: float = 30.0) -> list[RawAuditMessage]:
    """Records of `pid`'s events (SYSCALL and the PROCTITLE/EOE of the same serial)."""
    needle = f" pid={pid} ".encode()
    serials: set[bytes] = set()
    mine: list[RawAuditMessage] = []
    deadline = time.monotonic() + limit
    while len(mine) < want and time.monotonic() < deadline:
        for m in client.receive_batch(1024, timeout=0.5):
            match = SEQ.match(m.data)
            if match is None:
                continue
            serial = match.group(1)
            if m.type == MessageType.SYSCALL and needle in m.data:
                serials.add(serial)
            if serial in serials:
                mine.append(m)
    return mine


def test_daemon_receives_every_record_of_a_burst(kernel_state: KernelState) -> None:
    n = 3000
    with AuditClient.daemon() as client:
        client.set_backlog_limit(8192)
        lost_before = client.get_status().lost
        with getppid_child(client, n) as child:
            go(child)
            mine = collect(client, child.pid, 3 * n)
            child.wait(timeout=30)
        types = [m.type for m in mine]
        assert types.count(MessageType.SYSCALL) == n
        assert types.count(MessageType.PROCTITLE) == n
        assert types.count(MessageType.EOE) == n
        assert client.get_status().lost == lost_before
        st = client.stats
        assert st["overruns"] == st["truncated"] == st["malformed"] == 0
    assert client.closed


MULTICAST_CHILD = r"""
import json, re, sys
from auditlink import AuditClient, MessageType
pid, n = sys.argv[1], int(sys.argv[2])
needle = f" pid={pid} ".encode()
seq = re.compile(rb"^audit\(\d+\.\d+:(\d+)\)")
serials = set()
with AuditClient.multicast(receive_buffer_size=8 << 20) as c:
    print("ready", flush=True)
    for m in c.messages(timeout=5):
        mt = seq.match(m.data)
        if mt and m.type == MessageType.SYSCALL and needle in m.data:
            serials.add(mt.group(1).decode())
            if len(serials) == n:
                break
    print(json.dumps({"serials": sorted(serials), "overruns": c.stats["overruns"]}))
"""


def test_multicast_listener_sees_what_the_daemon_sees(kernel_state: KernelState) -> None:
    """A second auditlink process listens on AUDIT_NLGRP_READLOG beside the daemon."""
    n = 500
    with AuditClient.daemon() as daemon, getppid_child(daemon, n) as child:
        listener = subprocess.Popen(
            [sys.executable, "-c", MULTICAST_CHILD, str(child.pid), str(n)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert listener.stdout is not None
            assert listener.stdout.readline().strip() == "ready"
            go(child)
            mine = collect(daemon, child.pid, 3 * n)
            out, _ = listener.communicate(timeout=30)
        finally:
            if listener.poll() is None:
                listener.kill()
                listener.wait()
        seen = json.loads(out)
        daemon_serials = sorted(
            {
                SEQ.match(m.data).group(1).decode()  # type: ignore[union-attr]
                for m in mine
                if m.type == MessageType.SYSCALL
            }
        )
        assert len(daemon_serials) == n
        assert seen["serials"] == daemon_serials
        assert seen["overruns"] == 0


def test_multicast_beside_auditd(kernel_state: KernelState, tmp_path: Path) -> None:
    """With Debian's auditd as the registered daemon, a multicast listener still
    receives the records; auditd is stopped by PID and unregistered afterwards."""
    conf = tmp_path / "auditd.conf"
    log = tmp_path / "audit.log"
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    conf.write_text(
        f"local_events = yes\nwrite_logs = yes\nlog_file = {log}\nlog_group = root\n"
        "log_format = ENRICHED\nflush = INCREMENTAL_ASYNC\nfreq = 20\nmax_log_file = 100\n"
        "num_logs = 2\npriority_boost = 0\nname_format = NONE\n"
        "max_log_file_action = IGNORE\nspace_left = 10\nspace_left_action = IGNORE\n"
        "admin_space_left = 5\nadmin_space_left_action = IGNORE\ndisk_full_action = IGNORE\n"
        "disk_error_action = IGNORE\nuse_libwrap = no\ndistribute_network = no\n"
        "q_depth = 2000\noverflow_action = IGNORE\nmax_restarts = 10\n"
        f"plugin_dir = {plugins}\nend_of_event_timeout = 2\n"
    )
    conf.chmod(0o640)
    with AuditClient.multicast() as listener, AuditClient() as control:
        control.set_enabled(True)
        auditd = subprocess.Popen(
            ["auditd", "-n", "-c", str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while control.get_status().pid != auditd.pid:
                assert time.monotonic() < deadline, "auditd did not register"
                assert auditd.poll() is None, "auditd exited"
                time.sleep(0.05)
            marker = f"auditlink multicast beside auditd {os.getpid()}"
            control.send_user_message(MessageType.USER, marker)
            got = None
            for m in listener.messages(timeout=5):
                if marker.encode() in m.data:
                    got = m
                    break
            assert got is not None and got.type == MessageType.USER
            # auditd got it too (it writes its log asynchronously).
            deadline = time.monotonic() + 10
            while marker not in (log.read_text() if log.exists() else ""):
                assert time.monotonic() < deadline, "auditd did not log the marker"
                time.sleep(0.1)
        finally:
            auditd.terminate()
            try:
                auditd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                auditd.kill()
                auditd.wait()
            # A dead daemon's registration stays until someone clears it.
            if control.get_status().pid == auditd.pid:
                control.unregister()
        assert control.get_status().pid == 0


def test_close_unregisters_under_load(kernel_state: KernelState) -> None:
    """The kernel floods the daemon socket (a bounded burst) while it closes."""
    n = 200_000
    client = AuditClient(receive_buffer_size=256 << 10)
    client.set_enabled(True)
    client.set_backlog_limit(8192)
    with AuditClient() as control, getppid_child(control, n) as child:
        client.set_pid()
        go(child)
        got = 0
        while got < 2000:  # read a little, let the rest pile up
            got += len(client.receive_batch(500, timeout=5))
        t0 = time.monotonic()
        client.close()
        took = time.monotonic() - t0
        assert control.get_status().pid == 0
        assert took < 6
        child.wait(timeout=120)  # the burst ends: records go to the kernel's hold queue
        assert control.get_status().pid == 0


def test_receive_buffer_size_granted(kernel_state: KernelState) -> None:
    with AuditClient(receive_buffer_size=4 << 20) as c:
        # The kernel doubles the request for its bookkeeping (socket(7)); root may
        # exceed rmem_max (SO_RCVBUFFORCE).
        assert c.receive_buffer_size == 8 << 20
    with AuditClient.multicast(receive_buffer_size=1 << 20) as m:
        assert m.receive_buffer_size == 2 << 20


def test_receive_buffer_size_unprivileged_is_capped(kernel_state: KernelState) -> None:
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())

    def body() -> str:
        with AuditClient(receive_buffer_size=rmem_max * 4) as c:
            return str(c.receive_buffer_size)

    assert as_nobody(body) == str(rmem_max * 2)


def test_multicast_needs_cap_audit_read(kernel_state: KernelState) -> None:
    def body() -> str:
        try:
            AuditClient.multicast().close()
        except PermissionError as e:
            return f"{e.errno} {e}"
        return "no error"

    out = as_nobody(body)
    assert out.startswith(f"{errno.EPERM} ") and "CAP_AUDIT_READ" in out
