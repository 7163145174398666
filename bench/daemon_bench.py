"""The cost of the audit daemon to the audited machine: C recv loop vs auditd vs auditlink.

The generator and the C recv loop are bench/stream_bench.py's (imported, not copied):
the generator makes N audited getppid() calls (SYSCALL, PROCTITLE, EOE each) under a
rule matching only itself, backlog_limit 8192. Receivers, one at a time, rounds
alternating so each sees the same load:

  c                 the bare C recv() loop (no formatting, no log)
  auditd-raw        Debian's auditd 3.0.9, log_format RAW, flush INCREMENTAL_ASYNC
  auditd-enriched   the same, ENRICHED
  auditlink-raw     ``auditlink daemon``, same auditd.conf
  auditlink-enriched

Reported, each against the others measured in the same run (the issue's targets):
  1. generator time per audited call: auditlink ENRICHED <= 0.25x auditd ENRICHED
     and <= 1.25x the C loop; auditlink RAW <= 1.15x the C loop
  2. records/s written by auditlink ENRICHED >= 0.9x the C loop's received, 0 lost
  3. backlog_wait_time 0 (the kernel drops instead of waiting): records kept by
     auditlink ENRICHED >= 0.95x the C loop's
  4. receiver CPU per record, next to auditd's
  5. RSS of the auditlink daemon after 100k records and after ``--long N`` records
     (the issue: 10 million, RSS within 10 MB of the 100k figure)
  6. ``--kill9``: kill -9 the daemon mid-burst, restart it: records carried over by
     the kernel's hold queue vs lost, and the restart's time to registration,
     auditlink and auditd under the same test

    python bench/daemon_bench.py [--calls 200000] [--rounds 3] [--long 10000000] [--kill9]

``--rounds 0`` skips 1-4 (only ``--long`` / ``--kill9``).

Touches the real kernel: holds /tmp/auditlink-kernel.lock, saves the audit state
(status + rules) and restores it at the end, also on error. Daemons are started by
this script and stopped by PID; every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stream_bench
from kernel_lock import with_kernel

from auditlink import AuditClient

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class DaemonRun:
    receiver: str
    kept: int  # SYSCALL records of the generator in the log
    seconds: float  # from the log's first growth after go to its last (see LogWatch)
    gen_ns_per_call: float
    lost: int
    cpu: float
    rss_kb: list[int]
    reader_cpu: float = 0.0  # auditlink's socket-reading thread alone
    rss_at: list[tuple[int, int]] = field(default_factory=list)  # (records, RSS kB)

    @property
    def records(self) -> int:
        return 3 * self.kept

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


def write_conf(directory: Path, fmt: str, **extra: str | int) -> Path:
    (directory / "log").mkdir(mode=0o700, exist_ok=True)
    (directory / "plugins.d").mkdir(exist_ok=True)
    settings: dict[str, str | int] = {
        "log_file": str(directory / "log" / "audit.log"),
        "log_format": fmt,
        "flush": "INCREMENTAL_ASYNC",
        "freq": 50,
        "space_left": 2,
        "admin_space_left": 1,
        "disk_full_action": "SUSPEND",
        "plugin_dir": str(directory / "plugins.d"),
    }
    settings.update(extra)
    # auditlink.toml to try other settings, e.g. "[pipeline]\nbatch_records = 64"
    toml = os.environ.get("AUDITLINK_BENCH_TOML")
    if toml:
        (directory / "auditlink.toml").write_text(toml.replace("\\n", "\n") + "\n")
    conf = directory / "auditd.conf"
    conf.write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
    conf.chmod(0o640)
    return conf


def start_daemon(
    control: AuditClient,
    kind: str,
    conf_dir: Path,
    poll: float = 0.05,
    messages: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a daemon and wait until it is registered. With `messages`, auditlink
    runs with -f and its messages (the counters at exit among them) go to that file."""
    if kind == "auditd":
        cmd = ["auditd", "-n", "-c", str(conf_dir)]
    else:
        foreground = "-n" if messages is None else "-f"
        cmd = [sys.executable, "-m", "auditlink", "daemon", foreground, "-c", str(conf_dir)]
    with open(messages or os.devnull, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 20
    while control.get_status().pid != proc.pid:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"{kind} did not register")
        time.sleep(poll)
    return proc


