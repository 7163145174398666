"""Type stubs for the Rust extension module (private: use the ``auditlink`` package)."""

import builtins as _builtins
import pathlib as _pathlib
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
from auditlink.enums import RuleAction, RuleList

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
    """The 11 fields of a ``struct audit_status`` (see ``AuditStatus.from_bytes``)."""

def status_to_bytes(fields: _StatusTuple) -> bytes:
    """The 11 status fields as the 44-byte layout (see ``AuditStatus.to_bytes``)."""

def netlink_error_errno(data: bytes) -> tuple[int | None, int | None]:
    """``(errno or None, request seq or None)`` of an NLMSG_ERROR payload."""

@final
class RawAuditMessage:
    """One audit message as the kernel sent it: frozen, hashable, picklable.

    Arguments:
        type: the message type number.
        data: the payload (copied).

    Raises:
        OverflowError: ``type`` is outside 0..65535.
    """

    def __new__(cls, type: int, data: bytes) -> RawAuditMessage: ...
    @property
    def type(self) -> MessageType | int:
        """The message type: a ``MessageType`` member where known, else the number."""
    @property
    def data(self) -> bytes:
        """The payload (for event records: ``audit(...): ...`` text)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[int, bytes]]: ...

@final
class NetlinkMessage:
    """One netlink message: the header's fields and the payload. Frozen, hashable.

    Arguments:
        type, flags, seq, pid: the ``nlmsghdr`` fields.
        data: the payload.

    Raises:
        OverflowError: a field is out of its header range.
    """

    def __new__(cls, type: int, flags: int, seq: int, pid: int, data: bytes) -> NetlinkMessage: ...
    @property
    def type(self) -> int:
        """``nlmsg_type``."""
    @property
    def flags(self) -> int:
        """``nlmsg_flags``."""
    @property
    def seq(self) -> int:
        """``nlmsg_seq``: the request's sequence number (0 for kernel records)."""
    @property
    def pid(self) -> int:
        """``nlmsg_pid``: the sender's port id as the sender wrote it."""
    @property
    def data(self) -> bytes:
        """The payload."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuditClient:
    """Native half of :class:`auditlink.AuditClient` (documented there)."""

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
    def receive(self, timeout: float | None = None) -> RawAuditMessage | None: ...
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
    """Native half of :class:`auditlink.NetlinkClient` (documented there)."""

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
    def receive(self, timeout: float | None = None) -> list[NetlinkMessage]: ...
    @property
    def port_id(self) -> int: ...
    @property
    def foreign_dropped(self) -> int: ...
    @property
    def truncated(self) -> int: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...

# ---------------------------------------------------------------------------
# records and events: rust/bindings/records/

class RecordParseError(ValueError):
    """A record's text could not be parsed (raised by parse_record/parse_log_line only)."""

