"""Reassembler: grouping by (node, timestamp, serial), completion, timeouts, loss."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from auditlink import AuditEvent, RawAuditMessage, Reassembler, parse_record

SYSCALL, PATH, CWD, EOE, PROCTITLE, USER_END = 1300, 1302, 1307, 1320, 1327, 1106


def rec(t: int, serial: int, sec: int = 100, ms: int = 0, body: str = "x=1"):  # type: ignore[no-untyped-def]
    return parse_record(t, f"audit({sec}.{ms:03d}:{serial}): {body}".encode())


def push_all(r: Reassembler, records: list) -> list[AuditEvent]:  # type: ignore[type-arg]
    out: list[AuditEvent] = []
    for x in records:
        out += r.push(x)
    return out


def test_eoe_completes() -> None:
    r = Reassembler()
    out = push_all(r, [rec(SYSCALL, 1), rec(CWD, 1), rec(PATH, 1)])
    assert out == [] and r.in_flight == 1
    (ev,) = r.push(rec(EOE, 1))
    assert ev.complete and ev.serial == 1 and len(ev) == 3
    assert [int(x.type) for x in ev.records] == [SYSCALL, CWD, PATH]
    assert r.push(rec(EOE, 1)) == []  # a repeated EOE is not an event


def test_proctitle_completes_log_events() -> None:
    # auditd does not log EOE: PROCTITLE, which the kernel writes last, ends the event.
    r = Reassembler()
    out = push_all(r, [rec(SYSCALL, 5), rec(PROCTITLE, 5)])
    assert len(out) == 1 and out[0].complete and len(out[0]) == 2


def test_single_record_types() -> None:
    (ev,) = Reassembler().push(rec(USER_END, 9))
    assert ev.complete and len(ev) == 1


def test_out_of_order_and_interleaved() -> None:
    r = Reassembler()
    out = push_all(
        r,
        [rec(SYSCALL, 2), rec(SYSCALL, 1), rec(PATH, 2), rec(PATH, 1), rec(EOE, 1), rec(EOE, 2)],
    )
    assert [e.serial for e in out] == [1, 2]
    assert all(e.complete and len(e) == 2 for e in out)
    assert r.lost == 0


def test_missing_eoe_times_out_in_stream_time() -> None:
    r = Reassembler(timeout=2.0)
    assert push_all(r, [rec(SYSCALL, 1, sec=100), rec(SYSCALL, 2, sec=101)]) == []
    out = r.push(rec(SYSCALL, 3, sec=102, ms=500))
    assert [(e.serial, e.complete) for e in out] == [(1, False)]
    rest = r.flush()
    assert [(e.serial, e.complete) for e in rest] == [(2, False), (3, False)]
    assert r.flush() == []


def test_expire_by_wall_clock() -> None:
    r = Reassembler(timeout=1.0)
    r.push(rec(SYSCALL, 1, sec=100))
    assert r.expire(100.5) == []
    (ev,) = r.expire(101.5)
    assert not ev.complete


def test_bounded_in_flight() -> None:
    r = Reassembler(max_in_flight=4)
    out = push_all(r, [rec(SYSCALL, s) for s in range(1, 11)])
    assert r.in_flight == 4
    assert [e.serial for e in out] == list(range(1, 7))
    assert not any(e.complete for e in out)


def test_lost_serials_across_32bit_wrap() -> None:
    r = Reassembler()
    push_all(r, [rec(USER_END, s) for s in (4294967293, 4294967294, 4294967295, 0, 1, 4)])
    assert r.lost == 2  # 2 and 3: not ~4.29e9
    r.push(rec(USER_END, 3))  # a late one is not lost after all
    assert r.lost == 1


def test_node_separates_events() -> None:
    from auditlink import parse_log_line

    r = Reassembler()
    a = parse_log_line("node=a type=SYSCALL msg=audit(1.000:1): x=1")
    b = parse_log_line("node=b type=SYSCALL msg=audit(1.000:1): x=2")
    r.push(a)
    r.push(b)
    assert r.in_flight == 2
    assert sorted(e.node or "" for e in r.flush()) == ["a", "b"]


def test_push_messages_and_malformed() -> None:
    r = Reassembler()
    out = r.push_messages(
        [
            RawAuditMessage(SYSCALL, b"audit(1.000:1): arch=c000003e syscall=59"),
            RawAuditMessage(SYSCALL, b"garbage"),
            RawAuditMessage(EOE, b"audit(1.000:1): "),
        ]
    )
    assert len(out) == 2
    bad = [e for e in out if e.records[0].error]
    assert len(bad) == 1 and bad[0].records[0].text == "garbage"


def test_shared_between_threads() -> None:
    r = Reassembler()
    events: list[AuditEvent] = []
    lock = threading.Lock()

    def work(base: int) -> None:
        mine: list[AuditEvent] = []
        for s in range(base, base + 200):
            mine += r.push(rec(SYSCALL, s))
            mine += r.push(rec(EOE, s))
        with lock:
            events.extend(mine)

    threads = [threading.Thread(target=work, args=(i * 1000,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(events) == 800 and all(e.complete for e in events)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_arrival_order_gives_every_record_once(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 12))
    events = {s: data.draw(st.integers(1, 4)) for s in range(1, n + 1)}
    records = [(s, i) for s, count in events.items() for i in range(count)]
    order = data.draw(st.permutations(records))
    eoe_dropped = data.draw(st.sets(st.sampled_from(sorted(events))))
    r = Reassembler(timeout=60.0)
    out: list[AuditEvent] = []
    for s, i in order:
        out += r.push(rec(SYSCALL if i == 0 else PATH, s, body=f"i={i}"))
    for s in events:
        if s not in eoe_dropped:
            out += r.push(rec(EOE, s))
    out += r.flush()
    got: dict[int, list[int]] = {}
    for e in out:
        got.setdefault(e.serial, []).extend(int(x.fields["i"]) for x in e.records)
        if e.serial in eoe_dropped:
            assert not e.complete
    assert {s: sorted(v) for s, v in got.items()} == {s: list(range(c)) for s, c in events.items()}
    assert r.lost == 0


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 50), min_size=1, max_size=30))
def test_lost_counts_gaps(start: int, steps: list[int]) -> None:
    r = Reassembler()
    serial = start
    r.push(rec(USER_END, serial))
    for step in steps:
        serial = (serial + step) % 2**32
        r.push(rec(USER_END, serial))
    assert r.lost == sum(steps) - len(steps)
