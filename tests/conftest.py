"""Shared fixtures. Real-kernel tests are marked ``kernel``; they take a machine-wide
lock (so they never run in parallel, not even across processes), skip with the reason
when the kernel audit subsystem is unusable here, and restore every piece of audit
state they may change — status and rules — also when the test fails."""

from __future__ import annotations

import fcntl
import lzma
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditlink import AuditClient
from auditlink.testing import FakeKernel

from .helpers import KernelState, restore_kernel_state, save_kernel_state

KERNEL_LOCK = "/tmp/auditlink-kernel.lock"


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
        saved = save_kernel_state(c)
    try:
        yield saved
    finally:
        with AuditClient() as c:
            restore_kernel_state(c, saved)


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


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Python's own SIGINT handler for the test: a shell starts background jobs with
    SIGINT ignored, and Python then installs none, so Ctrl-C would do nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="session")
def seed_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The records benchmark's seed: recorded from the real kernel (auditd
    ENRICHED, three concurrent workers, PAM, sockets, failures)."""
    src = Path(__file__).parent.parent / "bench" / "records" / "seed.log.xz"
    out = tmp_path_factory.mktemp("seed") / "seed.log"
    out.write_bytes(lzma.decompress(src.read_bytes()))
    return out
