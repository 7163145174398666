"""Golden tests: auditlink against libauparse (python3-audit), field by field.

tests/data/*.log are audit logs (corpus_*.log from the real kernel via
tests/data/make_corpus.py; edge_cases.log written by hand); *.auparse.jsonl is
what auparse made of them (tests/data/make_golden.py). Every record must have
the same time stamp, serial, node, type, field names, raw values and
interpretations — except the differences listed in KNOWN_DIFFERENCES (also in
docs/records.md), each with its reason.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from auditlink import AuditRecord, read_events

DATA = Path(__file__).parent / "data"
CORPORA = ["corpus_raw", "corpus_enriched", "edge_cases"]
SYSTEM_PYTHON = "/usr/bin/python3"

Key = tuple[int, int, int, Any]

# (field name, raw value) -> why auparse's interpretation differs from ours.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("sig", "30"): "auparse 3.0.9's signal table misspells SIGPWR as 'IGPWR'",
    ("proctitle", "006C73"): "auparse reads leftover hex digits past the decoded bytes",
    ("saddr", "08000500"): "auparse reads past a too short sockaddr_atmpvc (stale buffer bytes)",
    (
        "proctitle",
        '"quoted',
    ): "auparse cuts double-quoted values at spaces; we keep the whole quote",
}


def load_auparse(path: Path) -> dict[Key, list[dict[str, Any]]]:
    out: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "EOE":
                continue  # we do not keep EOE records: AuditEvent.complete says it was seen
            out[(r["sec"], r["milli"], r["serial"], r["node"])].append(r)
    return out


def load_ours(name: str) -> dict[Key, list[AuditRecord]]:
    out: dict[Key, list[AuditRecord]] = defaultdict(list)
    for ev in read_events(DATA / f"{name}.log"):
        for rec in ev.records:
            ts = rec.timestamp
            out[(ts.seconds, ts.milliseconds, rec.serial, rec.node)].append(rec)
    return out


def type_name(rec: AuditRecord) -> str:
    t = rec.type
    if int(t) == 0 and rec.error:
        return "UNKNOWN[-1]"  # a type name neither knows: auparse says -1, we say 0 + error
    return getattr(t, "name", None) or f"UNKNOWN[{int(t)}]"


def unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        return raw[1:-1]
    return raw


# Fields whose interpretation is a user or group name: it depends on this
# machine's passwd/group files, which may differ from the one the goldens saw.
ID_FIELDS = {
    line
    for line in (DATA / "id_fields.txt").read_text().splitlines()
    if line and not line.startswith("#")
}


def id_name_here(name: str, raw: str) -> str | None:
    """What this machine calls the id (None if it is not a plain id)."""
    if name not in ID_FIELDS or not raw.isdigit():
        return None
    n = int(raw) & 0xFFFFFFFF
    if n == 0xFFFFFFFF:
        return "unset"
    if n == 0:
        return "root"
    try:
        if name.endswith("gid") or name == "new_gid":
            return grp.getgrgid(n).gr_name
        return pwd.getpwuid(n).pw_name
    except KeyError:
        return f"unknown({n if n < 2**31 else n - 2**32})"


def compare(name: str, golden: Path | None = None) -> list[str]:
    theirs = load_auparse(golden or DATA / f"{name}.auparse.jsonl")
    ours = load_ours(name)
    problems: list[str] = []
    for key, their_recs in theirs.items():
        if key[2] == 0:
            # auparse turns lines with a broken header into serial-0 events; we keep
            # them as one-record events with `error` set (checked in test_records.py).
            continue
        our_recs = ours.get(key, [])
        if [r["type"] for r in their_recs] != [type_name(r) for r in our_recs]:
            problems.append(
                f"{key}: types {[r['type'] for r in their_recs]} vs "
                f"{[type_name(r) for r in our_recs]}"
            )
            continue
        for theirs_rec, our_rec in zip(their_recs, our_recs):
            tf = [f for f in theirs_rec["fields"] if f[0] not in ("type", "node")]
            of = our_rec.interpreted_fields()
            # auparse splits `key` into one field per key; we keep the field whole.
            their_keys = [f[2] for f in tf if f[0] == "key"]
            our_keys = [f for f in of if f[0] == "key"]
            tf = [f for f in tf if f[0] != "key"]
            of = [f for f in of if f[0] != "key"]
            if our_keys and our_keys[0][2].split("\x01") != their_keys:
                problems.append(f"{key}: keys {their_keys} vs {our_keys}")
            if [f[0] for f in tf] != [f[0] for f in of]:
                problems.append(
                    f"{key} {theirs_rec['type']}: field names "
                    f"{[f[0] for f in tf]} vs {[f[0] for f in of]}"
                )
                continue
            for (n, raw, interp), (_, our_raw, our_interp) in zip(tf, of):
                if (n, raw) in KNOWN_DIFFERENCES:
                    continue
                if unquote(raw) != our_raw:
                    problems.append(f"{key} {n}: raw {raw!r} vs {our_raw!r}")
                if interp != our_interp and our_interp != id_name_here(n, raw):
                    problems.append(f"{key} {n}={raw}: {interp!r} vs {our_interp!r}")
    for key in ours:
        if key not in theirs and key[2] != 0:
            problems.append(f"{key}: only we have it")
    return problems


@pytest.mark.parametrize("name", CORPORA)
def test_same_records_fields_and_interpretations_as_auparse(name: str) -> None:
    problems = compare(name)
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("name", CORPORA)
def test_corpus_is_not_trivial(name: str) -> None:
    records = sum(len(v) for v in load_ours(name).values())
    assert records > 200


def _auparse_available() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    r = subprocess.run([SYSTEM_PYTHON, "-c", "import auparse"], capture_output=True)
    return r.returncode == 0


@pytest.mark.skipif(not _auparse_available(), reason="python3-audit (auparse) not installed")
def test_goldens_are_what_auparse_says_today(tmp_path: Path) -> None:
    """auparse run here, now, on the same logs, agrees with us too (this also covers
    user and group names from this machine's passwd and group files)."""
    for name in CORPORA:
        out = tmp_path / f"{name}.jsonl"
        subprocess.run(
            [SYSTEM_PYTHON, str(DATA / "make_golden.py"), str(DATA / f"{name}.log"), str(out)],
            check=True,
        )
        problems = compare(name, out)
        assert not problems, "\n".join(problems[:40])
