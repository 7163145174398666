"""Audit records and events: parse, group, interpret, and read auditd logs.

Parsing, interpretation, grouping and JSON all happen in the Rust core; the
classes here are thin views. See docs/records.md for the JSON shape.

    >>> from auditlink import parse_log_line
    >>> rec = parse_log_line('type=CWD msg=audit(1700000000.123:42): cwd="/root"')
    >>> rec.serial, rec.fields["cwd"], str(rec.timestamp)
    (42, '/root', '1700000000.123')
"""

from __future__ import annotations

import collections.abc
import os
import sys
import time
from collections.abc import Iterator
from typing import BinaryIO, Union

from auditlink import _native
from auditlink._native import (
    AuditEvent,
    AuditRecord,
    AuditTimestamp,
    Reassembler,
    RecordFields,
    RecordParseError,
    parse_log_line,
    parse_record,
    set_id_resolution,
)

__all__ = [
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
]

# The native mapping behaves as a read-only Mapping; make isinstance() agree.
collections.abc.Mapping.register(RecordFields)

DEFAULT_CHUNK_SIZE = 1 << 20
#: How often ``read_events(..., follow=True)`` looks for new data, in seconds.
DEFAULT_POLL_INTERVAL = 0.25

Source = Union[str, "os.PathLike[str]", BinaryIO]


class _Idle:
    """When the input last delivered data (for follow mode's timeouts)."""

    def __init__(self) -> None:
        self.since = time.monotonic()

    def expire(self, parser: _native.LogParser) -> Iterator[AuditEvent]:
        # Stream time stands still while the log is quiet; let it run on by the
        # idle time so an event whose end never comes is still emitted.
        return parser.expire_idle(time.monotonic() - self.since)


def _read_stream(
    stream: BinaryIO, parser: _native.LogParser, chunk_size: int, idle: _Idle | None = None
) -> Iterator[AuditEvent]:
    """Everything the stream has until EOF (not the end of input)."""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        if idle is not None:
            idle.since = time.monotonic()
        if isinstance(chunk, str):  # a text stream given by mistake: be forgiving
            chunk = chunk.encode("utf-8", "surrogateescape")
        yield from parser.feed(chunk)


def read_events(
    source: Source,
    follow: bool = False,
    *,
    max_in_flight: int = 1024,
    timeout: float = 2.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    split_login: bool = False,
    id_resolution: bool | None = None,
) -> Iterator[AuditEvent]:
    """The events of an auditd log (RAW or ENRICHED), in the order they complete.

    Records are grouped by (node, time stamp, serial) as :class:`Reassembler`
    does: an event completes at its EOE or PROCTITLE record, or at once for
    one-record types; one whose end never comes is emitted with
    ``complete == False`` when its node's stream time has moved ``timeout``
    seconds past it (so logs from nodes whose clocks differ, or several logs
    read one after the other, keep their events whole). Malformed lines never
    raise: they come out as one-record events whose record has ``error`` set
    and its raw ``text``.

    With ``follow=True`` the iterator does not end at end of file: it waits for
    more (like ``tail -F``), follows auditd's log rotation (the path is reopened
    when it names a new file or was truncated), and emits events whose end does
    not come within ``timeout`` seconds while the log is quiet. Stop it by
    closing the generator or breaking out of the loop.

    Arguments:
        source: a path, ``"-"`` for standard input, or a binary file object.
        follow: keep reading as the log grows (see above).
        max_in_flight: events assembled at once; beyond it the oldest is emitted.
        timeout: seconds of stream time an event waits for its end.
        chunk_size: bytes read at a time.
        poll_interval: seconds between looks for new data with ``follow=True``.
        split_login: True groups a LOGIN record as an event of its own, as
            auparse 3.0.9 does; by default it joins the syscall event it was
            written in (audit-userspace 4.x, laurel).
        id_resolution: whether interpretations of these events show user and
            group names (True) or numbers (False); None follows
            :func:`set_id_resolution`.

    Returns:
        An iterator of :class:`AuditEvent`.

    Raises:
        ValueError: ``chunk_size`` <= 0, or ``timeout`` negative or NaN.
        OSError: the path cannot be opened or read.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be > 0")
    parser = _native.LogParser(
        max_in_flight, timeout, split_login=split_login, id_resolution=id_resolution
    )
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path == "-":
            yield from _follow_stream(sys.stdin.buffer, parser, follow, chunk_size, poll_interval)
            return
        if not follow:
            # A file read once: read and parse on a second thread while this
            # one hands out the events.
            with open(path, "rb") as f:
                reader = _native.LogReader(
                    f.fileno(),
                    max_in_flight,
                    timeout,
                    chunk_size,
                    split_login=split_login,
                    id_resolution=id_resolution,
                )
            yield from reader
            return
        yield from _follow_path(path, parser, follow, chunk_size, poll_interval)
        return
    yield from _follow_stream(source, parser, follow, chunk_size, poll_interval)


def _follow_stream(
    stream: BinaryIO,
    parser: _native.LogParser,
    follow: bool,
    chunk_size: int,
    poll_interval: float,
) -> Iterator[AuditEvent]:
    idle = _Idle()
    while True:
        yield from _read_stream(stream, parser, chunk_size, idle)
        if not follow:
            break
        yield from idle.expire(parser)
        time.sleep(poll_interval)
    yield from parser.finish()


def _follow_path(
    path: str,
    parser: _native.LogParser,
    follow: bool,
    chunk_size: int,
    poll_interval: float,
) -> Iterator[AuditEvent]:
    f = open(path, "rb")  # noqa: SIM115 - reopened on rotation, closed in finally
    idle = _Idle()
    try:
        while True:
            yield from _read_stream(f, parser, chunk_size, idle)
            if not follow:
                break
            # At end of file: has auditd rotated (new file at the path) or truncated it?
            try:
                st = os.stat(path)
            except FileNotFoundError:
                st = None  # between rename and create: try again later
            mine = os.fstat(f.fileno())
            if st is not None and (st.st_ino, st.st_dev) != (mine.st_ino, mine.st_dev):
                yield from _read_stream(f, parser, chunk_size, idle)  # the old file's last words
                f.close()
                f = open(path, "rb")  # noqa: SIM115
                continue
            if st is not None and st.st_size < f.tell():
                f.seek(0)
                continue
            yield from idle.expire(parser)
            time.sleep(poll_interval)
        yield from parser.finish()
    finally:
        f.close()
