"""The daemon's fan-out on the real kernel: enriched JSON lines written by
``auditlink daemon`` (one line per audited call, the enrichments laurel adds and
the same values as laurel running as the daemon's own plugin), and forwarding
sinks fed by the daemon to real receivers on 127.0.0.1 (rsyslog, the rotel
OpenTelemetry collector, a central auditd) that lose nothing across a 10 s outage.

Daemons and receivers are started and stopped by PID; ``kernel_state`` holds the
machine-wide lock and restores status and rules. Only the test's own processes'
events are counted (a new daemon also gets records the kernel held from an
earlier one).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest

from auditlink import AuditClient

from .helpers import KernelState
from .test_daemon_kernel import burst, daemon_process, write_conf
from .test_enrich_kernel import DOUBLE_FORK, FORKS
from .test_enrich_laurel import (
    LABELS,
    assert_same_as_laurel,
    laurel_binary,
    laurel_plugin,
    wait_laurel_ready,
)
from .test_enrich_support import KEY, add_rules, as_group, event_id
from .test_sinks_engines import (
    NODE,
    CentralAuditd,
    NetNs,
    Relay,
    Rotel,
    Rsyslog,
    need_root_tools,
    rotel_agent,
)
from .test_sinks_otlp import rotel  # noqa: F401  (fixture)
from .test_sinks_syslog import rsyslog  # noqa: F401  (fixture)

pytestmark = pytest.mark.kernel


@contextmanager
def daemon(conf_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``auditlink daemon -f`` (its final stats on stderr, in ``DIR/daemon.err``)."""
    with (
        AuditClient() as client,
        daemon_process(client, conf_dir, "-f", stderr=conf_dir / "daemon.err") as proc,
    ):
        yield proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0


def final_sink_line(conf_dir: Path) -> str:
    lines = (conf_dir / "daemon.err").read_text().splitlines()
    return next(ln for ln in lines if ln.startswith("auditlink daemon: sink "))


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The lines of ``path`` and its rotated files, oldest first."""
    rotated = [p for p in path.parent.glob(path.name + ".*") if p.suffix[1:].isdigit()]
    files = [*sorted(rotated, key=lambda p: -int(p.suffix[1:])), path]
    return [json.loads(ln) for f in files for ln in f.read_text().splitlines() if ln]


def mine(events: list[dict[str, Any]], pid: int) -> list[dict[str, Any]]:
    return [e for e in events if e.get("SYSCALL", {}).get("pid") == pid]


def wait_until(check: Callable[[], bool], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


# ------------------------------------------------------------ enriched JSON


def test_enriched_json_one_line_per_call_and_same_as_laurel(
    kernel_state: KernelState, tmp_path: Path
) -> None:
    tmp_path.chmod(0o755)
    plugins = tmp_path / "plugins.d"
    plugins.mkdir()
    laurel_log = laurel_plugin(laurel_binary(), tmp_path, plugins)
    write_conf(tmp_path, end_of_event_timeout=2, q_depth=20000)
    out = tmp_path / "log" / "audit.jsonl"
    (tmp_path / "auditlink.toml").write_text(
        f'[json]\npath = "{out}"\n[enrich]\nexecve-env = ["LD_PRELOAD"]\n{LABELS}'
    )
    script = tmp_path / "enrich-l.sh"
    script.write_text("#!/bin/sh\n/usr/bin/id -u\nexit 0\n")
    script.chmod(0o755)
    n = 500
    with AuditClient() as client:
        client.set_backlog_limit(8192)
        with daemon(tmp_path) as proc:
            wait_laurel_ready(laurel_log)
            pid = burst(client, n)
            add_rules(FORKS)
            env = dict(os.environ, LD_PRELOAD="")
            subprocess.run(as_group(["/bin/sh", "-c", f"{script}; true"]), check=True, env=env)
            subprocess.run(as_group([sys.executable, "-c", DOUBLE_FORK]), check=True)
            time.sleep(2.5)  # laurel's end-of-event timeout
            stop(proc)
    events = json_lines(out)
    calls = mine(events, pid)
    assert len(calls) == n
    for e in calls:
        s = e["SYSCALL"]
        assert s["SYSCALL"] == "getppid" and s["key"] == ["auditlink-stream"]
        assert set(s["PID"]) & {"EVENT_ID", "START_TIME"}, s
        assert s["PID"]["exe"] == os.path.realpath(sys.executable)
        assert s["PPID"]["START_TIME"] or s["PPID"]["EVENT_ID"]
        assert s["SPAWNED_BY"]["pid"] == os.getpid()
        assert s["ANCESTORS"][0]["pid"] == os.getpid()
        assert "UID_GROUPS" in s
    # Field by field against laurel (a plugin of the same daemon, same stream).
    ours = {event_id(d): d for d in events if KEY in (d.get("SYSCALL", {}).get("key") or [])}
    assert_same_as_laurel(ours, laurel_log)


def test_filtered_events_are_diverted_and_rotation_keeps_every_line(
    kernel_state: KernelState, tmp_path: Path
) -> None:
    """filter-action = "log": the filtered calls go to the filter log only; the
    JSON files rotate by size (and on SIGUSR1) without losing a line."""
    write_conf(tmp_path)
    out, filtered = tmp_path / "log" / "audit.jsonl", tmp_path / "log" / "filtered.jsonl"
    (tmp_path / "auditlink.toml").write_text(
        f'[json]\npath = "{out}"\nfilter_log = "{filtered}"\nsize = 200000\ngenerations = 50\n'
        '[filter]\nfilter-keys = ["auditlink-stream"]\nfilter-action = "log"\n'
        "keep-first-per-process = false\n"
    )
    n = 1000
    with AuditClient() as client:
        client.set_backlog_limit(8192)
        with daemon(tmp_path) as proc:
            pid = burst(client, n)
            proc.send_signal(signal.SIGUSR1)
            pid2 = burst(client, n)
            time.sleep(0.5)
            stop(proc)
    assert mine(json_lines(out), pid) == [] and mine(json_lines(out), pid2) == []
    div = json_lines(filtered)
    assert len(mine(div, pid)) == n and len(mine(div, pid2)) == n
    assert len(list(filtered.parent.glob("filtered.jsonl.*"))) >= 2


# ------------------------------------------------------------ sinks


def sink_conf(tmp_path: Path, body: str, enrich: str = "", **conf: str | int) -> None:
    write_conf(tmp_path, **conf)
    spool = tmp_path / "spool"
    (tmp_path / "auditlink.toml").write_text(
        f'{enrich}[[sink]]\n{body}spool_dir = "{spool}"\nnetwork_retry_time = 1\n'
    )


def outage_run(
    tmp_path: Path,
    arrived: Callable[[int], int],
    down: Callable[[], None],
    up: Callable[[], None],
    n: int = 300,
) -> None:
    """n calls delivered live; the receiver down; n calls during 10 s of outage;
    the receiver back: all 2n arrive, the daemon reports nothing dropped."""
    with AuditClient() as client:
        client.set_backlog_limit(8192)
        with daemon(tmp_path) as proc:
            pid = burst(client, n)
            assert wait_until(lambda: arrived(pid) >= n, 30), arrived(pid)
            down()
            t0 = time.monotonic()
            pid2 = burst(client, n)
            time.sleep(max(0.0, 10 - (time.monotonic() - t0)))
            assert arrived(pid2) == 0
            up()
            assert wait_until(lambda: arrived(pid2) >= n, 60), arrived(pid2)
            stop(proc)
    assert arrived(pid) == n and arrived(pid2) == n
    assert " dropped=0 " in final_sink_line(tmp_path), final_sink_line(tmp_path)


def test_syslog_sink_every_event_arrives_through_an_outage(
    kernel_state: KernelState,
    rsyslog: Rsyslog,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    sink_conf(
        tmp_path,
        f'type = "syslog"\ntransport = "tcp"\nport = {rsyslog.tcp_port}\n',
    )

    def arrived(pid: int) -> int:
        needle = f" pid={pid} "
        return sum(1 for ln in rsyslog.lines() if "type=SYSCALL" in ln and needle in ln)

    outage_run(tmp_path, arrived, rsyslog.stop, rsyslog.start)


def test_otlp_sink_gets_enriched_events_through_an_outage(
    kernel_state: KernelState,
    rotel: Rotel,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """With enrichment on, the sink gets the kept events with the enriched JSON
    as the log record's body."""
    binary = rotel_agent()
    assert binary is not None
    url = f"http://127.0.0.1:{rotel.http_port}/v1/logs"
    sink_conf(tmp_path, f'type = "otlp"\nendpoint = "{url}"\n', enrich="[enrich]\npid = true\n")

    def records(pid: int) -> list[dict[str, str]]:
        want = f"Str({pid})"
        return [
            r
            for r in rotel.records()
            if r.get("audit.pid") == want and r.get("audit.record_type") == "Str(SYSCALL)"
        ]

    seen: list[int] = []

    def arrived(pid: int) -> int:
        if not seen:
            seen.append(pid)
        return len(records(pid))

    outage_run(tmp_path, arrived, rotel.stop, lambda: rotel.start(binary))
    first = records(seen[0])[0]
    body = json.loads(first["body"][len("Str(") : -1])
    assert body["SYSCALL"]["SPAWNED_BY"]["pid"] == os.getpid()
    assert first["host.name"].startswith("Str(")


