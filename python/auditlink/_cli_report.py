"""The ``report`` subcommand: aureport's options, its text on stdout."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from auditlink import _native

__all__ = ["add_report_command"]

#: aureport option -> report kind.
_KIND_OPTIONS = (
    (("-x", "--executable"), "executable"),
    (("-k", "--key"), "key"),
    (("-f", "--file"), "file"),
    (("-u", "--user"), "user"),
    (("-l", "--login"), "login"),
    (("-au", "--auth"), "auth"),
    (("-m", "--mods"), "mods"),
    (("-c", "--config"), "config"),
    (("-s", "--syscall"), "syscall"),
    (("-e", "--event"), "event"),
    (("-p", "--pid"), "pid"),
    (("-tm", "--terminal"), "terminal"),
    (("-h", "--host"), "host"),
    (("-n", "--anomaly"), "anomaly"),
    (("--comm",), "comm"),
    (("-ma", "--mac"), "mac"),
    (("--integrity",), "integrity"),
    (("--virt",), "virt"),
    (("-cr", "--crypto"), "crypto"),
    (("-r", "--response"), "response"),
    (("-a", "--avc"), "avc"),
    (("--tty",), "tty"),
    (("-t", "--log"), "time"),
)


#: aureport 3.0.9 options auditlink does not implement (docs/search.md):
#: refused with a clear message instead of an argparse "unrecognized" error.
_UNSUPPORTED = (
    ("-nc", "--no-config"),
    ("--eoe-timeout",),
    ("--escape",),
    ("--debug",),
)


class _Unsupported(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *_: object, **__: object) -> None:
        parser.exit(
            2,
            f"auditlink report: aureport's {'/'.join(self.option_strings)} is not "
            "implemented (see docs/search.md)\n",
        )


def add_report_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``report`` to the ``python -m auditlink`` parser."""
    from auditlink._cli_search import add_input_options

    p = subparsers.add_parser(
        "report",
        help="aureport's reports (summary, -x, -k, ... with --summary)",
        description="Reports over audit logs like aureport 3.0.9, with the same text.",
        add_help=False,
        allow_abbrev=False,
    )
    p.add_argument("--help", action="help", help="show this help and exit")
    add_input_options(p)
    for flags, kind in _KIND_OPTIONS:
        p.add_argument(*flags, dest="kind", action="store_const", const=kind, help=f"{kind} report")
    p.add_argument("--summary", action="store_true", help="counts per value")
    p.add_argument("--failed", dest="success", action="store_false", default=None)
    p.add_argument("--success", dest="success", action="store_true")
    p.add_argument("--node", action="append", help="only this node (repeatable)")
    p.add_argument(
        "--input-logs", action="store_true", help="read the logs even if stdin is a pipe"
    )
    for flags in _UNSUPPORTED:
        p.add_argument(*flags, nargs=0, action=_Unsupported, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_report, kind=None)


def cmd_report(args: argparse.Namespace) -> int:
    from auditlink._cli_search import input_paths, time_range
    from auditlink.report import NO_SUMMARY

    start, end = time_range(args)
    text, found, _columns, _rows = _native.run_report(
        input_paths(args),
        args.kind or "summary",
        summary=args.summary,
        success=args.success,
        interpret=args.interpret,
        start=start,
        end=end,
        nodes=args.node or [],
    )
    sys.stdout.flush()
    sys.stdout.buffer.write(text)
    sys.stdout.buffer.flush()
    if args.summary and args.kind in NO_SUMMARY:
        # aureport's answer (after the start of the title).
        sys.stderr.write("Unimplemented option\n")
    return 0 if found else 1
