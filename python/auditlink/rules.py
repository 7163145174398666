"""Audit rules and the rest of auditctl's control plane, as Python values.

:class:`AuditRule` parses auditctl's syntax, builds the kernel's binary
``struct audit_rule_data`` and prints rules the way ``auditctl -l`` does — all three
in the Rust core, byte for byte and letter for letter like auditctl 3.0.9::

    >>> from auditlink.rules import AuditRule
    >>> rule = AuditRule.parse("-w /etc/shadow -p wa -k identity")
    >>> str(rule)
    '-w /etc/shadow -p wa -k identity'
    >>> AuditRule.from_bytes(rule.to_bytes()) == rule
    True

The client methods that use these (``get_rules``, ``add_rule``, ``load_rules``,
``get_features``, ...) live on :class:`auditlink.AuditClient`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union, cast

from auditlink import _native
from auditlink._native import AuditRule, RuleField, is_user_message
from auditlink.enums import AuditFeature, RuleAction, RuleList
from auditlink.errors import RuleLoadError, RuleSyntaxError

if TYPE_CHECKING:
    from auditlink._native.rules import _LoadLine


@dataclass(frozen=True)
class AuditFeatures:
    """The kernel's ``struct audit_features`` (AUDIT_GET_FEATURE): bitmaps indexed by
    :class:`AuditFeature`. A locked feature cannot change again until reboot."""

    version: int
    mask: int
    features: int
    lock: int

    def enabled(self, feature: AuditFeature) -> bool:
        """Whether a feature is on.

        Arguments:
            feature: the :class:`AuditFeature`.

        Returns:
            True when its bit is set in ``features``.
        """
        return bool(self.features & (1 << int(feature)))

    def locked(self, feature: AuditFeature) -> bool:
        """Whether a feature is locked (cannot change until reboot).

        Arguments:
            feature: the :class:`AuditFeature`.

        Returns:
            True when its bit is set in ``lock``.
        """
        return bool(self.lock & (1 << int(feature)))

    @property
    def loginuid_immutable(self) -> bool:
        return self.enabled(AuditFeature.LOGINUID_IMMUTABLE)

    @property
    def loginuid_immutable_locked(self) -> bool:
        return self.locked(AuditFeature.LOGINUID_IMMUTABLE)

    @property
    def only_unset_loginuid(self) -> bool:
        return self.enabled(AuditFeature.ONLY_UNSET_LOGINUID)


@dataclass(frozen=True)
class SignalInfo:
    """AUDIT_SIGNAL_INFO: who last sent a signal to the audit daemon (uid, pid and
    security context; the kernel reports uid 4294967295 / pid 0 when nobody did)."""

    uid: int
    pid: int
    context: str | None


@dataclass(frozen=True)
class TtyStatus:
    """TTY input auditing of the calling process (``struct audit_tty_status``)."""

    enabled: bool
    log_passwd: bool


CommandValue = Union[AuditRule, int, str, tuple[str, str], None]

RuleFileCommandKind = Literal[
    "add_rule",
    "delete_rule",
    "delete_all",
    "set_enabled",
    "set_failure",
    "set_rate_limit",
    "set_backlog_limit",
    "set_backlog_wait_time",
    "loginuid_immutable",
    "reset_lost",
    "reset_backlog_wait_time_actual",
    "ignore_errors",
    "continue_on_errors",
    "list",
    "status",
    "trim",
    "make_equivalent",
    "user_message",
    "signal",
    "version",
    "help",
    "read_file",
]
"""What a :class:`RuleFileCommand` asks for."""

RuleFileLineStatus = Literal["ok", "failed", "not_run"]
"""What became of a :class:`RuleFileLine`."""


@dataclass(frozen=True)
class RuleFileCommand:
    """One thing a rules-file line asks for.

    ``kind`` is one of ``add_rule``, ``delete_rule`` (``value``: the
    :class:`AuditRule`), ``delete_all`` (``value``: the ``-k`` key or None),
    ``set_enabled``, ``set_failure``, ``set_rate_limit``, ``set_backlog_limit``,
    ``set_backlog_wait_time`` (``value``: the number), ``loginuid_immutable``,
    ``reset_lost``, ``reset_backlog_wait_time_actual``, ``ignore_errors`` (``-i``),
    ``continue_on_errors`` (``-c``), ``trim``, ``make_equivalent`` (``value``:
    ``(mount, subtree)``), ``user_message`` (``value``: the text), and the ones that
    change nothing or are refused: ``list``, ``status``, ``version``, ``help``,
    ``signal``, ``read_file``.
    """

    kind: RuleFileCommandKind
    value: CommandValue = None


@dataclass(frozen=True)
class RuleFileLine:
    """One command line of a rules file and what became of it.

    ``status`` is ``"ok"``, ``"failed"`` (``message`` says why, in auditctl's words;
    ``errno`` is set when the kernel refused; ``position`` is the character offset of
    the offending argument for syntax errors) or ``"not_run"`` (an earlier error
    stopped the load). ``executed`` is true when the line's commands were sent to the
    kernel (never in a dry run).
    """

    lineno: int
    text: str
    commands: tuple[RuleFileCommand, ...]
    warnings: tuple[str, ...]
    status: RuleFileLineStatus
    message: str | None = None
    errno: int | None = None
    position: int | None = None
    executed: bool = False

    @property
    def rules(self) -> tuple[AuditRule, ...]:
        """The rules this line adds or deletes."""
        return tuple(c.value for c in self.commands if isinstance(c.value, AuditRule))


class LoadResult:
    """What :meth:`AuditClient.load_rules <auditlink.AuditClient.load_rules>` did
    (or, with ``dry_run``, would do), line by line. Immutable."""

    __slots__ = ("_lines", "_report", "dry_run", "path")

    def __init__(self, path: str, dry_run: bool, report: _native.LoadReport) -> None:
        self.path = path
        self.dry_run = dry_run
        self._report = report
        self._lines: tuple[RuleFileLine, ...] | None = None

    @property
    def rules_added(self) -> int:
        return self._report.rules_added

    @property
    def rules_deleted(self) -> int:
        return self._report.rules_deleted

    @property
    def ignore_errors(self) -> bool:
        """``-i`` or ``-c`` was given: errors did not stop the load."""
        return self._report.ignore_errors

    @property
    def continue_on_errors(self) -> bool:
        """``-c`` was given: the load still fails if a line failed."""
        return self._report.continue_on_errors

    @property
    def stopped_at(self) -> int | None:
        """The line number whose error stopped the load, if one did."""
        return self._report.stopped_at

    @property
    def ok(self) -> bool:
        """auditctl -R would exit with 0."""
        return self._report.succeeded

    @property
    def lines(self) -> tuple[RuleFileLine, ...]:
        """Every command line of the file (blank lines and comments aside)."""
        if self._lines is None:
            self._lines = tuple(_line(t) for t in self._report.lines())
        return self._lines

    @property
    def errors(self) -> tuple[RuleFileLine, ...]:
        return tuple(line for line in self.lines if line.status == "failed")

    @property
    def first_error(self) -> RuleFileLine | None:
        raw = self._report.first_failure()
        return None if raw is None else _line(raw)

    @property
    def rules(self) -> tuple[AuditRule, ...]:
        """Every rule the file adds, in order."""
        return tuple(
            c.value
            for line in self.lines
            for c in line.commands
            if c.kind == "add_rule" and isinstance(c.value, AuditRule)
        )

    def __repr__(self) -> str:
        return (
            f"<LoadResult {self.path!r} dry_run={self.dry_run} ok={self.ok} "
            f"rules_added={self.rules_added} rules_deleted={self.rules_deleted} "
            f"stopped_at={self.stopped_at}>"
        )


def _line(raw: _LoadLine) -> RuleFileLine:
    lineno, text, commands, warnings, status, message, errno, position, executed = raw
    return RuleFileLine(
        lineno=lineno,
        text=text,
        commands=tuple(RuleFileCommand(cast(RuleFileCommandKind, k), v) for k, v in commands),
        warnings=tuple(warnings),
        status=cast(RuleFileLineStatus, status),
        message=message,
        errno=errno,
        position=position,
        executed=executed,
    )


__all__ = [
    "AuditFeature",
    "AuditFeatures",
    "AuditRule",
    "LoadResult",
    "RuleAction",
    "RuleField",
    "RuleFileCommand",
    "RuleFileCommandKind",
    "RuleFileLine",
    "RuleFileLineStatus",
    "RuleList",
    "RuleLoadError",
    "RuleSyntaxError",
    "SignalInfo",
    "TtyStatus",
    "is_user_message",
]
