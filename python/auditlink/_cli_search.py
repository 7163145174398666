"""The ``search``, ``report`` and ``top`` subcommands of ``python -m auditlink``.

``search`` takes ausearch's option spellings (``-k``, ``-ui``, ``-sv yes``,
``-ts today``, ``-i``, ``--raw``, ``--format``, ``-if``); ``raw``, ``default``
and ``interpret`` output is written by Rust straight to stdout. ``report``
takes aureport's, ``top`` shows live rates (see docs/search.md).
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from collections.abc import Sequence
from typing import Any

from auditlink import _native
from auditlink._checkpoint import Checkpoint
from auditlink.search import log_paths, make_filter, parse_time

__all__ = ["add_search_commands"]

#: Where ausearch/aureport read when given no input (auditd.conf log_file).
DEFAULT_LOG_DIR = "/var/log/audit"

_SEARCH_FORMATS = ("raw", "default", "interpret", "csv", "text", "json", "ecs")


class _SearchParser(argparse.ArgumentParser):
    """Takes ``-e -EACCES`` as ausearch does: a negative errno name is a value."""

    def _parse_optional(self, arg_string: str) -> Any:
        if re.fullmatch(r"-E[A-Z0-9]+", arg_string):
            return None
        return super()._parse_optional(arg_string)


def add_search_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``search``, ``report`` and ``top`` to the ``python -m auditlink`` parser."""
    s = subparsers.add_parser(
        "search",
        help="search audit logs (ausearch's options and output)",
        description="Search audit logs like ausearch 3.0.9: the same options, "
        "filters AND together, the same output bytes for raw, default and -i.",
        allow_abbrev=False,
    )
    s.__class__ = _SearchParser
    _add_search_options(s)
    s.set_defaults(func=cmd_search)
    from auditlink._cli_report import add_report_command
    from auditlink.top import add_top_command

    add_report_command(subparsers)
    add_top_command(subparsers)


def add_input_options(p: argparse.ArgumentParser) -> None:
    """``-if``, ``-ts``, ``-te`` and ``-i``: shared by search and report."""
    p.add_argument("-if", "--input", dest="input", metavar="FILE|DIR", help="log file or directory")
    p.add_argument("-ts", "--start", nargs="+", metavar="WORD", help="start date/time or keyword")
    p.add_argument("-te", "--end", nargs="+", metavar="WORD", help="end date/time or keyword")
    p.add_argument("-i", "--interpret", action="store_true", help="interpret values")


def _add_search_options(p: argparse.ArgumentParser) -> None:
    add_input_options(p)
    a = p.add_argument
    a("-k", "--key", help="key (substring unless -w)")
    a("-m", "--message", help="record types, comma separated (or ALL)")
    a("-ui", "--uid", help="user id or name")
    a("-ue", "--uid-effective", dest="euid", help="effective user id")
    a("-ul", "--loginuid", help="login user id (auid)")
    a("-ua", "--uid-all", dest="any_uid", help="uid, euid or auid")
    a("-gi", "--gid", help="group id or name")
    a("-ge", "--gid-effective", dest="egid", help="effective group id")
    a("-ga", "--gid-all", dest="any_gid", help="gid or egid")
    a("-e", "--exit", help="syscall exit value or errno name")
    a("--arch", help="CPU architecture (b32, b64 or a machine name)")
    a("-se", "--context", help="subject or object label")
    a("-su", "--subject", help="subject label")
    a("-o", "--object", help="object label")
    a("-vm", "--vm-name", dest="vm_name", help="virtual machine name")
    a("-uu", "--uuid", help="virtual machine uuid")
    a("-x", "--executable", dest="exe", help="executable (substring unless -w)")
    a("-c", "--comm", help="command name")
    a("-p", "--pid", type=int, help="process id")
    a("-pp", "--ppid", type=int, help="parent process id")
    a("-sc", "--syscall", help="syscall name or number")
    a("-sv", "--success", choices=("yes", "no"), help="success value")
    a("-f", "--file", dest="filename", help="file name (substring unless -w)")
    a("-hn", "--host", dest="hostname", help="host name")
    a("-tm", "--terminal", help="terminal")
    a("--session", type=int, help="login session id")
    a("-a", "--event", dest="event_id", type=int, help="event serial number")
    a("-n", "--node", action="append", help="node name (repeatable)")
    a("--just-one", action="store_true", help="stop after the first match")
    a("-l", "--line-buffered", action="store_true", help="flush after every event")
    a("--eoe-timeout", type=_eoe_timeout, default=2, help="end of event timeout (seconds)")
    a("--checkpoint", metavar="FILE", help="resume after the last event of the previous run")
    a("--input-logs", action="store_true", help="read the logs even if stdin is a pipe")
    a("--escape", choices=("tty",), help="output escaping (only ausearch's default, tty)")
    a("-w", "--word", action="store_true", help="strings match whole")
    a("-r", "--raw", action="store_true", help="raw output (same as --format raw)")
    a("--format", choices=_SEARCH_FORMATS, help="output format")
    for extra in ("keys", "labels", "obj2", "time"):
        a(f"--extra-{extra}", action="store_true", help=f"csv: add {extra} columns")


