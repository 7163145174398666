"""Audit rules, rules files, features, tty status and user messages
(rust/bindings/rules.rs)."""

from typing import Any, final

from auditlink._native.client import AuditClient
from auditlink.enums import RuleAction, RuleList

@final
class RuleField:
    """One condition of an :class:`AuditRule`: the kernel's field number, auditctl's
    name for it, the operator symbol and the value (an int, or a str for paths, keys
    and security labels). Numbers are the raw 32-bit values (``exit=-13`` is
    4294967283)."""

    @property
    def field(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def value(self) -> int | str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuditRule:
    """An audit rule, as auditctl writes it and as the kernel stores it.

    Build one with :meth:`parse` (auditctl syntax, e.g. ``"-a always,exit -F arch=b64
    -S openat -k access"`` or ``"-w /etc/shadow -p wa -k identity"``; ``AuditRule(text)``
    is the same) or :meth:`from_bytes` (a kernel ``struct audit_rule_data``).
    :meth:`to_bytes` gives the exact bytes auditctl 3.0.9 sends for the rule;
    :meth:`to_command_line` (and ``str()``) the text ``auditctl -l`` prints.

    Immutable and hashable. Two rules are equal when the kernel would treat them as
    the same rule: ``prepend`` (``-A``) does not count, and a mask with every syscall
    set equals the kernel's read-back of it (which lacks the syscall-class bits).
    """

    def __new__(cls, text: str) -> AuditRule:
        """Same as :meth:`parse`.

        Arguments:
            text: the rule, in auditctl's syntax.

        Raises:
            RuleSyntaxError: as for :meth:`parse`.
        """
    @staticmethod
    def parse(text: str) -> AuditRule:
        """Parse one auditctl rule: ``-a``/``-A``/``-d`` with ``-S``, ``-F``, ``-C``,
        ``-k``, ``-p``, or ``-w``/``-W`` with ``-p``/``-k``. Shell quoting is honoured
        and a leading ``auditctl`` ignored. Names are resolved like auditctl does
        (syscalls for the rule's arch or this machine, users, groups, errnos, message
        types); a ``-w`` path that is an existing directory becomes a ``dir`` watch.

        Arguments:
            text: the rule, as Unicode text.

        Returns:
            The rule. ``AuditRule.parse(str(rule)) == rule`` for every rule this
            accepts.

        Raises:
            RuleSyntaxError: auditctl would refuse the text (auditctl's message and
                the position of the offending argument), or the text holds lone
                surrogates (bytes that are not UTF-8 as ``os.fsdecode`` keeps them:
                build such a rule with :meth:`from_bytes`).
        """
    @staticmethod
    def from_bytes(data: bytes) -> AuditRule:
        """Decode a kernel ``struct audit_rule_data``.

        Arguments:
            data: the bytes (up to 3 bytes of netlink padding after them allowed).

        Returns:
            The rule.

        Raises:
            ValueError: the bytes are malformed (short, a field count over 64, string
                lengths that do not add up to ``buflen``, unknown flag bits).
        """
    def to_bytes(self) -> bytes:
        """The ``struct audit_rule_data`` for AUDIT_ADD_RULE / AUDIT_DEL_RULE.

        Returns:
            The bytes auditctl 3.0.9 sends for the same rule.

        Raises:
            ValueError: the rule cannot be encoded (over 64 fields, a string over
                PATH_MAX).
        """
    def to_command_line(self) -> str:
        """The rule as text (also ``str(rule)``): what ``auditctl -l`` prints wherever
        that names the rule exactly, else text that does (docs/rules.md lists the
        differences). Bytes that are not UTF-8 appear as lone surrogates.

        Returns:
            Text that :meth:`parse` reads back as this rule (when its strings are
            UTF-8).
        """
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[bytes]]: ...
    @property
    def list(self) -> RuleList:
        """The filter list (``RuleList.EXIT``, ...)."""
    @property
    def action(self) -> RuleAction:
        """``RuleAction.ALWAYS`` or ``RuleAction.NEVER``."""
    @property
    def prepend(self) -> bool:
        """Parsed from ``-A``: to be inserted at the head of its list."""
    @property
    def all_syscalls(self) -> bool:
        """Every syscall (or io_uring operation) is selected (``-S all``)."""
    @property
    def syscalls(self) -> tuple[int, ...]:
        """The selected syscall (io_uring operation) numbers; empty if all."""
    @property
    def syscall_names(self) -> tuple[str, ...]:
        """:attr:`syscalls` by name, for the rule's arch (else this machine)."""
    @property
    def arch(self) -> int | None:
        """The ``AUDIT_ARCH_*`` value of the first ``arch`` field."""
    @property
    def fields(self) -> tuple[RuleField, ...]:
        """The conditions, in order (``arch``, ``-C`` and the key field included)."""
    @property
    def keys(self) -> tuple[str, ...]:
        """The ``-k`` keys."""
    @property
    def is_watch(self) -> bool:
        """The rule is exactly what ``-w path -p perms [-k key]`` makes, and its text
        is written that way."""

