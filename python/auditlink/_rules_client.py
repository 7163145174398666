"""AuditClient methods for rules, features, signal info, TTY auditing and user
messages (mixed into :class:`auditlink.AuditClient`)."""

from __future__ import annotations

import errno as _errno
import os
import stat
from typing import Union

from auditlink import _native
from auditlink.enums import AuditFeature, WaitMode
from auditlink.errors import AuditError, RuleLoadError, RuleSyntaxError, _from_errno
from auditlink.rules import (
    AuditFeatures,
    AuditRule,
    LoadResult,
    RuleFileLine,
    SignalInfo,
    TtyStatus,
)

StrPath = Union[str, "os.PathLike[str]"]


def _wait(wait: WaitMode) -> bool:
    if not isinstance(wait, WaitMode):
        raise TypeError(f"wait must be a WaitMode, got {wait!r}")
    return wait is WaitMode.WAIT_FOR_REPLY


def _rule(rule: AuditRule | str) -> AuditRule:
    if isinstance(rule, str):
        return AuditRule.parse(rule)
    if not isinstance(rule, AuditRule):
        raise TypeError(f"expected an AuditRule or a str, got {type(rule).__name__}")
    return rule


def _bool_flag(name: str, value: bool) -> int:
    if not isinstance(value, (bool, int)) or int(value) not in (0, 1):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return int(value)


def read_rules_file(path: StrPath) -> bytes:
    """The bytes of a rules file, refused the way ``auditctl -R`` refuses files:
    not owned by root, writable by others, or not a regular file."""
    name = os.fspath(path)
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(_errno.EINVAL, f"Error - {name} is not a regular file", name)
        if st.st_uid != 0:
            raise PermissionError(_errno.EPERM, f"Error - {name} isn't owned by root", name)
        if st.st_mode & stat.S_IWOTH:
            raise PermissionError(_errno.EPERM, f"Error - {name} is world writable", name)
        return f.read()


def _line_error(line: RuleFileLine) -> Exception:
    """The exception behind a failed line, to chain under RuleLoadError."""
    if line.errno is not None:
        err: AuditError = _from_errno(
            line.errno, os.strerror(line.errno), f"line {line.lineno}", None
        )
        return err
    return RuleSyntaxError(line.message or "error", position=line.position, text=line.text)


def dry_run_rules(path: StrPath) -> LoadResult:
    """Parse and check a rules file without a kernel (``load_rules(dry_run=True)``)."""
    name = os.fspath(path)
    return LoadResult(name, True, _native.rules_load(None, read_rules_file(name), True))