def _eoe_timeout(text: str) -> int:
    if not text[:1].isdigit() or int(text.split(".")[0] or "0") == 0:
        raise argparse.ArgumentTypeError(
            f"End of Event Timeout must be a numeric value, was {text}"
        )
    return int(text.split(".")[0])


def input_paths(args: argparse.Namespace) -> list[str] | None:
    """The files to read: ``-if``, else stdin when it is a pipe (as ausearch
    decides, unless ``--input-logs``), else the rotated logs in /var/log/audit."""
    if args.input:
        return log_paths(args.input)
    if getattr(args, "input_logs", False):
        return log_paths(DEFAULT_LOG_DIR)
    try:
        if stat.S_ISFIFO(os.fstat(0).st_mode):
            return None
    except OSError:
        pass
    return log_paths(DEFAULT_LOG_DIR)


def time_range(args: argparse.Namespace) -> tuple[int | None, int | None]:
    # -ts checkpoint: the time stamp of the --checkpoint file decides.
    checkpoint_time = args.start == ["checkpoint"]
    start = parse_time(args.start) if args.start and not checkpoint_time else None
    end = parse_time(args.end, end=True) if args.end else None
    return start, end


def _output_format(args: argparse.Namespace) -> str:
    chosen = [f for f in (args.format, "raw" if args.raw else None) if f]
    chosen += ["interpret"] if args.interpret and args.format is None else []
    if len(set(chosen)) > 1:
        raise SystemExit("auditlink search: Multiple output formats, use only 1")
    return chosen[0] if chosen else "default"


def cmd_search(args: argparse.Namespace) -> int:
    start, end = time_range(args)
    flt = make_filter(
        key=args.key,
        message_types=args.message,
        uid=args.uid,
        euid=args.euid,
        loginuid=args.loginuid,
        any_uid=args.any_uid,
        gid=args.gid,
        egid=args.egid,
        any_gid=args.any_gid,
        exit=args.exit,
        arch=args.arch,
        subject=args.subject,
        object=args.object,
        context=args.context,
        vm_name=args.vm_name,
        uuid=args.uuid,
        exe=args.exe,
        comm=args.comm,
        pid=args.pid,
        ppid=args.ppid,
        syscall=args.syscall,
        success=None if args.success is None else args.success == "yes",
        filename=args.filename,
        hostname=args.hostname,
        terminal=args.terminal,
        session=args.session,
        event_id=args.event_id,
        node=args.node,
        start=start,
        end=end,
        exact=args.word,
    )
    fmt = _output_format(args)
    paths = input_paths(args)
    checkpoint = None
    if args.checkpoint:
        checkpoint = Checkpoint.load(args.checkpoint, time_only=args.start == ["checkpoint"])
        if checkpoint is None:
            return 10
        if paths is None:
            print("Warning - checkpointing stdin is not supported", end="", file=sys.stderr)
        elif args.input is None or os.path.isdir(args.input):
            paths = checkpoint.files(paths)
            if paths is None:
                return 10
    if fmt != "json":
        sys.stdout.flush()
        found, last, corrupted = _native.search_write(
            paths,
            flt,
            fmt,
            sys.stdout.fileno(),
            extra_keys=args.extra_keys,
            extra_labels=args.extra_labels,
            extra_obj2=args.extra_obj2,
            extra_time=args.extra_time,
            just_one=args.just_one,
            line_buffered=args.line_buffered,
            eoe_timeout=args.eoe_timeout,
            checkpoint=checkpoint is not None,
            resume=None if checkpoint is None else checkpoint.resume,
        )
    else:
        if checkpoint is not None or args.just_one:
            raise SystemExit("auditlink search: --format json takes no --checkpoint/--just-one")
        found, last, corrupted = _write_json(paths, flt), None, None
    if checkpoint is not None and paths is not None:
        if corrupted:
            checkpoint.report_corrupted(corrupted)
            return 12
        if not checkpoint.save(args.checkpoint, paths[-1] if paths else None, last):
            return 11
    if found == 0:
        if fmt != "raw":
            print("<no matches>", file=sys.stderr)
        return 1
    return 0


def _write_json(paths: Sequence[str] | None, flt: _native.SearchFilter) -> int:
    """The matches as JSON lines (docs/records.md)."""
    found = 0
    out = sys.stdout
    for event in _native.SearchIter(list(paths) if paths is not None else None, flt):
        found += 1
        out.write(event.to_json())
        out.write("\n")
    out.flush()
    return found
