"""ausearch's filters and output, aureport's reports and top's counters
(rust/bindings/search.rs)."""

import pathlib as _pathlib
from typing import final

from auditlink._native.records import AuditEvent

@final
class SearchFilter:
    """ausearch's search options, checked and ready for Rust; build it with
    :func:`auditlink.search.make_filter` (which also takes names).

    All given options must hold (AND); strings match as substrings unless
    ``exact``; ``any_uid`` matches uid, euid or auid. Frozen; may be shared
    between threads.

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
        pid: int | None = None,
        ppid: int | None = None,
        syscall: int | None = None,
        arch: int | None = None,
        session: int | None = None,
        success: bool | None = None,
        key: str | None = None,
        filename: str | None = None,
        hostname: str | None = None,
        terminal: str | None = None,
        exe: str | None = None,
        comm: str | None = None,
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
) -> int:
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

    Returns:
        How many events matched.

    Raises:
        ValueError: unknown format.
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

def syscall_number(name: str) -> tuple[int, int]:
    """A syscall's number on this machine, and this machine's audit arch.

    Arguments:
        name: e.g. ``"openat"``.

    Returns:
        ``(number, AUDIT_ARCH_* value)``.

    Raises:
        ValueError: unknown syscall name.
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
