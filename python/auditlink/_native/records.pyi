"""Records, events, their reassembly and log reading (rust/bindings/records/)."""

import builtins as _builtins
from collections.abc import ItemsView as _ItemsView
from collections.abc import Iterable as _Iterable
from collections.abc import Iterator as _Iterator
from collections.abc import KeysView as _KeysView
from collections.abc import ValuesView as _ValuesView
from datetime import datetime as _datetime
from typing import Any as _Any
from typing import TypeVar as _TypeVar
from typing import final as _final
from typing import type_check_only as _type_check_only

from auditlink._message_type import MessageType
from auditlink._native.normalize import NormalizedEvent

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
        """The value of a field.

        Arguments:
            name: the field name.
            default: what to return when the record has no such field.

        Returns:
            The field's value (the first, if the name occurs twice), or ``default``.

        Raises:
            TypeError: ``name`` is not a str.
        """
    def keys(self) -> _KeysView[str]:
        """The field names.

        Returns:
            The names, in order (a dict keys view).
        """
    def values(self) -> _ValuesView[str]:
        """The field values.

        Returns:
            The values, in order (a dict values view).
        """
    def items(self) -> _ItemsView[str, str]:
        """The fields as pairs.

        Returns:
            ``(name, value)`` pairs, in order (a dict items view).
        """
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

        Raises:
            TypeError: ``name`` is not a str.
        """
    def interpreted_fields(self) -> list[tuple[str, str, str]]:
        """Every field in order, duplicates included.

        Returns:
            ``(name, value, interpretation)`` tuples (what ``ausearch -i`` shows,
            field by field).
        """
    def to_dict(self) -> dict[str, _Any]:
        """The record as plain Python values.

        Returns:
            The typed dict the record has inside ``AuditEvent.to_dict()``.
        """
    def to_json(self) -> str:
        """The record as JSON.

        Returns:
            ``to_dict()`` as one JSON object (one line, no line end).
        """
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
        """The event as plain Python values.

        Returns:
            The event in the shape docs/records.md documents.
        """
    def to_json(self) -> str:
        """The event as JSON.

        Returns:
            ``to_dict()`` as one JSON object (one line, no line end).
        """
    def normalize(self) -> NormalizedEvent:
        """Who did what to what, as libauparse's normalizer says.

        Returns:
            The normalized event (see docs/normalize.md).
        """
    def __len__(self) -> int: ...
    def __iter__(self) -> _Iterator[AuditRecord]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

_Grouper = _TypeVar("_Grouper", bound=_Grouping)

@_type_check_only
class _Grouping:
    """The constructor :class:`Reassembler` and :class:`LogParser` share (their
    docstrings say what each argument does)."""

    def __new__(
        cls: type[_Grouper],
        max_in_flight: int = 1024,
        timeout: float = 2.0,
        *,
        split_login: bool = False,
        id_resolution: bool | None = None,
    ) -> _Grouper: ...

@_final
class Reassembler(_Grouping):
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

    @property
    def split_login(self) -> bool:
        """Whether LOGIN records are events of their own."""
    def push(self, record: AuditRecord) -> list[AuditEvent]:
        """Add a record.

        Arguments:
            record: a parsed record (:func:`parse_record`, :func:`parse_log_line`).

        Returns:
            The events it completed (or timed out).

        Raises:
            TypeError: ``record`` is not an :class:`AuditRecord`.
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
        """Emit every event still in flight.

        Returns:
            The events (incomplete), oldest first.
        """
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
class LogParser(_Grouping):
    """Incremental auditd log parser: bytes in, events (or JSON lines) out.

    Arguments:
        max_in_flight, timeout, split_login, id_resolution: as for :class:`Reassembler`.

    Raises:
        ValueError: ``timeout`` negative or NaN.
    """

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
    """Set the process-wide default for uid/gid name lookups in interpretations
    (on at start; names are cached). Objects made with ``id_resolution=True/False``
    keep their own setting.

    Arguments:
        enabled: names (True) or numbers (False) for the objects made with
            ``id_resolution=None`` from now on.

    Raises:
        TypeError: ``enabled`` is not a bool.
    """

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
