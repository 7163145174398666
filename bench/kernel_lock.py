"""The benchmarks' hold on the real kernel: the machine-wide lock, and the audit
state saved before and restored after, also on failure."""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from auditlink import AuditClient

# The real kernel's save/restore helpers live with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import restore_kernel_state, save_kernel_state

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