Runner = Callable[[Path, Callable[[int], int], Callable[[], None], Callable[[], None]], None]


def with_central_auditd(tmp_path: Path, run: Runner, sink: str = "", **conf: str | int) -> None:
    """A remote sink to a central auditd (through a relay on 127.0.0.1): calls
    ``run(tmp_path, arrived, down, up)``, as ``outage_run`` takes them. ``sink``
    adds keys to the sink's table, ``conf`` settings to auditd.conf."""
    need_root_tools("auditd")
    ns = NetNs()
    central = CentralAuditd(ns, tmp_path / "central")
    relay = Relay(ns, central.port)
    try:
        central.start()
        sink_conf(
            tmp_path,
            f'type = "remote"\nremote_server = "127.0.0.1"\nport = {relay.port}\n{sink}',
            "",
            **{"name_format": "user", "name": NODE, **conf},
        )

        pids: list[int] = []

        def arrived(pid: int) -> int:
            if pid not in pids:
                pids.append(pid)
            needle = f" pid={pid} "
            return sum(1 for ln in central.lines() if needle in ln)

        run(tmp_path, arrived, central.stop, central.start)
        # The central log has the very SYSCALL lines (ENRICHED, node= prefix)
        # the daemon logged: the sink sends the writer's text, not its own.
        needles = [f" pid={p} " for p in pids]
        logged = [
            ln
            for f in sorted((tmp_path / "log").glob("audit.log*"))
            for ln in f.read_text(errors="replace").splitlines()
        ]
        ours = sorted(ln for ln in logged if any(n in ln for n in needles))
        theirs = sorted(ln for ln in central.lines() if any(n in ln for n in needles))
        assert ours and ours == theirs, (ours[:1], theirs[:1])
    finally:
        central.stop()
        relay.close()
        ns.close()


def test_remote_sink_into_a_central_auditd_through_an_outage(
    kernel_state: KernelState, tmp_path: Path
) -> None:
    with_central_auditd(tmp_path, outage_run)
