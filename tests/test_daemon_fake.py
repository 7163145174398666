"""auditlink.Daemon against the fake kernel: registration, the log's lines and
DAEMON_* records, control calls, the Python hand-off, plugins and configuration
errors. The real-kernel counterparts are in test_daemon_kernel.py."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import threading
import time
from pathlib import Path

import pytest

from auditlink import Daemon, MessageType, _native
from auditlink.__main__ import build_parser
from auditlink.daemon import render_auditd_conf
from auditlink.testing import FakeKernel

# Time stamps near now: the daemon's own records carry the current time, and
# grouping into events runs on stream time.
NOW = int(time.time())
SYSCALL = (
    "audit({now}.{ms:03d}:{serial}): arch=c000003e syscall=110 success=yes exit=1 a0=0 "
    "a1=0 a2=0 a3=0 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
    'sgid=0 fsgid=0 tty=(none) ses=1 comm="x" exe="/x" key=(null)'
)


@pytest.fixture(autouse=True)
def _now() -> None:
    """Each test's records carry the time it runs (not the module's import time)."""
    global NOW
    NOW = int(time.time())


def conf(tmp_path: Path, **extra: str | int) -> dict[str, str | int]:
    settings: dict[str, str | int] = {
        "log_file": str(tmp_path / "log" / "audit.log"),
        "log_format": "RAW",
        "space_left": 2,
        "admin_space_left": 1,
        "plugin_dir": str(tmp_path / "plugins.d"),
    }
    settings.update(extra)
    return settings


def send_events(fake: FakeKernel, first: int, count: int) -> None:
    for serial in range(first, first + count):
        fake.send_record(1300, SYSCALL.format(now=NOW, ms=serial % 1000, serial=serial))
        fake.send_record(1320, f"audit({NOW}.{serial % 1000:03d}:{serial}): ")


def log_lines(tmp_path: Path, name: str = "audit.log") -> list[str]:
    # Not splitlines(): it also splits at ENRICHED's 0x1d separator.
    return (tmp_path / "log" / name).read_text().split("\n")[:-1]


def wait_for(predicate: object, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_registers_logs_raw_and_unregisters(fake: FakeKernel, tmp_path: Path) -> None:
    with fake.client() as client:
        with Daemon(conf(tmp_path), client=client) as d:
            assert fake.status.pid == os.getpid()
            send_events(fake, 1, 20)
            wait_for(lambda: d.stats["records_received"] == 40)
        assert fake.status.pid == 0
    lines = log_lines(tmp_path)
    assert re.fullmatch(
        r"type=DAEMON_START msg=audit\(\d+\.\d{3}:\d+\): op=start ver=3\.0\.9 format=raw "
        rf"kernel=\S+ auid=\d+ pid={os.getpid()} uid=0 ses=\d+ res=success",
        lines[0],
    )
    # EOE records are not logged, as auditd does.
    assert lines[1:-1] == [
        "type=SYSCALL msg=" + SYSCALL.format(now=NOW, ms=s % 1000, serial=s) for s in range(1, 21)
    ]
    assert re.fullmatch(
        rf"type=DAEMON_END msg=audit\(\d+\.\d{{3}}:\d+\): op=terminate auid=\d+ uid=0 ses=\d+ "
        rf"pid={os.getpid()} res=success",
        lines[-1],
    )
    start_serial = int(lines[0].split(":")[1].split(")")[0])
    assert int(lines[-1].split(":")[1].split(")")[0]) == start_serial + 1
    mode = stat.S_IMODE((tmp_path / "log" / "audit.log").stat().st_mode)
    assert mode == 0o600


def test_enriched_with_node_name(fake: FakeKernel, tmp_path: Path) -> None:
    settings = conf(tmp_path, log_format="ENRICHED", name_format="user", name="box")
    with fake.client() as client, Daemon(settings, client=client) as d:
        send_events(fake, 7, 1)
        wait_for(lambda: d.stats["records_received"] == 2)
    line = log_lines(tmp_path)[1]
    assert line.startswith(f"node=box type=SYSCALL msg=audit({NOW}.007:7): arch=c000003e")
    assert line.endswith(
        '\x1dARCH=x86_64 SYSCALL=getppid AUID="root" UID="root" GID="root" EUID="root" '
        'SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"'
    )


def test_refuses_while_another_live_process_is_registered(fake: FakeKernel, tmp_path: Path) -> None:
    fake.status = dataclasses.replace(fake.status, pid=1)
    with fake.client() as client:
        with pytest.raises(FileExistsError, match=r"process 1 \(\S+\) is registered"):
            Daemon(conf(tmp_path), client=client).start()
        # init is never asked to stop.
        with pytest.raises(FileExistsError, match="init is never signalled"):
            Daemon(conf(tmp_path), client=client, take_over=True).start()
        assert fake.status.pid == 1


def test_rotate_and_flush(fake: FakeKernel, tmp_path: Path) -> None:
    with fake.client() as client, Daemon(conf(tmp_path, num_logs=3), client=client) as d:
        send_events(fake, 1, 5)
        wait_for(lambda: d.stats["records_received"] == 10)
        d.rotate()
        send_events(fake, 6, 5)
        wait_for(lambda: d.stats["records_received"] == 20)
        d.flush()
        assert d.stats["rotations"] == 1
    old, new = log_lines(tmp_path, "audit.log.1"), log_lines(tmp_path)
    assert len(old) == 6 and old[0].startswith("type=DAEMON_START")
    assert re.fullmatch(
        rf"type=DAEMON_ROTATE msg=audit\(\S+\): op=rotate-logs auid=\d+ uid=0 ses=\d+ "
        rf"pid={os.getpid()} res=success",
        new[0],
    )
    assert [line for line in old + new if "SYSCALL" in line] == [
        "type=SYSCALL msg=" + SYSCALL.format(now=NOW, ms=s, serial=s) for s in range(1, 11)
    ]
    assert stat.S_IMODE((tmp_path / "log" / "audit.log.1").stat().st_mode) == 0o400


def test_callback_gets_filtered_events_and_its_failures_are_counted(
    fake: FakeKernel, tmp_path: Path
) -> None:
    got: list[int] = []

    def on_event(event: object) -> None:
        got.append(event.serial)  # type: ignore[attr-defined]
        if len(got) % 2:
            raise RuntimeError("callback failure")

    with fake.client() as client:
        d = Daemon(
            conf(tmp_path),
            client=client,
            on_event=on_event,
            event_filter=[MessageType.SYSCALL],
        )
        with d:
            send_events(fake, 1, 10)
            fake.send_record(1130, f"audit({NOW}.000:99): pid=1 uid=0 msg='x'")
            wait_for(lambda: len(got) == 10)
        stats = d.stats
    assert got == list(range(1, 11))
    assert stats["callback_errors"] == 5
    assert stats["events_to_python"] == 10
    assert len([ln for ln in log_lines(tmp_path) if "SYSCALL" in ln]) == 10


def test_slow_callback_loses_only_its_own_copies(fake: FakeKernel, tmp_path: Path) -> None:
    release = threading.Event()

    def on_event(event: object) -> None:
        release.wait(5)

    with fake.client() as client:
        d = Daemon(
            conf(tmp_path),
            client=client,
            on_event=on_event,
            extras="[python]\nqueue_events = 5\n",
        )
        with d:
            send_events(fake, 1, 200)
            # An event is handed over when its EOE arrives, after its SYSCALL
            # line is written: wait for the hand-off count, not the lines.
            wait_for(lambda: d.stats["python_dropped"] + d.stats["events_to_python"] == 201)
            stats = d.stats
            release.set()
    assert stats["python_dropped"] > 0
    # 200 events and DAEMON_START.
    assert stats["python_dropped"] + stats["events_to_python"] == 201
    assert len([ln for ln in log_lines(tmp_path) if "SYSCALL" in ln]) == 200


def test_plugins_get_every_record_including_eoe(fake: FakeKernel, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins.d"
    plugins.mkdir()
    out = tmp_path / "plugin.out"
    script = tmp_path / "plugin.sh"
    script.write_text(f"#!/bin/sh\nexec cat > {out}\n")
    script.chmod(0o755)
    (plugins / "test.conf").write_text(
        f"active = yes\ndirection = out\npath = {script}\ntype = always\nformat = string\n"
    )
    (plugins / "off.conf").write_text("active = no\npath = /bin/false\n")
    with fake.client() as client, Daemon(conf(tmp_path), client=client) as d:
        send_events(fake, 1, 3)
        wait_for(lambda: d.stats["records_received"] == 6)
        assert d._running().plugin_paths() == [str(script)]
    text = out.read_text().splitlines()
    assert text[0].startswith("type=DAEMON_START")
    assert [t.split()[0] for t in text[1:7]] == ["type=SYSCALL", "type=EOE"] * 3
    assert text[-1].startswith("type=DAEMON_END")


def test_json_lines_output(fake: FakeKernel, tmp_path: Path) -> None:
    jsonl = tmp_path / "events.jsonl"
    with fake.client() as client:
        d = Daemon(conf(tmp_path), client=client, extras=f'[json]\npath = "{jsonl}"\n')
        with d:
            send_events(fake, 1, 4)
            wait_for(lambda: d.stats["records_received"] == 8)
    events = [json.loads(line) for line in jsonl.read_text().splitlines()]
    # The daemon's own records (DAEMON_START/END) take a random serial below
    # 10000, which can be below any bound; pick the events by record type.
    assert [e["serial"] for e in events if "SYSCALL" in e] == [1, 2, 3, 4]
    assert "DAEMON_START" in events[0] and "DAEMON_END" in events[-1]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"bogus": 1}, r"line 1: unknown keyword \"bogus\""),
        ({"space_left": 2, "flush": "sometimes"}, r"line 2: flush"),
        ({"num_logs": "x"}, r"should only be numbers"),
    ],
)
def test_bad_config_names_the_line(
    fake: FakeKernel, tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    with fake.client() as client:
        with pytest.raises(ValueError, match=message):
            Daemon(settings, client=client).start()  # type: ignore[arg-type]
        assert fake.status.pid == 0


def test_config_checkers() -> None:
    debian = Path(__file__).parent / "data" / "daemon" / "debian-auditd.conf"
    assert _native.check_auditd_conf(debian.read_text()) == []
    warnings = _native.check_auditd_conf("space_left = 2\ntcp_listen_port = 60\n")
    assert warnings == [
        "auditd.conf line 2: tcp_listen_port: the network listener is not implemented; "
        "no port is opened"
    ]
    with pytest.raises(ValueError, match=r"auditlink\.toml"):
        _native.check_auditlink_toml("[nope]\n")


def test_cli_options() -> None:
    args = build_parser().parse_args(["daemon", "-f", "-c", "/x", "--rules", "/r"])
    assert (args.f, args.n, args.c, args.rules, args.take_over) == (True, False, "/x", "/r", False)


def test_contrib_configs_are_valid() -> None:
    contrib = Path(__file__).parent.parent / "contrib"
    assert _native.check_auditd_conf((contrib / "auditd.conf").read_text()) == []
    _native.check_auditlink_toml((contrib / "auditlink.toml").read_text())
    unit = (contrib / "auditlink.service").read_text()
    assert "Type=notify" in unit and "auditlink daemon" in unit


def test_ready_is_sent_to_systemd(
    fake: FakeKernel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    addr = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(addr)
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", addr)
    with fake.client() as client:
        d = Daemon(conf(tmp_path), client=client)
        runner = threading.Thread(target=d.run, kwargs={"handle_signals": False})
        runner.start()
        try:
            assert sock.recv(100) == f"READY=1\nMAINPID={os.getpid()}".encode()
            assert fake.status.pid == os.getpid()
        finally:
            d.stop()
            runner.join(10)
        assert fake.status.pid == 0
    sock.close()


def test_rules_d_is_loaded_in_augenrules_order(fake: FakeKernel, tmp_path: Path) -> None:
    rules = tmp_path / "rules.d"
    rules.mkdir()
    (rules / "10-base.rules").write_text("-D\n")
    (rules / "30-watch.rules").write_text("-w /etc/shadow -p wa -k shadow\n")
    (rules / "9-first.rules").write_text("-b 320\n")
    with fake.client() as client, Daemon(conf(tmp_path), client=client, rules=rules):
        assert fake.status.backlog_limit == 320
        assert [r.to_command_line() for r in fake.rules] == ["-w /etc/shadow -p wa -k shadow"]


def test_reload_rereads_auditd_conf(fake: FakeKernel, tmp_path: Path) -> None:
    path = tmp_path / "auditd.conf"
    path.write_text(render_auditd_conf(conf(tmp_path)))
    with fake.client() as client, Daemon(path, client=client) as d:
        send_events(fake, 1, 1)
        wait_for(lambda: d.stats["lines_written"] == 2)
        path.write_text(render_auditd_conf(conf(tmp_path, log_format="ENRICHED")))
        d.reload()
        send_events(fake, 2, 1)
        wait_for(lambda: d.stats["lines_written"] == 4)
        path.write_text("bogus = 1\n")
        with pytest.raises(ValueError, match="line 1"):
            d.reload()
    lines = log_lines(tmp_path)
    assert "\x1d" not in lines[1]
    assert lines[2].startswith("type=DAEMON_CONFIG ")
    assert " op=reconfigure state=changed auid=" in lines[2]
    assert lines[3].startswith("type=SYSCALL ") and "\x1dARCH=x86_64 SYSCALL=getppid" in lines[3]
