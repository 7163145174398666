"""Normalized events: who did what to what, as libauparse's normalizer says.

``AuditEvent.normalize()`` gives a :class:`NormalizedEvent` (computed in Rust);
``format_lines`` turns a whole log into ausearch's ``--format csv``/``text``
lines or ECS JSON lines, formatted in Rust on a second thread, with no Python
object per event. See docs/normalize.md.

    >>> from auditlink import parse_log_line, Reassembler
    >>> r = Reassembler()
    >>> line = ("type=USER_LOGIN msg=audit(1700000000.123:42): pid=1 uid=0 "
    ...         "auid=4294967295 ses=4294967295 msg='op=login acct=\\"root\\" "
    ...         "exe=\\"/usr/sbin/sshd\\" hostname=? addr=10.0.0.1 terminal=ssh res=failed'")
    >>> [ev] = r.push(parse_log_line(line))
    >>> n = ev.normalize()
    >>> n.kind, n.action, n.success, n.object.kind
    ('user-login', 'logged-in', False, 'user-session')
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO

from auditlink import _native
from auditlink._native import (
    NormalizedEvent,
    NormalizedField,
    NormalizedObject,
    NormalizedSubject,
    csv_header,
)

__all__ = [
    "NormalizedEvent",
    "NormalizedField",
    "NormalizedObject",
    "NormalizedSubject",
    "csv_header",
    "format_lines",
]

FORMATS = ("csv", "text", "ecs")


def format_lines(
    source: str | os.PathLike[str] | BinaryIO,
    format: str,
    *,
    timeout: float = 2.0,
    extra_keys: bool = False,
    extra_labels: bool = False,
    extra_obj2: bool = False,
    extra_time: bool = False,
) -> Iterator[bytes]:
    """Yield a log's events formatted in chunks of complete lines.

    Arguments:
        source: a path, or a binary file object with a ``fileno()``.
        format: ``"csv"`` or ``"text"`` (ausearch's ``--format``), or ``"ecs"``.
        timeout: seconds an event waits for its end-of-event record.
        extra_keys, extra_labels, extra_obj2, extra_time: ausearch's csv columns.

    Returns:
        An iterator of ``bytes`` chunks (each a run of ``\\n``-terminated lines).
        The csv header is not included: see :func:`csv_header`.

    Raises:
        ValueError: an unknown format or a negative timeout.
        OSError: the file cannot be opened or read.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r} (one of {', '.join(FORMATS)})")
    opts = dict(
        extra_keys=extra_keys,
        extra_labels=extra_labels,
        extra_obj2=extra_obj2,
        extra_time=extra_time,
    )
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield from _read(f.fileno(), format, timeout, opts)
    else:
        yield from _read(source.fileno(), format, timeout, opts)


def _read(fd: int, format: str, timeout: float, opts: dict[str, bool]) -> Iterator[bytes]:
    reader = _native.FormatReader(fd, format, timeout, **opts)
    while True:
        chunk = reader.next_lines()
        if chunk is None:
            return
        if chunk:
            yield chunk
