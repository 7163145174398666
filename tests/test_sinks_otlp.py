"""The otlp sink: a real collector (rotel-agent, PyPI) and the OTLP retry rules."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from auditlink.forward import OtlpSink, forward

from .test_sinks_engines import Rotel, make_log, rotel_agent


def otlp(tmp_path: Path, endpoint: str) -> str:
    return f'type = "otlp"\nendpoint = "{endpoint}"\nspool_dir = "{tmp_path / "spool"}"\n'


@pytest.fixture
def rotel(tmp_path: Path) -> Iterator[Rotel]:
    binary = rotel_agent()
    if binary is None:
        pytest.skip("rotel (PyPI) is not installed")
    r = Rotel(tmp_path / "rotel")
    r.start(binary)
    try:
        yield r
    finally:
        r.stop()


def test_collector_receives_every_event_with_attributes(rotel: Rotel, tmp_path: Path) -> None:
    n = 600
    url = f"http://127.0.0.1:{rotel.http_port}/v1/logs"
    stats = forward(make_log(n), otlp(tmp_path, url), node="db-7")
    assert stats.acked == n and stats.dropped == 0, stats
    import time

    deadline = time.monotonic() + 20
    while len(rotel.records()) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    recs = rotel.records()
    assert len(recs) == n
    assert sorted(int(r["audit.serial"].strip("Int()")) for r in recs) == list(range(1, n + 1))
    first = next(r for r in recs if r["audit.serial"] == "Int(1)")
    assert first["host.name"] == "Str(db-7)"
    assert first["service.name"] == "Str(auditlink)"
    assert first["os.type"] == "Str(linux)"
    assert first["audit.id"] == "Str(1700000000.000:1)"
    assert first["audit.exe"] == "Str(/usr/bin/cat)"
    assert first["audit.record_type"] == "Str(SYSCALL)"
    body = json.loads(first["body"][len("Str(") : -1])
    assert body["serial"] == 1 and body["SYSCALL"]["SYSCALL"] == "openat"


class Scripted(BaseHTTPRequestHandler):
    """Answers each POST with the next (status, headers) of `script`, then 200."""

    script: ClassVar[list[tuple[int, dict[str, str]]]] = []
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status, headers = self.script.pop(0) if self.script else (200, {})
        if status == 200:
            self.bodies.append(body)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[tuple[str, type[Scripted]]]:
    handler = type("Handler", (Scripted,), {"script": [], "bodies": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/logs", handler
    finally:
        server.shutdown()
        server.server_close()


def test_retryable_codes_are_retried_honouring_retry_after(
    scripted: tuple[str, type[Scripted]], tmp_path: Path
) -> None:
    url, handler = scripted
    handler.script = [(503, {"Retry-After": "1"}), (429, {}), (502, {})]
    stats = forward(make_log(10), otlp(tmp_path, url), timeout=30)
    assert stats.acked == 10 and stats.dropped == 0, stats
    # Three refused attempts, then the ones that counted (batching depends on timing).
    assert stats.sent >= 13
    assert "HTTP 502" in stats.last_error
    assert handler.bodies


def test_non_retryable_code_drops_the_batch_counted(
    scripted: tuple[str, type[Scripted]], tmp_path: Path
) -> None:
    url, handler = scripted
    handler.script = [(400, {})] * 20
    stats = forward(make_log(10), otlp(tmp_path, url), timeout=10)
    assert stats.acked == 0 and stats.dropped == 10 and stats.spooled == 0, stats
    assert "HTTP 400" in stats.last_error


def make_ca(d: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key)."""
    d.mkdir(parents=True, exist_ok=True)
    ca, ca_key = d / "ca.pem", d / "ca.key"
    cert, key, csr = d / "server.pem", d / "server.key", d / "server.csr"
    ext = d / "ext.cnf"
    ext.write_text("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
        "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(key), "-out", str(csr))  # fmt: skip
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    return ca, cert, key


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Path, type[Scripted]]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    ca, cert, key = make_ca(tmp_path / "pki", "auditlink test CA")
    handler = type("Handler", (Scripted,), {"script": [], "bodies": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/v1/logs", ca, handler
    finally:
        server.shutdown()
        server.server_close()


def test_https_with_the_right_ca(https: tuple[str, Path, type[Scripted]], tmp_path: Path) -> None:
    url, ca, handler = https
    stats = forward(make_log(10), OtlpSink(str(tmp_path / "spool"), endpoint=url, ca_file=str(ca)))
    assert stats.acked == 10, stats
    assert handler.bodies


def test_https_with_another_ca_is_refused(
    https: tuple[str, Path, type[Scripted]], tmp_path: Path
) -> None:
    url, _, handler = https
    other, _, _ = make_ca(tmp_path / "other", "some other CA")
    sink = OtlpSink(str(tmp_path / "spool"), endpoint=url, ca_file=str(other))
    stats = forward(make_log(10), sink, timeout=1)
    assert stats.acked == 0 and stats.spooled == 10, stats
    assert "UnknownIssuer" in stats.last_error or "certificate" in stats.last_error.lower()
    assert not handler.bodies


def test_bad_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ValueError, match="no certificate"):
        forward(b"", OtlpSink(str(tmp_path / "spool"), endpoint="https://h/", ca_file=str(bad)))
