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
    is_user_message,
)

StrPath = Union[str, "os.PathLike[str]"]


def _wait(wait: bool | WaitMode) -> bool:
    """The ``wait`` argument of every control call: True/False, or a WaitMode."""
    if isinstance(wait, WaitMode):
        return wait is WaitMode.WAIT_FOR_REPLY
    if isinstance(wait, bool):
        return wait
    raise TypeError(f"wait must be True, False or a WaitMode, got {wait!r}")


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
        """Every rule loaded in the kernel (AUDIT_LIST_RULES).

        Returns:
            The rules in the kernel's order: list by list (user, task, exit, exclude,
            filesystem, io_uring), each in rule order.

        Raises:
            AuditError: the kernel refused (``PermissionError`` without
                CAP_AUDIT_CONTROL) or sent a malformed rule.
        """
        return _native.rules_get(self._native)

    def add_rule(self, rule: AuditRule | str, wait: bool | WaitMode = True) -> None:
        """Add a rule (``auditctl -a``/``-A``/``-w``).

        Arguments:
            rule: an :class:`AuditRule`, or auditctl text parsed with
                :meth:`AuditRule.parse`.
            wait: wait for the kernel's ack (default) or only send.

        Raises:
            RuleSyntaxError: ``rule`` is text auditctl would refuse.
            AuditError: the kernel refused: ``FileExistsError`` if it already has the
                rule, else the kernel's errno (EINVAL for a field the list does not
                take, ENOENT for a watch below a missing directory, EPERM when the
                configuration is locked...).
        """
        _native.rules_change(self._native, _rule(rule), False, _wait(wait))

    def delete_rule(self, rule: AuditRule | str, wait: bool | WaitMode = True) -> None:
        """Delete a rule (``auditctl -d``/``-W``): the kernel's rule equal to ``rule``.

        Arguments:
            rule: an :class:`AuditRule`, or auditctl text.
            wait: wait for the kernel's ack (default) or only send.

        Raises:
            RuleSyntaxError: ``rule`` is text auditctl would refuse.
            AuditError: ``FileNotFoundError`` if the kernel has no such rule, else the
                kernel's errno.
        """
        _native.rules_change(self._native, _rule(rule), True, _wait(wait))

    def delete_all_rules(self) -> int:
        """Delete every rule (``auditctl -D``).

        Returns:
            How many rules were deleted.

        Raises:
            AuditError: the kernel refused a request.
        """
        return _native.rules_delete_all(self._native)

    def delete_rules_by_key(self, key: str) -> int:
        """Delete the rules that have ``key`` among their keys.

        Arguments:
            key: the key, matched exactly (auditctl's ``-D -k`` matches substrings).

        Returns:
            How many rules were deleted.

        Raises:
            TypeError: ``key`` is not a str.
            AuditError: the kernel refused a request.
        """
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

        Consecutive rule lines go to the kernel several per datagram; each line
        still succeeds or fails on its own, with its line number and errno.

        Arguments:
            path: the rules file: a regular file owned by root and not writable by
                others, as for auditctl.
            dry_run: parse and check every line without touching the kernel.

        Returns:
            The :class:`~auditlink.rules.LoadResult`, line by line.

        Raises:
            OSError: the file cannot be read or is refused (owner, mode, type).
            RuleLoadError: the load failed (never with ``dry_run``); it carries the
                partial result, and its ``__cause__`` is the
                :class:`~auditlink.rules.RuleSyntaxError` or the kernel's error.
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
        """The kernel's settable features and their locks (AUDIT_GET_FEATURE).

        Returns:
            The :class:`~auditlink.rules.AuditFeatures` bitmaps.

        Raises:
            AuditError: the kernel refused or sent a malformed reply.
        """
        vers, mask, features, lock = _native.features_get(self._native)
        return AuditFeatures(version=vers, mask=mask, features=features, lock=lock)

    def set_feature(
        self,
        feature: AuditFeature,
        enabled: bool,
        lock: bool = False,
        wait: bool | WaitMode = True,
    ) -> None:
        """Turn a feature on or off (AUDIT_SET_FEATURE).

        Arguments:
            feature: the :class:`AuditFeature`.
            enabled: on or off.
            lock: make the setting permanent until reboot.
            wait: wait for the kernel's ack (False: return once sent).

        Raises:
            ValueError: ``feature`` is not an AuditFeature, or a flag not a bool.
            AuditError: ``PermissionError`` when the feature is locked, else the
                kernel's errno.
        """
        _native.feature_set(
            self._native,
            int(AuditFeature(feature)),
            bool(_bool_flag("enabled", enabled)),
            bool(_bool_flag("lock", lock)),
            _wait(wait),
        )

    def set_loginuid_immutable(self, lock: bool = True, wait: bool | WaitMode = True) -> None:
        """Make loginuids unchangeable once set (``auditctl --loginuid-immutable``).

        Arguments:
            lock: also lock the feature, as auditctl does (irreversible until reboot);
                ``False`` turns it on without locking it.
            wait: wait for the kernel's ack (False: return once sent).

        Raises:
            AuditError: ``PermissionError`` when the feature is locked.
        """
        self.set_feature(AuditFeature.LOGINUID_IMMUTABLE, True, lock=lock, wait=wait)

    # ------------------------------------------------------ signal info / tty

    def get_signal_info(self) -> SignalInfo:
        """Who last signalled the audit daemon (AUDIT_SIGNAL_INFO).

        Returns:
            The :class:`~auditlink.rules.SignalInfo`.

        Raises:
            AuditError: the kernel refused (it does unless the caller is the
                registered daemon or has CAP_AUDIT_CONTROL) or sent a malformed reply.
        """
        uid, pid, context = _native.signal_info_get(self._native)
        return SignalInfo(uid=uid, pid=pid, context=context)

    def get_tty_status(self) -> TtyStatus:
        """TTY input auditing of the calling process (AUDIT_TTY_GET).

        Returns:
            The :class:`~auditlink.rules.TtyStatus`.

        Raises:
            AuditError: the kernel refused or sent a malformed reply.
        """
        enabled, log_passwd = _native.tty_get(self._native)
        return TtyStatus(enabled=bool(enabled), log_passwd=bool(log_passwd))

    def set_tty_status(
        self, enabled: bool, log_passwd: bool = False, wait: bool | WaitMode = True
    ) -> None:
        """Turn TTY input auditing of the calling process (and the children it starts
        afterwards) on or off (AUDIT_TTY_SET), as pam_tty_audit does.

        Arguments:
            enabled: audit TTY input.
            log_passwd: also log input typed with echo off (passwords).
            wait: wait for the kernel's ack (False: return once sent).

        Raises:
            ValueError: a flag is not a bool.
            AuditError: the kernel refused.
        """
        _native.tty_set(
            self._native,
            _bool_flag("enabled", enabled),
            _bool_flag("log_passwd", log_passwd),
            _wait(wait),
        )

    # ------------------------------------------------------------ user messages

    def send_user_message(self, type: int, text: str) -> None:
        """Send a user-space audit message (needs CAP_AUDIT_WRITE), as libaudit does:
        the text and a NUL. The kernel turns it into a record of that ``type``.

        Arguments:
            type: a user message type (:func:`~auditlink.rules.is_user_message`:
                1005 ``USER``, 1100-1199 or 2100-2999, e.g. ``MessageType.USER_AVC``).
            text: the message.

        Raises:
            TypeError: ``type`` is not an int or ``text`` not a str.
            ValueError: ``type`` is not a user message type.
            AuditError: the kernel refused (``PermissionError`` without
                CAP_AUDIT_WRITE).
        """
        if isinstance(type, bool) or not isinstance(type, int):
            raise TypeError(f"type must be an int, got {type!r}")
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {text!r}")
        if not (0 <= type <= 0xFFFF and is_user_message(type)):
            raise ValueError(f"type {type} is not a user message type (1005, 1100-1199, 2100-2999)")
        _native.user_message_send(self._native, int(type), os.fsencode(text))


__all__ = ["RulesClientMixin", "dry_run_rules", "read_rules_file"]
