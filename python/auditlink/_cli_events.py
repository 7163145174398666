"""The ``parse`` and ``watch`` subcommands of ``python -m auditlink``.

``parse FILE|-``: an auditd log (RAW or ENRICHED) to JSON lines, one event per
line (the shape is in docs/records.md). ``watch``: become the audit daemon (or
listen on the multicast group) and print the live events as JSON lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

from auditlink import _native

# The client and events modules (and what they import) load only for the
# commands that use them: `parse` of a log needs neither.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from auditlink.events import AuditEvent

__all__ = ["add_subcommands", "main"]


def add_subcommands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``parse`` and ``watch`` to the ``python -m auditlink`` parser.

    Each subcommand sets ``func`` (taking the parsed namespace, returning the
    exit status)."""
    p = subparsers.add_parser(
        "parse",
        help="auditd log to JSON lines (one event per line)",
        description="Parse an auditd log (RAW or ENRICHED format) and print one JSON "
        "object per event.",
    )
    p.add_argument("file", help="the log file, or - for standard input")
    p.add_argument(
        "-f", "--follow", action="store_true", help="keep reading as the log grows (tail -F)"
    )
    p.add_argument(
        "--format",
        choices=("json", "ecs"),
        default="json",
        help="json: auditlink's event shape (default); ecs: Elastic Common Schema",
    )
    p.add_argument(
        "--enrich",
        metavar="CONFIG",
        help="add laurel-style enrichments (process context, labels, filters) "
        "configured by this TOML file (laurel's format; docs/enrich.md)",
    )
    _add_timeout_option(p)
    p.set_defaults(func=cmd_parse)

    w = subparsers.add_parser(
        "watch",
        help="print live audit events as JSON lines",
        description="Register as the audit daemon (or, with --multicast, listen to "
        "the read-only multicast group) and print every event as a JSON line. "
        "Registering replaces a running auditd until this command exits.",
    )
    w.add_argument(
        "--multicast",
        action="store_true",
        help="listen on the multicast group instead of becoming the daemon",
    )
    _add_timeout_option(w)
    w.set_defaults(func=cmd_watch)


def _add_timeout_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=2.0,
        help="seconds an event waits for its end-of-event record (default 2)",
    )
    parser.add_argument(
        "--split-login",
        action="store_true",
        help="a LOGIN record is an event of its own, as auparse 3.0.9 groups it "
        "(default: it joins the syscall event it was written in)",
    )


def _write_events(out: BinaryIO, events: Iterable[AuditEvent], flush: bool) -> None:
    for ev in events:
        out.write(ev.to_json().encode("utf-8", "surrogatepass"))
        out.write(b"\n")
        if flush:
            out.flush()


def _parse_stream(src: BinaryIO, out: BinaryIO, timeout: float, split_login: bool) -> None:
    from auditlink.events import DEFAULT_CHUNK_SIZE

    # The fast path: bytes in, JSON lines out, no Python object per event.
    try:
        fd = src.fileno()
    except (AttributeError, OSError, ValueError):
        fd = -1
    if fd >= 0:
        # A real file or pipe: read and parse on a second thread, write JSON here.
        reader = _native.LogReader(fd, 1024, timeout, DEFAULT_CHUNK_SIZE, split_login=split_login)
        while True:
            lines = reader.next_json()
            if lines is None:
                return
            out.write(lines)
    parser = _native.LogParser(1024, timeout, split_login=split_login)
    while True:
        chunk = src.read(DEFAULT_CHUNK_SIZE)
        if not chunk:
            break
        out.write(parser.feed_json(chunk))
    out.write(parser.finish_json())


def cmd_parse(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    try:
        if args.follow:
            from auditlink.events import DEFAULT_POLL_INTERVAL, read_events

            source: Any = args.file
            _write_events(
                out,
                read_events(
                    source,
                    follow=True,
                    timeout=args.timeout,
                    poll_interval=DEFAULT_POLL_INTERVAL,
                    split_login=args.split_login,
                ),
                flush=True,
            )
        elif getattr(args, "format", "json") == "ecs":
            from auditlink.normalize import format_lines

            src: Any = sys.stdin.buffer if args.file == "-" else args.file
            for chunk in format_lines(src, "ecs", timeout=args.timeout):
                out.write(chunk)
        elif args.enrich:
            from auditlink.enrich import write_enriched_log

            with open(args.file, "rb") if args.file != "-" else sys.stdin.buffer as f:
                write_enriched_log(f, out, args.enrich)
        elif args.file == "-":
            _parse_stream(sys.stdin.buffer, out, args.timeout, args.split_login)
        else:
            with open(args.file, "rb") as f:
                _parse_stream(f, out, args.timeout, args.split_login)
        out.flush()
    except BrokenPipeError:
        _quiet_stdout()
    except FileNotFoundError as e:
        print(f"auditlink parse: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from auditlink.client import AuditClient
    from auditlink.events import Reassembler

    out = sys.stdout.buffer
    reassembler = Reassembler(timeout=args.timeout, split_login=args.split_login)
    try:
        if args.multicast:
            with AuditClient.multicast() as client:
                _write_events(out, client.events(reassembler), flush=True)
        else:
            # Registers as the daemon (auditing on); unregisters and restores on exit.
            with AuditClient.daemon() as client:
                _write_events(out, client.events(reassembler), flush=True)
    except BrokenPipeError:
        _quiet_stdout()
    except KeyboardInterrupt:
        return 130
    return 0


def _quiet_stdout() -> None:
    # The reader went away (``| head``): say nothing more, exit cleanly.
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run just these subcommands (``python -m auditlink._cli_events parse FILE``)."""
    parser = argparse.ArgumentParser(prog="auditlink")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
