"""aureport's reports over audit logs, aggregated in Rust.

    >>> from auditlink import report
    >>> r = report("/var/log/audit", "executable", summary=True)  # doctest: +SKIP
    >>> r.rows[0]  # doctest: +SKIP
    ('152', '/usr/bin/bash')

``ReportResult.text`` is exactly what ``aureport`` 3.0.9 prints for the same
options (see docs/search.md for the differences).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

from auditlink import _native
from auditlink.search import log_paths

__all__ = ["NO_SUMMARY", "REPORT_KINDS", "ReportResult", "report"]

#: Report names (aureport option in the comment).
REPORT_KINDS = (
    "summary",  # (no option)
    "executable",  # -x
    "key",  # -k
    "file",  # -f
    "user",  # -u
    "login",  # -l
    "auth",  # -au
    "mods",  # -m
    "config",  # -c
    "syscall",  # -s
    "event",  # -e
    "pid",  # -p
    "terminal",  # -tm
    "host",  # -h
    "anomaly",  # -n
    "comm",  # --comm
    "mac",  # -ma
    "integrity",  # --integrity
    "virt",  # --virt
    "crypto",  # -cr
    "response",  # -r
    "avc",  # -a
    "tty",  # --tty
    "time",  # -t (each file's time range)
)

#: Reports aureport has no ``--summary`` form of.
NO_SUMMARY = frozenset({"tty", "time"})


class ReportResult(NamedTuple):
    """One report.

    ``columns`` names the row fields: for a detailed report ``date``,
    ``time``, then the report's columns (as in aureport's header); for
    ``summary=True`` ``total`` and the value; for the summary report
    ``label`` and ``value``; for ``"time"`` ``file``, ``first`` and ``last``
    (empty when the file has no events). ``found`` is False when a detailed report had
    nothing to show (aureport then exits 1). ``text`` is aureport's output.
    """

    kind: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    found: bool
    text: str


def _s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def report(
    source: str | os.PathLike[str],
    kind: str = "summary",
    *,
    summary: bool = False,
    failed: bool | None = None,
    interpret: bool = False,
    start: int | None = None,
    end: int | None = None,
    node: str | Sequence[str] | None = None,
) -> ReportResult:
    """Run aureport's ``kind`` report over ``source``.

    Arguments:
        source: a log file, ``"-"`` (stdin) or a directory of rotated logs.
        kind: one of :data:`REPORT_KINDS`.
        summary: counts per value (aureport ``--summary``).
        failed: True: only failed events (``--failed``); False: only
            successful ones (``--success``); None: both.
        interpret: names instead of numbers (``-i``).
        start, end: Unix seconds (``-ts``/``-te``; see
            :func:`auditlink.search.parse_time`).
        node: only events of these nodes.

    Returns:
        A :class:`ReportResult`.

    Raises:
        ValueError: unknown ``kind``, or ``summary=True`` for ``"tty"`` or
            ``"time"`` (aureport has no summary of those).
        FileNotFoundError: the source does not exist.
    """
    if kind not in REPORT_KINDS:
        raise ValueError(f"unknown report {kind!r}; one of {', '.join(REPORT_KINDS)}")
    if summary and kind in NO_SUMMARY:
        raise ValueError(f"the {kind!r} report has no summary form")
    nodes = [node] if isinstance(node, str) else list(node or [])
    text, found, columns, rows = _native.run_report(
        log_paths(source),
        kind,
        summary=summary,
        success=None if failed is None else not failed,
        interpret=interpret,
        start=start,
        end=end,
        nodes=nodes,
    )
    return ReportResult(
        kind=kind,
        columns=tuple(columns),
        rows=[tuple(_s(c) for c in r) for r in rows],
        found=found,
        text=_s(text),
    )
