"""The otlp sink: a real collector (rotel-agent, PyPI) and the OTLP retry rules."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from auditlink.forward import OtlpSink, forward

from .test_sinks_engines import Pki, Rotel, make_log, need_openssl, rotel_agent


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


def https_server(pki: Pki, client_ca: Path | None = None) -> tuple[HTTPServer, str, type[Scripted]]:
    """A Scripted OTLP receiver over HTTPS with a certificate from `pki`; with
    `client_ca` it requires a client certificate signed by that CA (mTLS)."""
    cert, key = pki.issue("server", "127.0.0.1")
    handler = type("Handler", (Scripted,), {"script": [], "bodies": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    # A refused handshake is the test's point, not noise for stderr.
    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"https://127.0.0.1:{server.server_address[1]}/v1/logs", handler


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    need_openssl()
    return Pki(tmp_path_factory.mktemp("pki"), "auditlink test CA")


@pytest.fixture
def https(pki: Pki) -> Iterator[tuple[str, Path, type[Scripted]]]:
    server, url, handler = https_server(pki)
    try:
        yield url, pki.ca, handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def mtls(pki: Pki) -> Iterator[tuple[str, type[Scripted]]]:
    server, url, handler = https_server(pki, client_ca=pki.ca)
    try:
        yield url, handler
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
    other = Pki(tmp_path / "other", "some other CA")
    sink = OtlpSink(str(tmp_path / "spool"), endpoint=url, ca_file=str(other.ca))
    stats = forward(make_log(10), sink, timeout=1)
    assert stats.acked == 0 and stats.spooled == 10, stats
    assert "not signed by a trusted CA" in stats.last_error, stats.last_error
    assert not handler.bodies


def test_mtls_client_certificate_is_presented(
    mtls: tuple[str, type[Scripted]], pki: Pki, tmp_path: Path
) -> None:
    url, handler = mtls
    cert, key = pki.issue("client", "web-1.example.net", "DNS:web-1.example.net")
    sink = OtlpSink(
        str(tmp_path / "spool"),
        endpoint=url,
        ca_file=str(pki.ca),
        cert_file=str(cert),
        key_file=str(key),
    )
    stats = forward(make_log(300), sink)
    assert stats.acked == 300 and stats.dropped == 0 and stats.spooled == 0, stats
    assert handler.bodies


@pytest.mark.parametrize("client", ["none", "other-ca"])
def test_mtls_without_an_accepted_client_certificate_keeps_events_spooled(
    mtls: tuple[str, type[Scripted]], pki: Pki, tmp_path: Path, client: str
) -> None:
    url, handler = mtls
    cert_file = key_file = None
    if client == "other-ca":
        cert, key = Pki(tmp_path / "other", "some other CA").issue("c", "web-2", "DNS:web-2")
        cert_file, key_file = str(cert), str(key)
    sink = OtlpSink(
        str(tmp_path / "spool"),
        endpoint=url,
        ca_file=str(pki.ca),
        cert_file=cert_file,
        key_file=key_file,
    )
    stats = forward(make_log(10), sink, timeout=1.5)
    # The collector never answered, so nothing counts as delivered or refused.
    assert stats.acked == 0 and stats.dropped == 0 and stats.spooled == 10, stats
    assert stats.last_error.startswith(f"POST {url}: "), stats.last_error
    assert not handler.bodies


def test_bad_client_certificate_files_are_clear_errors(pki: Pki, tmp_path: Path) -> None:
    cert, _ = pki.issue("a", "a")
    _, other_key = pki.issue("b", "b")
    spool = str(tmp_path / "spool")
    with pytest.raises(ValueError, match="otlp sink: cert_file and key_file go together"):
        forward(b"", OtlpSink(spool, endpoint="https://h/", key_file=str(other_key)))
    with pytest.raises(ValueError, match="private key does not belong to the certificate"):
        forward(
            b"",
            OtlpSink(spool, endpoint="https://h/", cert_file=str(cert), key_file=str(other_key)),
        )


def test_bad_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ValueError, match="no certificate"):
        forward(b"", OtlpSink(str(tmp_path / "spool"), endpoint="https://h/", ca_file=str(bad)))
