"""Command line: ``python -m auditlink <command>`` (also installed as ``auditlink``).

Commands:
  status      print the kernel's audit status, like ``auditctl -s`` (``--json`` for JSON)
  parse       an auditd log (file or ``-``) to JSON lines, one event per line
  watch       become the audit daemon (or ``--multicast``) and print events as JSON lines
  rules       list the kernel's rules, like ``auditctl -l``
  load-rules  load an audit.rules file, like ``auditctl -R`` (``--dry-run`` to check only)
  daemon      run as the audit daemon, writing auditd's log (``-f``, ``-c DIR``, ``--rules``)
  search      search logs with ausearch's options and output (``-k``, ``-ui``, ``-i``, ...)
  report      aureport's reports (summary, ``-x``, ``-k``, ``--summary``, ...)
  top         live events/s by type, key, executable, user, syscall and result
"""

from __future__ import annotations

import argparse
import sys

# The commands' modules are imported when the parser is built, except for
# ``daemon``: it parses its own arguments so that, after a restart, it registers
# without waiting for every other command's imports.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from auditlink.rules import AuditFeatures
    from auditlink.status import AuditStatus


def _status_fields() -> tuple[str, ...]:
    from auditlink.status import STATUS_FIELDS

    # auditctl -s prints every field but the mask and the feature bitmap.
    return tuple(f for f in STATUS_FIELDS if f not in ("mask", "feature_bitmap"))


def format_status(status: AuditStatus, features: AuditFeatures | None = None) -> str:
    """``auditctl -s`` style text for ``status`` (and the loginuid lock line, as
    auditctl prints it, when ``features`` is given)."""
    lines = [f"{name} {int(getattr(status, name))}" for name in _status_fields()]
    if features is not None:
        lock = "locked" if features.loginuid_immutable_locked else "unlocked"
        lines.append(f"loginuid_immutable {int(features.loginuid_immutable)} {lock}")
    return "\n".join(lines)


def _cmd_status(args: argparse.Namespace) -> int:
    import json

    from auditlink.client import AuditClient

    with AuditClient() as client:
        status = client.get_status()
        features = client.get_features()
    if args.json:
        data: dict[str, object] = {name: int(getattr(status, name)) for name in _status_fields()}
        data["feature_bitmap"] = int(status.feature_bitmap)
        data["loginuid_immutable"] = features.loginuid_immutable
        data["loginuid_immutable_locked"] = features.loginuid_immutable_locked
        print(json.dumps(data))
    else:
        print(format_status(status, features))
    return 0


def build_parser(log_commands_only: bool = False) -> argparse.ArgumentParser:
    """The command line parser; ``log_commands_only``: just ``parse`` and ``watch``
    (``parse`` of a log skips the other commands' imports: client, rules, search)."""
    from auditlink import __version__
    from auditlink._cli_events import add_subcommands

    parser = argparse.ArgumentParser(
        prog="auditlink", description="Talk to the Linux kernel audit subsystem."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    if log_commands_only:
        add_subcommands(sub)
        return parser
    from auditlink._cli_daemon import add_daemon_command
    from auditlink._cli_search import add_search_commands
    from auditlink._rules_cli import add_rules_commands

    p = sub.add_parser("status", help="print the kernel audit status (like auditctl -s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_status)
    add_subcommands(sub)
    add_rules_commands(sub)
    add_daemon_command(sub)
    add_search_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        if words[:1] == ["daemon"]:
            from auditlink._cli_daemon import daemon_main

            return daemon_main(words[1:])
        args = build_parser(log_commands_only=words[:1] == ["parse"]).parse_args(words)
        return int(args.func(args))
    except PermissionError as e:
        print(f"auditlink: {e} (root or CAP_AUDIT_CONTROL needed)", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"auditlink: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