def stop_daemon(control: AuditClient, proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # A daemon killed without unregistering: the kernel finds the dead socket on
    # the next registration; make sure nothing stays registered.
    if control.get_status().pid == proc.pid:
        control.unregister()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def thread_cpu_seconds(pid: int, name: str) -> float:
    """CPU of the threads of ``pid`` called ``name`` (0 if it has none)."""
    name = name[:15]  # comm holds 15 bytes of a thread's name
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            if (task / "comm").read_text().strip() == name:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def written_bytes(pid: int) -> int:
    """Bytes ``pid`` wrote with write(2) so far (its log, across rotations)."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def log_bytes(log_dir: Path) -> int:
    return sum(f.stat().st_size for f in log_dir.iterdir())


def count_syscalls(log_dir: Path, pid: int) -> int:
    needle = f" pid={pid} ".encode()
    n = 0
    for f in log_dir.iterdir():
        with f.open("rb") as fh:
            for line in fh:
                if needle in line and line.startswith(b"type=SYSCALL"):
                    n += 1
    return n


class Gen(NamedTuple):
    """One generator run: its pid, wall ns per call, when it was told to go
    (monotonic), and its own CPU ns per call (the rest it waited for a CPU or
    for the kernel's backlog)."""

    pid: int
    ns_per_call: float
    started: float
    cpu_ns_per_call: float


def run_generator(
    control: AuditClient,
    gen: Path,
    calls: int,
    during: object = None,
    before_go: Callable[[], None] | None = None,
) -> Gen:
    """Run the generator under its rule.
    ``before_go`` runs once the rule's own CONFIG_CHANGE record has had time to be
    logged, just before the generator starts calling."""
    g = subprocess.Popen(
        [str(gen), str(calls)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    rule = ["-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"pid={g.pid}"]
    try:
        subprocess.run(["auditctl", *rule], check=True, capture_output=True)
        assert g.stdin is not None
        if before_go is not None:
            time.sleep(0.3)
            before_go()
        g.stdin.write("go\n")
        g.stdin.flush()
        started = time.monotonic()
        d_seen = 0
        deadline = started + 120 + calls / 5000
        while g.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError("generator did not finish in time")
            if callable(during):
                during()
            time.sleep(0.05)
            # The kernel's lost wakeup (see stream_bench): a queued record wakes it.
            d_seen = d_seen + 1 if stream_bench._state(g.pid) == "D" else 0
            if d_seen >= 10:
                control.request_ack(stream_bench.AUDIT_USER, b"auditlink bench wake")
                d_seen = 0
        out, _ = g.communicate(timeout=10)
        n, secs, cpu = out.split()
        return Gen(g.pid, float(secs) / int(n) * 1e9, started, float(cpu) / int(n) * 1e9)
    finally:
        if g.poll() is None:
            g.kill()
            g.wait()
        subprocess.run(["auditctl", "-d", *rule[1:]], capture_output=True)


class LogWatch(threading.Thread):
    """When the log first grew after :meth:`arm` and when it last grew, from its size
    polled every 5 ms: the daemon's first-to-last write, as the C loop times its own
    first-to-last record (the go signal and the 1 s quiet wait are not its work)."""

    def __init__(self, log_file: Path) -> None:
        super().__init__(daemon=True)
        self.log_file = log_file
        self.first = self.last = 0.0
        self.armed = threading.Event()
        self.done = threading.Event()

    def size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except FileNotFoundError:
            return 0

    def arm(self) -> None:
        self.base = self.size()
        self.armed.set()

    def run(self) -> None:
        self.armed.wait()
        prev = self.base
        while not self.done.wait(0.005):
            size, now = self.size(), time.monotonic()
            if size != prev:
                self.first = self.first or now
                self.last, prev = now, size

    def seconds(self) -> float:
        self.done.set()
        self.join()
        return self.last - self.first


def wait_log_quiet(log_dir: Path, quiet: float = 1.0, limit: float = 120) -> float:
    """Wait until the log stops growing; returns when it last grew (monotonic)."""
    last_size, last_change = log_bytes(log_dir), time.monotonic()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        time.sleep(0.1)
        size = log_bytes(log_dir)
        if size != last_size:
            last_size, last_change = size, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            break
    return last_change


def daemon_run(control: AuditClient, receiver: str, gen: Path, calls: int) -> DaemonRun:
    kind, fmt = receiver.split("-")
    with tempfile.TemporaryDirectory(prefix="auditlink-daemon-bench-") as tmp:
        conf_dir = Path(tmp)
        write_conf(
            conf_dir, fmt.upper(), max_log_file=200, num_logs=3, max_log_file_action="ROTATE"
        )
        log_dir = conf_dir / "log"
        proc = start_daemon(control, kind, conf_dir)
        try:
            cpu0 = cpu_seconds(proc.pid)
            reader0 = thread_cpu_seconds(proc.pid, "auditlink-reader")
            rss: list[int] = [rss_kb(proc.pid)]
            wrote0 = written_bytes(proc.pid)
            marks: list[tuple[int, int]] = []  # (bytes written, RSS kB)

            def sample() -> None:
                rss.append(rss_kb(proc.pid))
                marks.append((written_bytes(proc.pid) - wrote0, rss[-1]))

            lost0 = control.get_status().lost
            watch = LogWatch(log_dir / "audit.log")
            watch.start()
            pid, ns, _, _ = run_generator(control, gen, calls, sample, watch.arm)
            wait_log_quiet(log_dir)
            seconds = watch.seconds()
            cpu = cpu_seconds(proc.pid) - cpu0
            reader = thread_cpu_seconds(proc.pid, "auditlink-reader") - reader0
            sample()
            lost = control.get_status().lost - lost0
        finally:
            stop_daemon(control, proc)
        kept = count_syscalls(log_dir, pid)
    # Records received when each sample was taken, from the bytes written: every
    # call's SYSCALL and PROCTITLE are logged, its EOE is not.
    per_record = marks[-1][0] / (3 * calls) if marks and marks[-1][0] else 1.0
    rss_at = [(int(b / per_record), kb) for b, kb in marks]
    return DaemonRun(receiver, kept, seconds, ns, lost, cpu, rss, reader, rss_at)


def c_run(control: AuditClient, gen: Path, recv_c: Path, calls: int) -> DaemonRun:
    r = stream_bench.one_run(control, "c", gen, recv_c, calls)
    return DaemonRun(
        "c", r.records // 3, r.seconds, r.gen_ns_per_call, r.lost, r.cpu, [r.rss_kb], r.cpu
    )


def kill9_run(
    control: AuditClient, kind: str, gen: Path, calls: int
) -> tuple[int, int, int, float]:
    """kill -9 the daemon when a third of the burst is logged, start a new one at
    once; returns (calls, records of the burst in the log, kernel lost counter,
    seconds from the kill to the new daemon's registration)."""
    with tempfile.TemporaryDirectory(prefix="auditlink-daemon-kill9-") as tmp:
        conf_dir = Path(tmp)
        write_conf(conf_dir, "RAW")
        log_dir = conf_dir / "log"
        procs = [start_daemon(control, kind, conf_dir)]
        lost0 = control.get_status().lost
        target = calls * 3 * 120 // 3  # ~120 bytes per record on average, a third in
        gap = [0.0]

        def maybe_kill() -> None:
            if len(procs) == 1 and log_bytes(log_dir) >= target:
                killed = time.monotonic()
                procs[0].send_signal(signal.SIGKILL)
                procs[0].wait()
                procs.append(start_daemon(control, kind, conf_dir, poll=0.001))
                gap[0] = time.monotonic() - killed

        try:
            pid = run_generator(control, gen, calls, maybe_kill).pid
            wait_log_quiet(log_dir)
            lost = control.get_status().lost - lost0
        finally:
            for p in procs:
                stop_daemon(control, p)
        return calls, count_syscalls(log_dir, pid), lost, gap[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--long", type=int, default=0, help="records for the RSS run (0: skip)")
    ap.add_argument("--kill9", action="store_true", help="also measure kill -9 + restart")
    args = ap.parse_args()
    gen, recv_c = stream_bench.build()
    return with_kernel(lambda control: run_all(control, gen, recv_c, args))


RECEIVERS = ("c", "auditd-raw", "auditd-enriched", "auditlink-raw", "auditlink-enriched")


def one(control: AuditClient, who: str, gen: Path, recv_c: Path, calls: int) -> DaemonRun:
    return (
        c_run(control, gen, recv_c, calls) if who == "c" else daemon_run(control, who, gen, calls)
    )


def costs(
    control: AuditClient,
    gen: Path,
    recv_c: Path,
    args: argparse.Namespace,
    check: Callable[[str, bool], None],
) -> None:
    """Sections 1-4: every receiver, ``args.rounds`` rounds, same load."""
    default_wait = control.get_status().backlog_wait_time
    runs: dict[str, list[DaemonRun]] = {w: [] for w in RECEIVERS}
    for _ in range(args.rounds):
        for who in RECEIVERS:
            r = one(control, who, gen, recv_c, args.calls)
            runs[who].append(r)
            print(
                f"  {who:18} kept {r.kept:7}/{args.calls}  {r.rate:10,.0f} rec/s  gen "
                f"{r.gen_ns_per_call:6.0f} ns/call  lost {r.lost:6}  receiver cpu "
                f"{r.cpu / max(r.records, 1) * 1e9:6.0f} ns/record (reader thread "
                f"{r.reader_cpu / max(r.records, 1) * 1e9:6.0f})",
                flush=True,
            )
    control.set_backlog_wait_time(0)
    drop: dict[str, list[DaemonRun]] = {"c": [], "auditlink-enriched": []}
    for _ in range(args.rounds):
        for who in drop:
            r = one(control, who, gen, recv_c, args.calls)
            drop[who].append(r)
            print(f"  wait=0 {who:18} kept {r.kept:7}/{args.calls}  lost {r.lost}", flush=True)
    control.set_backlog_wait_time(default_wait)

    def med(who: str, f: str) -> float:
        return statistics.median(getattr(r, f) for r in runs[who])

    ns = {w: med(w, "gen_ns_per_call") for w in RECEIVERS}
    print(f"\ncalls per run {args.calls}, rounds {args.rounds}, backlog_limit 8192, medians")
    print("1. cost per audited call (generator ns/call):")
    for w in RECEIVERS:
        print(f"     {w:18} {ns[w]:7.0f} ns  ({ns[w] / ns['c']:.2f}x C)")
    e_vs_auditd = (ns["auditlink-enriched"] - 0) / ns["auditd-enriched"]
    check(
        f"auditlink ENRICHED / auditd ENRICHED = {e_vs_auditd:.2f} (<= 0.25)", e_vs_auditd <= 0.25
    )
    e_vs_c = ns["auditlink-enriched"] / ns["c"]
    check(f"auditlink ENRICHED / C loop = {e_vs_c:.2f} (<= 1.25)", e_vs_c <= 1.25)
    r_vs_c = ns["auditlink-raw"] / ns["c"]
    check(f"auditlink RAW / C loop = {r_vs_c:.2f} (<= 1.15)", r_vs_c <= 1.15)
    rate = med("auditlink-enriched", "rate") / med("c", "rate")
    lost = sum(r.lost + (args.calls - r.kept) for r in runs["auditlink-enriched"])
    check(
        f"2. records/s auditlink ENRICHED {med('auditlink-enriched', 'rate'):,.0f} vs C "
        f"{med('c', 'rate'):,.0f} = {rate:.2f} (>= 0.9), not logged {lost} (0)",
        rate >= 0.9 and lost == 0,
    )
    kept_a = sum(r.kept for r in drop["auditlink-enriched"])
    kept_c = sum(r.kept for r in drop["c"])
    check(
        f"3. backlog_wait_time 0: kept auditlink {kept_a}, C {kept_c} = "
        f"{kept_a / max(kept_c, 1):.3f} (>= 0.95)",
        kept_a >= 0.95 * kept_c,
    )
    print("4. receiver CPU per record (ns): whole process, and auditlink's reader thread alone")
    for w in RECEIVERS:
        per = statistics.median(r.cpu / max(r.records, 1) * 1e9 for r in runs[w])
        reader = statistics.median(r.reader_cpu / max(r.records, 1) * 1e9 for r in runs[w])
        alone = f"  reader thread {reader:7.0f}" if w.startswith("auditlink") else ""
        print(f"     {w:18} {per:7.0f}{alone}")


def run_all(control: AuditClient, gen: Path, recv_c: Path, args: argparse.Namespace) -> int:
    control.set_enabled(True)
    control.set_backlog_limit(8192)
    # auditd's default; the state found may say otherwise (it is restored at the end).
    control.set_backlog_wait_time(60000)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (shared machine)")
    checks = []

    def check(label: str, ok: bool) -> None:
        checks.append(ok)
        print(f"   {label}: {'PASS' if ok else 'FAIL'}")

    if args.rounds:
        costs(control, gen, recv_c, args, check)
    if args.long:
        r = daemon_run(control, "auditlink-enriched", gen, args.long // 3 + 1)
        early = next((kb for n, kb in r.rss_at if n >= 100_000), r.rss_kb[-1])
        late = r.rss_at[-1][1] if r.rss_at else r.rss_kb[-1]
        grow = (late - early) / 1024
        check(
            f"5. RSS: {early / 1024:.1f} MB after 100k records, {late / 1024:.1f} MB after "
            f"{3 * (args.long // 3 + 1):,} ({max(r.rss_kb) / 1024:.1f} MB at most): "
            f"+{grow:.1f} MB (<= 10)",
            grow <= 10,
        )
    if args.kill9:
        print("6. kill -9 mid-burst, restart at once (RAW):")
        for kind in ("auditd", "auditlink"):
            calls, kept, klost, gap = kill9_run(control, kind, gen, args.calls)
            print(
                f"     {kind:9} {kept}/{calls} SYSCALL records in the log, {calls - kept} "
                f"missing, kernel lost counter +{klost}, kill to registered "
                f"{gap * 1000:.0f} ms",
                flush=True,
            )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
