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
message says what was wrong. Rule text auditctl would refuse is a
:class:`RuleSyntaxError` (a :class:`ValueError`); a rules file that fails to load is a
:class:`RuleLoadError` whose ``__cause__`` is one of the others.

Every class here follows one pattern: it is built like its built-in base (a message,
or ``errno, strerror``), its context (where, which request, which line) comes as
keyword-only arguments stored as attributes of the same name (class-level ``None``
defaults), and ``str()`` appends that context to the base message.
"""

from __future__ import annotations

import errno as _errno
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditlink.rules import LoadResult, RuleFileLine


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

    def __init__(
        self,
        *args: object,
        operation: str | None = None,
        seq: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(*args)
        self.operation = operation
        self.seq = seq
        self.detail = detail

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
    return cls(errno, strerror, operation=operation, seq=seq)


class RuleSyntaxError(ValueError):
    """A rule (or a line of a rules file) auditctl would refuse.

    ``message`` is auditctl's own message; ``position`` is the character offset in
    ``text`` where the offending argument starts (None when the error concerns the
    whole rule) and ``token`` that argument.
    """

    position: int | None = None
    token: str | None = None
    text: str = ""

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        token: str | None = None,
        text: str = "",
    ) -> None:
        super().__init__(message)
        self.position = position
        self.token = token
        self.text = text

    @property
    def message(self) -> str:
        """auditctl's message, without the position."""
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at position {self.position}: {self.token!r})"


class RuleLoadError(Exception):
    """A rules file failed to load (auditctl -R would exit with 1).

    ``result`` is the :class:`~auditlink.rules.LoadResult` so far; ``line`` the first
    failed line. The underlying exception is chained as ``__cause__``: a
    :class:`RuleSyntaxError` for text auditctl refuses, an :class:`AuditError`
    (``FileExistsError`` for a duplicate rule, ...) for what the kernel refused.
    """

    result: LoadResult
    line: RuleFileLine

    def __init__(self, message: str, *, result: LoadResult, line: RuleFileLine) -> None:
        super().__init__(message)
        self.result = result
        self.line = line

    @property
    def lineno(self) -> int:
        return self.line.lineno

    @property
    def errno(self) -> int | None:
        return self.line.errno


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
    "RuleLoadError",
    "RuleSyntaxError",
]
