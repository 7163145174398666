"""ECS documents: for a representative event of each category in the
real-kernel corpus, the document Auditbeat's auditd module categorization
(go-libaudit aucoalesce normalizations.yaml) gives, stated field by field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import auditlink

CORPUS = Path(__file__).parent / "data" / "normalize" / "corpus.log"


@pytest.fixture(scope="module")
def docs() -> dict[tuple[str, str | None], dict[str, Any]]:
    """The first event of each (record type, syscall), as an ECS document."""
    out: dict[tuple[str, str | None], dict[str, Any]] = {}
    for ev in auditlink.read_events(CORPUS):
        d = ev.normalize().to_ecs()
        out.setdefault((d["auditd"]["message_type"], d["auditd"]["data"].get("syscall")), d)
    return out


def sub(doc: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """doc restricted to expected's keys (recursively)."""
    return {
        k: sub(doc.get(k, {}), v) if isinstance(v, dict) else doc.get(k)
        for k, v in expected.items()
    }


CASES: list[tuple[tuple[str, str | None], dict[str, Any]]] = [
    # file
    (
        ("syscall", "openat"),
        {
            "event": {
                "category": ["file"],
                "type": ["info"],
                "action": "opened-file",
                "outcome": "success",
                "module": "auditd",
            },
            "file": {"mode": "0100644", "owner": "root", "uid": "0"},
            "user": {"id": "0", "name": "root", "audit": {"id": "4242"}},
            "tags": ["file"],
        },
    ),
    (
        ("syscall", "unlink"),
        {"event": {"category": ["file"], "type": ["deletion"], "action": "deleted"}},
    ),
    # process
    (
        ("syscall", "execve"),
        {
            "event": {"category": ["process"], "type": ["start"], "action": "executed"},
            "process": {"working_directory": "/work/wt/normalize", "name": "python"},
            "tags": ["exec"],
        },
    ),
    (
        ("syscall", "kill"),
        {"event": {"category": ["process"], "type": ["end"], "action": "killed-pid"}},
    ),
    (
        ("syscall", "setresuid"),
        {"event": {"category": ["process"], "type": ["change"], "action": "changed-identity-of"}},
    ),
    # network
    (
        ("syscall", "connect"),
        {
            "event": {
                "category": ["network"],
                "type": ["connection", "start"],
                "action": "connected-to",
            },
            "destination": {"ip": "127.0.0.1"},
            "network": {"direction": "egress"},
        },
    ),
    (
        ("syscall", "accept4"),
        {
            "event": {"category": ["network"], "type": ["connection", "start"]},
            "source": {"ip": "127.0.0.1"},
            "network": {"direction": "ingress"},
        },
    ),
    # authentication, session
    (
        ("user_auth", None),
        {
            "event": {
                "category": ["authentication"],
                "type": ["info"],
                "action": "authenticated",
            }
        },
    ),
    (
        ("user_start", None),
        {"event": {"category": ["session"], "type": ["start"], "action": "started-session"}},
    ),
    (
        ("user_login", None),
        {"event": {"category": ["authentication"], "type": ["start"], "action": "logged-in"}},
    ),
    # iam
    (
        ("add_user", None),
        {
            "event": {
                "category": ["iam"],
                "type": ["user", "creation"],
                "action": "added-user-account",
            },
            "user": {"target": {"id": "4243"}, "changes": {"id": "4243"}},
        },
    ),
    (
        ("add_group", None),
        {
            "event": {"category": ["iam"], "type": ["group", "creation"]},
            "group": {"id": "4244"},
        },
    ),
    # configuration (record rule plus the syscall's)
    (
        ("config_change", "sendto"),
        {
            "event": {
                "category": ["process", "configuration", "network"],
                "type": ["change", "connection", "info"],
                "action": "changed-audit-configuration",
            },
            "auditd": {"summary": {"action": "add_rule", "object": {"type": "audit-config"}}},
        },
    ),
    # anomaly
    (
        ("anom_abend", None),
        {
            "event": {
                "category": ["process", "intrusion_detection"],
                "type": ["end", "info"],
                "action": "crashed-program",
            },
            "auditd": {"summary": {"how": "SIGSEGV"}},
        },
    ),
]


@pytest.mark.parametrize(("key", "expected"), CASES, ids=[f"{k[0]}-{k[1]}" for k, _ in CASES])
def test_representative_documents(
    docs: dict[tuple[str, str | None], dict[str, Any]],
    key: tuple[str, str | None],
    expected: dict[str, Any],
) -> None:
    assert key in docs
    assert sub(docs[key], expected) == expected


def test_failure_outcome_and_timestamp(docs: dict[tuple[str, str | None], dict[str, Any]]) -> None:
    d = docs[("syscall", "execve")]
    assert d["event"]["outcome"] in ("success", "failure")
    assert d["@timestamp"].endswith("Z") and d["@timestamp"][10] == "T"
    assert d["auditd"]["result"] in ("success", "fail")
    assert isinstance(d["process"]["pid"], int)
    assert isinstance(d["process"]["parent"]["pid"], int)


def test_file_path_is_the_object(docs: dict[tuple[str, str | None], dict[str, Any]]) -> None:
    d = docs[("syscall", "openat")]
    assert d["file"]["path"].endswith("/work/a.txt")
    assert d["auditd"]["summary"]["object"]["primary"] == d["file"]["path"]


def test_parse_format_ecs_is_one_document_per_event() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "auditlink", "parse", "--format", "ecs", str(CORPUS)],
        capture_output=True,
        check=True,
    ).stdout.splitlines()
    events = list(auditlink.read_events(CORPUS))
    assert len(out) == len(events)
    first = json.loads(out[0])
    assert first == events[0].normalize().to_ecs()
