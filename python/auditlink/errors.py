"""Exceptions raised by auditlink.

Errors the kernel (or a syscall) reports are :class:`OSError` instances carrying the
real ``errno`` and ``strerror``. Each is at once an :class:`AuditError` and the
built-in subclass Python would pick for that errno, so both of these work::

    try:
        client.set_enabled(True)
    except PermissionError:       # EPERM / EACCES
        ...
    except auditlink.AuditError as e:
        print(e.errno, e.operation, e.seq)

A malformed or unexpected reply is a plain :class:`AuditError` (``errno`` None) whose
message says what was wrong.
"""

from __future__ import annotations

import errno as _errno


class AuditError(OSError):
    """Base class of every error auditlink raises for kernel or protocol failures.

    Attributes beyond :class:`OSError`'s:

    - ``operation``: what auditlink was doing (``"set_enabled"``, ``"get_status"``...).
    - ``seq``: the netlink sequence number of the request, when there was one.
    - ``detail``: extra context (for timeouts: how long it waited), or None.
    """

    operation: str | None = None
    seq: int | None = None
    detail: str | None = None

    def __str__(self) -> str:
        base = super().__str__()
        context = []
        if self.operation:
            context.append(self.operation)
        if self.seq is not None:
            context.append(f"seq {self.seq}")
        if self.detail:
            context.append(self.detail)
        return f"{base} ({', '.join(context)})" if context else base


class AuditPermissionError(AuditError, PermissionError):
    """EPERM / EACCES: missing CAP_AUDIT_CONTROL, a locked (immutable) configuration..."""


class AuditFileExistsError(AuditError, FileExistsError):
    """EEXIST: e.g. a duplicate rule, or another daemon already registered."""


class AuditFileNotFoundError(AuditError, FileNotFoundError):
    """ENOENT: e.g. deleting a rule that does not exist."""


class AuditProcessLookupError(AuditError, ProcessLookupError):
    """ESRCH."""


class AuditTimeoutError(AuditError, TimeoutError):
    """ETIMEDOUT: no reply from the kernel in time."""


class AuditInterruptedError(AuditError, InterruptedError):
    """EINTR."""


class AuditBlockingIOError(AuditError, BlockingIOError):
    """EAGAIN / EWOULDBLOCK / EALREADY / EINPROGRESS."""


class AuditConnectionRefusedError(AuditError, ConnectionRefusedError):
    """ECONNREFUSED."""


class AuditConnectionResetError(AuditError, ConnectionResetError):
    """ECONNRESET."""


class AuditConnectionAbortedError(AuditError, ConnectionAbortedError):
    """ECONNABORTED."""


class AuditBrokenPipeError(AuditError, BrokenPipeError):
    """EPIPE / ESHUTDOWN."""


class AuditChildProcessError(AuditError, ChildProcessError):
    """ECHILD."""


class AuditIsADirectoryError(AuditError, IsADirectoryError):
    """EISDIR."""


class AuditNotADirectoryError(AuditError, NotADirectoryError):
    """ENOTDIR."""


# The same errno -> class choice CPython makes for OSError (Objects/exceptions.c).
_BY_ERRNO: dict[int, type[AuditError]] = {
    _errno.EPERM: AuditPermissionError,
    _errno.EACCES: AuditPermissionError,
    _errno.EEXIST: AuditFileExistsError,
    _errno.ENOENT: AuditFileNotFoundError,
    _errno.ESRCH: AuditProcessLookupError,
    _errno.ETIMEDOUT: AuditTimeoutError,
    _errno.EINTR: AuditInterruptedError,
    _errno.EAGAIN: AuditBlockingIOError,
    _errno.EALREADY: AuditBlockingIOError,
    _errno.EINPROGRESS: AuditBlockingIOError,
    _errno.ECONNREFUSED: AuditConnectionRefusedError,
    _errno.ECONNRESET: AuditConnectionResetError,
    _errno.ECONNABORTED: AuditConnectionAbortedError,
    _errno.EPIPE: AuditBrokenPipeError,
    _errno.ESHUTDOWN: AuditBrokenPipeError,
    _errno.ECHILD: AuditChildProcessError,
    _errno.EISDIR: AuditIsADirectoryError,
    _errno.ENOTDIR: AuditNotADirectoryError,
}


def _from_errno(
    errno: int, strerror: str, operation: str | None = None, seq: int | None = None
) -> AuditError:
    """Build the error for ``errno`` (used by the native module)."""
    cls = _BY_ERRNO.get(errno, AuditError)
    err = cls(errno, strerror)
    err.operation = operation
    err.seq = seq
    return err


__all__ = [
    "AuditBlockingIOError",
    "AuditBrokenPipeError",
    "AuditChildProcessError",
    "AuditConnectionAbortedError",
    "AuditConnectionRefusedError",
    "AuditConnectionResetError",
    "AuditError",
    "AuditFileExistsError",
    "AuditFileNotFoundError",
    "AuditInterruptedError",
    "AuditIsADirectoryError",
    "AuditNotADirectoryError",
    "AuditPermissionError",
    "AuditProcessLookupError",
    "AuditTimeoutError",
]
