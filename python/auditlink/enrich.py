"""Event enrichment: process ancestry, containers, scripts, labels and filters.

The work happens in Rust (``auditlink._native.Enricher``): the process table, /proc
reads, label regexes, filters and the enriched JSON. This module turns a mapping or
a TOML file (laurel's configuration format) into that enricher and gives the
results Python types.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO, Literal, Union

from auditlink import _native
from auditlink._native import TrackedProcess
from auditlink.events import AuditEvent

__all__ = ["Enricher", "ProcessTracker", "TrackedProcess", "Verdict", "write_enriched_log"]

Verdict = Literal["keep", "drop", "divert"]
ConfigSource = Union[Mapping[str, Any], str, "os.PathLike[str]", None]


def _native_enricher(config: ConfigSource, logs: bool) -> _native.Enricher:
    if config is None:
        return _native.Enricher(logs=logs)
    if isinstance(config, Mapping):
        return _native.Enricher(json=json.dumps(config), logs=logs)
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as f:
            return _native.Enricher(toml=f.read(), logs=logs)
    raise TypeError(f"config must be a mapping, a path or None, not {type(config).__name__}")


class ProcessTracker:
    """Read access to an :class:`Enricher`'s process table."""

    def __init__(self, native: _native.Enricher) -> None:
        self._native = native

    def process(self, pid: int) -> TrackedProcess | None:
        """The process now holding ``pid``; looked up in /proc if the table does not
        know it yet (unless ``[auditlink] procfs = false``)."""
        return self._native.process(pid)

    def ancestors(self, pid: int) -> list[TrackedProcess]:
        """The processes that spawned ``pid``'s process, nearest first, up to pid 1
        (at most ``[auditlink] ancestors-max``)."""
        return self._native.ancestors(pid)


class Enricher:
    """Adds laurel's enrichments (and ancestry chains) to audit events.

    ``config``: a mapping or the path of a TOML file in laurel's configuration
    format (``[enrich]``, ``[label-process]``, ``[filter]``, ``[transform]``,
    ``[translate]``, ``[state]``; a laurel ``config.toml`` works unchanged) plus
    auditlink's ``[auditlink]`` section; None for the defaults. See docs/enrich.md.
    ``logs=True``: the events come from a log, so /proc (today's processes) is not
    consulted unless the configuration says ``[auditlink] procfs = true``.

    Events must be passed in the order they happened (the table follows execs,
    forks and exits). Safe to share between threads (calls are serialized).
    Raises ``ValueError`` for an invalid configuration, ``OSError`` if the file
    cannot be read.
    """

    def __init__(self, config: ConfigSource = None, *, logs: bool = False) -> None:
        self._native = _native_enricher(config, logs)
        self.tracker = ProcessTracker(self._native)

    def enrich(self, event: AuditEvent) -> dict[str, Any] | None:
        """Track ``event`` and return it as a dict with its enrichments, or None if
        the filters drop it (diverted events are returned; see :meth:`verdict_json`)."""
        _, text = self._native.enrich(event)
        if text is None:
            return None
        out: dict[str, Any] = json.loads(text)
        return out

    def enrich_json(self, event: AuditEvent) -> str | None:
        """Like :meth:`enrich`, as one JSON object (no line end)."""
        return self._native.enrich(event)[1]

    def verdict_json(self, event: AuditEvent) -> tuple[Verdict, str | None]:
        """Track ``event``; returns the filters' verdict (``"keep"``, ``"drop"``, or
        ``"divert"`` for ``filter-action = "log"``) and the JSON (None if dropped)."""
        verdict, text = self._native.enrich(event)
        return verdict, text  # type: ignore[return-value]

    def enrich_events(self, events: Iterable[AuditEvent]) -> Iterator[dict[str, Any]]:
        """The events the filters keep or divert, as enriched dicts."""
        for event in events:
            _, text = self._native.enrich(event)
            if text is not None:
                yield json.loads(text)

    def enrich_log(self, chunk: bytes) -> tuple[bytes, bytes]:
        """Parse a chunk of an auditd log (any split); returns the events it
        completed as enriched JSON lines: ``(kept, diverted)``. Parsing, tracking
        and JSON all run in Rust."""
        return self._native.feed_log(chunk)

    def finish_log(self) -> tuple[bytes, bytes]:
        """End of the log given to :meth:`enrich_log`: the events still open."""
        return self._native.finish_log()

    @property
    def stats(self) -> dict[str, int]:
        """Events seen, dropped and diverted; processes in the table and evicted."""
        events, dropped, diverted, processes, evicted = self._native.stats()
        return {
            "events": events,
            "dropped": dropped,
            "diverted": diverted,
            "processes": processes,
            "evicted": evicted,
        }

    def save_state(self) -> None:
        """Write the ``[state]`` file now (it is also written periodically and when
        the enricher is freed)."""
        self._native.save_state()


def write_enriched_log(
    src: BinaryIO, out: BinaryIO, config: ConfigSource, divert: BinaryIO | None = None
) -> None:
    """``auditlink parse --enrich CONFIG``: an auditd log to enriched JSON lines
    (diverted events to ``divert`` if given, else dropped)."""
    enricher = Enricher(config, logs=True)
    fds = _filenos(src, out, divert)
    if fds is not None:
        # Read and written by Rust: no bytes objects, no copies through Python.
        out.flush()
        if divert is not None:
            divert.flush()
        while enricher._native.pump_fd(*fds):
            pass
        enricher.save_state()
        return
    while True:
        chunk = src.read(1 << 20)
        if not chunk:
            break
        kept, diverted = enricher.enrich_log(chunk)
        out.write(kept)
        if divert is not None:
            divert.write(diverted)
    kept, diverted = enricher.finish_log()
    out.write(kept)
    if divert is not None:
        divert.write(diverted)
    enricher.save_state()


def _filenos(
    src: BinaryIO, out: BinaryIO, divert: BinaryIO | None
) -> tuple[int, int, int | None] | None:
    """The descriptors to read and write at, if all three are real files and
    ``src`` (a regular file) holds no bytes read ahead in Python; else None."""
    try:
        fds = (src.fileno(), out.fileno(), None if divert is None else divert.fileno())
        at_fd = src.seekable() and src.tell() == os.lseek(fds[0], 0, os.SEEK_CUR)
    except (AttributeError, OSError, ValueError):
        return None
    return fds if at_fd else None
