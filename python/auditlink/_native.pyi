"""Type stubs for the Rust extension module (private: use the ``auditlink`` package)."""

import builtins as _builtins
from collections.abc import ItemsView as _ItemsView
from collections.abc import Iterable as _Iterable
from collections.abc import Iterator as _Iterator
from collections.abc import KeysView as _KeysView
from collections.abc import ValuesView as _ValuesView
from datetime import datetime as _datetime
from typing import Any, BinaryIO, final
from typing import Any as _Any
from typing import final as _final

from auditlink._message_type import MessageType
from auditlink.rules import RuleAction, RuleList

__version__: str
AUDIT_GET: int
AUDIT_SET: int
NETLINK_AUDIT: int
AUDIT_MESSAGE_MAX_LENGTH: int
AUDIT_NLGRP_READLOG: int

_StatusTuple = tuple[int, int, int, int, int, int, int, int, int, int, int]

def message_types() -> list[tuple[int, str, str]]:
    """The message type table: ``(number, name, kind)``, kind in control/user/kernel."""

def status_from_bytes(data: bytes) -> _StatusTuple:
    """Decode a 32/36/40/44-byte ``struct audit_status``; ValueError otherwise."""

def status_to_bytes(fields: _StatusTuple) -> bytes:
    """Encode the 11 status fields as the 44-byte layout (native byte order)."""

def netlink_error_errno(data: bytes) -> tuple[int | None, int | None]:
    """``(errno or None, request seq or None)`` of an NLMSG_ERROR payload."""

@final
class RawAuditMessage:
    """A raw audit message: ``type`` (MessageType where known, else int) and ``data``."""

    def __new__(cls, type: int, data: bytes) -> RawAuditMessage: ...
    @property
    def type(self) -> MessageType | int: ...
    @property
    def data(self) -> bytes: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[int, bytes]]: ...

