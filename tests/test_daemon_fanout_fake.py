"""auditlink.Daemon's fan-out against the fake kernel: enriched JSON lines through
the Python API, a sink fed by the daemon and restarted by reload, sink stats, and
auditlink.toml errors naming the file and line. Real-kernel counterparts:
test_daemon_fanout_kernel.py."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from auditlink import Daemon
from auditlink.testing import FakeKernel

from .test_daemon_fake import conf, send_events, wait_for


def write(tmp_path: Path, toml: str) -> Path:
    path = tmp_path / "auditd.conf"
    path.write_text("".join(f"{k} = {v}\n" for k, v in conf(tmp_path).items()))
    (tmp_path / "auditlink.toml").write_text(toml)
    return path


def udp_receiver() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    return s


def syslog_sink(port: int, spool: Path) -> str:
    return f'[[sink]]\ntype = "syslog"\ntransport = "udp"\nport = {port}\nspool_dir = "{spool}"\n'


def test_enriched_json_and_filters_through_the_python_api(fake: FakeKernel, tmp_path: Path) -> None:
    out, filtered = tmp_path / "log" / "out.jsonl", tmp_path / "log" / "filtered.jsonl"
    (tmp_path / "log").mkdir()
    extras = (
        f'[json]\npath = "{out}"\nfilter_log = "{filtered}"\n'
        '[filter]\nfilter-null-keys = true\nfilter-action = "log"\n'
        "keep-first-per-process = false\n[auditlink]\nprocfs = false\n"
    )
    with fake.client() as client, Daemon(conf(tmp_path), client=client, extras=extras) as d:
        send_events(fake, 1, 20)
        wait_for(lambda: d.stats["records_received"] == 40)
    # The test's SYSCALL records have no key: all 20 diverted; DAEMON_START/END kept.
    kept = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [k for e in kept for k in e if k.isupper()] == ["DAEMON_START", "DAEMON_END"]
    div = [json.loads(ln) for ln in filtered.read_text().splitlines()]
    assert len(div) == 20 and all(e["SYSCALL"]["PID"]["EVENT_ID"] for e in div)
    stats = d.stats
    assert stats["events_diverted"] == 20 and stats["json_events"] == 22
    assert stats["fanout_dropped"] == 0


def test_a_sink_gets_every_event_and_reload_restarts_it(fake: FakeKernel, tmp_path: Path) -> None:
    first, second = udp_receiver(), udp_receiver()
    path = write(tmp_path, syslog_sink(first.getsockname()[1], tmp_path / "spool"))
    with first, second, fake.client() as client:
        with Daemon(path, client=client) as d:
            send_events(fake, 1, 10)
            got = [first.recv(9000) for _ in range(11)]  # DAEMON_START and the 10
            assert sum(b"type=SYSCALL msg=audit(" in m for m in got) == 10
            (tmp_path / "auditlink.toml").write_text(
                syslog_sink(second.getsockname()[1], tmp_path / "spool")
            )
            d.reload()
            send_events(fake, 11, 5)
            msgs = [second.recv(9000) for _ in range(6)]  # DAEMON_CONFIG and the 5
            assert sum(b"type=SYSCALL msg=audit(" in m for m in msgs) == 5
            wait_for(lambda: d.sink_stats[0].acked == 6)
            stats = d.stats
            assert stats["sink0_submitted"] == 6 and stats["sink0_dropped"] == 0
        assert [s.name for s in d.sink_stats] == ["syslog"]


@pytest.mark.parametrize(
    ("toml", "where"),
    [
        ("[json]\npath = 3\n", "line 2, column 8"),
        ("[pipeline]\nfanout_events = 0\n", "pipeline sizes"),
        ('[[sink]]\ntype = "syslog"\n', "spool_dir"),
    ],
)
def test_bad_auditlink_toml_names_the_file_and_line(
    fake: FakeKernel, tmp_path: Path, toml: str, where: str
) -> None:
    path = write(tmp_path, toml)
    with fake.client() as client, pytest.raises(ValueError) as e:
        Daemon(path, client=client).start()
    assert str(tmp_path / "auditlink.toml") in str(e.value) and where in str(e.value)
