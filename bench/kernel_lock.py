"""The benchmarks' hold on the real kernel: the machine-wide lock, and the audit
state saved before and restored after, also on failure."""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from typing import TypeVar

from auditlink import AuditClient
from auditlink.testing import restore_kernel_state, save_kernel_state

LOCK_PATH = "/tmp/auditlink-kernel.lock"

T = TypeVar("T")


def with_kernel(run: Callable[[AuditClient], T]) -> T:
    """Take the kernel lock, save the audit state, call ``run`` with a client,
    and restore the state (whatever ``run`` did or raised) before unlocking."""
    with open(LOCK_PATH, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with AuditClient() as control:
            saved = save_kernel_state(control)
            try:
                return run(control)
            finally:
                restore_kernel_state(control, saved)
