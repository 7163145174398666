"""AuditClient.events() against the real kernel: registered as the daemon and as a
multicast listener. The kernel state is restored by the fixtures (conftest.py)."""

from __future__ import annotations

import subprocess
import time

import pytest

from auditlink import AuditClient, AuditEvent, MessageType, Reassembler

from .helpers import KernelState, add_syscall_rule

pytestmark = pytest.mark.kernel

GID = 4243


def wait_for(events: object, pred: object, limit: float = 10.0) -> AuditEvent:
    deadline = time.monotonic() + limit
    it = iter(events)  # type: ignore[call-overload]
    while time.monotonic() < deadline:
        ev: AuditEvent = next(it)
        if pred(ev):  # type: ignore[operator]
            return ev
    raise AssertionError("no matching event")


def test_events_as_daemon_and_multicast(kernel_state: KernelState) -> None:
    with AuditClient.daemon() as daemon, AuditClient.multicast() as listener:
        add_syscall_rule("execve", f"gid={GID}", "auditlink-events")
        subprocess.run(["auditctl", "-m", "auditlink events test"], check=True)
        subprocess.run(
            ["setpriv", "--regid", str(GID), "--clear-groups", "/bin/echo", "a b", "c"],
            check=True,
            capture_output=True,
        )
        for client in (daemon, listener):
            reasm = Reassembler(timeout=2.0)
            events = client.events(reasm)
            user = wait_for(
                events,
                lambda e: (
                    "auditlink events test" in e.records[0].fields.get("msg", "")
                    or any("auditlink events test" in r.text for r in e.records)
                ),
            )
            assert user.complete
            ex = wait_for(events, lambda e: any(r.type == MessageType.EXECVE for r in e.records))
            assert ex.complete  # EOE seen
            d = ex.to_dict()
            assert d["EXECVE"]["argv"] == ["/bin/echo", "a b", "c"]
            assert d["SYSCALL"]["SYSCALL"] == "execve" and d["SYSCALL"]["key"] == [
                "auditlink-events"
            ]
            assert d["PROCTITLE"]["proctitle"] == ["/bin/echo", "a b", "c"]
            assert [r.interpret("arch") for r in ex.records][:1] == ["x86_64"]