@final
class NetlinkMessage:
    """One netlink message: header fields and the payload."""

    def __new__(cls, type: int, flags: int, seq: int, pid: int, data: bytes) -> NetlinkMessage: ...
    @property
    def type(self) -> int: ...
    @property
    def flags(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def pid(self) -> int: ...
    @property
    def data(self) -> bytes: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuditClient:
    """Native half of :class:`auditlink.AuditClient`."""

    def __new__(
        cls,
        tee: BinaryIO | None = None,
        *,
        groups: int = 0,
        receive_buffer_size: int | None = None,
        read_buffer_size: int | None = None,
        timeout: float = 5.0,
    ) -> AuditClient: ...
    @staticmethod
    def _over_socketpair(
        fd: int,
        port_id: int,
        tee: BinaryIO | None = None,
        *,
        receive_buffer_size: int | None = None,
        read_buffer_size: int | None = None,
        timeout: float = 5.0,
    ) -> AuditClient: ...
    def get_status(self) -> _StatusTuple: ...
    def set_enabled(self, enabled: int, wait: bool = True) -> None: ...
    def set_failure(self, mode: int, wait: bool = True) -> None: ...
    def set_pid(self, wait: bool = True) -> None: ...
    def set_rate_limit(self, limit: int, wait: bool = True) -> None: ...
    def set_backlog_limit(self, limit: int, wait: bool = True) -> None: ...
    def set_backlog_wait_time(self, wait_time: int, wait: bool = True) -> None: ...
    def reset_lost(self) -> int: ...
    def reset_backlog_wait_time_actual(self) -> int: ...
    def wait_for_pending_acks(self) -> None: ...
    def unregister(self) -> None: ...
    def set_status(self, operation: str, status: bytes, wait: bool = True) -> int: ...
    def request_ack(self, operation: str, msg_type: int, data: bytes, wait: bool = True) -> int: ...
    def request_reply(
        self, operation: str, msg_type: int, data: bytes, reply_type: int
    ) -> bytes: ...
    def request_dump(self, operation: str, msg_type: int, data: bytes) -> list[NetlinkMessage]: ...
    def receive(self, nonblocking: bool = False) -> RawAuditMessage | None: ...
    def receive_batch(
        self, max_messages: int = 1024, timeout: float | None = None, *, linger: float = 0.0005
    ) -> list[RawAuditMessage]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    def fileno(self) -> int: ...
    @property
    def port_id(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    @property
    def registered(self) -> bool: ...
    @property
    def receive_buffer_size(self) -> int: ...
    def set_receive_buffer_size(self, size: int) -> int: ...
    def close(self) -> None: ...

@final
class NetlinkClient:
    """Native half of :class:`auditlink.NetlinkClient`."""

    def __new__(
        cls,
        protocol: int,
        groups: int = 0,
        read_buffer_size: int | None = None,
        tee: BinaryIO | None = None,
    ) -> NetlinkClient: ...
    @staticmethod
    def _over_socketpair(
        fd: int, port_id: int, read_buffer_size: int | None = None, tee: BinaryIO | None = None
    ) -> NetlinkClient: ...
    def send(self, msg_type: int, data: bytes = b"", flags: int = 5) -> int: ...
    def receive(self, nonblocking: bool = False) -> list[NetlinkMessage]: ...
    @property
    def port_id(self) -> int: ...
    @property
    def foreign_dropped(self) -> int: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...

# ---------------------------------------------------------------------------
# records and events (issue 4): rust/bindings/records.rs

class RecordParseError(ValueError):
    """A record's text could not be parsed (raised by parse_record/parse_log_line only)."""

@_final
class AuditTimestamp:
    """The time stamp of a record exactly as the kernel wrote it: whole seconds and
    milliseconds (``audit(1700000000.123:42)``), plus a UTC ``datetime``."""

    def __new__(cls, seconds: int, milliseconds: int) -> AuditTimestamp: ...
    @property
    def seconds(self) -> int: ...
    @property
    def milliseconds(self) -> int: ...
    @property
    def datetime(self) -> _datetime:
        """The time as an aware ``datetime`` in UTC (exact: no float rounding)."""
    def __float__(self) -> float: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __lt__(self, other: AuditTimestamp, /) -> bool: ...
    def __le__(self, other: AuditTimestamp, /) -> bool: ...
    def __gt__(self, other: AuditTimestamp, /) -> bool: ...
    def __ge__(self, other: AuditTimestamp, /) -> bool: ...
    def __hash__(self) -> int: ...

@_final
class RecordFields:
    """The fields of a record: an ordered, read-only mapping name -> value as written
    (quotes removed). A name that occurs twice maps to its first value.

    Backed by a dict built on first use of a whole-mapping operation, so walking
    every field runs at dict speed; ``keys()``, ``values()`` and ``items()``
    are that dict's views."""

    def __len__(self) -> int: ...
    def __getitem__(self, name: str, /) -> str: ...
    def __contains__(self, name: object, /) -> bool: ...
    def __iter__(self) -> _Iterator[str]: ...
    def get(self, name: str, default: _Any | None = None) -> _Any: ...
    def keys(self) -> _KeysView[str]:
        """The names, in order (a dict keys view)."""
    def values(self) -> _ValuesView[str]:
        """The values, in order (a dict values view)."""
    def items(self) -> _ItemsView[str, str]:
        """``(name, value)`` pairs, in order (a dict items view)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@_final
class AuditRecord:
    """One audit record: type, time stamp, serial, fields and text."""

    @property
    def type(self) -> _Any:
        """The record type: a ``MessageType`` member where known, else the int."""
    @property
    def timestamp(self) -> AuditTimestamp: ...
    @property
    def serial(self) -> int: ...
    @property
    def node(self) -> str | None:
        """The ``node=`` name of an aggregated log line, else None."""
    @property
    def fields(self) -> RecordFields:
        """Ordered, read-only mapping field name -> value as written (quotes removed)."""
    @property
    def text(self) -> str:
        """The record as received (log line or netlink payload)."""
    @property
    def error(self) -> str | None:
        """Why the record could not be parsed completely, else None."""
    def interpret(self, name: str) -> str | None:
        """auparse's interpretation of the first field called ``name``
        (``auparse_interpret_field``, default escaping); None if there is no such field."""
    def interpreted_fields(self) -> list[tuple[str, str, str]]:
        """Every field in order, duplicates included: ``(name, value, interpretation)``
        (what ``ausearch -i`` shows, field by field)."""
    def to_dict(self) -> dict[str, _Any]:
        """The record as the typed dict it has inside ``AuditEvent.to_dict()``."""
    def to_json(self) -> str:
        """The record as one JSON object (see ``to_dict``)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@_final
class AuditEvent:
    """One audit event: the records that share a time stamp and serial."""

    @property
    def records(self) -> tuple[AuditRecord, ...]:
        """The records in arrival order (EOE is not kept: ``complete`` says it was seen)."""
    @property
    def serial(self) -> int: ...
    @property
    def timestamp(self) -> AuditTimestamp: ...
    @property
    def node(self) -> str | None: ...
    @property
    def complete(self) -> bool:
        """True when the event's end was seen (its EOE, or a one-record type);
        False when it was emitted on timeout, overflow or flush."""
    def to_dict(self) -> dict[str, _Any]:
        """The event in the documented shape, as Python objects."""
    def to_json(self) -> str:
        """The event as one JSON object (one line, no line end)."""
    def __len__(self) -> int: ...
    def __iter__(self) -> _Iterator[AuditRecord]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@_final
class Reassembler:
    """Groups records into events by (node, timestamp, serial).

    An event completes on its EOE record or at once for one-record types; it is
    emitted incomplete when it is older than ``timeout`` seconds in stream time
    (the newest time stamp seen), when more than ``max_in_flight`` events are
    open, or on :meth:`flush`. One instance may be shared between threads."""

    def __new__(cls, max_in_flight: int = 1024, timeout: float = 2.0) -> Reassembler: ...
    def push(self, record: AuditRecord) -> list[AuditEvent]:
        """Add a record; returns the events it completed (or timed out)."""
    def push_messages(self, messages: _Iterable[_Any]) -> list[AuditEvent]:
        """Parse netlink messages (objects with ``.type`` and ``.data``, e.g.
        ``RawAuditMessage``) and add them; malformed ones are kept with an error note."""
    def expire(self, now: float | None = None) -> list[AuditEvent]:
        """Emit (incomplete) the events older than ``timeout`` before ``now``
        (seconds since the epoch; default: the current time)."""
    def flush(self) -> list[AuditEvent]:
        """Emit every event still in flight (incomplete), oldest first."""
    @property
    def lost(self) -> int:
        """Serials that never arrived (gaps in the serial sequence, counted modulo 2^32)."""
    @property
    def in_flight(self) -> int:
        """Events currently being assembled."""

@_final
class EventBatch:
    """The events one call completed, made into ``AuditEvent`` objects one at a
    time as they are iterated."""

    def __iter__(self) -> EventBatch: ...
    def __next__(self) -> AuditEvent: ...
    def __len__(self) -> int:
        """Events not taken yet."""

@_final
class LogReader:
    """Reads and parses a log file on a second thread; iterating gives the events,
    made into ``AuditEvent`` objects one at a time."""

    def __new__(
        cls, fd: int, max_in_flight: int = 1024, timeout: float = 2.0, chunk_size: int = 1048576
    ) -> LogReader:
        """Start reading the open file ``fd`` (duplicated: the caller may close its
        own) from its current offset to its end."""
    def next_json(self) -> _builtins.bytes | None:
        """The next events as JSON lines (one per event), written with the GIL
        released; None at the end. Not to be mixed with iteration."""
    def __iter__(self) -> LogReader: ...
    def __next__(self) -> AuditEvent: ...

@_final
class LogParser:
    """Incremental auditd log parser: bytes in, events (or JSON lines) out."""

    def __new__(cls, max_in_flight: int = 1024, timeout: float = 2.0) -> LogParser: ...
    def feed(self, chunk: _builtins.bytes) -> EventBatch:
        """Parse a chunk (any split); returns the events it completed."""
    def finish(self) -> EventBatch:
        """End of input: the last line without a line end, then every event in flight."""
    def feed_json(self, chunk: _builtins.bytes) -> _builtins.bytes:
        """Like ``feed``, but returns the completed events as JSON lines."""
    def finish_json(self) -> _builtins.bytes:
        """Like ``finish``, as JSON lines."""
    def expire_idle(self, seconds: float) -> EventBatch:
        """The input has been idle for ``seconds``: stream time runs on by that much,
        and the events now past the timeout are emitted (incomplete)."""
    @property
    def lost(self) -> int: ...
    @property
    def records(self) -> int: ...

def parse_record(type: int, data: _builtins.bytes) -> AuditRecord:
    """Parse one netlink record payload (``audit(SEC.MS:SERIAL): fields``)."""

def parse_log_line(line: str | _builtins.bytes) -> AuditRecord:
    """Parse one auditd log line (RAW or ENRICHED format, optional ``node=``)."""

def set_id_resolution(enabled: bool) -> None:
    """Turn uid/gid name lookups on or off for interpretations (on by default;
    names are cached). Off, ids print as numbers."""

def receive_events(
    client: _Any, reassembler: Reassembler, max_messages: int = 1024, timeout: float | None = None
) -> list[AuditEvent]:
    """Receive records from ``client`` (GIL released), parse and reassemble them in
    Rust, and return the events completed — waiting up to ``timeout`` seconds (None:
    until at least one event completes). While nothing arrives, stream time runs on
    by the idle time, so events whose end never comes are emitted (incomplete)."""

# --------------------------------------------------------------------- rules

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

    def __new__(cls, text: str) -> AuditRule: ...
    @staticmethod
    def parse(text: str) -> AuditRule:
        """Parse one auditctl rule: ``-a``/``-A``/``-d`` with ``-S``, ``-F``, ``-C``,
        ``-k``, ``-p``, or ``-w``/``-W`` with ``-p``/``-k``. Shell quoting is honoured
        and a leading ``auditctl`` ignored. Names are resolved like auditctl does
        (syscalls for the rule's arch or this machine, users, groups, errnos, message
        types); a ``-w`` path that is an existing directory becomes a ``dir`` watch.
        Raises :class:`auditlink.rules.RuleSyntaxError` (a ``ValueError``) with
        auditctl's message and the position of the offending argument."""
    @staticmethod
    def from_bytes(data: bytes) -> AuditRule:
        """Decode ``struct audit_rule_data``; ``ValueError`` if malformed."""
    def to_bytes(self) -> bytes:
        """The ``struct audit_rule_data`` for AUDIT_ADD_RULE / AUDIT_DEL_RULE."""
    def to_command_line(self) -> str:
        """The rule as ``auditctl -l`` prints it."""
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
        """``auditctl -l`` lists the rule as a watch (``-w path -p perms``)."""

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

def rules_add(client: AuditClient, rule: AuditRule, wait: bool) -> None:
    """AUDIT_ADD_RULE."""

def rules_delete(client: AuditClient, rule: AuditRule, wait: bool) -> None:
    """AUDIT_DEL_RULE."""

def rules_delete_all(client: AuditClient) -> int:
    """Delete every rule; returns the count."""

def rules_delete_by_key(client: AuditClient, key: bytes) -> int:
    """Delete the rules with exactly this key; returns the count."""

def rules_load(client: AuditClient | None, content: bytes, dry_run: bool) -> LoadReport:
    """Run (or with ``dry_run`` only check) the lines of a rules file."""

def features_get(client: AuditClient) -> tuple[int, int, int, int]:
    """AUDIT_GET_FEATURE: ``(vers, mask, features, lock)``."""

def feature_set(client: AuditClient, feature: int, value: bool, lock: bool) -> None:
    """AUDIT_SET_FEATURE for one feature."""

def signal_info_get(client: AuditClient) -> tuple[int, int, str | None]:
    """AUDIT_SIGNAL_INFO: ``(uid, pid, context)``."""

def tty_get(client: AuditClient) -> tuple[int, int]:
    """AUDIT_TTY_GET: ``(enabled, log_passwd)``."""

def tty_set(client: AuditClient, enabled: int, log_passwd: int) -> None:
    """AUDIT_TTY_SET."""

def user_message_send(client: AuditClient, msg_type: int, text: bytes) -> None:
    """Send a user message (text + NUL) of ``msg_type``."""

# --- sinks: forwarding to central auditd / syslog (auditlink.forward wraps these) ---

def sink_check_config(config: str) -> str:
    """Parse one ``[[sink]]`` table (TOML text); returns the sink's name.

    Raises:
        ValueError: the table is not a valid sink configuration.
    """

def sink_forward_log(
    config: str,
    *,
    path: str | None = None,
    data: bytes | None = None,
    node: str | None = None,
    json: bool = False,
    timeout: float = 30.0,
) -> dict[str, str | int | bool]:
    """Replay an auditd log (``path`` or ``data``) through a new sink; returns its stats.

    Raises:
        ValueError: bad configuration or arguments.
        OSError: the log or the spool directory cannot be opened.
    """