@_final
class AuditTimestamp:
    """The time stamp of a record exactly as the kernel wrote it: whole seconds and
    milliseconds (``audit(1700000000.123:42)``), plus a UTC ``datetime``.

    Arguments:
        seconds: seconds since the epoch (>= 0).
        milliseconds: 0..999.

    Raises:
        ValueError: ``milliseconds`` out of range.
        OverflowError: a negative or too large number.
    """

    def __new__(cls, seconds: int, milliseconds: int) -> AuditTimestamp: ...
    @property
    def seconds(self) -> int: ...
    @property
    def milliseconds(self) -> int: ...
    @property
    def datetime(self) -> _datetime:
        """The time as an aware ``datetime`` in UTC (exact: no float rounding).

        Raises:
            ValueError: the time is past the year 9999, beyond what ``datetime``
                can show (such a record also has its ``error`` set).
        """
    def __float__(self) -> float:
        """Seconds since the epoch as a float (convenient, not exact)."""
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

    Bytes that are not UTF-8 come back as lone surrogates ("surrogateescape",
    ``b"\\xff"`` is ``"\\udcff"``); such a name looks its field up again.
    Backed by a dict built on first use of a whole-mapping operation, so walking
    every field runs at dict speed; ``keys()``, ``values()`` and ``items()``
    are that dict's views."""

    def __len__(self) -> int: ...
    def __getitem__(self, name: str, /) -> str: ...
    def __contains__(self, name: object, /) -> bool: ...
    def __iter__(self) -> _Iterator[str]: ...
    def get(self, name: str, default: _Any | None = None) -> _Any:
        """The value of ``name``, or ``default`` if the record has no such field."""
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
    """One audit record: type, time stamp, serial, fields and text.

    Made by :func:`parse_log_line`, :func:`parse_record`, or as part of an
    :class:`AuditEvent`. Immutable; may be shared between threads. Whether its
    interpretations show user and group names is fixed when it is made
    (``id_resolution``)."""

    @property
    def type(self) -> MessageType | int:
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
        """Why the record could not be parsed completely, else None.

        Also set when the time stamp is odd but readable: milliseconds not written
        with three digits (``.5`` is read as 500 ms, ``.1234`` as 123 ms) or a time
        past the year 9999."""
    def interpret(self, name: str) -> str | None:
        """auparse's interpretation of the first field called ``name``.

        Arguments:
            name: the field name (a name with lone surrogates stands for the
                bytes that are not UTF-8, as ``fields`` gives it).

        Returns:
            ``auparse_interpret_field``'s text with its default escaping, or None
            if the record has no such field.
        """
    def interpreted_fields(self) -> list[tuple[str, str, str]]:
        """Every field in order, duplicates included.

        Returns:
            ``(name, value, interpretation)`` tuples (what ``ausearch -i`` shows,
            field by field).
        """
    def to_dict(self) -> dict[str, _Any]:
        """The record as the typed dict it has inside ``AuditEvent.to_dict()``."""
    def to_json(self) -> str:
        """The record as one JSON object (see ``to_dict``)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@_final
class AuditEvent:
    """One audit event: the records that share a node, time stamp and serial.
    Immutable; may be shared between threads."""

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
        """True when the event's end was seen (its EOE or PROCTITLE, or a one-record
        type); False when it was emitted on timeout, overflow or flush."""
    def to_dict(self) -> dict[str, _Any]:
        """The event in the documented shape (docs/records.md), as Python objects."""
    def to_json(self) -> str:
        """The event as one JSON object (one line, no line end)."""
    def normalize(self) -> NormalizedEvent:
        """Who did what to what, as libauparse's normalizer says (see docs/normalize.md)."""
    def __len__(self) -> int: ...
    def __iter__(self) -> _Iterator[AuditRecord]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@_final
