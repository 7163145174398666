"""Enrichment of the real kernel's events: process trees of known shape (a shell
that runs a script that runs a binary; a double fork; a reused pid), and containers
made from cgroups with each runtime's path shapes (no Docker needed).

The rules match only processes of a test-only group; the kernel state is restored
by the fixtures (conftest.py); cgroups are made only under /sys/fs/cgroup/unified and
/sys/fs/cgroup/systemd and removed afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditlink import AuditClient, Enricher

from .helpers import KernelState
from .test_enrich_support import (
    Collector,
    add_rules,
    as_group,
    event_id,
    ours,
    syscall,
)

pytestmark = pytest.mark.kernel

FORKS = "execve,clone,clone3,fork,vfork,exit_group"


def execs(evs: list[Any]) -> list[Any]:
    return [d for d in evs if syscall(d) == "execve"]


def test_shell_script_binary(kernel_state: KernelState, tmp_path: Path) -> None:
    script = tmp_path / "enrich-t.sh"
    script.write_text("#!/bin/sh\n/usr/bin/id -u\nexit 0\n")
    script.chmod(0o755)
    tmp_path.chmod(0o755)
    enricher = Enricher(
        {
            "label-process": {
                "label-exe": {"/usr/bin/id$": "ident"},
                "label-script": {"enrich-t[.]sh$": "scripted"},
                "propagate-labels": ["scripted"],
            }
        }
    )
    with AuditClient.daemon() as client:
        add_rules(FORKS)
        got = Collector(client, enricher, "auditlink-enrich-tree")
        subprocess.run(as_group(["/bin/sh", "-c", f"{script}; true"]), check=True)
        evs = ours(got.finish())
    sh, scr, idp = execs(evs)[-3:]
    assert sh["EXECVE"]["ARGV"][:2] == ["/bin/sh", "-c"]
    assert scr["SYSCALL"]["SCRIPT"] == str(script)
    assert idp["SYSCALL"]["exe"] == "/usr/bin/id"
    me = os.getpid()
    # sh was setpriv (a child of this test) before its exec.
    assert sh["SYSCALL"]["SPAWNED_BY"]["pid"] == me
    assert scr["SYSCALL"]["SPAWNED_BY"]["EVENT_ID"] == event_id(sh)
    assert scr["SYSCALL"]["PPID"]["EVENT_ID"] == event_id(sh)
    assert scr["SYSCALL"]["LABELS"] == ["scripted"]
    assert idp["SYSCALL"]["SPAWNED_BY"]["EVENT_ID"] == event_id(scr)
    assert idp["SYSCALL"]["SPAWNED_BY"]["exe"] == "/usr/bin/dash"
    assert idp["SYSCALL"]["LABELS"] == ["ident", "scripted"]
    chain = idp["SYSCALL"]["ANCESTORS"]
    assert [a.get("EVENT_ID") for a in chain[:2]] == [event_id(scr), event_id(sh)]
    assert chain[2]["pid"] == me and "START_TIME" in chain[2]
    assert chain[-1]["pid"] == 1
    # Every event of the tree names the image its process runs and its spawner.
    image = {sh["SYSCALL"]["pid"]: sh, scr["SYSCALL"]["pid"]: scr, idp["SYSCALL"]["pid"]: idp}
    spawner = {id(sh): me, id(scr): event_id(sh), id(idp): event_id(scr)}
    for d in evs[evs.index(sh) :]:
        s = d["SYSCALL"]
        if syscall(d) in ("execve", "exit_group") or s["pid"] not in image:
            continue
        own = image[s["pid"]]
        assert s["PID"]["EVENT_ID"] == event_id(own), d
        want = spawner[id(own)]
        got = s["SPAWNED_BY"]["pid"] if want == me else s["SPAWNED_BY"]["EVENT_ID"]
        assert got == want, d
    for d in evs:
        if syscall(d) == "exit_group" and d["SYSCALL"]["pid"] == idp["SYSCALL"]["pid"]:
            assert d["SYSCALL"]["PID"]["EVENT_ID"] == event_id(idp)


DOUBLE_FORK = """
import os, sys, time
b = os.fork()
if b == 0:
    if os.fork() == 0:
        time.sleep(0.4)
        os.execv("/usr/bin/id", ["id", "-g"])
    os._exit(0)
