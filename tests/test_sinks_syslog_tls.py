"""The syslog sink over TLS (RFC 5425) against a real rsyslogd with the gnutls driver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from auditlink.forward import SyslogSink, forward

from .test_sinks_engines import (
    GTLS,
    RSYSLOGD,
    Pki,
    Rsyslog,
    RsyslogTls,
    free_port,
    make_log,
    need_openssl,
)
from .test_sinks_syslog import check_arrived


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    need_openssl()
    return Pki(tmp_path_factory.mktemp("pki"), "auditlink test CA")


def start_rsyslog(tmp_path: Path, pki: Pki, require_client_cert: bool) -> Rsyslog:
    if not Path(RSYSLOGD).exists() or not Path(GTLS).exists():
        pytest.skip("rsyslogd with the gnutls driver (rsyslog-gnutls) is not installed")
    tls = RsyslogTls(pki, free_port(), require_client_cert)
    r = Rsyslog(tmp_path / "rsyslog", free_port(), free_port(), tls)
    r.start()
    return r


@pytest.fixture
def rsyslog(tmp_path: Path, pki: Pki) -> Iterator[Rsyslog]:
    r = start_rsyslog(tmp_path, pki, require_client_cert=False)
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def rsyslog_mtls(tmp_path: Path, pki: Pki) -> Iterator[Rsyslog]:
    r = start_rsyslog(tmp_path, pki, require_client_cert=True)
    try:
        yield r
    finally:
        r.stop()


def tls_sink(tmp_path: Path, r: Rsyslog, ca: Path, tag: str = "tls", **kw: str) -> SyslogSink:
    assert r.tls is not None
    return SyslogSink(
        str(tmp_path / f"spool-{tag}"),
        transport="tls",
        port=r.tls.port,
        facility="local3",
        severity="notice",
        app_name="auditlink-test",
        ca_file=str(ca),
        network_retry_time=1,
        **kw,  # type: ignore[arg-type]
    )


def test_tls_events_arrive_byte_for_byte_as_over_tcp(
    rsyslog: Rsyslog, pki: Pki, tmp_path: Path
) -> None:
    n = 1000
    events = make_log(n)
    tcp = SyslogSink(
        str(tmp_path / "spool-tcp"),
        transport="tcp",
        port=rsyslog.tcp_port,
        facility="local3",
        severity="notice",
        app_name="auditlink-test",
    )
    stats = forward(events, tcp, node="web-1")
    assert stats.acked == n, stats
    rsyslog.wait_for(n, 30)
    stats = forward(events, tls_sink(tmp_path, rsyslog, pki.ca), node="web-1")
    assert stats.acked == n and stats.dropped == 0 and stats.spooled == 0, stats
    rsyslog.wait_for(2 * n, 30)
    raw = rsyslog.raw_lines()
    assert len(raw) == 2 * n
    # Same process, same events: the TLS path carries exactly the TCP path's messages.
    assert raw[n:] == raw[:n]
    assert raw[0].startswith("<157>1 2023-11-14T22:13:20.000Z web-1 auditlink-test ")


def test_tls_every_event_arrives_parseable(rsyslog: Rsyslog, pki: Pki, tmp_path: Path) -> None:
    stats = forward(make_log(3000), tls_sink(tmp_path, rsyslog, pki.ca), node="web-2")
    assert stats.acked == 3000, stats
    check_arrived(rsyslog, 3000, "web-2")


def test_server_certificate_from_another_ca_is_refused(rsyslog: Rsyslog, tmp_path: Path) -> None:
    other = Pki(tmp_path / "other", "some other CA")
    stats = forward(make_log(10), tls_sink(tmp_path, rsyslog, other.ca), timeout=1.5)
    assert stats.acked == 0 and stats.sent == 0 and stats.spooled == 10, stats
    assert "TLS handshake" in stats.last_error
    assert "not signed by a trusted CA" in stats.last_error, stats.last_error
    assert rsyslog.lines() == []


def test_server_certificate_for_another_name_is_refused(
    rsyslog: Rsyslog, pki: Pki, tmp_path: Path
) -> None:
    sink = tls_sink(tmp_path, rsyslog, pki.ca, tls_server_name="audit.example.net")
    stats = forward(make_log(10), sink, timeout=1.5)
    assert stats.acked == 0 and stats.spooled == 10, stats
    assert "not valid for this host name" in stats.last_error, stats.last_error


def test_client_certificate_required_and_given(
    rsyslog_mtls: Rsyslog, pki: Pki, tmp_path: Path
) -> None:
    cert, key = pki.issue("client", "web-3.example.net", "DNS:web-3.example.net")
    sink = tls_sink(tmp_path, rsyslog_mtls, pki.ca, cert_file=str(cert), key_file=str(key))
    stats = forward(make_log(500), sink, node="web-3")
    assert stats.acked == 500, stats
    check_arrived(rsyslog_mtls, 500, "web-3")


@pytest.mark.parametrize("client", ["none", "other-ca"])
def test_client_certificate_required_but_missing_or_untrusted(
    rsyslog_mtls: Rsyslog, pki: Pki, tmp_path: Path, client: str
) -> None:
    kw = {}
    if client == "other-ca":
        cert, key = Pki(tmp_path / "other", "some other CA").issue("c", "web-4", "DNS:web-4")
        kw = {"cert_file": str(cert), "key_file": str(key)}
    stats = forward(make_log(10), tls_sink(tmp_path, rsyslog_mtls, pki.ca, **kw), timeout=2)
    # Refused in the handshake (or at the TLS 1.3 verdict right after it): nothing is
    # taken as delivered, everything stays spooled.
    assert stats.acked == 0 and stats.spooled == 10, stats
    assert "TLS" in stats.last_error, stats.last_error
    assert rsyslog_mtls.lines() == []


def test_bad_tls_files_are_clear_errors(pki: Pki, tmp_path: Path) -> None:
    spool = str(tmp_path / "spool")
    with pytest.raises(ValueError, match=r"ca_file .*holds no certificate"):
        (tmp_path / "empty.pem").write_text("")
        forward(b"", SyslogSink(spool, transport="tls", ca_file=str(tmp_path / "empty.pem")))
    with pytest.raises(ValueError, match=r"ca_file .*No such file"):
        forward(b"", SyslogSink(spool, transport="tls", ca_file=str(tmp_path / "missing.pem")))
    cert, _ = pki.issue("a", "a")
    _, other_key = pki.issue("b", "b")
    with pytest.raises(ValueError, match="go together"):
        forward(b"", SyslogSink(spool, transport="tls", cert_file=str(cert)))
    with pytest.raises(ValueError, match="private key does not belong to the certificate"):
        forward(
            b"",
            SyslogSink(spool, transport="tls", cert_file=str(cert), key_file=str(other_key)),
        )
    with pytest.raises(ValueError, match="no private key"):
        forward(b"", SyslogSink(spool, transport="tls", cert_file=str(cert), key_file=str(cert)))
    with pytest.raises(ValueError, match='need transport = "tls"'):
        forward(b"", SyslogSink(spool, transport="tcp", ca_file=str(pki.ca)))