class Reassembler:
    """Groups records into events by (node, time stamp, serial).

    An event completes on its EOE or PROCTITLE record, or at once for one-record
    types. It is emitted incomplete when it is older than ``timeout`` seconds in
    its node's stream time (the time stamp of that node's latest record, plus the
    time the input has been idle), when more than ``max_in_flight`` events are
    open, or on :meth:`flush`. A LOGIN record joins the syscall event it was
    written in (as audit-userspace 4.x and laurel group it) unless
    ``split_login`` is True (auparse 3.0.9's grouping). One instance may be
    shared between threads (calls are serialized).

    Arguments:
        max_in_flight: events assembled at once (>= 1).
        timeout: seconds of stream time an event waits for its end.
        split_login: True makes a LOGIN record an event of its own.
        id_resolution: user and group names in the interpretations of the events
            it makes (True), numbers (False), or :func:`set_id_resolution`'s
            setting (None).

    Raises:
        ValueError: ``max_in_flight`` is 0, or ``timeout`` negative or NaN.
    """

    def __new__(
        cls,
        max_in_flight: int = 1024,
        timeout: float = 2.0,
        *,
        split_login: bool = False,
        id_resolution: bool | None = None,
    ) -> Reassembler: ...
    @property
    def split_login(self) -> bool:
        """Whether LOGIN records are events of their own."""
    def push(self, record: AuditRecord) -> list[AuditEvent]:
        """Add a record.

        Returns:
            The events it completed (or timed out).
        """
    def push_messages(self, messages: _Iterable[_Any]) -> list[AuditEvent]:
        """Parse netlink messages and add them; malformed ones are kept with an
        error note.

        Arguments:
            messages: objects with ``.type`` and ``.data`` (e.g. ``RawAuditMessage``).

        Returns:
            The events they completed (or timed out).

        Raises:
            AttributeError, TypeError: a message without an int ``type`` and
                bytes ``data``.
        """
    def expire(self, now: float | None = None) -> list[AuditEvent]:
        """Emit (incomplete) the events older than ``timeout`` before ``now``.

        Arguments:
            now: seconds since the epoch; default: the current time.

        Returns:
            The events that timed out.

        Raises:
            ValueError: ``now`` negative or NaN.
        """
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
    made into ``AuditEvent`` objects one at a time.

    Arguments:
        fd: an open file (duplicated: the caller may close its own), read from its
            current offset to its end.
        max_in_flight, timeout, split_login, id_resolution: as for :class:`Reassembler`.
        chunk_size: bytes read at a time (> 0).

    Raises:
        ValueError: ``fd`` < 0, ``chunk_size`` 0, or ``timeout`` negative or NaN.
        OSError: ``fd`` is not open, or the thread cannot be started.
    """

    def __new__(
        cls,
        fd: int,
        max_in_flight: int = 1024,
        timeout: float = 2.0,
        chunk_size: int = 1048576,
        *,
        split_login: bool = False,
        id_resolution: bool | None = None,
    ) -> LogReader: ...
    def next_json(self) -> _builtins.bytes | None:
        """The next events as JSON lines (one per event), written with the GIL
        released; None at the end. Not to be mixed with iteration.

        Raises:
            OSError: reading the file failed.
        """
    def __iter__(self) -> LogReader: ...
    def __next__(self) -> AuditEvent: ...

@_final
class LogParser:
    """Incremental auditd log parser: bytes in, events (or JSON lines) out.

    Arguments:
        max_in_flight, timeout, split_login, id_resolution: as for :class:`Reassembler`.

    Raises:
        ValueError: ``timeout`` negative or NaN.
    """

    def __new__(
        cls,
        max_in_flight: int = 1024,
        timeout: float = 2.0,
        *,
        split_login: bool = False,
        id_resolution: bool | None = None,
    ) -> LogParser: ...
    def feed(self, chunk: _builtins.bytes) -> EventBatch:
        """Parse a chunk (lines may be split anywhere); returns the events it completed."""
    def finish(self) -> EventBatch:
        """End of input: the last line without a line end, then every event in flight."""
    def feed_json(self, chunk: _builtins.bytes) -> _builtins.bytes:
        """Like ``feed``, but returns the completed events as JSON lines."""
    def finish_json(self) -> _builtins.bytes:
        """Like ``finish``, as JSON lines."""
    def expire_idle(self, seconds: float) -> EventBatch:
        """The input has been idle for ``seconds`` since its last line: stream time
        runs on by that much (a later call with a longer idle time replaces it,
        it does not add up), and the events now past the timeout are emitted
        (incomplete).

        Raises:
            ValueError: ``seconds`` negative or NaN.
        """
    def expire_idle_now(self) -> EventBatch:
        """Like ``expire_idle``, with the time since the last non-empty chunk was fed."""
    @property
    def lost(self) -> int:
        """Serials that never arrived (see :attr:`Reassembler.lost`)."""
    @property
    def records(self) -> int:
        """Lines (records) parsed so far."""

def parse_record(
    type: int, data: _builtins.bytes, *, id_resolution: bool | None = None
) -> AuditRecord:
    """Parse one netlink record payload (``audit(SEC.MS:SERIAL): fields``).

    Arguments:
        type: the netlink message type (the record type).
        data: the payload.
        id_resolution: names (True) or numbers (False) for ids in
            interpretations; None follows :func:`set_id_resolution`.

    Returns:
        The record.

    Raises:
        RecordParseError: no readable header, or an odd time stamp (see
            :attr:`AuditRecord.error`; the stream paths keep such records).
    """

def parse_log_line(
    line: str | _builtins.bytes, *, id_resolution: bool | None = None
) -> AuditRecord:
    """Parse one auditd log line (RAW or ENRICHED format, optional ``node=``).

    Arguments:
        line: the line (a str stands for its UTF-8 bytes, lone surrogates for
            bytes that are not UTF-8).
        id_resolution: as for :func:`parse_record`.

    Returns:
        The record.

    Raises:
        RecordParseError: no ``type=``, no readable header, an unknown type name,
            or an odd time stamp.
        TypeError: ``line`` is neither str nor bytes.
    """

def set_id_resolution(enabled: bool) -> None:
    """The process-wide default for uid/gid name lookups in interpretations (on at
    start; names are cached). Objects made with ``id_resolution=True/False``
    keep their own setting; off, ids print as numbers."""

def receive_events(
    client: _Any,
    reassembler: Reassembler,
    max_messages: int = 1024,
    timeout: float | None = None,
    *,
    linger: float = 0.0005,
) -> list[AuditEvent]:
    """Receive records from ``client`` (GIL released), parse and reassemble them in
    Rust, and return the events completed.

    While nothing arrives, stream time runs on by the idle time, so events whose
    end never comes are emitted (incomplete).

    Arguments:
        client: the native half of an ``AuditClient``.
        reassembler: groups the records.
        max_messages: records taken from the socket per slice.
        timeout: seconds to wait for at least one event; None forever, 0 not at all.
        linger: see ``AuditClient.receive_batch``.

    Returns:
        The events completed (empty when ``timeout`` passed without one).

    Raises:
        ValueError: ``timeout`` or ``linger`` negative or NaN.
        AuditError: the client is closed or receiving failed.
    """

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

    def __new__(cls, text: str) -> AuditRule:
        """Same as :meth:`parse`."""
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

# ---------------------------------------------------------------- search, report, top

@final
class SearchFilter:
    """ausearch's search options, checked and ready for Rust; build it with
    :func:`auditlink.search.make_filter` (which also takes names).

    All given options must hold (AND); strings match as substrings unless
    ``exact``; ``any_uid`` matches uid, euid or auid; ``any_gid`` makes
    ``gid``/``egid`` match either; ``any_context`` makes ``subject``/``object``
    (labels) match either. Frozen; may be shared between threads.
    """

    def __new__(
        cls,
        *,
        start: int | None = None,
        end: int | None = None,
        event_id: int | None = None,
        nodes: list[str] = ...,
        types: list[int] = ...,
        uid: int | None = None,
        euid: int | None = None,
        loginuid: int | None = None,
        any_uid: int | None = None,
        gid: int | None = None,
        egid: int | None = None,
        any_gid: bool = False,
        pid: int | None = None,
        ppid: int | None = None,
        syscall: int | None = None,
        arch: int | None = None,
        session: int | None = None,
        success: bool | None = None,
        exit: int | None = None,
        key: str | None = None,
        filename: str | None = None,
        hostname: str | None = None,
        terminal: str | None = None,
        exe: str | None = None,
        comm: str | None = None,
        subject: str | None = None,
        object: str | None = None,
        any_context: bool = False,
        vmname: str | None = None,
        uuid: str | None = None,
        exact: bool = False,
    ) -> SearchFilter: ...
    def matches(self, event: AuditEvent) -> bool:
        """Does an event already received (e.g. from a live client) match?

        Arguments:
            event: any :class:`AuditEvent`.

        Returns:
            True when every option holds.
        """

@final
class SearchIter:
    """The matching events of log files (None: stdin), read, grouped and
    filtered in Rust; only matches become :class:`AuditEvent` objects. Not
    to be shared between threads while iterating."""

    def __new__(cls, paths: list[str] | None, filter: SearchFilter) -> SearchIter: ...
    def __iter__(self) -> SearchIter: ...
    def __next__(self) -> AuditEvent: ...

def search_write(
    paths: list[str] | None,
    filter: SearchFilter,
    format: str,
    fd: int = 1,
    *,
    extra_keys: bool = False,
    extra_labels: bool = False,
    extra_obj2: bool = False,
    extra_time: bool = False,
    just_one: bool = False,
    line_buffered: bool = False,
    eoe_timeout: int = ...,
    checkpoint: bool = False,
    resume: tuple[str | None, int, int, int, int, bool] | None = None,
) -> tuple[int, tuple[bytes | None, int, int, int, int] | None, tuple[int, int, int] | None]:
    """Search and write the matches to ``fd`` as ausearch 3.0.9 writes them.

    Arguments:
        paths: log files in reading order, or None for stdin.
        filter: the options.
        format: ``"raw"``, ``"default"``, ``"interpret"``, ``"csv"``,
            ``"text"`` or ``"ecs"`` (one ECS JSON document per line).
        fd: an open, writable file descriptor (not closed).
        extra_keys: csv: ausearch ``--extra-keys``.
        extra_labels: csv: ausearch ``--extra-labels``.
        extra_obj2: csv: ausearch ``--extra-obj2``.
        extra_time: csv: ausearch ``--extra-time``.
        just_one: stop after the first match (``--just-one``).
        line_buffered: flush after every event (``--line-buffered``).
        eoe_timeout: seconds after which an event without its end is
            complete (``--eoe-timeout``).
        checkpoint: ``--checkpoint`` given: events still incomplete at the
            end are not written (the next run writes them).
        resume: ``--checkpoint``: the last event of the previous run
            ``(node, sec, milli, serial, first record type, time_only)``;
            matches up to and including it are not written.

    Returns:
        ``(written, last, corrupted)``: how many events were written, the
        last event looked at ``(node, sec, milli, serial, first record
        type)`` or None, and ``(sec, milli, serial)`` of an event much newer
        than the checkpointed one that came before it (ausearch's "corrupted
        checkpoint"; the search stopped there) or None.

    Raises:
        ValueError: unknown format, zero ``eoe_timeout``.
        OSError: a file cannot be opened or written.
    """

def rotated_logs(dir: str) -> list[_pathlib.Path]:
    """``audit.log.N`` ... ``audit.log`` of a directory, oldest first (numbering
    stops at the first missing file), as ausearch reads them.

    Arguments:
        dir: the directory.

    Returns:
        The paths (empty when there is no ``audit.log``).
    """

def syscall_number(name: str, arch: str | None = None) -> tuple[int, int]:
    """A syscall's number on a machine, and that machine's audit arch.

    Arguments:
        name: e.g. ``"openat"``.
        arch: ``"b64"``, ``"b32"`` or a machine name; None: this machine.

    Returns:
        ``(number, AUDIT_ARCH_* value)``.

    Raises:
        ValueError: unknown syscall or arch name.
    """

def audit_arch(name: str) -> int:
    """The AUDIT_ARCH_* value of ausearch's ``--arch NAME``.

    Arguments:
        name: ``"b64"``, ``"b32"`` or a machine name (``"x86_64"``, ``"i386"``).

    Returns:
        The audit arch number.

    Raises:
        ValueError: unknown arch.
    """

def errno_number(name: str) -> int | None:
    """The number of an errno name (``"EPERM"`` -> 1), None when unknown.

    Arguments:
        name: the name, any case.

    Returns:
        The positive errno or None.
    """

@final
class LiveSearch:
    """The live stream received, grouped and filtered in Rust: only matching
    events become :class:`AuditEvent` objects (used by
    :func:`auditlink.search` on a client). Thread-safe (one lock)."""

    def __new__(
        cls, filter: SearchFilter, max_in_flight: int = 1024, timeout: float = 2.0
    ) -> LiveSearch: ...
    def receive(
        self, client: AuditClient, max_messages: int = 1024, timeout: float | None = None
    ) -> list[AuditEvent]:
        """Receive until a matching event completes or ``timeout`` passes.

        Arguments:
            client: the native client (registered or multicast).
            max_messages: records taken per receive.
            timeout: seconds; None waits for a match.

        Returns:
            The matching events that completed (empty after a timeout).

        Raises:
            OSError: receiving failed (EBADF once the client is closed).
            ValueError: ``timeout`` negative or NaN.
        """
    def flush(self) -> list[AuditEvent]:
        """The matching events still being grouped (at the end of the stream).

        Returns:
            The events, incomplete ones included.
        """

def run_report(
    paths: list[str] | None,
    kind: str,
    *,
    summary: bool = False,
    success: bool | None = None,
    interpret: bool = False,
    start: int | None = None,
    end: int | None = None,
    nodes: list[str] = ...,
) -> tuple[bytes, bool, list[str], list[list[bytes]]]:
    """Run an aureport report (use :func:`auditlink.report`).

    Arguments:
        paths: log files in reading order, or None for stdin.
        kind: one of :data:`auditlink.report.REPORT_KINDS`.
        summary: aureport ``--summary``.
        success: True ``--success``, False ``--failed``, None both.
        interpret: aureport ``-i``.
        start: ``-ts`` as Unix seconds.
        end: ``-te`` as Unix seconds.
        nodes: only these nodes.

    Returns:
        ``(text, found, columns, rows)``: aureport's text, whether a detailed
        report found anything, the row field names and the rows.

    Raises:
        ValueError: unknown kind.
        OSError: a file cannot be read.
    """

#: The tables of :class:`TopCounter` snapshots, in order.
TOP_TABLES: list[str]

@final
class TopCounter:
    """The counters of ``auditlink top``: events are counted in Rust (from log
    bytes or received batches) and read as rates once per interval. Each
    table keeps at most 4096 distinct values (more count as ``(other)``).
    Thread-safe (one internal lock)."""

    def __init__(self) -> None: ...
    def feed_log(self, data: bytes) -> None:
        """Count the events completed by a chunk of auditd log bytes."""
    def idle(self) -> None:
        """The log has been quiet: count the events still waiting for records."""
    def add_batch(self, events: list[AuditEvent]) -> None:
        """Count events already received (a :func:`receive_events` batch)."""
    def totals(self) -> tuple[int, int]:
        """Events and records counted so far."""
    def snapshot(
        self, seconds: float, limit: int
    ) -> tuple[float, float, list[list[tuple[str, float, int]]]]:
        """Rates over the interval that just ended; starts the next one.

        Arguments:
            seconds: the interval's length.
            limit: rows per table at most.

        Returns:
            ``(events/s, records/s, tables)``; each table (see
            :data:`TOP_TABLES`) lists ``(value, per second, total)``,
            busiest first.
        """

# --- normalize: libauparse's normalizer, ausearch csv/text, ECS ---

@_final
class NormalizedField:
    """One field the normalizer points at."""

    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str:
        """The value as libauparse stores it (``auparse_get_field_str``: quotes kept)."""
    @property
    def interpreted(self) -> str:
        """The value as ``auparse_interpret_field`` gives it."""
    @property
    def record(self) -> int:
        """The record's number in the event (0-based)."""
    @property
    def field(self) -> int:
        """The field's number in its record, in libauparse's numbering (``type``,
        and ``node`` before it when present, are fields 0 and 1)."""
    def to_dict(self) -> dict[str, _Any]:
        """``{"name", "value", "interpreted", "record", "field"}``."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@_final
class NormalizedSubject:
    """Who acted."""

    @property
    def primary(self) -> NormalizedField | None:
        """The acting account (usually ``auid``)."""
    @property
    def secondary(self) -> NormalizedField | None:
        """The account it acted as (usually ``uid``)."""
    @property
    def kind(self) -> str | None:
        """``privileged-acct``, ``service-acct``, ``user-acct``, ``unset-acct``,
        ``unknown-acct``, ``system`` or ``auditd``."""
    @property
    def label(self) -> str | None:
        """The ``subj`` attribute's interpretation (the MAC label)."""
    @property
    def attributes(self) -> tuple[NormalizedField, ...]:
        """Further facts about the subject (pid, ids, tty, ...)."""

@_final
class NormalizedObject:
    """What was acted on."""

    @property
    def primary(self) -> NormalizedField | None: ...
    @property
    def secondary(self) -> NormalizedField | None: ...
    @property
    def primary2(self) -> NormalizedField | None:
        """A second object (rename target, new owner, new id, ...)."""
    @property
    def kind(self) -> str:
        """libauparse's object kind (``file``, ``socket``, ..., ``unknown``)."""
    @property
    def label(self) -> str | None:
        """The ``obj`` attribute's interpretation (the MAC label)."""
    @property
    def attributes(self) -> tuple[NormalizedField, ...]: ...

@_final
class NormalizedEvent:
    """An event normalized as libauparse 3.0.9's ``auparse_normalize`` does
    (with attributes). Missing parts are None."""

    @property
    def kind(self) -> str | None:
        """The event kind (``user-login``, ``audit-rule``, ...)."""
    @property
    def session(self) -> NormalizedField | None: ...
    @property
    def subject(self) -> NormalizedSubject: ...
    @property
    def action(self) -> str | None: ...
    @property
    def result(self) -> NormalizedField | None: ...
    @property
    def success(self) -> bool | None:
        """The result as ausearch reads it (``yes``/``success``/seccomp ``allow``)."""
    @property
    def object(self) -> NormalizedObject: ...
    @property
    def how(self) -> str | None: ...
    @property
    def key(self) -> NormalizedField | None:
        """The rule key (``key=(null)`` is no key)."""
    def to_dict(self) -> dict[str, _Any]:
        """All parts as plain Python values (fields as ``NormalizedField.to_dict()``)."""
    def to_ecs(self) -> dict[str, _Any]:
        """The event as an Elastic Common Schema document (see docs/normalize.md)."""
    def to_ecs_json(self) -> str:
        """``to_ecs()`` as one line of JSON."""

@_final
class FormatReader:
    """Reads a log on a second thread and formats its events in Rust."""

    def __new__(
        cls,
        fd: int,
        format: str,
        timeout: float = 2.0,
        chunk_size: int = 1048576,
        extra_keys: bool = False,
        extra_labels: bool = False,
        extra_obj2: bool = False,
        extra_time: bool = False,
        split_login: bool = False,
    ) -> FormatReader:
        """Arguments:
            fd: an open file descriptor (duplicated; the caller keeps its own).
            format: ``"csv"``, ``"text"`` or ``"ecs"``.
            timeout: seconds an event waits for its end-of-event record.
            chunk_size: bytes read at a time.
            extra_keys, extra_labels, extra_obj2, extra_time: ausearch's csv columns.
            split_login: group a LOGIN record as an event of its own (auparse 3.0.9).

        Raises:
            ValueError: an unknown format or a bad timeout.
            OSError: the descriptor cannot be duplicated."""
    def next_lines(self) -> bytes | None:
        """The next formatted lines (possibly empty); None at the end.

        Raises:
            OSError: reading failed."""

def csv_header(
    *,
    extra_keys: bool = False,
    extra_labels: bool = False,
    extra_obj2: bool = False,
    extra_time: bool = False,
) -> str:
    """ausearch's csv header line (with its ``\\n``) for these columns."""

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

# --- enrich: process table, laurel-style enrichment --------------------------

@final
class TrackedProcess:
    """One process of an :class:`~auditlink.Enricher`'s table (a snapshot).

    A process is identified by ``event_id`` (the audit event of its exec, or of its
    first sighting) or, if it was found in /proc, by ``start_time``; a reused pid
    is a different ``TrackedProcess``.
    """

    @property
    def pid(self) -> int: ...
    @property
    def ppid(self) -> int: ...
    @property
    def comm(self) -> str | None:
        """The command name (undecodable bytes as lone surrogates)."""
    @property
    def exe(self) -> str | None: ...
    @property
    def event_id(self) -> str | None:
        """``SECONDS.MILLISECONDS:SERIAL`` of the event that made this entry."""
    @property
    def start_time(self) -> str | None:
        """``SECONDS.MILLISECONDS`` start time, for processes found in /proc."""
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def container_id(self) -> str | None:
        """64 hex digits, from the process's cgroup path."""
    @property
    def container_runtime(self) -> str | None:
        """``docker``, ``containerd``, ``cri-o`` or ``podman``, when the path says."""
    @property
    def pod_uid(self) -> str | None:
        """The Kubernetes pod uid, when the cgroup path has one."""
    @property
    def systemd_service(self) -> tuple[str, ...]:
        """The ``.service`` units of the cgroup path, outermost first, without suffix."""
    @property
    def systemd_unit(self) -> str | None:
        """The innermost ``.service`` or ``.scope`` unit."""
    @property
    def running(self) -> bool:
        """False once the process exited or its pid was taken by another."""

@final
class Enricher:
    """The Rust enricher behind :class:`auditlink.Enricher`."""

    def __new__(
        cls, toml: str | None = None, json: str | None = None, logs: bool = False
    ) -> Enricher:
        """Arguments: ``toml`` (laurel-format text) or ``json`` (the same as JSON);
        ``logs``: /proc is off unless configured. Raises: ValueError for a bad
        configuration."""
    def enrich(self, event: AuditEvent) -> tuple[str, str | None]:
        """Track ``event``. Returns: ``(verdict, json)``, verdict ``keep``/``drop``/
        ``divert``, json None when dropped."""
    def feed_log(self, chunk: bytes) -> tuple[bytes, bytes]:
        """Parse a log chunk. Returns: ``(kept, diverted)`` enriched JSON lines."""
    def finish_log(self) -> tuple[bytes, bytes]:
        """End of the log. Returns: as :meth:`feed_log`."""
    def process(self, pid: int) -> TrackedProcess | None:
        """The process now holding ``pid``, or None."""
    def ancestors(self, pid: int) -> list[TrackedProcess]:
        """Its spawners, nearest first."""
    def stats(self) -> tuple[int, int, int, int, int]:
        """``(events, dropped, diverted, processes, evicted)``."""
    def save_state(self) -> None:
        """Write the state file. Raises: OSError."""

# ---------------------------------------------------------------- daemon area

@final
class Daemon:
    """A started audit daemon (the native half of :class:`auditlink.Daemon`).

    Constructing it opens the log, writes DAEMON_START, loads the rules, applies the
    status settings and registers ``client`` as the audit daemon; the reader and
    writer threads then run until :meth:`stop`. Every method may be called from any
    thread.
    """

    def __new__(
        cls,
        client: AuditClient,
        config_path: str | None = None,
        config_text: str | None = None,
        extras_text: str | None = None,
        rules: str | None = None,
        take_over: bool = False,
        python_events: bool = False,
        event_types: list[int] | None = None,
    ) -> Daemon:
        """Start the daemon.

        Arguments:
            client: the connection to register (real, or a FakeKernel's).
            config_path: auditd.conf to read (``auditlink.toml`` beside it too).
            config_text: auditd.conf text (wins over ``config_path``'s content).
            extras_text: auditlink.toml text.
            rules: a rules file or a rules.d directory (augenrules order).
            take_over: register even if another live process is registered.
            python_events: keep events for :meth:`next_events`.
            event_types: only events holding one of these record types.

        Raises:
            ValueError: a bad auditd.conf / auditlink.toml (naming its line).
            FileExistsError: another live process is the audit daemon.
            OSError: the log cannot be opened, or the kernel refused a request.
        """
    def rotate(self, from_signal: bool = False) -> None:
        """Rotate the logs and log DAEMON_ROTATE.

        Arguments:
            from_signal: name the sender of the last signal (kernel signal info)
                instead of this process in the record.

        Raises:
            OSError: the daemon has stopped (EBADF).
        """
    def resume(self, from_signal: bool = False) -> None:
        """Resume logging after a suspend and log DAEMON_RESUME.

        Arguments:
            from_signal: as for :meth:`rotate`.

        Raises:
            OSError: the daemon has stopped (EBADF).
        """
    def reload(self, from_signal: bool = False) -> None:
        """Re-read auditd.conf, auditlink.toml and the rules; log DAEMON_CONFIG.

        Arguments:
            from_signal: as for :meth:`rotate`.

        Raises:
            ValueError: the new configuration is not valid (the old one stays).
            OSError: the daemon has stopped, or the new log cannot be opened.
        """
    def flush(self) -> None:
        """Return once everything received so far is written and synced.

        Raises:
            OSError: the daemon has stopped (EBADF).
        """
    def stop(self, from_signal: bool = False) -> None:
        """Read what the kernel sent, unregister, log DAEMON_END, sync, end the
        threads. Idempotent.

        Arguments:
            from_signal: as for :meth:`rotate`.

        Raises:
            OSError: unregistering failed (the log is complete anyway).
        """
    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` ran."""
    def stats(self) -> dict[str, int]:
        """Counters by name (records received, lines written, suspended or
        failed, rotations, disk events, Python queue drops, per-plugin counts)."""
    def plugin_paths(self) -> list[str]:
        """The running plugins, in the order of their ``pluginN_*`` counters."""
    def next_events(self, max: int, timeout: float) -> EventBatch | None:
        """Up to ``max`` events for the callback, waiting up to ``timeout`` seconds
        (at most 1) for the first.

        Returns:
            The events (possibly none), or None once stopped and drained.
        """

def check_auditd_conf(text: str) -> list[str]:
    """Check auditd.conf text.

    Returns:
        One warning per setting accepted but not acted on.

    Raises:
        ValueError: an unknown key or a bad value, naming its line.
    """

def check_auditlink_toml(text: str) -> None:
    """Check auditlink.toml text.

    Raises:
        ValueError: not valid TOML, or an unknown key or bad value.
    """

def daemon_messages_to_stderr(on: bool) -> None:
    """Also print the daemon's syslog messages on stderr (``auditlink daemon -f``)."""

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
