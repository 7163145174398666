"""Helpers for the tests (and the benchmarks): the real kernel's audit state saved
and restored, ``auditctl -s`` read as the reference, unprivileged children."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from auditlink import AuditClient, AuditStatus, FailureMode, MessageType

AUDIT_ADD_RULE = int(MessageType.ADD_RULE)
AUDIT_DEL_RULE = int(MessageType.DEL_RULE)
AUDIT_LIST_RULES = int(MessageType.LIST_RULES)

NOBODY = 65534


def compile_c(
    src: Path, out: Path, *libs: str, shared: bool = False, if_stale: bool = False
) -> Path:
    """Compile ``src`` into ``out`` with the system's C compiler (``cc``, else
    ``gcc``) at -O2, linking ``libs``; a shared object with ``shared``. With
    ``if_stale``, only when ``out`` is missing or older than ``src``."""
    if if_stale and out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    cc = shutil.which("cc") or "gcc"
    kind = ["-shared", "-fPIC"] if shared else []
    subprocess.run([cc, "-O2", *kind, "-o", str(out), str(src), *libs], check=True)
    return out


@dataclass(frozen=True)
class KernelState:
    """What :func:`save_kernel_state` found: the status and every rule (raw
    ``audit_rule_data`` bytes, as the kernel lists them)."""

    status: AuditStatus
    rules: tuple[bytes, ...]


def save_kernel_state(client: AuditClient) -> KernelState:
    """Snapshot the real kernel's audit status and rule list."""
    rules = tuple(
        m.data for m in client.request_dump(AUDIT_LIST_RULES) if m.type == AUDIT_LIST_RULES
    )
    return KernelState(client.get_status(), rules)


def restore_kernel_state(client: AuditClient, saved: KernelState) -> None:
    """Put the real kernel's audit state back as ``saved`` found it: rules, failure
    mode, rate and backlog limits, backlog wait time, daemon registration (cleared if
    it is ours or a dead process's) and the enabled flag (last).

    Never sets the immutable flag or the panic failure mode, even if ``saved`` has
    them; raises RuntimeError if the kernel is immutable now (nothing can be changed).
    """
    now = save_kernel_state(client)
    if now.status.enabled == 2:
        raise RuntimeError("kernel audit is IMMUTABLE (enabled=2): only a reboot restores it")
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
        # A registration left behind (ours, or a dead process's) is cleared; the
        # kernel refuses (EACCES) to unregister a live foreign daemon.
        with contextlib.suppress(PermissionError):
            client.unregister()
    if s.enabled in (0, 1):
        client.set_enabled(bool(s.enabled))


def auditctl_status_text() -> str:
    """What ``auditctl -s`` prints (the reference peer)."""
    return subprocess.run(["auditctl", "-s"], check=True, capture_output=True, text=True).stdout


def auditctl_status(text: str | None = None) -> dict[str, int]:
    """``auditctl -s`` output (run now unless ``text`` is given) as a dict: every
    ``name number`` line, plus ``loginuid_immutable_locked`` (1/0) from the
    ``loginuid_immutable N locked|unlocked`` line."""
    out = auditctl_status_text() if text is None else text
    result: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].lstrip("-").isdigit():
            result[parts[0]] = int(parts[1])
            if parts[0] == "loginuid_immutable" and len(parts) >= 3:
                result["loginuid_immutable_locked"] = int(parts[2] == "locked")
    return result


async def cancel_iteration(stream: AsyncIterator[object]) -> None:
    """Iterate ``stream`` in a task, cancel the task after 0.1 s and check it ended
    cancelled (the caller then checks its client still works)."""

    async def consume() -> None:
        async for _ in stream:
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return
    raise AssertionError("the iteration ended without being cancelled")


def add_syscall_rule(syscalls: str, field: str, key: str) -> None:
    """``auditctl -a always,exit -F arch=b64 -S syscalls -F field -k key`` (the
    reference peer adds it; the caller's fixture restores the rules).

    Arguments:
        syscalls: auditctl's ``-S`` list (``"execve,openat"``).
        field: one ``-F`` condition that limits the rule to the test's processes
            (``"gid=4251"``, ``"pid=123"``).
        key: the rule's key.
    """
    argv = ["auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", syscalls]
    argv += ["-F", field, "-k", key]
    subprocess.run(argv, check=True, capture_output=True)


def as_nobody(body: Callable[[], str]) -> str:
    """Run ``body`` as uid/gid 65534 (no capabilities) and return the text it
    returned, or a description of what it raised.

    It runs in a fresh interpreter, not a fork of this one: pytest's process
    has threads (log readers, fake kernels, sink threads winding down), and a
    fork of a multi-threaded process can inherit a lock another thread held
    (a DeprecationWarning since CPython 3.12). The child starts as root,
    imports what ``body`` names (``nobody`` cannot read an interpreter under
    /root), drops to 65534, then runs ``body``'s own source with the values
    it closes over (ints and strings)."""
    code = body.__code__
    imports = []
    for name in code.co_names:
        value = body.__globals__.get(name)
        if inspect.ismodule(value):
            imports.append(f"import {value.__name__} as {name}")
        elif inspect.isclass(value) or inspect.isfunction(value):
            imports.append(f"from {value.__module__} import {value.__qualname__} as {name}")
    cells = [c.cell_contents for c in body.__closure__ or ()]
    assert all(isinstance(v, (int, str)) for v in cells), "as_nobody: close over ints and strings"
    script = "\n".join(
        [
            "import json, os, sys",
            *imports,
            *(
                f"{n} = json.loads({json.dumps(json.dumps(v))})"
                for n, v in zip(code.co_freevars, cells)
            ),
            f"os.setgroups([]); os.setgid({NOBODY}); os.setuid({NOBODY})",
            textwrap.dedent(inspect.getsource(body)),
            "try:",
            f"    result = {body.__name__}()",
            "except BaseException as e:",
            '    result = f"raised {type(e).__name__}: {e}"',
            "sys.stdout.write(result)",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    return done.stdout or f"child did not finish: {done.stderr.strip()[-500:]}"
