"""auditlink.Enricher without the real kernel: configuration (mapping, TOML file,
laurel's own sample), logs to enriched JSON (Python API and ``parse --enrich``),
the process table seeded from /proc, ``client.events(enrich=...)`` on the fake
kernel, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlink import AuditClient, Enricher, read_events
from auditlink.testing import FakeKernel

ROOT = Path(__file__).resolve().parents[1]
LAUREL_SAMPLE = ROOT / "rust" / "audit" / "enrich" / "testdata" / "laurel-config.toml"
TAIL = "auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1"
NO_PROC: dict[str, Any] = {"auditlink": {"procfs": False}}


def syscall_body(nr: int, pid: int, ppid: int, exe: str, exit: int = 0, key: str = "") -> str:
    k = f'"{key}"' if key else "(null)"
    return (
        f"arch=c000003e syscall={nr} success=yes exit={exit} a0=0 a1=0 a2=0 a3=0 items=0 "
        f'ppid={ppid} pid={pid} {TAIL} comm="{exe.rsplit("/", 1)[-1]}" exe="{exe}" key={k}'
    )


def log(serial: int, nr: int, pid: int, ppid: int, exe: str, *more: str, **kw: Any) -> str:
    ts = f"audit(1700000000.{serial:03d}:{serial})"
    lines = [f"type=SYSCALL msg={ts}: {syscall_body(nr, pid, ppid, exe, **kw)}"]
    lines += [f"type={m.split(' ', 1)[0]} msg={ts}: {m.split(' ', 1)[1]}" for m in more]
    lines.append(f"type=EOE msg={ts}: ")
    return "\n".join(lines) + "\n"


TREE = (
    log(1, 59, 100, 1, "/usr/bin/bash", 'EXECVE argc=1 a0="bash"')
    + log(2, 56, 100, 1, "/usr/bin/bash", exit=101)
    + log(3, 59, 101, 100, "/usr/bin/id", 'EXECVE argc=2 a0="id" a1="-u"', key="watched")
    + log(4, 2, 101, 100, "/usr/bin/id", key="noisy")
)


def lines(data: bytes) -> list[Any]:
    return [json.loads(x) for x in data.splitlines()]


def test_log_to_enriched_json() -> None:
    e = Enricher({**NO_PROC, "label-process": {"label-keys": ["watched"]}}, logs=True)
    kept, diverted = e.enrich_log(TREE.encode())
    more, _ = e.finish_log()
    evs = {d["serial"]: d for d in lines(kept + more)}
    assert diverted == b""
    s = evs[3]["SYSCALL"]
    assert s["PID"] == {
        "EVENT_ID": "1700000000.003:3",
        "comm": "id",
        "exe": "/usr/bin/id",
        "ppid": 100,
    }
    assert s["SPAWNED_BY"] == {
        "EVENT_ID": "1700000000.001:1",
        "pid": 100,
        "comm": "bash",
        "exe": "/usr/bin/bash",
    }
    assert s["PPID"] == {"EVENT_ID": "1700000000.001:1"}
    assert s["LABELS"] == ["watched"]
    assert [a["pid"] for a in s["ANCESTORS"]] == [100]
    assert evs[3]["EXECVE"]["ARGV"] == ["id", "-u"]
    assert evs[4]["SYSCALL"]["LABELS"] == ["watched"]
    assert e.stats["events"] == 4


def test_filters_and_divert(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[filter]\nfilter-keys = ['noisy', 'watched']\nfilter-action = 'log'\n"
        "[auditlink]\nprocfs = false\n"
    )
    e = Enricher(cfg)
    kept, diverted = e.enrich_log(TREE.encode())
    # The exec is the first event of its process: kept despite its key.
    assert [d["serial"] for d in lines(kept)] == [1, 2, 3]
    assert [d["serial"] for d in lines(diverted)] == [4]
    assert e.stats["diverted"] == 1


def test_laurel_sample_config_loads_unchanged() -> None:
    e = Enricher(LAUREL_SAMPLE, logs=True)
    assert e.stats["events"] == 0


@pytest.mark.parametrize(
    "config",
    [
        {"enrich": {"pid": "yes"}},
        {"filter": {"filter-sockaddr": ["1.2.3.4/40"]}},
        {"label-process": {"label-exe": {"(": "x"}}},
        {"auditlink": {"no-such-key": 1}},
        {"auditlink": {"max-processes": 1}},
    ],
)
def test_bad_config(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="enrich configuration"):
        Enricher(config)


def test_bad_config_types(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        Enricher(42)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        Enricher(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[enrich\n")
    with pytest.raises(ValueError):
        Enricher(bad)


def test_enrich_event_objects(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text(TREE)
    e = Enricher(NO_PROC)
    out = [e.enrich(ev) for ev in read_events(path)]
    assert all(d is not None for d in out)
    assert out[2]["SYSCALL"]["SPAWNED_BY"]["pid"] == 100  # type: ignore[index]
    p = e.tracker.process(101)
    assert p is not None and p.exe == "/usr/bin/id" and p.event_id == "1700000000.003:3"
    assert [a.pid for a in e.tracker.ancestors(101)] == [100]
    assert e.tracker.process(99999) is None
    assert "TrackedProcess pid=101" in repr(p)


def test_cli_parse_enrich(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text(TREE)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[filter]\nfilter-keys = ['noisy']\n")
    r = subprocess.run(
        [sys.executable, "-m", "auditlink", "parse", "--enrich", str(cfg), str(path)],
        check=True,
        capture_output=True,
    )
    evs = lines(r.stdout)
    assert [d["serial"] for d in evs] == [1, 2, 3]
    assert evs[2]["SYSCALL"]["SPAWNED_BY"]["EVENT_ID"] == "1700000000.001:1"
    r = subprocess.run(
        [sys.executable, "-m", "auditlink", "parse", "--enrich", str(tmp_path / "nope"), "-"],
        input=TREE.encode(),
        capture_output=True,
    )
    assert r.returncode == 1 and b"nope" in r.stderr


def test_enriched_log_from_files_as_from_chunks(tmp_path: Path) -> None:
    """write_enriched_log reads and writes real files in Rust (pump_fd), else
    goes through bytes; both give the same lines, kept and diverted, over a log
    larger than its 1 MiB chunks and 32 KiB pieces, lines split anywhere."""
    from io import BytesIO

    from auditlink.enrich import write_enriched_log

    big = "".join(
        log(n, 59, 1000 + n % 50, 1, "/usr/bin/id", f'EXECVE argc=2 a0="id" a1="{n}"', key="k")
        .replace("audit(1700000000.", f"audit({1700000000 + n // 1000}.")
        .replace(f".{n:03d}:", f".{n % 1000:03d}:")
        + log(n + 1, 2, 1000 + n % 50, 1, "/usr/bin/id", key="noisy" if n % 3 else "")
        for n in range(1, 8000, 2)
    ).encode()
    assert len(big) > 2 << 20
    src = tmp_path / "audit.log"
    src.write_bytes(big)
    conf = {**NO_PROC, "filter": {"filter-keys": ["noisy"], "filter-action": "log"}}
    with open(src, "rb") as f, open(tmp_path / "k", "wb") as o, open(tmp_path / "d", "wb") as d:
        o.write(b"first\n")  # buffered in Python: flushed before Rust writes
        write_enriched_log(f, o, conf, d)
    kept, diverted = BytesIO(), BytesIO()
    write_enriched_log(BytesIO(big), kept, conf, diverted)
    assert (tmp_path / "k").read_bytes() == b"first\n" + kept.getvalue()
    assert (tmp_path / "d").read_bytes() == diverted.getvalue()
    assert len(lines(kept.getvalue())) == 4000 + 1333 and len(lines(diverted.getvalue())) == 2667
    # A file read from already in Python (bytes buffered there) goes through bytes.
    with open(src, "rb") as f, open(tmp_path / "k2", "wb") as o:
        f.readline()
        write_enriched_log(f, o, conf)
    rest = lines((tmp_path / "k2").read_bytes())
    assert "SYSCALL" not in rest[0] and rest[0]["serial"] == 1 and len(rest) == 4000 + 1333 + 1
    with pytest.raises(ValueError, match="descriptor"):
        Enricher(NO_PROC, logs=True)._native.pump_fd(-1, 1)


def test_process_table_seeded_from_proc() -> None:
    e = Enricher()
    me = e.tracker.process(os.getpid())
    assert me is not None and me.running and me.start_time is not None
    chain = e.tracker.ancestors(os.getpid())
    assert chain and chain[0].pid == os.getppid() and chain[-1].pid == 1


def test_state_survives_a_restart(tmp_path: Path) -> None:
    cfg = {"directory": str(tmp_path), "state": {"file": "state"}, **NO_PROC}
    e = Enricher(cfg)
    e.enrich_log(TREE.encode())
    e.finish_log()
    e.save_state()
    assert (tmp_path / "state").exists()
    again = Enricher(cfg)
    p = again.tracker.process(101)
    assert p is not None and p.event_id == "1700000000.003:3"
    time.sleep(0.01)
    stale = Enricher({**cfg, "state": {"file": "state", "max-age": 0}})
    assert stale.tracker.process(101) is None


def test_client_events_enriched_on_fake_kernel(fake: FakeKernel, fake_client: AuditClient) -> None:
    for block in TREE.strip().split("\n"):
        t, rest = block.split(" msg=", 1)
        num = {"type=SYSCALL": 1300, "type=EXECVE": 1309, "type=EOE": 1320}[t]
        fake.send_record(num, rest.encode())
    e = Enricher(NO_PROC)
    got: list[Any] = []
    threading.Timer(3.0, fake_client.close).start()
    for d in fake_client.events(enrich=e):
        got.append(d)
        if len(got) == 4:
            fake_client.close()
    assert [d["serial"] for d in got] == [1, 2, 3, 4]
    assert got[2]["SYSCALL"]["SPAWNED_BY"]["pid"] == 100


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_never_crashes(data: bytes) -> None:
    e = Enricher(NO_PROC, logs=True)
    kept, _ = e.enrich_log(data)
    more, _ = e.finish_log()
    for d in lines(kept + more):
        assert isinstance(d, dict)