class RulesClientMixin:
    """The rule and control-plane methods of :class:`auditlink.AuditClient`."""

    _native: _native.AuditClient

    # ------------------------------------------------------------------- rules

    def get_rules(self) -> list[AuditRule]:
        """Every rule loaded in the kernel (AUDIT_LIST_RULES), in the kernel's order:
        list by list (user, task, exit, exclude, filesystem, io_uring), each in rule
        order."""
        return _native.rules_get(self._native)

    def add_rule(self, rule: AuditRule | str, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> None:
        """Add a rule (``auditctl -a``/``-A``/``-w``); ``rule`` may be auditctl text.

        Raises ``FileExistsError`` (an :class:`~auditlink.AuditError`) if the kernel
        already has the rule, and the kernel's errno for anything else it refuses
        (EINVAL for a field the list does not take, ENOENT for a watch below a
        missing directory, EPERM when the configuration is locked...).
        """
        _native.rules_add(self._native, _rule(rule), _wait(wait))

    def delete_rule(self, rule: AuditRule | str, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> None:
        """Delete a rule (``auditctl -d``/``-W``): the kernel's rule equal to ``rule``.
        ``FileNotFoundError`` if there is none."""
        _native.rules_delete(self._native, _rule(rule), _wait(wait))

    def delete_all_rules(self) -> int:
        """Delete every rule (``auditctl -D``); returns how many were deleted."""
        return _native.rules_delete_all(self._native)

    def delete_rules_by_key(self, key: str) -> int:
        """Delete the rules that have ``key`` among their keys (exact match; auditctl's
        ``-D -k`` matches substrings). Returns how many were deleted."""
        if not isinstance(key, str):
            raise TypeError(f"key must be a str, got {type(key).__name__}")
        return _native.rules_delete_by_key(self._native, os.fsencode(key))

    def load_rules(self, path: StrPath, dry_run: bool = False) -> LoadResult:
        """Load an ``audit.rules`` file (or a ``rules.d`` file) like ``auditctl -R``.

        Line by line: ``-D``, ``-b``, ``-f``, ``-e``, ``-r``, ``--backlog_wait_time``,
        ``--loginuid-immutable``, ``--reset-lost``, rules and watches; ``#`` comments
        and blank lines are skipped. The first failing line stops the load, unless
        ``-i`` (ignore errors) or ``-c`` (continue, but fail at the end) came earlier.
        Nothing is skipped silently: every line is in the returned
        :class:`~auditlink.rules.LoadResult`.

        Everything in the file is applied, including ``-e 2`` (which locks the audit
        configuration until reboot) and ``--loginuid-immutable``: check
        ``load_rules(path, dry_run=True).lines`` first if the file is not yours.

        ``dry_run`` parses and checks every line without touching the kernel and
        returns the report (it raises only if the file cannot be read).

        Raises :class:`~auditlink.rules.RuleLoadError` (with the partial result) when
        the load fails; its ``__cause__`` is the :class:`~auditlink.rules.RuleSyntaxError`
        or the kernel's error. The file must be a regular file owned by root and not
        writable by others, as for auditctl.
        """
        name = os.fspath(path)
        content = read_rules_file(name)
        if dry_run:
            return LoadResult(name, True, _native.rules_load(None, content, True))
        result = LoadResult(name, False, _native.rules_load(self._native, content, False))
        if not result.ok:
            first = result.first_error
            assert first is not None
            message = f"{result.path}:{first.lineno}: {first.message}"
            raise RuleLoadError(message, result=result, line=first) from _line_error(first)
        return result

    # ---------------------------------------------------------------- features

    def get_features(self) -> AuditFeatures:
        """The kernel's settable features and their locks (AUDIT_GET_FEATURE)."""
        vers, mask, features, lock = _native.features_get(self._native)
        return AuditFeatures(version=vers, mask=mask, features=features, lock=lock)

    def set_feature(self, feature: AuditFeature, enabled: bool, lock: bool = False) -> None:
        """Turn a feature on or off (AUDIT_SET_FEATURE). ``lock=True`` makes the
        setting permanent until reboot; changing a locked feature raises
        ``PermissionError``."""
        _native.feature_set(
            self._native,
            int(AuditFeature(feature)),
            bool(_bool_flag("enabled", enabled)),
            bool(_bool_flag("lock", lock)),
        )

    def set_loginuid_immutable(self, lock: bool = True) -> None:
        """Make loginuids unchangeable once set (``auditctl --loginuid-immutable``,
        which also locks it: irreversible until reboot). ``lock=False`` turns the
        feature on without locking it."""
        self.set_feature(AuditFeature.LOGINUID_IMMUTABLE, True, lock=lock)

    # ------------------------------------------------------ signal info / tty

    def get_signal_info(self) -> SignalInfo:
        """Who last signalled the audit daemon (AUDIT_SIGNAL_INFO)."""
        uid, pid, context = _native.signal_info_get(self._native)
        return SignalInfo(uid=uid, pid=pid, context=context)

    def get_tty_status(self) -> TtyStatus:
        """TTY input auditing of the calling process (AUDIT_TTY_GET)."""
        enabled, log_passwd = _native.tty_get(self._native)
        return TtyStatus(enabled=bool(enabled), log_passwd=bool(log_passwd))

    def set_tty_status(self, enabled: bool, log_passwd: bool = False) -> None:
        """Turn TTY input auditing of the calling process (and the children it starts
        afterwards) on or off (AUDIT_TTY_SET), as pam_tty_audit does."""
        _native.tty_set(
            self._native, _bool_flag("enabled", enabled), _bool_flag("log_passwd", log_passwd)
        )

    # ------------------------------------------------------------ user messages

    def send_user_message(self, type: int, text: str) -> None:
        """Send a user-space audit message (needs CAP_AUDIT_WRITE); the kernel turns
        it into a record of that ``type`` (1005 ``USER``, 1100-1199 or 2100-2999,
        e.g. ``MessageType.USER_AVC``). Sent as libaudit does: the text and a NUL."""
        if isinstance(type, bool) or not isinstance(type, int):
            raise TypeError(f"type must be an int, got {type!r}")
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {text!r}")
        if not (type == 1005 or 1100 <= type <= 1199 or 2100 <= type <= 2999):
            raise ValueError(f"type {type} is not a user message type (1005, 1100-1199, 2100-2999)")
        _native.user_message_send(self._native, int(type), os.fsencode(text))


__all__ = ["RulesClientMixin", "dry_run_rules", "read_rules_file"]
