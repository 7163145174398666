"""Shared pieces of the enrichment tests: audit rules for a test-only group, event
collection through ``client.events(enrich=...)`` with a watchdog, event ids."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import Any

from auditlink import AuditClient, Enricher, Reassembler

# A group no real user has: rules match only the test's processes (setpriv --regid).
GID = 4251
KEY = "auditlink-enrich"


def add_rules(syscalls: str, gid: int = GID) -> None:
    subprocess.run(
        ["auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", syscalls]
        + ["-F", f"gid={gid}", "-k", KEY],
        check=True,
        capture_output=True,
    )


def as_group(argv: list[str], gid: int = GID) -> list[str]:
    return ["setpriv", f"--regid={gid}", "--clear-groups", *argv]


def collect(client: AuditClient, enricher: Enricher, marker: str, limit: float = 20.0) -> list[Any]:
    """Enriched events until the user message ``marker`` (sent with auditctl -m)."""
    subprocess.run(["auditctl", "-m", marker], check=True)
    timer = threading.Timer(limit, client.close)
    timer.start()
    out: list[Any] = []
    try:
        for d in client.events(Reassembler(timeout=1.0), enrich=enricher):
            out.append(d)
            if marker in json.dumps(d):
                return out
    finally:
        timer.cancel()
    raise AssertionError(f"marker {marker!r} not seen within {limit} s ({len(out)} events)")


def ours(events: list[Any]) -> list[Any]:
    return [
        d
        for d in events
        if "SYSCALL" in d and KEY in (d["SYSCALL"].get("key") or [])  # key is a list
    ]


def event_id(d: Any) -> str:
    return f"{d['timestamp']}:{d['serial']}"


def syscall(d: Any) -> str:
    return str(d["SYSCALL"]["SYSCALL"])


def wait_settled() -> None:
    """Let the last records of exiting processes reach the kernel queue."""
    time.sleep(0.3)
