"""ausearch's filters and output, aureport's reports and top's counters
(rust/bindings/search.rs)."""

import pathlib as _pathlib
from typing import final

from auditlink._native.client import AuditClient
from auditlink._native.records import AuditEvent

@final
class SearchFilter:
    """ausearch's search options, checked and ready for Rust; build it with
    :func:`auditlink.search.make_filter` (which also takes names).

    All given options must hold (AND); strings match as substrings unless
    ``exact``; ``any_uid`` matches uid, euid or auid; ``any_gid`` makes
    ``gid``/``egid`` match either; ``any_context`` makes ``subject``/``object``
    (labels) match either. Frozen; may be shared between threads.

    Arguments:
        start, end: Unix seconds the event's time stamp must be in (``-ts``/``-te``).
        event_id: the event serial (``-a``).
        nodes: node names (``-n``), any of them.
        types: record type numbers (``-m``), any of them.
        uid, euid, loginuid, any_uid, gid, egid, pid, ppid, session: numbers
            (``-ui``, ``-ue``, ``-ul``, ``-ua``, ``-gi``, ``-ge``, ``-p``, ``-pp``,
            ``--session``).
        syscall, arch: the syscall number (``-sc``) and its audit arch.
        success: ``--success yes`` (True) or ``no`` (False).
        key, filename, hostname, terminal, exe, comm: strings (``-k``, ``-f``,
            ``-hn``, ``-tm``, ``-x``, ``-c``).
        exact: strings must match whole (``-w``).

    Raises:
        TypeError, OverflowError: a value of the wrong type or range.
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

        Raises:
            TypeError: ``event`` is not an :class:`AuditEvent`.
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