os.waitpid(b, 0)
print(b)
time.sleep(0.8)
"""


def test_double_fork(kernel_state: KernelState) -> None:
    enricher = Enricher()
    with AuditClient.daemon() as client:
        add_rules(FORKS)
        got = Collector(client, enricher, "auditlink-enrich-double-fork")
        out = subprocess.run(
            as_group([sys.executable, "-c", DOUBLE_FORK]), check=True, capture_output=True
        )
        b = int(out.stdout.split()[0])  # then the grandchild's `id -g`
        evs = ours(got.finish())
    idp = [d for d in execs(evs) if d["SYSCALL"]["exe"] == "/usr/bin/id"][-1]
    fork_b = [d for d in evs if syscall(d).startswith("clone") and d["SYSCALL"]["exit"] == b][-1]
    s = idp["SYSCALL"]
    assert s["ppid"] != b  # re-parented when b exited
    assert s["SPAWNED_BY"]["pid"] == b
    assert s["SPAWNED_BY"]["EVENT_ID"] == event_id(fork_b)
    assert [a["pid"] for a in s["ANCESTORS"][:2]] == [b, fork_b["SYSCALL"]["pid"]]


PID_REUSE = """
import os, sys, time
def spawn(argv, want=None):
    pid = os.fork()
    if pid == 0:
        if want is None or os.getpid() == want:
            os.execv(argv[0], argv)
        os._exit(3)
    os.waitpid(pid, 0)
    return pid
first = spawn(["/bin/sleep", "0.5"])
for _ in range(200):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(first - 1))
    if spawn(["/bin/sleep", "0.5"], want=first) == first:
        print(first)
        break
