"""The ``daemon`` subcommand of ``python -m auditlink``: run as the audit daemon.

Options as auditd(8)'s: ``-f``/``-n`` stay in the foreground (``-f`` also prints
the daemon's messages on stderr), ``-c DIR`` names the directory of
``auditd.conf``, ``auditlink.toml`` and ``plugins.d/`` (default ``/etc/audit``);
plus ``--rules FILE|DIR`` and ``--take-over``.
"""

from __future__ import annotations

import argparse
import os
import sys

# Only what registering needs: after a restart every module imported before the
# registration is time in which the kernel has no daemon to hand records to.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["add_daemon_command", "daemon_main"]

_HELP = "run as the audit daemon, writing auditd's log (like auditd)"
_DESCRIPTION = (
    "Register as the kernel's audit daemon and write the log as auditd "
    "does, configured by auditd.conf (and auditlink.toml beside it)."
)


def add_daemon_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``daemon`` to the ``python -m auditlink`` parser."""
    _add_arguments(subparsers.add_parser("daemon", help=_HELP, description=_DESCRIPTION))


def daemon_main(argv: list[str]) -> int:
    """``auditlink daemon ARGS``, parsed without building the other commands'
    parsers (or importing their modules)."""
    parser = argparse.ArgumentParser(prog="auditlink daemon", description=_DESCRIPTION)
    _add_arguments(parser)
    return cmd_daemon(parser.parse_args(argv))


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", action="store_true", help="foreground, messages on stderr")
    p.add_argument("-n", action="store_true", help="foreground (no fork)")
    p.add_argument("-c", metavar="DIR", default="/etc/audit", help="config directory")
    p.add_argument("--rules", metavar="FILE|DIR", help="rules file or rules.d directory")
    p.add_argument(
        "--take-over",
        action="store_true",
        help="register even if another live process is the audit daemon",
    )
    p.set_defaults(func=cmd_daemon)


def cmd_daemon(args: argparse.Namespace) -> int:
    from auditlink.daemon import Daemon

    conf = os.path.join(args.c, "auditd.conf")
    if not os.path.exists(conf):
        print(f"auditlink daemon: {conf} does not exist", file=sys.stderr)
        return 1
    if args.f:
        from auditlink import _native

        _native.daemon_messages_to_stderr(True)
    daemon = Daemon(conf, rules=args.rules, take_over=args.take_over)
    if not (args.f or args.n):
        # auditd forks and the parent exits once the child is running.
        r, w = os.pipe()
        pid = os.fork()
        if pid:
            os.close(w)
            ok = os.read(r, 1) == b"1"
            return 0 if ok else 1
        os.close(r)
        os.setsid()
        try:
            daemon.start()
        except Exception as e:
            print(f"auditlink daemon: {e}", file=sys.stderr)
            os.write(w, b"0")
            os._exit(1)
        os.write(w, b"1")
        os.close(w)
    daemon.run()
    if args.f:
        # What was counted over the run, as the last messages of -f.
        counters = " ".join(f"{k}={v}" for k, v in sorted(daemon.stats.items()))
        print(f"auditlink daemon: stats: {counters}", file=sys.stderr)
        for s in daemon.sink_stats:
            print(
                f"auditlink daemon: sink {s.name}: acked={s.acked} spooled={s.spooled} "
                f"dropped={s.dropped} last_error={s.last_error!r}",
                file=sys.stderr,
            )
    return 0
