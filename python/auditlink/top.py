"""``auditlink top``: a live view of what is being audited.

Events per second overall and by record type, key, executable, user (auid),
syscall and result, with the kernel's ``lost`` counter and backlog as gauges
(AUDIT_GET). Counting runs in Rust (:class:`auditlink._native.TopCounter`);
Python only draws the screen once per interval. Sources: the live stream as
the audit daemon or as a multicast listener, or a followed log file.

On a terminal the screen is redrawn in place (80x24); ``q`` quits, ``s``
cycles the sort column (rate, total, name). When stdout is not a terminal a
plain text block is printed every interval instead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from auditlink import _native

__all__ = ["SORT_COLUMNS", "add_top_command", "render", "run_top"]

#: What ``s`` cycles through.
SORT_COLUMNS = ("rate", "total", "name")
_TITLES = {
    "type": "RECORD TYPE",
    "key": "KEY",
    "exe": "EXECUTABLE",
    "user": "USER (AUID)",
    "syscall": "SYSCALL",
    "result": "RESULT",
}
_ROWS_PER_TABLE = 5
_HALF = 39

Snapshot = tuple[float, float, list[list[tuple[str, float, int]]]]


def add_top_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``top`` to the ``python -m auditlink`` parser."""
    p = subparsers.add_parser(
        "top",
        help="live events/s by type, key, executable, user, syscall and result",
        description="A live view of the audit event stream (q quits, s changes the sort).",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--multicast", action="store_true", help="listen on the multicast group")
    src.add_argument(
        "--daemon", action="store_true", help="register as the audit daemon (the default)"
    )
    src.add_argument("-f", "--follow", metavar="LOG", help="follow an auditd log file")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes")
    p.add_argument(
        "--iterations", type=int, default=0, help="stop after this many refreshes (0: never)"
    )
    p.add_argument("--plain", action="store_true", help="plain periodic text even on a terminal")
    p.set_defaults(func=cmd_top)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _table(name: str, rows: list[tuple[str, float, int]], sort: str) -> list[str]:
    if sort == "total":
        rows = sorted(rows, key=lambda r: (-r[2], r[0]))
    elif sort == "name":
        rows = sorted(rows, key=lambda r: r[0])
    out = [f"{_TITLES.get(name, name.upper()):<21}{'/s':>8}{'total':>10}"]
    for value, rate, total in rows[:_ROWS_PER_TABLE]:
        out.append(f"{_fit(value, 20):<21}{rate:>8.1f}{total:>10}")
    while len(out) < _ROWS_PER_TABLE + 1:
        out.append("")
    return out


def render(snapshot: Snapshot, status: dict[str, int] | None, sort: str, width: int = 80) -> str:
    """The screen (at most 24 lines of at most ``width`` columns) for one snapshot.

    Arguments:
        snapshot: what :meth:`TopCounter.snapshot` returned.
        status: ``lost``, ``backlog``, ``backlog_limit`` from AUDIT_GET, or None.
        sort: one of :data:`SORT_COLUMNS`.
        width: the terminal width (80 or more lays tables out in pairs).

    Returns:
        The text, lines separated by ``\\n``.
    """
    events, records, tables = snapshot
    if status is not None:
        gauge = f"lost {status['lost']}  backlog {status['backlog']}/{status['backlog_limit']}"
    else:
        gauge = "lost ?  backlog ?"
    lines = [_fit(f"auditlink top  {events:.1f} events/s  {records:.1f} records/s  {gauge}", width)]
    names = list(_native.TOP_TABLES)
    blocks = [_table(n, tables[i] if i < len(tables) else [], sort) for i, n in enumerate(names)]
    for i in range(0, len(blocks), 2):
        lines.append("")
        left = blocks[i]
        right = blocks[i + 1] if i + 1 < len(blocks) else [""] * len(left)
        for a, b in zip(left, right):
            lines.append(_fit(f"{a:<{_HALF}} {b}".rstrip(), width))
    lines.append(_fit(f"sort: {sort}   q quit  s sort", width))
    return "\n".join(lines[:24])


def _status_reader() -> Callable[[], dict[str, int] | None]:
    """AUDIT_GET once per call (None when the kernel cannot be asked)."""
    try:
        from auditlink.client import AuditClient

        client = AuditClient()
    except OSError:
        return lambda: None

    def read() -> dict[str, int] | None:
        try:
            st = client.get_status()
        except OSError:
            return None
        return {
            "lost": int(st.lost),
            "backlog": int(st.backlog),
            "backlog_limit": int(st.backlog_limit),
        }

    return read


def _follow(path: str, counter: _native.TopCounter, until: float) -> None:
    """Feed what the log gained until ``until`` (reopening after rotation)."""
    state = _FOLLOW.setdefault(path, {"fd": None, "ino": None, "quiet": 0.0})
    while time.monotonic() < until:
        fd = state["fd"]
        try:
            st = os.stat(path)
        except OSError:
            time.sleep(0.1)
            continue
        if fd is None or st.st_ino != state["ino"] or os.fstat(fd).st_size > st.st_size:
            if fd is not None:
                os.close(fd)
            fd = os.open(path, os.O_RDONLY)
            if state["ino"] is None:
                os.lseek(fd, 0, os.SEEK_END)  # start at the end, like tail -f
            state["fd"], state["ino"] = fd, st.st_ino
        data = os.read(fd, 1 << 20)
        if data:
            counter.feed_log(data)
            state["quiet"] = 0.0
        else:
            state["quiet"] += 0.1
            if state["quiet"] >= 2.0:
                counter.idle()
                state["quiet"] = 0.0
            time.sleep(0.1)


_FOLLOW: dict[str, dict[str, Any]] = {}


@contextlib.contextmanager
def _live(multicast: bool) -> Iterator[Callable[[_native.TopCounter, float], None]]:
    from auditlink.client import AuditClient
    from auditlink.events import Reassembler

    reasm = Reassembler()
    ctx: contextlib.AbstractContextManager[AuditClient]
    ctx = AuditClient.multicast() if multicast else AuditClient.daemon()
    with ctx as client:

        def pump(counter: _native.TopCounter, until: float) -> None:
            while True:
                left = until - time.monotonic()
                if left <= 0:
                    return
                batch = _native.receive_events(client._native, reasm, 1024, min(left, 0.2))
                counter.add_batch(batch)

        yield pump


@contextlib.contextmanager
def _keys(enabled: bool) -> Iterator[Callable[[], str]]:
    """Single key presses from a terminal stdin (cbreak mode), restored after."""
    if not enabled or not sys.stdin.isatty():
        yield lambda: ""
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:

        def read() -> str:
            if select.select([fd], [], [], 0)[0]:
                return os.read(fd, 1).decode(errors="replace")
            return ""

        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run_top(
    pump: Callable[[_native.TopCounter, float], None],
    out: TextIO,
    *,
    interval: float = 1.0,
    iterations: int = 0,
    tty_mode: bool = False,
    status: Callable[[], dict[str, int] | None] = lambda: None,
) -> int:
    """Count with ``pump`` and draw every ``interval`` seconds.

    Arguments:
        pump: feeds the counter until the given monotonic time.
        out: where to draw.
        interval: seconds per refresh.
        iterations: refreshes before returning (0: until ``q``).
        tty_mode: redraw in place and read ``q``/``s`` from the terminal.
        status: AUDIT_GET gauges.

    Returns:
        The exit status (0).
    """
    counter = _native.TopCounter()
    sort = 0
    done = 0
    with _keys(tty_mode) as key:
        last = time.monotonic()
        while iterations == 0 or done < iterations:
            deadline = last + interval
            while time.monotonic() < deadline:
                pump(counter, min(deadline, time.monotonic() + 0.1))
                k = key()
                if k == "q":
                    return 0
                if k == "s":
                    sort = (sort + 1) % len(SORT_COLUMNS)
            now = time.monotonic()
            screen = render(counter.snapshot(now - last, 20), status(), SORT_COLUMNS[sort])
            last = now
            if tty_mode:
                out.write("\x1b[H\x1b[2J" + screen.replace("\n", "\r\n"))
            else:
                out.write(f"--- {time.strftime('%H:%M:%S')}\n{screen}\n")
            out.flush()
            done += 1
    return 0


def cmd_top(args: argparse.Namespace) -> int:
    tty_mode = sys.stdout.isatty() and not args.plain
    status = _status_reader()
    source: contextlib.AbstractContextManager[Callable[[_native.TopCounter, float], None]]
    if args.follow:
        path = args.follow

        def follow(counter: _native.TopCounter, until: float) -> None:
            _follow(path, counter, until)

        source = contextlib.nullcontext(follow)
    else:
        source = _live(args.multicast)
    try:
        with source as pump:
            return run_top(
                pump,
                sys.stdout,
                interval=args.interval,
                iterations=args.iterations,
                tty_mode=tty_mode,
                status=status,
            )
    except KeyboardInterrupt:
        return 130
    finally:
        if tty_mode:
            sys.stdout.write("\n")