time.sleep(0.2)
"""


@pytest.mark.parametrize("rules", [FORKS, "execve"], ids=["forks-audited", "execve-only"])
def test_reused_pid(kernel_state: KernelState, rules: str) -> None:
    enricher = Enricher()
    with AuditClient.daemon() as client:
        add_rules(rules)
        got = Collector(client, enricher, f"auditlink-enrich-reuse-{rules}")
        out = subprocess.run(
            as_group([sys.executable, "-c", PID_REUSE]), check=True, capture_output=True
        )
        if not out.stdout.strip():
            pytest.skip("could not get the same pid twice within 200 tries (busy machine)")
        pid = int(out.stdout)
        evs = ours(got.finish())
    argv = [(d, d.get("EXECVE", {}).get("ARGV", [])) for d in execs(evs)]
    helper = [d for d, a in argv if a[:2] == [sys.executable, "-c"]][-1]
    first, second = [d for d in execs(evs) if d["SYSCALL"]["pid"] == pid][-2:]
    for d in (first, second):
        s = d["SYSCALL"]
        assert s["PID"]["EVENT_ID"] == event_id(d)
        assert s["SPAWNED_BY"]["EVENT_ID"] == event_id(helper), d
        assert s["ANCESTORS"][0]["EVENT_ID"] == event_id(helper)
    now = enricher.tracker.process(pid)  # the second process, or none known
    assert now is None or now.event_id in (event_id(second), None)  # None: /proc, a newer one


# ------------------------------------------------------------------ containers

CID = "2b45249a1a21d3806efd98e2eb93c7dc319c645a27e7cd85362227becc68ca44"
POD = "0f8b2c4e-1a2b-4c3d-8e9f-0123456789ab"
SD_POD = POD.replace("-", "_")
SHAPES: list[tuple[str, str, str | None]] = [
    (f"system.slice/docker-{CID}.scope", "docker", None),
    (f"docker/{CID}", "docker", None),
    (f"system.slice/containerd-{CID}.scope", "containerd", None),
    (
        f"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{SD_POD}.slice/"
        f"cri-containerd-{CID}.scope",
        "containerd",
        POD,
    ),
    (f"kubepods.slice/kubepods-pod{SD_POD}.slice/crio-{CID}.scope", "cri-o", POD),
    (f"machine.slice/libpod-{CID}.scope/container", "podman", None),
    (f"libpod_parent/libpod-{CID}", "podman", None),
    (f"kubepods/besteffort/pod{POD}/{CID}", "", POD),
]


@pytest.fixture
def cgroup_roots() -> Iterator[list[Path]]:
    """A private directory in each of the two hierarchies tests may use."""
    made: list[Path] = []
    for base in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"):
        if os.path.exists(os.path.join(base, "cgroup.procs")):
            root = Path(base) / f"auditlink-enrich-{os.getpid()}"
            root.mkdir()
            made.append(root)
    if not made:
        pytest.skip("neither /sys/fs/cgroup/unified nor /sys/fs/cgroup/systemd is mounted")
    try:
        yield made
    finally:
        for root in made:
            for d in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
                if d.is_dir():
                    _rmdir(d)
            _rmdir(root)


def _rmdir(d: Path) -> None:
    for _ in range(50):
        try:
            d.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)  # the last process is still leaving


def _start_in(cgroup: Path) -> subprocess.Popen[bytes]:
    def enter() -> None:
        (cgroup / "cgroup.procs").write_text("0")

    cmd = as_group(["/bin/sleep", "1.5"])
    return subprocess.Popen(cmd, preexec_fn=enter)


def test_containers_from_cgroup_paths(kernel_state: KernelState, cgroup_roots: list[Path]) -> None:
    enricher = Enricher()
    cases: list[tuple[subprocess.Popen[bytes], str, str, str | None, str]] = []
    with AuditClient.daemon() as client:
        add_rules("execve")
        got = Collector(client, enricher, "auditlink-enrich-containers")
        for root in cgroup_roots:
            for shape, runtime, pod in SHAPES:
                d = root / shape
                d.mkdir(parents=True)
                cases.append((_start_in(d), shape, runtime, pod, root.parent.name))
            svc = root / "system.slice" / "auditlink-t.service"
            svc.mkdir(parents=True, exist_ok=True)
            cases.append((_start_in(svc), "service", "", None, root.parent.name))
        time.sleep(0.5)
        by_pid = {p.pid: p for p, *_ in cases}
        tracked = {pid: enricher.tracker.process(pid) for pid in by_pid}
        for p, *_ in cases:
            p.wait()
        evs = ours(got.finish())
    seen = {d["SYSCALL"]["pid"]: d["SYSCALL"]["PID"] for d in execs(evs)}
    for p, shape, runtime, pod, hierarchy in cases:
        where = f"{hierarchy}: {shape}"
        pid_info = seen[p.pid]
        t = tracked[p.pid]
        assert t is not None, where
        if shape == "service":
            assert pid_info["systemd_service"] == ["auditlink-t"], where
            assert t.systemd_service == ("auditlink-t",) and t.container_id is None, where
            continue
        want: dict[str, str] = {"id": CID}
        if runtime:
            want["runtime"] = runtime
        if pod:
            want["pod_uid"] = pod
        assert pid_info["container"] == want, where
        assert (t.container_id, t.container_runtime or "", t.pod_uid) == (CID, runtime, pod), where


def test_cgroup_files_of_this_machine() -> None:
    """The process table seeded from /proc finds no container for the processes of a
    machine without containers, and reads every process's cgroup file without error."""
    e = Enricher()
    assert e.stats["processes"] > 1
    me = e.tracker.process(os.getpid())
    assert me is not None and me.container_id is None
