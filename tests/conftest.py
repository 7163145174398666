"""Shared fixtures. Real-kernel tests are marked ``kernel``; they take a machine-wide
lock (so they never run in parallel, not even across processes), skip with the reason
when the kernel audit subsystem is unusable here, and restore every piece of audit
state they may change — status and rules — also when the test fails."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from auditlink import AuditClient, AuditStatus, FailureMode
from auditlink.testing import FakeKernel

KERNEL_LOCK = "/tmp/auditlink-kernel.lock"
AUDIT_ADD_RULE = 1011
AUDIT_DEL_RULE = 1012
AUDIT_LIST_RULES = 1013


def _kernel_unusable() -> str | None:
    """Why real-kernel tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "real-kernel tests need root (CAP_AUDIT_CONTROL)"
    try:
        with AuditClient(timeout=2.0) as c:
            c.get_status()
    except OSError as e:
        return f"the kernel audit subsystem does not answer: {e}"
    return None


_UNUSABLE = _kernel_unusable()


def pytest_report_header(config: pytest.Config) -> str:
    if _UNUSABLE:
        return f"auditlink: real-kernel tests SKIPPED: {_UNUSABLE}"
    return "auditlink: real-kernel tests enabled (kernel audit answers)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _UNUSABLE:
        return
    skip = pytest.mark.skip(reason=_UNUSABLE)
    for item in items:
        if "kernel" in item.keywords:
            item.add_marker(skip)


@dataclass
class KernelState:
    """What a kernel test found, to put back afterwards."""

    status: AuditStatus
    rules: list[bytes]


def snapshot(client: AuditClient) -> KernelState:
    rules = [m.data for m in client.request_dump(AUDIT_LIST_RULES) if m.type == AUDIT_LIST_RULES]
    return KernelState(client.get_status(), rules)


def restore(client: AuditClient, saved: KernelState) -> None:
    """Put status and rules back as they were. Never sets immutable or panic."""
    now = snapshot(client)
    if now.status.enabled == 2:
        raise RuntimeError("audit became IMMUTABLE during a test: reboot needed")
    for rule in now.rules:
        client.request_ack(AUDIT_DEL_RULE, rule)
    for rule in saved.rules:
        client.request_ack(AUDIT_ADD_RULE, rule)
    s = saved.status
    if s.failure in (FailureMode.SILENT, FailureMode.PRINTK):
        client.set_failure(FailureMode(s.failure))
    client.set_rate_limit(s.rate_limit)
    client.set_backlog_limit(s.backlog_limit)
    client.set_backlog_wait_time(s.backlog_wait_time)
    if now.status.pid and now.status.pid != s.pid:
        # A registration left by this test (ours, or a dead child's): clear it.
        # The kernel refuses (EACCES) if a live foreign daemon holds it.
        with contextlib.suppress(PermissionError):
            client.unregister()
    if s.enabled in (0, 1):
        client.set_enabled(bool(s.enabled))


@pytest.fixture
def kernel_lock() -> Iterator[None]:
    """Hold the machine-wide kernel audit lock for the test."""
    with open(KERNEL_LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture
def kernel_state(kernel_lock: None) -> Iterator[KernelState]:
    """Snapshot the kernel audit state (status + rules) and restore it afterwards."""
    if _UNUSABLE:
        pytest.skip(_UNUSABLE)
    with AuditClient() as c:
        saved = snapshot(c)
    try:
        yield saved
    finally:
        with AuditClient() as c:
            restore(c, saved)


@pytest.fixture
def kernel_client(kernel_state: KernelState) -> Iterator[AuditClient]:
    """A real-kernel client, with the state restored after the test."""
    with AuditClient() as c:
        yield c


@pytest.fixture
def fake() -> Iterator[FakeKernel]:
    with FakeKernel() as f:
        yield f


@pytest.fixture
def fake_client(fake: FakeKernel) -> Iterator[AuditClient]:
    with fake.client() as c:
        yield c


def auditctl_status() -> dict[str, int]:
    """``auditctl -s`` parsed into a dict (the reference peer)."""
    out = subprocess.run(["auditctl", "-s"], check=True, capture_output=True, text=True).stdout
    result: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].lstrip("-").isdigit():
            result[parts[0]] = int(parts[1])
    return result
