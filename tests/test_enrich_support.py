"""Shared pieces of the enrichment tests: audit rules for a test-only group, event
collection through ``client.events(enrich=...)`` with a watchdog, event ids."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from typing import Any

from auditlink import AuditClient, Enricher, Reassembler

from .helpers import add_syscall_rule

# A group no real user has: rules match only the test's processes (setpriv --regid).
GID = 4251
KEY = "auditlink-enrich"


def add_rules(syscalls: str, gid: int = GID) -> None:
    add_syscall_rule(syscalls, f"gid={gid}", KEY)


def as_group(argv: list[str], gid: int = GID) -> list[str]:
    return ["setpriv", f"--regid={gid}", "--clear-groups", *argv]


class Collector:
    """Enriched events of ``client.events(enrich=...)``, taken on a thread from the
    start (as live: the enricher reads /proc while the processes still run), until
    the user message ``marker`` (sent by :meth:`finish` with auditctl -m)."""

    def __init__(self, client: AuditClient, enricher: Enricher, marker: str) -> None:
        self.client, self.marker = client, marker
        self.events: list[Any] = []
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(enricher,), daemon=True)
        self.thread.start()

    def _run(self, enricher: Enricher) -> None:
        try:
            for d in self.client.events(Reassembler(timeout=1.0), enrich=enricher):
                self.events.append(d)
                if self.marker in json.dumps(d):
                    break
        except BaseException as e:  # reported by finish()
            self.error = e
        self.done.set()

    def finish(self, limit: float = 20.0) -> list[Any]:
        time.sleep(0.3)  # the last records of exiting processes
        subprocess.run(["auditctl", "-m", self.marker], check=True)
        if not self.done.wait(limit):
            self.client.close()
            raise AssertionError(f"marker {self.marker!r} not seen ({len(self.events)} events)")
        if self.error is not None:
            raise self.error
        return self.events


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
