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
# What type checkers read (they see every name's type here, and never call the
# ``__getattr__`` below).
if TYPE_CHECKING:
    from auditlink._message_type import MessageType as MessageType
    from auditlink._native import AUDIT_GET as AUDIT_GET
    from auditlink._native import AUDIT_MESSAGE_MAX_LENGTH as AUDIT_MESSAGE_MAX_LENGTH
    from auditlink._native import AUDIT_NLGRP_READLOG as AUDIT_NLGRP_READLOG
    from auditlink._native import AUDIT_SET as AUDIT_SET
    from auditlink._native import NETLINK_AUDIT as NETLINK_AUDIT
    from auditlink._native import NetlinkMessage as NetlinkMessage
    from auditlink._native import RawAuditMessage as RawAuditMessage
    from auditlink._native import __version__ as __version__
    from auditlink.client import AuditClient as AuditClient
    from auditlink.client import ClientStats as ClientStats
    from auditlink.client import NetlinkClient as NetlinkClient
    from auditlink.client import parse_netlink_error as parse_netlink_error
    from auditlink.daemon import Daemon as Daemon
    from auditlink.enrich import Enricher as Enricher
    from auditlink.enrich import ProcessTracker as ProcessTracker
    from auditlink.enrich import TrackedProcess as TrackedProcess
    from auditlink.enums import AuditFeatureBitmap as AuditFeatureBitmap
    from auditlink.enums import AuditStatusMask as AuditStatusMask
    from auditlink.enums import FailureMode as FailureMode
    from auditlink.enums import NetlinkErrno as NetlinkErrno
    from auditlink.enums import WaitMode as WaitMode
    from auditlink.errors import AuditError as AuditError
    from auditlink.events import AuditEvent as AuditEvent
    from auditlink.events import AuditRecord as AuditRecord
    from auditlink.events import AuditTimestamp as AuditTimestamp
    from auditlink.events import Reassembler as Reassembler
    from auditlink.events import RecordFields as RecordFields
    from auditlink.events import RecordParseError as RecordParseError
    from auditlink.events import parse_log_line as parse_log_line
    from auditlink.events import parse_record as parse_record
    from auditlink.events import read_events as read_events
    from auditlink.events import set_id_resolution as set_id_resolution
    from auditlink.forward import OtlpSink as OtlpSink
    from auditlink.forward import RemoteSink as RemoteSink
    from auditlink.forward import SinkStats as SinkStats
    from auditlink.forward import SyslogSink as SyslogSink
    from auditlink.forward import forward as forward
    from auditlink.normalize import NormalizedEvent as NormalizedEvent
    from auditlink.normalize import NormalizedField as NormalizedField
    from auditlink.normalize import NormalizedObject as NormalizedObject
    from auditlink.normalize import NormalizedSubject as NormalizedSubject
    from auditlink.report import ReportResult as ReportResult
    from auditlink.report import report as report
    from auditlink.rules import AuditFeature as AuditFeature
    from auditlink.rules import AuditFeatures as AuditFeatures
    from auditlink.rules import AuditRule as AuditRule
    from auditlink.rules import LoadResult as LoadResult
    from auditlink.rules import RuleAction as RuleAction
    from auditlink.rules import RuleField as RuleField
    from auditlink.rules import RuleFileCommand as RuleFileCommand
    from auditlink.rules import RuleFileLine as RuleFileLine
    from auditlink.rules import RuleList as RuleList
    from auditlink.rules import RuleLoadError as RuleLoadError
    from auditlink.rules import RuleSyntaxError as RuleSyntaxError
    from auditlink.rules import SignalInfo as SignalInfo
    from auditlink.rules import TtyStatus as TtyStatus
    from auditlink.search import SearchFilter as SearchFilter
    from auditlink.search import search as search
    from auditlink.status import AuditStatus as AuditStatus

# Where each public name lives: the one list of the package's names. The imports
# above and ``__all__`` below are written from it by tools/gen_exports.py (``make
# lint`` checks them). ``import auditlink`` imports none of these modules: a name is
# imported on first use (PEP 562), so a program pays only for what it touches, and
# ``auditlink daemon`` reaches its registration sooner after a restart.
_MODULE_OF: dict[str, str] = {
    "AUDIT_GET": "._native",
    "AUDIT_MESSAGE_MAX_LENGTH": "._native",
    "AUDIT_NLGRP_READLOG": "._native",
    "AUDIT_SET": "._native",
    "AuditClient": ".client",
    "AuditError": ".errors",
    "AuditEvent": ".events",
    "AuditFeature": ".rules",
    "AuditFeatureBitmap": ".enums",
    "AuditFeatures": ".rules",
    "AuditRecord": ".events",
    "AuditRule": ".rules",
    "AuditStatus": ".status",
    "AuditStatusMask": ".enums",
    "AuditTimestamp": ".events",
    "ClientStats": ".client",
    "Daemon": ".daemon",
    "Enricher": ".enrich",
    "FailureMode": ".enums",
    "LoadResult": ".rules",
    "MessageType": "._message_type",
    "NETLINK_AUDIT": "._native",
    "NetlinkClient": ".client",
    "NetlinkErrno": ".enums",
    "NetlinkMessage": "._native",
    "NormalizedEvent": ".normalize",
    "NormalizedField": ".normalize",
    "NormalizedObject": ".normalize",
    "NormalizedSubject": ".normalize",
    "OtlpSink": ".forward",
    "ProcessTracker": ".enrich",
    "RawAuditMessage": "._native",
    "Reassembler": ".events",
    "RecordFields": ".events",
    "RecordParseError": ".events",
    "RemoteSink": ".forward",
    "ReportResult": ".report",
    "RuleAction": ".rules",
    "RuleField": ".rules",
    "RuleFileCommand": ".rules",
    "RuleFileLine": ".rules",
    "RuleList": ".rules",
    "RuleLoadError": ".rules",
    "RuleSyntaxError": ".rules",
    "SearchFilter": ".search",
    "SignalInfo": ".rules",
    "SinkStats": ".forward",
    "SyslogSink": ".forward",
    "TrackedProcess": ".enrich",
    "TtyStatus": ".rules",
    "WaitMode": ".enums",
    "__version__": "._native",
    "forward": ".forward",
    "parse_log_line": ".events",
    "parse_netlink_error": ".client",
    "parse_record": ".events",
    "read_events": ".events",
    "report": ".report",
    "search": ".search",
    "set_id_resolution": ".events",
}


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
