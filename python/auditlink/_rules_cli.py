"""``auditlink rules`` and ``auditlink load-rules``: the command-line side of rules."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from auditlink._rules_client import dry_run_rules
from auditlink.client import AuditClient
from auditlink.rules import LoadResult, RuleLoadError


def _cmd_rules(args: argparse.Namespace) -> int:
    client = AuditClient()
    try:
        rules = client.get_rules()
    finally:
        client.close()
    if args.key is not None:
        rules = [r for r in rules if any(args.key in k for k in r.keys)]
    if not rules:
        print("No rules")
    for rule in rules:
        print(rule)
    return 0


def _report(result: LoadResult) -> None:
    for line in result.lines:
        for warning in line.warnings:
            print(f"{result.path}:{line.lineno}: {warning}", file=sys.stderr)
        if line.status == "failed":
            print(f"{result.path}:{line.lineno}: {line.message}", file=sys.stderr)
            print(f"    {line.text}", file=sys.stderr)
            if line.position is not None:
                print("    " + " " * line.position + "^", file=sys.stderr)


def _cmd_load_rules(args: argparse.Namespace) -> int:
    if args.dry_run:
        result = dry_run_rules(args.file)
        _report(result)
        kinds: dict[str, int] = {}
        for line in result.lines:
            for c in line.commands:
                kinds[c.kind] = kinds.get(c.kind, 0) + 1
        summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        print(f"{result.path}: {len(result.lines)} lines ok={result.ok} ({summary})")
        return 0 if result.ok else 1
    client = AuditClient()
    try:
        result = client.load_rules(args.file)
    except RuleLoadError as e:
        _report(e.result)
        return 1
    finally:
        client.close()
    _report(result)
    print(f"{result.path}: {result.rules_added} rules added, {result.rules_deleted} deleted")
    return 0


def add_rules_commands(sub: Any) -> None:
    """Register ``rules`` and ``load-rules`` on the CLI's subparsers."""
    p = sub.add_parser("rules", help="list the kernel's audit rules (like auditctl -l)")
    p.add_argument("-k", "--key", help="only rules whose key contains KEY")
    p.set_defaults(func=_cmd_rules)
    p = sub.add_parser("load-rules", help="load an audit.rules file (like auditctl -R)")
    p.add_argument("file", help="the rules file")
    p.add_argument("--dry-run", action="store_true", help="only parse and check; change nothing")
    p.set_defaults(func=_cmd_load_rules)
