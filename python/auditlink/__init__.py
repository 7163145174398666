"""auditlink: the Linux kernel audit subsystem over NETLINK_AUDIT, from Python.

Read and change the kernel's audit status, manage rules, and receive the kernel's
audit event stream — with a Rust core, without auditd or root-only C tools.

    >>> from auditlink import AuditClient
    >>> with AuditClient() as client:          # doctest: +SKIP
    ...     print(client.get_status())
"""

from __future__ import annotations

# Not ``typing.TYPE_CHECKING``: importing typing alone costs more than this module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from auditlink._message_type import MessageType
    from auditlink._native import (
        AUDIT_GET,
        AUDIT_MESSAGE_MAX_LENGTH,
        AUDIT_NLGRP_READLOG,
        AUDIT_SET,
        NETLINK_AUDIT,
        NetlinkMessage,
        RawAuditMessage,
        __version__,
    )
    from auditlink.client import AuditClient, ClientStats, NetlinkClient, parse_netlink_error
    from auditlink.daemon import Daemon
    from auditlink.enrich import Enricher, ProcessTracker, TrackedProcess
    from auditlink.enums import (
        AuditFeatureBitmap,
        AuditStatusMask,
        FailureMode,
        NetlinkErrno,
        WaitMode,
    )
    from auditlink.errors import AuditError
    from auditlink.events import (
        AuditEvent,
        AuditRecord,
        AuditTimestamp,
        Reassembler,
        RecordFields,
        RecordParseError,
        parse_log_line,
        parse_record,
        read_events,
        set_id_resolution,
    )
    from auditlink.forward import OtlpSink, RemoteSink, SinkStats, SyslogSink, forward
    from auditlink.normalize import (
        NormalizedEvent,
        NormalizedField,
        NormalizedObject,
        NormalizedSubject,
    )
    from auditlink.report import ReportResult, report
    from auditlink.rules import (
        AuditFeature,
        AuditFeatures,
        AuditRule,
        LoadResult,
        RuleAction,
        RuleField,
        RuleFileCommand,
        RuleFileLine,
        RuleList,
        RuleLoadError,
        RuleSyntaxError,
        SignalInfo,
        TtyStatus,
    )
    from auditlink.search import SearchFilter, search
    from auditlink.status import AuditStatus

# Where each public name lives. ``import auditlink`` imports none of these modules:
# a name is imported on first use (PEP 562), so a program pays only for what it
# touches, and ``auditlink daemon`` reaches its registration sooner after a restart.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "._message_type": ("MessageType",),
    "._native": (
        "AUDIT_GET",
        "AUDIT_MESSAGE_MAX_LENGTH",
        "AUDIT_NLGRP_READLOG",
        "AUDIT_SET",
        "NETLINK_AUDIT",
        "NetlinkMessage",
        "RawAuditMessage",
        "__version__",
    ),
    ".client": (
        "AuditClient",
        "ClientStats",
        "NetlinkClient",
        "parse_netlink_error",
    ),
    ".daemon": ("Daemon",),
    ".enrich": (
        "Enricher",
        "ProcessTracker",
        "TrackedProcess",
    ),
    ".enums": (
        "AuditFeatureBitmap",
        "AuditStatusMask",
        "FailureMode",
        "NetlinkErrno",
        "WaitMode",
    ),
    ".errors": ("AuditError",),
    ".events": (
        "AuditEvent",
        "AuditRecord",
        "AuditTimestamp",
        "Reassembler",
        "RecordFields",
        "RecordParseError",
        "parse_log_line",
        "parse_record",
        "read_events",
        "set_id_resolution",
    ),
    ".forward": (
        "OtlpSink",
        "RemoteSink",
        "SinkStats",
        "SyslogSink",
        "forward",
    ),
    ".normalize": (
        "NormalizedEvent",
        "NormalizedField",
        "NormalizedObject",
        "NormalizedSubject",
    ),
    ".report": (
        "ReportResult",
        "report",
    ),
    ".rules": (
        "AuditFeature",
        "AuditFeatures",
        "AuditRule",
        "LoadResult",
        "RuleAction",
        "RuleField",
        "RuleFileCommand",
        "RuleFileLine",
        "RuleList",
        "RuleLoadError",
        "RuleSyntaxError",
        "SignalInfo",
        "TtyStatus",
    ),
    ".search": (
        "SearchFilter",
        "search",
    ),
    ".status": ("AuditStatus",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


# Hidden from type checkers, which see the imports above: a module ``__getattr__``
# would make every misspelt name type-check.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        module = _MODULE_OF.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module, __name__), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))

    import sys as _sys

    class _Package(type(_sys)):
        """Keeps ``auditlink.search`` (``.report``, ``.forward``) the function
        when its submodule is first imported: the import system then sets the
        package attribute of that name to the submodule."""

        def __setattr__(self, name: str, value: object) -> None:
            if isinstance(value, type(_sys)) and name in _MODULE_OF:
                value = getattr(value, name)
            super().__setattr__(name, value)

    _sys.modules[__name__].__class__ = _Package


__all__ = [
    "AUDIT_GET",
    "AUDIT_MESSAGE_MAX_LENGTH",
    "AUDIT_NLGRP_READLOG",
    "AUDIT_SET",
    "NETLINK_AUDIT",
    "AuditClient",
    "AuditError",
    "AuditEvent",
    "AuditFeature",
    "AuditFeatureBitmap",
    "AuditFeatures",
    "AuditRecord",
    "AuditRule",
    "AuditStatus",
    "AuditStatusMask",
    "AuditTimestamp",
    "ClientStats",
    "Daemon",
    "Enricher",
    "FailureMode",
    "LoadResult",
    "MessageType",
    "NetlinkClient",
    "NetlinkErrno",
    "NetlinkMessage",
    "NormalizedEvent",
    "NormalizedField",
    "NormalizedObject",
    "NormalizedSubject",
    "OtlpSink",
    "ProcessTracker",
    "RawAuditMessage",
    "Reassembler",
    "RecordFields",
    "RecordParseError",
    "RemoteSink",
    "ReportResult",
    "RuleAction",
    "RuleField",
    "RuleFileCommand",
    "RuleFileLine",
    "RuleList",
    "RuleLoadError",
    "RuleSyntaxError",
    "SearchFilter",
    "SignalInfo",
    "SinkStats",
    "SyslogSink",
    "TrackedProcess",
    "TtyStatus",
    "WaitMode",
    "__version__",
    "forward",
    "parse_log_line",
    "parse_netlink_error",
    "parse_record",
    "read_events",
    "report",
    "search",
    "set_id_resolution",
]
