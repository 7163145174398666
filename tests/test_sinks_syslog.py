"""The syslog sink against a real rsyslogd: RFC 5424 over TCP (octet counting), UDP, unix socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditlink.forward import SyslogSink, forward

from .test_sinks_engines import RSYSLOGD, Rsyslog, free_port, make_log


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[Rsyslog]:
    if not Path(RSYSLOGD).exists():
        pytest.skip("rsyslogd is not installed")
    r = Rsyslog(tmp_path / "rsyslog", free_port(), free_port())
    r.start()
    try:
        yield r
    finally:
        r.stop()


def check_arrived(r: Rsyslog, n: int, node: str, fmt: str = "text") -> None:
    r.wait_for(n, 30)
    lines = r.lines()
    assert len(lines) == n, (len(lines), lines[:2])
    ids = []
    for ln in lines:
        host, msgid, pri, app, msg = ln.split(" ", 4)
        assert (host, pri, app) == (node, "local3.notice", "auditlink-test")
        ids.append(msgid)
        if fmt == "text":
            # rsyslog escapes the line breaks between records as #012.
            records = msg.split("#012")
            assert [r.split(" ", 1)[0] for r in records] == [
                "type=SYSCALL",
                "type=PATH",
                "type=PROCTITLE",
            ]
            assert f"msg=audit({msgid})" in records[0]
        else:
            ev = json.loads(msg)
            assert isinstance(ev, dict)
    want = [f"{1_700_000_000 + i // 1000}.{i % 1000:03d}:{i + 1}" for i in range(n)]
    assert sorted(ids) == sorted(want)


def sink(tmp_path: Path, r: Rsyslog, transport: str, fmt: str = "text") -> SyslogSink:
    return SyslogSink(
        str(tmp_path / f"spool-{transport}"),
        transport=transport,  # type: ignore[arg-type]
        port=r.tcp_port if transport == "tcp" else r.udp_port,
        socket_path=str(r.socket),
        facility="local3",
        severity="notice",
        app_name="auditlink-test",
        format=fmt,  # type: ignore[arg-type]
    )


def test_tcp_octet_counting_every_event_arrives(rsyslog: Rsyslog, tmp_path: Path) -> None:
    stats = forward(make_log(3000), sink(tmp_path, rsyslog, "tcp"), node="web-1")
    assert stats.acked == 3000 and stats.dropped == 0
    check_arrived(rsyslog, 3000, "web-1")


def test_tcp_json_bodies(rsyslog: Rsyslog, tmp_path: Path) -> None:
    forward(make_log(50), sink(tmp_path, rsyslog, "tcp", "json"), node="web-2", json=True)
    check_arrived(rsyslog, 50, "web-2", "json")


def test_udp(rsyslog: Rsyslog, tmp_path: Path) -> None:
    # UDP has no flow control: a small burst, which loopback carries whole.
    stats = forward(make_log(200), sink(tmp_path, rsyslog, "udp"), node="web-3")
    assert stats.acked == 200
    check_arrived(rsyslog, 200, "web-3")


def test_local_socket(rsyslog: Rsyslog, tmp_path: Path) -> None:
    stats = forward(make_log(200), sink(tmp_path, rsyslog, "unix"), node="web-4")
    assert stats.acked == 200
    check_arrived(rsyslog, 200, "web-4")


def test_bad_facility_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown facility"):
        forward(b"", SyslogSink(str(tmp_path), facility="local9"))


def test_nice_is_a_sink_key_with_a_checked_range(tmp_path: Path) -> None:
    assert "nice = 19\n" in SyslogSink(str(tmp_path)).to_toml()
    assert "nice = -3\n" in SyslogSink(str(tmp_path), nice=-3).to_toml()
    with pytest.raises(ValueError, match=r"nice = 20: must be -20\.\.19"):
        forward(b"", SyslogSink(str(tmp_path), nice=20))


def test_read_log_is_rendered_and_refused_outside_the_daemon(tmp_path: Path) -> None:
    assert "read_log = false\nread_log_hold = 5\n" in SyslogSink(str(tmp_path)).to_toml()
    with pytest.raises(ValueError, match="read_log = true is for the daemon's sinks"):
        forward(b"", SyslogSink(str(tmp_path), read_log=True))
