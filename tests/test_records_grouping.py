"""How records become events when logs are not one clean stream: nodes whose clocks
differ, logs read one after the other, LOGIN inside a syscall — compared with
libauparse (python3-audit, run under /usr/bin/python3 in a subprocess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from auditlink import read_events

DATA = Path(__file__).parent / "data"
SYSTEM_PYTHON = "/usr/bin/python3"

# One line per event: [[node, sec, milli, serial, type name], ...] for each record.
AUPARSE_GROUPS = r"""
import auparse, json, sys
au = auparse.AuParser(auparse.AUSOURCE_FILE, sys.argv[1])
while au.parse_next_event():
    recs = []
    while True:
        ts = au.get_timestamp()
        recs.append([ts.host, ts.sec, ts.milli, ts.serial, au.get_type_name()])
        if not au.next_record():
            break
    print(json.dumps(recs))
"""

Group = tuple[tuple[object, ...], ...]


def _auparse_available() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import auparse"], capture_output=True)
    return probe.returncode == 0


needs_auparse = pytest.mark.skipif(not _auparse_available(), reason="python3-audit not installed")


def auparse_groups(path: Path) -> list[Group]:
    out = subprocess.run(
        [SYSTEM_PYTHON, "-c", AUPARSE_GROUPS, str(path)], check=True, capture_output=True, text=True
    ).stdout
    groups = []
    for line in out.splitlines():
        recs = tuple(tuple(r) for r in json.loads(line) if r[4] != "EOE")
        if recs and recs[0][3] != 0:
            groups.append(recs)
    return sorted(groups, key=repr)


def our_groups(path: Path, split_login: bool) -> list[Group]:
    groups = []
    for ev in read_events(path, split_login=split_login):
        recs = tuple(
            (
                r.node,
                r.timestamp.seconds,
                r.timestamp.milliseconds,
                r.serial,
                getattr(r.type, "name", str(r.type)),
            )
            for r in ev.records
        )
        if ev.serial != 0:
            groups.append(recs)
    return sorted(groups, key=repr)


def _event_blocks(log: bytes) -> list[list[bytes]]:
    """The corpus's lines in runs that share a time stamp and serial."""
    blocks: list[list[bytes]] = []
    last = None
    for line in log.splitlines(keepends=True):
        m = re.search(rb"audit\((\d+\.\d+:\d+)\)", line)
        key = m.group(1) if m else None
        if not blocks or key != last:
            blocks.append([])
        blocks[-1].append(line)
        last = key
    return blocks


def _shift(line: bytes, seconds: int) -> bytes:
    return re.sub(rb"audit\((\d+)\.", lambda m: b"audit(%d." % (int(m.group(1)) + seconds), line)


def _node(line: bytes, name: bytes) -> bytes:
    return b"node=" + name + b" " + re.sub(rb"^node=\S+ ", b"", line)


def two_node_log(tmp_path: Path) -> Path:
    """The kernel corpus as two nodes whose clocks are 10 s apart, their events
    interleaved as an aggregating auditd writes them."""
    blocks = _event_blocks((DATA / "corpus_raw.log").read_bytes())
    out = []
    for block in blocks:
        out += [_node(line, b"alpha") for line in block]
        out += [_node(_shift(line, 10), b"beta") for line in block]
    p = tmp_path / "two_nodes.log"
    p.write_bytes(b"".join(out))
    return p


def concatenated_logs(tmp_path: Path) -> Path:
    """A newer log followed by an older one (as `cat audit.log audit.log.1` gives)."""
    raw = (DATA / "corpus_raw.log").read_bytes()
    older = b"".join(_shift(line, -3600) for line in raw.splitlines(keepends=True))
    p = tmp_path / "concatenated.log"
    p.write_bytes(raw + older)
    return p


LOGIN_LOG = b"".join(
    line + b"\n"
    for line in [
        b"type=LOGIN msg=audit(1700000000.100:42): pid=10 uid=0 subj=unconfined"
        b" old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=3 res=1",
        b"type=SYSCALL msg=audit(1700000000.100:42): arch=c000003e syscall=1 success=yes"
        b" exit=4 a0=8 a1=7ffd a2=4 a3=0 items=0 ppid=1 pid=10 auid=1000 uid=0 gid=0"
        b' euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm="sshd"'
        b' exe="/usr/sbin/sshd" key=(null)',
        b"type=PROCTITLE msg=audit(1700000000.100:42): proctitle=737368643A20726F6F74",
        b"type=USER_START msg=audit(1700000000.200:43): pid=10 uid=0 auid=1000 ses=3"
        b' msg=\'op=PAM:session_open acct="root" exe="/usr/sbin/sshd" hostname=?'
        b" addr=? terminal=ssh res=success'",
    ]
)


@needs_auparse
@pytest.mark.parametrize("make", [two_node_log, concatenated_logs])
def test_grouping_equals_auparse(make: object, tmp_path: Path) -> None:
    assert callable(make)
    path = make(tmp_path)
    theirs = auparse_groups(path)
    ours = our_groups(path, split_login=True)
    assert len(ours) > 300
    assert sum(len(g) > 1 for g in ours) > 50  # multi-record events really were grouped
    assert ours == theirs


def test_nodes_and_logs_out_of_time_order_keep_whole_events(tmp_path: Path) -> None:
    """Without auparse at hand: no event of the corpus falls apart in either log."""
    single = our_groups(DATA / "corpus_raw.log", split_login=True)
    sizes = sorted(len(g) for g in single)
    for make in (two_node_log, concatenated_logs):
        doubled = our_groups(make(tmp_path), split_login=True)
        assert sorted(len(g) for g in doubled) == sorted(sizes * 2)


@needs_auparse
def test_login_joins_its_syscall_and_split_login_is_auparse_3_0_9(tmp_path: Path) -> None:
    p = tmp_path / "login.log"
    p.write_bytes(LOGIN_LOG)
    joined = [[getattr(r.type, "name", "") for r in ev.records] for ev in read_events(p)]
    assert joined == [["LOGIN", "SYSCALL", "PROCTITLE"], ["USER_START"]]
    assert our_groups(p, split_login=True) == auparse_groups(p)
    assert len(our_groups(p, split_login=True)) == 3


def test_cli_parse_split_login(tmp_path: Path) -> None:
    import sys

    p = tmp_path / "login.log"
    p.write_bytes(LOGIN_LOG)

    def run(*extra: str) -> list[dict[str, object]]:
        out = subprocess.run(
            [sys.executable, "-m", "auditlink", "parse", *extra, str(p)],
            check=True,
            capture_output=True,
        ).stdout
        return [json.loads(line) for line in out.splitlines()]

    assert len(run()) == 2
    assert len(run("--split-login")) == 3
