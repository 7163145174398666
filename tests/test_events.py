"""AuditEvent JSON shape, read_events (files, streams, follow + rotation), the CLI,
and AuditClient.events() against the fake kernel."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlink import AuditEvent, MessageType, Reassembler, read_events
from auditlink.testing import FakeKernel

DATA = Path(__file__).parent / "data"

EVENT = b"".join(
    line + b"\n"
    for line in [
        (
            b"type=SYSCALL msg=audit(1700000000.500:77): arch=c000003e syscall=59 "
            b"success=yes exit=0 a0=55 a1=56 a2=57 a3=0 items=2 ppid=1 pid=2 "
            b"auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 "
            b'tty=pts0 ses=3 comm="ls" exe="/usr/bin/ls" key=(null)'
        ),
        (
            b'type=EXECVE msg=audit(1700000000.500:77): argc=3 a0="ls" a1=2D6C61 '
            b"a2_len=6 a2[0]=612062 a2[1]=FF0A00"
        ),
        (b'type=CWD msg=audit(1700000000.500:77): cwd="/root"'),
        (
            b'type=PATH msg=audit(1700000000.500:77): item=0 name="/usr/bin/ls" '
            b"inode=5 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 "
            b"nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0"
        ),
        (
            b"type=PATH msg=audit(1700000000.500:77): item=1 "
            b'name="/lib64/ld-linux-x86-64.so.2" inode=6 dev=fd:00 mode=0100755 '
            b"ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 "
            b"cap_fver=0"
        ),
        (b"type=PROCTITLE msg=audit(1700000000.500:77): proctitle=6C73002D6C6100612062"),
        (
            b"type=USER_END msg=audit(1700000001.000:78): pid=1 uid=0 auid=1000 "
            b'ses=3 msg=\'op=PAM:session_close acct="root" exe="/usr/bin/sudo" '
            b"hostname=? addr=? terminal=/dev/pts/0 res=success'"
        ),
    ]
)


def events_of(data: bytes) -> list[AuditEvent]:
    return list(read_events(io.BytesIO(data)))


def test_event_shape() -> None:
    ev, user = events_of(EVENT)
    assert ev.complete and ev.serial == 77 and str(ev.timestamp) == "1700000000.500"
    assert [r.type for r in ev.records] == [
        MessageType.SYSCALL,
        MessageType.EXECVE,
        MessageType.CWD,
        MessageType.PATH,
        MessageType.PATH,
        MessageType.PROCTITLE,
    ]
    d = ev.to_dict()
    assert json.loads(ev.to_json()) == d
    assert d["timestamp"] == "1700000000.500" and d["serial"] == 77 and d["complete"] is True
    assert "node" not in d
    sc = d["SYSCALL"]
    assert sc["syscall"] == 59 and sc["SYSCALL"] == "execve" and sc["ARCH"] == "x86_64"
    assert sc["auid"] == 1000 and sc["exe"] == "/usr/bin/ls" and sc["key"] is None
    assert "EXIT" not in sc  # a non-negative exit says nothing more
    assert d["EXECVE"] == {"argc": 3, "argv": ["ls", "-la", "a b\udcff\n\x00"]}
    assert d["CWD"] == {"cwd": "/root"}
    assert [p["name"] for p in d["PATH"]] == ["/usr/bin/ls", "/lib64/ld-linux-x86-64.so.2"]
    assert d["PATH"][0]["MODE"] == "file,755" and d["PATH"][0]["mode"] == "0100755"
    assert d["PROCTITLE"] == {"proctitle": ["ls", "-la", "a b"]}
    u = user.to_dict()["USER_END"]
    assert u["pid"] == 1 and u["msg"]["op"] == "PAM:session_close"
    assert u["msg"]["acct"] == "root" and u["msg"]["res"] == "success"


def test_json_is_lossless_for_invalid_utf8() -> None:
    (ev, _) = events_of(EVENT)
    arg = json.loads(ev.to_json())["EXECVE"]["argv"][2]
    assert arg.encode("utf-8", "surrogateescape") == b"a b\xff\n\x00"


def test_read_events_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "audit.log"
    p.write_bytes(EVENT)
    for src in (p, str(p)):
        assert [e.serial for e in read_events(src)] == [77, 78]
    assert [e.serial for e in read_events(io.BytesIO(EVENT), chunk_size=7)] == [77, 78]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EVENT)))
    assert [e.serial for e in read_events("-")] == [77, 78]
    with pytest.raises(FileNotFoundError):
        list(read_events(tmp_path / "missing"))
    with pytest.raises(ValueError):
        list(read_events(p, chunk_size=0))


def test_file_read_on_a_second_thread_gives_the_same_events(tmp_path: Path) -> None:
    # A path (not follow) is read and parsed by LogReader on a second thread;
    # a file object goes through LogParser here: same events, same order.
    data = (DATA / "edge_cases.log").read_bytes() + (DATA / "corpus_enriched.log").read_bytes()
    p = tmp_path / "audit.log"
    p.write_bytes(data)
    threaded = list(read_events(p, chunk_size=4096))
    inline = list(read_events(io.BytesIO(data), chunk_size=4096))
    assert threaded == inline and len(threaded) > 200
    assert [e.to_json() for e in threaded] == [e.to_json() for e in inline]


def test_log_reader_stops_early_and_reports_errors(tmp_path: Path) -> None:
    from auditlink import _native

    p = tmp_path / "audit.log"
    p.write_bytes(EVENT * 2000)
    gen = cast("Generator[AuditEvent, None, None]", read_events(p, chunk_size=1024))
    assert next(gen).serial == 77
    gen.close()  # the reader thread ends on its own; nothing hangs
    with open(p, "rb") as f:
        reader = _native.LogReader(f.fileno(), chunk_size=512)
    chunks = []
    while (lines := reader.next_json()) is not None:
        chunks.append(lines)
    assert b"".join(chunks).count(b"\n") == 2 * 2000
    with pytest.raises(OSError):
        _native.LogReader(987654)  # not an open fd
    with pytest.raises(ValueError):
        _native.LogReader(-1)
    with open(p, "rb") as f, pytest.raises(ValueError):
        _native.LogReader(f.fileno(), chunk_size=0)


def test_garbage_never_raises() -> None:
    data = EVENT[:300] + b"\n\x00\xff garbage\n" + os.urandom(2000) + b"\n" + EVENT
    evs = events_of(data)
    assert any(r.error for e in evs for r in e.records)
    assert {77, 78} <= {e.serial for e in evs}


def test_follow_across_rotation(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    lines = EVENT.splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:3]))
    got: list[int] = []
    done = threading.Event()

    def reader() -> None:
        gen = cast(
            "Generator[AuditEvent, None, None]",
            read_events(log, follow=True, poll_interval=0.02, timeout=60),
        )
        for e in gen:
            got.append(e.serial)
            if len(got) == 3:
                break
        gen.close()
        done.set()

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.2)
    with open(log, "ab") as f:
        f.write(b"".join(lines[3:6]))  # completes serial 77 (PROCTITLE)
    time.sleep(0.2)
    os.rename(log, tmp_path / "audit.log.1")  # auditd's rotation
    with open(tmp_path / "audit.log.1", "ab") as f:
        f.write(lines[6])  # the old file's last words still count
    log.write_bytes(EVENT.replace(b":77)", b":90)").replace(b":78)", b":91)"))
    assert done.wait(10), got
    t.join()
    assert got == [77, 78, 90]


def test_follow_emits_an_unfinished_event_while_the_log_is_quiet(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_bytes(b"type=SYSCALL msg=audit(1000000000.001:5): arch=c000003e syscall=59\n")
    gen = cast(
        "Generator[AuditEvent, None, None]",
        read_events(log, follow=True, poll_interval=0.02, timeout=0.3),
    )
    start = time.monotonic()
    ev = next(gen)
    gen.close()
    assert (ev.serial, ev.complete) == (5, False)
    assert 0.25 <= time.monotonic() - start < 5


def test_cli_parse_json_lines(tmp_path: Path) -> None:
    p = tmp_path / "audit.log"
    p.write_bytes(EVENT)
    run = [sys.executable, "-m", "auditlink._cli_events", "parse"]
    out = subprocess.run([*run, str(p)], check=True, capture_output=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["serial"] for r in rows] == [77, 78]
    assert rows[0] == events_of(EVENT)[0].to_dict()
    out2 = subprocess.run([*run, "-"], input=EVENT, check=True, capture_output=True).stdout
    assert out2 == out
    bad = subprocess.run([*run, str(tmp_path / "nope")], capture_output=True)
    assert bad.returncode == 1 and b"nope" in bad.stderr


def test_cli_parse_kernel_corpus_round_trip() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "auditlink._cli_events", "parse", str(DATA / "corpus_enriched.log")],
        check=True,
        capture_output=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(list(read_events(DATA / "corpus_enriched.log")))
    assert all(r["complete"] for r in rows if "SYSCALL" in r and "PROCTITLE" in r)


def test_client_events_from_fake_kernel(fake: FakeKernel) -> None:
    with fake.client() as c:
        fake.send_record(1300, b"audit(1700000000.001:5): arch=c000003e syscall=59 exit=0")
        fake.send_record(1307, b'audit(1700000000.001:5): cwd="/"')
        fake.send_record(1320, b"audit(1700000000.001:5): ")
        fake.send_record(1300, b"not a record")
        fake.send_record(1106, b"audit(1700000000.002:6): pid=1 msg='op=x res=success'")
        reasm = Reassembler()
        it = c.events(reasm)
        got = [next(it) for _ in range(3)]
        assert [e.serial for e in got] == [5, 0, 6]
        assert got[0].complete and len(got[0]) == 2
        assert got[1].records[0].error and got[1].records[0].text == "not a record"
        assert reasm.lost == 0


def test_client_events_end_when_closed(fake: FakeKernel) -> None:
    c = fake.client()
    out: list[AuditEvent] = []

    def consume() -> None:
        out.extend(c.events())

    fake.send_record(1300, b"audit(1700000000.001:5): arch=c000003e syscall=59 exit=0")
    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.3)
    c.close()
    t.join(5)
    assert not t.is_alive()
    assert [e.serial for e in out] == [5] and not out[0].complete


line_strategy = st.builds(
    lambda node, t, sec, serial, body: (
        (f"node={node} " if node else "") + f"type={t} msg=audit({sec}.000:{serial}): {body}"
    ).encode("utf-8", "surrogateescape"),
    st.one_of(st.none(), st.from_regex(r"[a-z]{1,4}", fullmatch=True)),
    st.sampled_from(["SYSCALL", "PATH", "EXECVE", "PROCTITLE", "USER_END", "UNKNOWN[1999]"]),
    st.integers(0, 20),
    st.integers(0, 20),
    st.text(max_size=60),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(line_strategy, st.binary(max_size=80)), max_size=25), st.integers(1, 50))
def test_json_of_any_log_is_valid_and_matches_to_dict(lines: list[bytes], chunk: int) -> None:
    data = b"\n".join(lines)
    for ev in read_events(io.BytesIO(data), chunk_size=chunk):
        assert json.loads(ev.to_json()) == ev.to_dict()


def test_client_events_expire_when_the_stream_is_quiet(fake: FakeKernel) -> None:
    with fake.client() as c:
        # An old time stamp (as after a long stay in the kernel's backlog) must not
        # expire the event on arrival; only quiet time does.
        fake.send_record(1300, b"audit(1000000000.001:5): arch=c000003e syscall=59 exit=0")
        fake.send_record(1302, b'audit(1000000000.001:5): item=0 name="/bin/true"')
        reasm = Reassembler(timeout=2.0)
        # Taken and grouped at once, but not expired on arrival: nothing comes out.
        assert list(c.events(reasm, timeout=0)) == []
        # Quiet time does expire it (incomplete: no EOE came).
        ev = next(c.events(reasm))
        assert ev.serial == 5 and not ev.complete and len(ev) == 2
