"""Command line: ``python -m auditlink <command>`` (also installed as ``auditlink``).

Commands:
  status    print the kernel's audit status, like ``auditctl -s`` (``--json`` for JSON)
  rules       list the kernel's rules, like ``auditctl -l``
  load-rules  load an audit.rules file, like ``auditctl -R`` (``--dry-run`` to check it)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from auditlink._cli_events import add_subcommands
from auditlink._rules_cli import add_rules_commands
from auditlink.client import AuditClient
from auditlink.status import AuditStatus

_STATUS_FIELDS = (
    "enabled",
    "failure",
    "pid",
    "rate_limit",
    "backlog_limit",
    "lost",
    "backlog",
    "backlog_wait_time",
    "backlog_wait_time_actual",
)


def format_status(status: AuditStatus) -> str:
    """``auditctl -s`` style text for ``status``."""
    return "\n".join(f"{name} {int(getattr(status, name))}" for name in _STATUS_FIELDS)


def _cmd_status(args: argparse.Namespace) -> int:
    with AuditClient() as client:
        status = client.get_status()
    if args.json:
        data = {name: int(getattr(status, name)) for name in _STATUS_FIELDS}
        data["feature_bitmap"] = int(status.feature_bitmap)
        print(json.dumps(data))
    else:
        print(format_status(status))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditlink", description="Talk to the Linux kernel audit subsystem."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    p = sub.add_parser("status", help="print the kernel audit status (like auditctl -s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_status)
    add_subcommands(sub)
    add_rules_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
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
