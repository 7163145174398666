"""The otlp sink with several exports in flight: answers out of order, a failure in the middle.

A fake collector (threaded, HTTP/1.1 keep-alive, on 127.0.0.1) answers the
n-th export request it receives as its script says, after a chosen delay; the
ids of every log record it took (answered 2xx) are read from the protobuf body.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from auditlink.forward import OtlpSink, SinkStats, forward

from .test_sinks_engines import make_log

# The `audit.id` attribute: key, then AnyValue{string_value = "sec.msec:serial"}
# (the string's one-byte length captured: the next field's tag can be a digit).
AUDIT_ID = re.compile(rb"audit\.id\x12[\x00-\x7f]\x0a([\x00-\x7f])", re.DOTALL)


def serials(body: bytes) -> list[int]:
    """The serials of the `audit.id`s in an export request, in order."""
    out = []
    for m in AUDIT_ID.finditer(body):
        value = body[m.end() : m.end() + m[1][0]]
        out.append(int(value.rsplit(b":", 1)[1]))
    return out


@dataclass
class Export:
    """One request the collector received: its serials, answer, and when."""

    serials: list[int]
    status: int
    received: float
    answered: float = 0.0


@dataclass
class Script:
    """Answers for the n-th request received (from 0): (delay seconds, status)."""

    answers: dict[int, tuple[float, int]] = field(default_factory=dict)
    exports: list[Export] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Collector(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: ClassVar[Script]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.script.lock:
            n = len(self.script.exports)
            delay, status = self.script.answers.get(n, (0.0, 200))
            export = Export(serials(body), status, time.monotonic())
            self.script.exports.append(export)
        time.sleep(delay)
        export.answered = time.monotonic()
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, Script]]:
    script = Script()
    handler = type("Handler", (Collector,), {"script": script})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/logs", script
    finally:
        server.shutdown()
        server.server_close()


def sink(tmp_path: Path, url: str, in_flight: int = 4) -> OtlpSink:
    return OtlpSink(str(tmp_path / "spool"), endpoint=url, exports_in_flight=in_flight)


def taken(script: Script) -> list[Export]:
    return [e for e in script.exports if 200 <= e.status < 300]


def run(
    collector: tuple[str, Script],
    tmp_path: Path,
    n: int,
    answers: dict[int, tuple[float, int]],
    in_flight: int = 4,
) -> tuple[SinkStats, Script]:
    """Forward `n` events with the collector answering per `answers`; every
    event must be acknowledged, and every export hold consecutive events."""
    url, script = collector
    script.answers = answers
    stats = forward(make_log(n), sink(tmp_path, url, in_flight), timeout=60)
    assert (stats.acked, stats.dropped, stats.spooled) == (n, 0, 0), stats
    for e in script.exports:
        assert e.serials, "an export without log records"
        assert e.serials == list(range(e.serials[0], e.serials[0] + len(e.serials))), e.serials
    return stats, script


def test_a_slow_first_export_holds_nothing_back_and_loses_nothing(
    collector: tuple[str, Script], tmp_path: Path
) -> None:
    n = 3000
    # The first export is answered last, after the later ones in flight.
    stats, script = run(collector, tmp_path, n, {0: (1.0, 200)})
    first = script.exports[0]
    overlapping = [e for e in script.exports[1:] if e.received < first.answered]
    assert overlapping, "no export was sent while the first awaited its answer"
    got = sorted(s for e in taken(script) for s in e.serials)
    # Every event exactly once: answers out of order caused no resend.
    assert got == list(range(1, n + 1))
    assert stats.sent == n


def test_a_failed_export_in_the_middle_is_resent_from_there_nothing_lost(
    collector: tuple[str, Script], tmp_path: Path
) -> None:
    n = 3000
    # The second export received fails late (after later ones were taken).
    stats, script = run(collector, tmp_path, n, {1: (0.5, 503)})
    assert "HTTP 503" in stats.last_error, stats
    failed = script.exports[1]
    ok = taken(script)
    got = [s for e in ok for s in e.serials]
    # Nothing lost.
    assert sorted(set(got)) == list(range(1, n + 1))
    # The failed export's events were taken only after it failed (resent).
    assert all(e.received > failed.answered for e in ok if failed.serials[0] in e.serials)
    # Duplicates come only from exports taken while the failed one awaited its
    # answer (the ones after it, sent again with it), never from earlier ones.
    in_flight = {
        s
        for e in ok
        if e.received < failed.answered and e.serials[0] > failed.serials[-1]
        for s in e.serials
    }
    dups = {s for s in got if got.count(s) > 1}
    assert dups <= in_flight
    assert len(got) - len(set(got)) == len(dups)
    assert stats.sent > n


def test_one_export_in_flight_waits_for_each_answer(
    collector: tuple[str, Script], tmp_path: Path
) -> None:
    n = 1500
    _, script = run(collector, tmp_path, n, {0: (0.3, 200)}, in_flight=1)
    for before, after in zip(script.exports, script.exports[1:]):
        assert after.received >= before.answered
    assert sorted(s for e in taken(script) for s in e.serials) == list(range(1, n + 1))


@pytest.mark.parametrize("bad", [0, 65])
def test_exports_in_flight_out_of_range_is_a_clear_error(tmp_path: Path, bad: int) -> None:
    with pytest.raises(ValueError, match="exports_in_flight must be 1 to 64"):
        forward(b"", sink(tmp_path, "http://127.0.0.1:9/v1/logs", in_flight=bad))
