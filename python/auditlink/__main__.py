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
import json
import sys
from collections.abc import Sequence

from auditlink import __version__
from auditlink._cli_daemon import add_daemon_command
from auditlink._cli_events import add_subcommands
from auditlink._cli_search import add_search_commands
from auditlink._rules_cli import add_rules_commands
from auditlink.client import AuditClient
from auditlink.rules import AuditFeatures
from auditlink.status import STATUS_FIELDS, AuditStatus

# auditctl -s prints every field but the mask and the feature bitmap.
_STATUS_FIELDS = tuple(f for f in STATUS_FIELDS if f not in ("mask", "feature_bitmap"))


def format_status(status: AuditStatus, features: AuditFeatures | None = None) -> str:
    """``auditctl -s`` style text for ``status`` (and the loginuid lock line, as
    auditctl prints it, when ``features`` is given)."""
    lines = [f"{name} {int(getattr(status, name))}" for name in _STATUS_FIELDS]
    if features is not None:
        lock = "locked" if features.loginuid_immutable_locked else "unlocked"
        lines.append(f"loginuid_immutable {int(features.loginuid_immutable)} {lock}")
    return "\n".join(lines)


def _cmd_status(args: argparse.Namespace) -> int:
    with AuditClient() as client:
        status = client.get_status()
        features = client.get_features()
    if args.json:
        data: dict[str, object] = {name: int(getattr(status, name)) for name in _STATUS_FIELDS}
        data["feature_bitmap"] = int(status.feature_bitmap)
        data["loginuid_immutable"] = features.loginuid_immutable
        data["loginuid_immutable_locked"] = features.loginuid_immutable_locked
        print(json.dumps(data))
    else:
        print(format_status(status, features))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditlink", description="Talk to the Linux kernel audit subsystem."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    p = sub.add_parser("status", help="print the kernel audit status (like auditctl -s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_status)
    add_subcommands(sub)
    add_rules_commands(sub)
    add_daemon_command(sub)
    add_search_commands(sub)
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
