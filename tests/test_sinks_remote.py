"""The remote sink against a real central Debian auditd (tcp_listen_port, local_events = no)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditlink.forward import RemoteSink, forward

from .test_sinks_engines import (
    LOOPBACK_HEX,
    NODE,
    CentralAuditd,
    NetNs,
    free_port,
    make_log,
    need_root_tools,
    run_audisp_remote,
    run_sender,
    sender_stats,
    stop,
)


@pytest.fixture
def netns() -> Iterator[NetNs]:
    need_root_tools("auditd")
    ns = NetNs()
    try:
        yield ns
    finally:
        ns.close()


@pytest.fixture
def central(netns: NetNs, tmp_path: Path) -> Iterator[CentralAuditd]:
    c = CentralAuditd(netns, tmp_path / "central")
    c.start()
    try:
        yield c
    finally:
        c.stop()


def config(central: CentralAuditd, spool: Path) -> str:
    return RemoteSink("127.0.0.1", str(spool), port=central.port).to_toml()


def serials(lines: list[str]) -> list[int]:
    return [int(ln.split("msg=audit(", 1)[1].split(":", 1)[1].split(")", 1)[0]) for ln in lines]


def test_ausearch_node_finds_every_event_once(
    netns: NetNs, central: CentralAuditd, tmp_path: Path
) -> None:
    log = tmp_path / "in.log"
    log.write_bytes(make_log(3000))
    stats = sender_stats(run_sender(netns, config(central, tmp_path / "spool"), log))
    assert stats["acked"] == 3000 and stats["dropped"] == 0 and stats["spooled"] == 0
    out = subprocess.run(
        ["ausearch", "--node", NODE, "-if", str(central.log), "--raw"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = Counter(serials([ln for ln in out.splitlines() if ln.startswith("node=")]))
    # Three records per event, each exactly once.
    assert sorted(found) == list(range(1, 3001))
    assert set(found.values()) == {3}


def test_central_on_loopback_without_a_namespace(tmp_path: Path) -> None:
    """The benches' central auditd runs here, made to bind 127.0.0.1 by
    tests/loopback_bind.c: it listens on loopback only and receives the sink."""
    need_root_tools("auditd", "cc")
    c = CentralAuditd(None, tmp_path / "central", port=free_port())
    c.start()
    try:
        assert c.listeners() and set(c.listeners()) <= LOOPBACK_HEX
        log = tmp_path / "in.log"
        log.write_bytes(make_log(300))
        stats = sender_stats(run_sender(None, config(c, tmp_path / "spool"), log))
        assert stats["acked"] == 300 and stats["dropped"] == 0
        c.wait_for(300, 10)
        assert sorted(serials(c.lines())) == list(range(1, 301))
    finally:
        c.stop()


def test_records_match_what_audisp_remote_sends(
    netns: NetNs, central: CentralAuditd, tmp_path: Path
) -> None:
    events = make_log(200)
    log = tmp_path / "in.log"
    log.write_bytes(events)
    sender_stats(run_sender(netns, config(central, tmp_path / "spool"), log))
    ref_lines = b"".join(b"node=refhost " + ln + b"\n" for ln in events.splitlines())
    ref = run_audisp_remote(netns, tmp_path / "ref", central.port, ref_lines)
    try:
        central.wait_for(200, 30, node="refhost")
    finally:
        stop(ref)
    text = central.log.read_text().splitlines()
    ours = [ln.split(" ", 1)[1] for ln in text if ln.startswith(f"node={NODE} ")]
    theirs = [ln.split(" ", 1)[1] for ln in text if ln.startswith("node=refhost ")]
    assert len(ours) == 600
    assert ours == theirs


def test_receiver_down_mid_burst_loses_nothing(
    netns: NetNs, central: CentralAuditd, tmp_path: Path
) -> None:
    n = 20000
    log = tmp_path / "in.log"
    log.write_bytes(make_log(n))
    sender = run_sender(netns, config(central, tmp_path / "spool"), log, timeout=90)
    central.wait_for(2000, 30)
    central.stop()
    time.sleep(10)
    central.start()
    stats = sender_stats(sender)
    assert stats["acked"] == n and stats["dropped"] == 0, stats
    assert stats["reconnects"] >= 1
    got = serials(central.lines())
    assert sorted(set(got)) == list(range(1, n + 1))
    # Duplicates only at the reconnect edge: what was in flight (written but
    # not yet acknowledged when the receiver went down) at most, one stretch.
    in_flight = 256 * RemoteSink("x", "x").batches_in_flight
    dups = sorted(s for s, c in Counter(got).items() if c > 1)
    assert len(dups) <= in_flight, (len(dups), dups[:5])
    assert not dups or dups[-1] - dups[0] < in_flight, (dups[0], dups[-1])


def test_spool_survives_kill_9_of_the_sender_during_an_outage(
    netns: NetNs, central: CentralAuditd, tmp_path: Path
) -> None:
    central.stop()
    spool = tmp_path / "spool"
    log = tmp_path / "in.log"
    log.write_bytes(make_log(500))
    sender = run_sender(netns, config(central, spool), log, timeout=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cursor = spool / "cursor"
        size = sum(p.stat().st_size for p in spool.glob("*.spool")) if cursor.exists() else 0
        if size > 500 * 600:
            break
        time.sleep(0.05)
    stop(sender, signal.SIGKILL)
    central.start()
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    stats = sender_stats(run_sender(netns, config(central, spool), empty))
    assert stats["acked"] == 500 and stats["spooled"] == 0, stats
    assert sorted(serials(central.lines())) == list(range(1, 501))


def test_unreachable_receiver_spools_and_reports(tmp_path: Path) -> None:
    sink = RemoteSink("127.0.0.1", str(tmp_path / "spool"), port=1)
    stats = forward(make_log(10), sink, timeout=0.3)
    assert stats.acked == 0 and stats.spooled == 10 and stats.dropped == 0
    assert "connect" in stats.last_error and "refused" in stats.last_error.lower()


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="remote_server"):
        forward(b"", f'type = "remote"\nspool_dir = "{tmp_path}"\n')
    with pytest.raises(ValueError, match="unknown variant"):
        forward(b"", f'type = "kafka"\nspool_dir = "{tmp_path}"\n')
    assert json.loads(json.dumps(RemoteSink("h", "/s").to_toml()))


def test_fleet_of_50_senders_into_one_central_auditd(
    netns: NetNs, central: CentralAuditd, tmp_path: Path
) -> None:
    per_node, nodes = 200, 50
    log = tmp_path / "in.log"
    log.write_bytes(make_log(per_node))
    t0 = time.monotonic()
    senders = [
        run_sender(netns, config(central, tmp_path / f"spool{i}"), log, node=f"fleet-{i:02d}")
        for i in range(nodes)
    ]
    for p in senders:
        assert sender_stats(p)["acked"] == per_node
    elapsed = time.monotonic() - t0
    for i in range(nodes):
        assert sorted(serials(central.lines(f"fleet-{i:02d}"))) == list(range(1, per_node + 1))
    print(f"fleet: {nodes * per_node / elapsed:.0f} events/s ingested ({nodes} senders)")