_LoadLine = tuple[
    int,
    str,
    list[tuple[str, Any]],
    list[str],
    str,
    str | None,
    int | None,
    int | None,
    bool,
]

@final
class LoadReport:
    """What :func:`rules_load` did; lines are built on demand."""

    @property
    def rules_added(self) -> int: ...
    @property
    def rules_deleted(self) -> int: ...
    @property
    def ignore_errors(self) -> bool: ...
    @property
    def continue_on_errors(self) -> bool: ...
    @property
    def stopped_at(self) -> int | None: ...
    @property
    def succeeded(self) -> bool: ...
    def lines(self) -> list[_LoadLine]:
        """Every line: ``(lineno, text, [(kind, value)], warnings, status, message,
        errno, position, executed)``."""
    def first_failure(self) -> _LoadLine | None:
        """The first failed line."""

def rules_get(client: AuditClient) -> list[AuditRule]:
    """AUDIT_LIST_RULES: every rule in the kernel."""

def rules_change(client: AuditClient, rule: AuditRule, delete: bool, wait: bool) -> None:
    """AUDIT_ADD_RULE, or AUDIT_DEL_RULE when ``delete``."""

def rules_delete_all(client: AuditClient) -> int:
    """Delete every rule; returns the count."""

def rules_delete_by_key(client: AuditClient, key: bytes) -> int:
    """Delete the rules with exactly this key; returns the count."""

def rules_load(client: AuditClient | None, content: bytes, dry_run: bool) -> LoadReport:
    """Run (or with ``dry_run`` only check) the lines of a rules file."""

def features_get(client: AuditClient) -> tuple[int, int, int, int]:
    """AUDIT_GET_FEATURE: ``(vers, mask, features, lock)``."""

def feature_set(client: AuditClient, feature: int, value: bool, lock: bool, wait: bool) -> None:
    """AUDIT_SET_FEATURE for one feature."""

def signal_info_get(client: AuditClient) -> tuple[int, int, str | None]:
    """AUDIT_SIGNAL_INFO: ``(uid, pid, context)``."""

def tty_get(client: AuditClient) -> tuple[int, int]:
    """AUDIT_TTY_GET: ``(enabled, log_passwd)``."""

def tty_set(client: AuditClient, enabled: int, log_passwd: int, wait: bool) -> None:
    """AUDIT_TTY_SET."""

def user_message_send(client: AuditClient, msg_type: int, text: bytes) -> None:
    """Send a user message (text + NUL) of ``msg_type``."""

def is_user_message(msg_type: int) -> bool:
    """Whether user space may send a message of this type (AUDIT_USER 1005, and the
    user ranges 1100-1199 and 2100-2999), from the one message-type table.

    Arguments:
        msg_type: a netlink message type (0 or more).

    Returns:
        True for a user message type.

    Raises:
        OverflowError: ``msg_type`` is negative or wider than 64 bits.
    """
