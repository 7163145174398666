"""Search audit logs like ``ausearch``: filters AND together, matching runs in
Rust before any event becomes a Python object.

    >>> from auditlink import search
    >>> for event in search("/var/log/audit", key="exec", success=False):  # doctest: +SKIP
    ...     print(event.serial)

See docs/search.md for the options, the output formats and the differences
from ausearch 3.0.9.
"""

from __future__ import annotations

import datetime
import os
import pwd
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Union

from auditlink import _native
from auditlink._native import AuditEvent, SearchFilter

if TYPE_CHECKING:
    from auditlink.client import AuditClient

__all__ = ["SearchFilter", "log_paths", "make_filter", "parse_time", "search"]

Source = Union[str, "os.PathLike[str]", "AuditClient"]

#: ausearch's time keywords.
TIME_KEYWORDS = (
    "now",
    "recent",
    "boot",
    "today",
    "yesterday",
    "this-week",
    "week-ago",
    "this-month",
    "this-year",
)


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day)


def _keyword_time(word: str, now: datetime.datetime) -> datetime.datetime:
    """The moment an ausearch keyword names (local time, as ausearch uses)."""
    today = now.date()
    if word == "now":
        return now
    if word == "recent":
        return now - datetime.timedelta(minutes=10)
    if word == "boot":
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
        return now - datetime.timedelta(seconds=int(up + 0.5))
    if word == "today":
        return _midnight(today)
    if word == "yesterday":
        return _midnight(today - datetime.timedelta(days=1))
    if word == "this-week":
        # ausearch: back to Sunday.
        return _midnight(today - datetime.timedelta(days=(today.weekday() + 1) % 7))
    if word == "week-ago":
        return _midnight(today - datetime.timedelta(days=7))
    if word == "this-month":
        return _midnight(today.replace(day=1))
    if word == "this-year":
        return _midnight(today.replace(month=1, day=1))
    raise ValueError(f"unknown time keyword {word!r}")


