"""Receiver outages (syslog over TCP and TLS, otlp) and the spool limits with their overflow counts.

The sender is `auditlink.forward` in a subprocess reading a FIFO, so the test
decides when each part of the burst is produced: the first half while the
receiver is up, the second half after it was stopped; the receiver comes back
after 10 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditlink.forward import OtlpSink, SyslogSink, forward

from .test_sinks_engines import (
    GTLS,
    RSYSLOGD,
    Pki,
    Rotel,
    Rsyslog,
    RsyslogTls,
    free_port,
    make_log,
    need_openssl,
    rotel_agent,
    stop,
)

OUTAGE_S = 10.0
SENDER = """
import json, sys
from auditlink.forward import forward
st = forward(sys.argv[2], sys.argv[1], node="outage-host", timeout=float(sys.argv[3]))
print(json.dumps(st.__dict__))
"""


class FifoSender:
    """`forward` in a subprocess, reading its events from a FIFO the test writes."""

    def __init__(self, tmp_path: Path, config: str, timeout: float = 120.0) -> None:
        self.fifo = tmp_path / "events.fifo"
        os.mkfifo(self.fifo)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SENDER, config, str(self.fifo), str(timeout)],
            stdout=subprocess.PIPE,
        )
        # Opening blocks until the sender has opened the read end.
        self.pipe = self.fifo.open("wb")

    def send(self, events: bytes) -> None:
        self.pipe.write(events)
        self.pipe.flush()

    def finish(self) -> dict[str, Any]:
        self.pipe.close()
        out, _ = self.proc.communicate(timeout=180)
        assert self.proc.returncode == 0, out
        stats: dict[str, Any] = json.loads(out)
        return stats

    def kill(self) -> None:
        if not self.pipe.closed:
            self.pipe.close()
        stop(self.proc)


def spool_bytes(spool: Path) -> int:
    return sum(p.stat().st_size for p in spool.glob("*.spool"))


def outage(
    tmp_path: Path,
    config: str,
    spool: Path,
    received: Callable[[], int],
    stop_receiver: Callable[[], None],
    start_receiver: Callable[[], None],
    n: int,
) -> dict[str, Any]:
    """Half the burst with the receiver up, the other half while it is down for
    OUTAGE_S; returns the sender's final stats."""
    events = make_log(n)
    half = len(make_log(n // 2))
    sender = FifoSender(tmp_path, config)
    try:
        sender.send(events[:half])
        deadline = time.monotonic() + 60
        while received() < n // 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert received() == n // 2
        stop_receiver()
        down = time.monotonic()
        sender.send(events[half:])
        # The second half waits in the on-disk spool while the receiver is down.
        grown = 0
        while time.monotonic() - down < OUTAGE_S:
            grown = max(grown, spool_bytes(spool))
            time.sleep(0.1)
        assert grown > 0
        start_receiver()
        return sender.finish()
    finally:
        sender.kill()


def exactly_once(ids: list[str], n: int) -> None:
    want = [f"{1_700_000_000 + i // 1000}.{i % 1000:03d}:{i + 1}" for i in range(n)]
    counts = Counter(ids)
    assert sorted(counts) == sorted(want)
    assert max(counts.values()) == 1, [k for k, c in counts.items() if c > 1][:5]


@pytest.fixture
def rsyslog(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Rsyslog]:
    if not Path(RSYSLOGD).exists():
        pytest.skip("rsyslogd is not installed")
    tls = None
    if request.param == "tls":
        need_openssl()
        if not Path(GTLS).exists():
            pytest.skip("rsyslog-gnutls is not installed")
        tls = RsyslogTls(Pki(tmp_path / "pki", "outage CA"), free_port())
    r = Rsyslog(tmp_path / "rsyslog", free_port(), free_port(), tls)
    r.start()
    try:
        yield r
    finally:
        r.stop()


@pytest.mark.parametrize("rsyslog", ["tcp", "tls"], indirect=True)
def test_syslog_receiver_down_10s_mid_burst_loses_nothing(rsyslog: Rsyslog, tmp_path: Path) -> None:
    n = 4000
    spool = tmp_path / "spool"
    tls = rsyslog.tls
    sink = SyslogSink(
        str(spool),
        transport="tls" if tls else "tcp",
        port=tls.port if tls else rsyslog.tcp_port,
        ca_file=str(tls.ca) if tls else None,
        network_retry_time=1,
    )
    stats = outage(
        tmp_path,
        sink.to_toml(),
        spool,
        lambda: len(rsyslog.lines()),
        rsyslog.stop,
        rsyslog.start,
        n,
    )
    assert stats["acked"] == n and stats["dropped"] == 0 and stats["spooled"] == 0, stats
    assert stats["reconnects"] >= 1 and stats["last_error"], stats
    rsyslog.wait_for(n, 30)
    exactly_once([ln.split(" ")[1] for ln in rsyslog.lines()], n)


def test_otlp_collector_down_10s_mid_burst_loses_nothing(tmp_path: Path) -> None:
    binary = rotel_agent()
    if binary is None:
        pytest.skip("rotel (PyPI) is not installed")
    rotel = Rotel(tmp_path / "rotel")
    rotel.start(binary)
    try:
        n = 2000
        spool = tmp_path / "spool"
        url = f"http://127.0.0.1:{rotel.http_port}/v1/logs"
        sink = OtlpSink(str(spool), endpoint=url, network_retry_time=1)
        stats = outage(
            tmp_path,
            sink.to_toml(),
            spool,
            lambda: len(rotel.records()),
            rotel.stop,
            lambda: rotel.start(binary),
            n,
        )
        assert stats["acked"] == n and stats["dropped"] == 0 and stats["spooled"] == 0, stats
        assert "POST" in stats["last_error"], stats
        deadline = time.monotonic() + 30
        while len(rotel.records()) < n and time.monotonic() < deadline:
            time.sleep(0.1)
        exactly_once([r["audit.id"][len("Str(") : -1] for r in rotel.records()], n)
    finally:
        rotel.stop()


@pytest.mark.parametrize(
    ("action", "kept"),
    [("drop_newest", "first"), ("suspend", "first"), ("drop_oldest", "last")],
)
def test_full_spool_applies_its_action_and_counts_what_it_lost(
    tmp_path: Path, action: str, kept: str
) -> None:
    """Receiver down: a 64 KiB spool takes what fits, the action decides which
    events are lost (counted in `dropped`); the receiver then gets exactly the rest."""
    if not Path(RSYSLOGD).exists():
        pytest.skip("rsyslogd is not installed")
    n = 1000
    r = Rsyslog(tmp_path / "rsyslog", free_port(), free_port())
    spool = tmp_path / "spool"

    def sink() -> SyslogSink:
        return SyslogSink(
            str(spool),
            transport="tcp",
            port=r.tcp_port,
            spool_max_bytes=64 << 10,
            spool_full_action=action,  # type: ignore[arg-type]
        )

    stats = forward(make_log(n), sink(), node="full-host", timeout=0.5)
    assert stats.acked == 0 and stats.dropped > 0, stats
    assert stats.spooled + stats.dropped == n, stats
    assert 0 < stats.spool_bytes <= 64 << 10
    r.start()
    try:
        after = forward(b"", sink(), node="full-host")
        assert after.acked == stats.spooled and after.spooled == 0, after
        r.wait_for(stats.spooled, 30)
        got = [int(ln.split(" ")[1].split(":")[1]) for ln in r.lines()]
    finally:
        r.stop()
    m = stats.spooled
    assert got == (list(range(1, m + 1)) if kept == "first" else list(range(n - m + 1, n + 1)))