def _parse_date(text: str) -> datetime.date:
    for fmt in ("%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"Invalid date ({text}). Month, Day, and Year are required.")


def _parse_clock(text: str) -> datetime.time:
    if len(text) <= 5:
        text += ":00"
    try:
        return datetime.datetime.strptime(text, "%H:%M:%S").time()
    except ValueError:
        raise ValueError(f"Invalid time ({text}). Hour, Minute, and Second are required.") from None


def parse_time(words: Sequence[str], *, end: bool = False, now: float | None = None) -> int:
    """ausearch's ``-ts``/``-te`` arguments (a date, a time, both, or a keyword)
    as Unix seconds in local time.

    Arguments:
        words: one or two words: ``today``, ``09:30``, ``12/03/2026 09:30:00``.
        end: parse as ``-te`` (a date alone then means that date at the
            current time of day, and ``today`` means now, as in ausearch).
        now: the current time (for tests); default ``time.time()``.

    Returns:
        Seconds since the epoch.

    Raises:
        ValueError: the words are not a date, a time or a keyword.
    """
    current = datetime.datetime.fromtimestamp(time.time() if now is None else now)
    current = current.replace(microsecond=0)
    if not words or len(words) > 2:
        raise ValueError("a time needs a date, a time, both, or a keyword")
    date_word: str | None = None
    clock_word: str | None = None
    for w in words:
        if ":" in w:
            clock_word = w
        else:
            date_word = w
    if date_word in TIME_KEYWORDS:
        moment = _keyword_time(date_word, current)
        if end and date_word == "today":
            moment = current
        if clock_word is not None:
            moment = datetime.datetime.combine(moment.date(), _parse_clock(clock_word))
        return int(moment.timestamp())
    day = current.date() if date_word is None else _parse_date(date_word)
    if clock_word is not None:
        clock = _parse_clock(clock_word)
    elif end:
        clock = current.time()
    else:
        clock = datetime.time(0, 0, 0)
    return int(datetime.datetime.combine(day, clock).timestamp())


def _uid(value: int | str) -> int:
    if isinstance(value, int):
        return value
    if value[:1].isdigit():
        return int(value)
    return pwd.getpwnam(value).pw_uid


def _gid(value: int | str) -> int:
    import grp

    if isinstance(value, int):
        return value
    if value[:1].isdigit():
        return int(value)
    return grp.getgrnam(value).gr_gid


def _syscall(value: int | str, arch: str | None) -> tuple[int, int | None]:
    """A syscall number, and the arch it must be on when given by name
    (ausearch then also requires that arch: ``--arch``, else this machine's)."""
    if isinstance(value, int) or value[:1].isdigit():
        return int(value), None if arch is None else _native.audit_arch(arch)
    nr, audit_arch = _native.syscall_number(value, arch)
    return nr, audit_arch


def _exit(value: int | str) -> int:
    """ausearch ``-e``: a number (C ``strtoll`` base 0) or an errno name
    (``EPERM`` is 1 and ``-EPERM`` -1, as libaudit's ``audit_name_to_errno``)."""
    if isinstance(value, int):
        return value
    text = value.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if digits[:1].isdigit():
        sign = -1 if text.startswith("-") else 1
        if digits[:2].lower() == "0x":
            return sign * int(digits[2:] or "0", 16)
        if len(digits) > 1 and digits[0] == "0":
            return sign * int(digits[1:], 8)
        return sign * int(digits)
    nr = _native.errno_number(digits)
    if nr is None:
        raise ValueError(f"Unknown errno, was {value}")
    return -nr if text.startswith("-") else nr


def _types(value: Sequence[int | str] | str) -> list[int]:
    from auditlink._message_type import MessageType

    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[int] = []
    for item in items:
        if isinstance(item, int):
            out.append(item)
        elif item.upper() == "ALL":
            return []
        else:
            out.append(int(MessageType[item.upper().removeprefix("AUDIT_")]))
    return out


def make_filter(
    *,
    key: str | None = None,
    message_types: Sequence[int | str] | str | None = None,
    uid: int | str | None = None,
    euid: int | str | None = None,
    loginuid: int | str | None = None,
    any_uid: int | str | None = None,
    gid: int | str | None = None,
    egid: int | str | None = None,
    any_gid: int | str | None = None,
    exe: str | None = None,
    comm: str | None = None,
    pid: int | None = None,
    ppid: int | None = None,
    syscall: int | str | None = None,
    success: bool | None = None,
    exit: int | str | None = None,
    arch: str | None = None,
    filename: str | None = None,
    hostname: str | None = None,
    terminal: str | None = None,
    subject: str | None = None,
    object: str | None = None,
    context: str | None = None,
    vm_name: str | None = None,
    uuid: str | None = None,
    session: int | None = None,
    event_id: int | None = None,
    node: str | Sequence[str] | None = None,
    start: int | float | None = None,
    end: int | float | None = None,
    exact: bool = False,
) -> SearchFilter:
    """Build a :class:`SearchFilter` from ausearch-style options (names and
    numbers both accepted for users, groups, syscalls, errnos and record types).

    ``any_gid`` is ``-ga`` (gid or egid), ``exit`` ``-e``, ``arch``
    ``--arch`` (``b32``, ``b64`` or a machine name), ``subject``/``object``
    ``-su``/``-o`` and ``context`` ``-se`` (subject or object label),
    ``vm_name``/``uuid`` ``-vm``/``-uu``.

    Raises:
        KeyError: an unknown user, group or record type name.
        ValueError: an unknown syscall, errno or arch name.
    """
    nodes = [node] if isinstance(node, str) else list(node or [])
    if syscall is not None:
        nr, audit_arch = _syscall(syscall, arch)
    else:
        nr, audit_arch = None, None if arch is None else _native.audit_arch(arch)
    if any_gid is not None:
        gid = egid = any_gid
    if context is not None:
        subject = object = context
    return SearchFilter(
        start=None if start is None else int(start),
        end=None if end is None else int(end),
        event_id=event_id,
        nodes=nodes,
        types=[] if message_types is None else _types(message_types),
        uid=None if uid is None else _uid(uid),
        euid=None if euid is None else _uid(euid),
        loginuid=None if loginuid is None else _uid(loginuid) & 0xFFFFFFFF,
        any_uid=None if any_uid is None else _uid(any_uid),
        gid=None if gid is None else _gid(gid),
        egid=None if egid is None else _gid(egid),
        any_gid=any_gid is not None,
        pid=pid,
        ppid=ppid,
        syscall=nr,
        arch=audit_arch,
        session=session,
        success=success,
        exit=None if exit is None else _exit(exit),
        key=key,
        filename=filename,
        hostname=hostname,
        terminal=terminal,
        exe=exe,
        comm=comm,
        subject=subject,
        object=object,
        any_context=context is not None,
        vmname=vm_name,
        uuid=uuid,
        exact=exact,
    )


def log_paths(source: str | os.PathLike[str]) -> list[str] | None:
    """The files a source names: a file, ``"-"`` (stdin: ``None``), or a
    directory of rotated logs read oldest first as ausearch reads them.

    Raises:
        FileNotFoundError: the path does not exist.
    """
    path = os.fspath(source)
    if path == "-":
        return None
    if os.path.isdir(path):
        return [os.fspath(p) for p in _native.rotated_logs(path)]
    if not os.path.exists(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    return [path]


def search(source: Source, **filters: object) -> Iterator[AuditEvent]:
    """The events of ``source`` that match every filter, in ausearch's order.

    Arguments:
        source: a log file, ``"-"`` (stdin), a directory of rotated logs
            (``audit.log.N`` ... ``audit.log``), or an :class:`AuditClient`
            (its ``events()``, filtered as they arrive).
        **filters: the keywords of :func:`make_filter` (``key``, ``uid``,
            ``success``, ``start``, ...), or ``filter=`` a ready
            :class:`SearchFilter`.

    Returns:
        An iterator of :class:`AuditEvent`.

    Raises:
        FileNotFoundError: the path does not exist.
        TypeError: an unknown filter keyword.
    """
    ready = filters.pop("filter", None)
    flt = ready if isinstance(ready, SearchFilter) else make_filter(**filters)  # type: ignore[arg-type]
    if hasattr(source, "events"):
        client: AuditClient = source  # type: ignore[assignment]
        return _live(client, flt)
    return iter(_native.SearchIter(log_paths(source), flt))


def _live(client: AuditClient, flt: SearchFilter) -> Iterator[AuditEvent]:
    """The client's stream grouped and filtered in Rust: rejected events
    never become Python objects. Ends when the client is closed."""
    live = _native.LiveSearch(flt)
    while True:
        try:
            batch = live.receive(client._native)
        except OSError:
            if client.closed:
                yield from live.flush()
                return
            raise
        yield from batch
