"""The cost to the audited machine of the daemon's fan-out: enriched JSON lines and a sink.

Same generator, C loop and daemon harness as bench/daemon_bench.py (imported): N audited
getppid() calls under a rule matching only the generator, backlog_limit 8192, rounds
alternating the receivers so each sees the same load:

  c                   the bare C recv() loop
  auditd-enriched     Debian's auditd 3.0.9, ENRICHED log, flush INCREMENTAL_ASYNC
  auditlink-enriched  ``auditlink daemon``, the same auditd.conf (the log only)
  auditlink-json      + enriched JSON lines (laurel's default enrichments, /proc on)
  auditlink-syslog    + one syslog sink (RFC 5424 over TCP, text) to a receiver in
                      this script on 127.0.0.1 that reads and counts what arrives
  auditlink-remote    + one remote sink to a central Debian auditd (local_events = no,
                      tcp_listen_port, made to bind 127.0.0.1 by the tests' bind
                      shim, tests/loopback_bind.c) writing its own log
  auditlink-remote+log, auditlink-syslog+log
                      the same sinks with ``read_log = true``: they read the events
                      back from the daemon's log, after the burst (docs/fleet.md)
  auditlink-otlp      + one otlp sink (OTLP/HTTP, protobuf) to a receiver in this
                      script on 127.0.0.1 answering 200 to each export and counting
                      the log records whose first record is a SYSCALL

Reported: generator ns per audited call (vs C, vs auditd ENRICHED and vs auditlink with
the log only), the records the log kept, JSON lines / events received for the
generator's pid, the daemon's CPU per record; for the sinks, the events/s they
delivered next to the events/s the daemon logged (both from the generator's start), and
the sink thread's CPU per event (for remote also the central auditd's, which runs on
the same CPUs as the audited generator here).

    python bench/daemon_forward_bench.py [--calls 100000] [--rounds 2]
                                         [--only syslog,otlp,remote+log]
                                         [--central-idle] [--receiver auditd|ack]
                                         [--sink-nice N]

``--central-idle`` runs the receiver under SCHED_IDLE: it gets only
the CPU time the audited side (generator, kernel, daemon) leaves idle, standing in for a
central server on another machine, so the host cost is the sending host's own.

Touches the real kernel: holds /tmp/auditlink-kernel.lock, saves the audit state and
restores it at the end, also on error. Daemons are started and stopped by PID; the
receiver listens on 127.0.0.1 only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import daemon_bench as db
import stream_bench
from kernel_lock import with_kernel

from auditlink import AuditClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import test_sinks_engines as engines
from tests.helpers import compile_c

HERE = Path(__file__).resolve().parent

RECEIVERS = (
    "c",
    "auditd-enriched",
    "auditlink-enriched",
    "auditlink-json",
    "auditlink-syslog",
    "auditlink-remote",
    "auditlink-remote+log",
    "auditlink-syslog+log",
    "auditlink-otlp",
)
SINKS = ("syslog", "remote", "otlp")


class Drain:
    """A TCP receiver on 127.0.0.1 counting the SYSCALL records of one pid."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        # Every SYSCALL record that arrives: the generator's, and the few of the
        # auditctl calls that add and remove its rule.
        self.needle = b"type=SYSCALL "
        self.count = 0
        self.last = 0.0  # when the count last grew (monotonic)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        carry = b""
        with conn:
            while data := conn.recv(1 << 20):
                buf = carry + data
                self.count += buf.count(self.needle)
                self.last = time.monotonic()
                carry = buf[-(len(self.needle) - 1) :]

    def close(self) -> None:
        self.listener.close()


class OtlpDrain(Drain):
    """An OTLP/HTTP receiver on 127.0.0.1: answers 200 to every export and counts
    the log records whose `audit.record_type` attribute is SYSCALL."""

    def __init__(self) -> None:
        super().__init__()
        # The attribute's protobuf bytes: key, then AnyValue{string_value}.
        self.needle = b"audit.record_type\x12\x09\x0a\x07SYSCALL"

    def _read(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as f:
            while True:
                length = -1
                while line := f.readline():
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length < 0:
                    return
                body = f.read(length)
                self.count += body.count(self.needle)
                self.last = time.monotonic()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


class AckReceiver:
    """bench/sinks/remote_ack.c: the receiving side of the remote protocol and
    nothing else (it acknowledges each message and appends its text to a log),
    standing in for a central server on another machine."""

    def __init__(self, work: Path, sched_idle: bool) -> None:
        exe = work / "remote_ack"
        compile_c(HERE / "sinks" / "remote_ack.c", exe)
        self.log = work / "central.log"
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [*engines.idle_prefix(sched_idle), str(exe), str(self.log)], stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def stop(self) -> None:
        if self.proc is not None:
            engines.stop(self.proc)
            self.proc = None


class Central:
    """The receiver of the remote sink: a central auditd listening on 127.0.0.1
    itself (the tests' bind shim; no relay in the path), or the stand-in above."""

    def __init__(self, work: Path, sched_idle: bool, receiver: str) -> None:
        self.server: engines.CentralAuditd | AckReceiver
        if receiver == "ack":
            self.server = AckReceiver(work, sched_idle)
            self.port = self.server.port
        else:
            self.port = engines.free_port()
            self.server = engines.CentralAuditd(None, work, port=self.port, sched_idle=sched_idle)
            self.server.start()
        self.pid, self.offset, self.seen, self.carry = 0, 0, 0, b""

    def count(self, pid: int) -> int:
        """SYSCALL records of `pid` in the central log. Reads only what was
        added since the last call (rescanning the whole log every 50 ms would
        take the CPU the central auditd needs)."""
        if pid != self.pid:
            self.pid, self.offset, self.seen, self.carry = pid, 0, 0, b""
        if not self.server.log.exists():
            return 0
        with self.server.log.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        lines = (self.carry + data).split(b"\n")
        self.carry = lines.pop()
        needle = f" pid={pid} ".encode()
        self.seen += sum(1 for ln in lines if b" type=SYSCALL " in ln and needle in ln)
        return self.seen

    def cpu(self) -> dict[int, float]:
        """CPU seconds so far of the receiver."""
        out: dict[int, float] = {}
        p = self.server.proc
        if p is not None and p.poll() is None:
            with contextlib.suppress(OSError):
                out[p.pid] = db.cpu_seconds(p.pid)
        return out

    def close(self) -> None:
        self.server.stop()


@dataclass
class Run:
    receiver: str
    kept: int
    delivered: int  # JSON lines of the generator / SYSCALL records received (-1: n/a)
    gen_ns_per_call: float
    cpu_ns_per_record: float
    log_rate: float = 0.0  # events/s the daemon logged, from the generator's start
    sink_rate: float = 0.0  # events/s the sink delivered, from the generator's start
    sink_cpu_ns: float = 0.0  # the sink thread's CPU per delivered event
    far_cpu_ns: float = 0.0  # the receiver's CPU per delivered event
    sink_line: str = ""  # the daemon's last word on its sink (counters, last error)
    gen_cpu_ns: float = 0.0  # the generator's own CPU per call (0: not measured)
    host_cpu_ns: float = 0.0  # every CPU's busy time per call, receiver and bench excluded


def busy_seconds() -> float:
    """CPU time all CPUs spent busy since boot (/proc/stat: user, nice, system,
    irq and softirq; not idle, iowait or steal)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields)
    return (user + nice + system + irq + softirq) / db.TICK


def sink_of(extra: str) -> tuple[str, bool]:
    """`remote+log` -> ("remote", True): the sink, and whether it reads the log back."""
    kind, _, log = extra.partition("+")
    return kind, log == "log"


def auditlink_toml(
    extra: str, conf_dir: Path, drains: dict[str, Drain], central: Central | None, nice: str = ""
) -> str:
    kind, read_log = sink_of(extra)
    spool = (
        f'spool_dir = "{conf_dir / "spool"}"\n'
        + (f"nice = {nice}\n" if nice else "")
        + ("read_log = true\n" if read_log else "")
    )
    if kind == "json":
        return f'[json]\npath = "{conf_dir / "log" / "audit.jsonl"}"\n[enrich]\npid = true\n'
    if kind == "syslog":
        return (
            f'[[sink]]\ntype = "syslog"\ntransport = "tcp"\nport = {drains["syslog"].port}\n'
            + spool
        )
    if kind == "otlp":
        return (
            f'[[sink]]\ntype = "otlp"\nendpoint = "http://127.0.0.1:{drains["otlp"].port}/v1/logs"\n'
            + spool
        )
    if kind == "remote" and central is not None:
        return (
            f'[[sink]]\ntype = "remote"\nremote_server = "127.0.0.1"\nport = {central.port}\n'
            + spool
        )
    return ""


def one(
    control: AuditClient,
    who: str,
    gen: Path,
    recv_c: Path,
    calls: int,
    drains: dict[str, Drain],
    central: Central | None,
    nice: str = "",
) -> Run:
    if who == "c":
        r = db.c_run(control, gen, recv_c, calls)
        return Run(who, r.kept, -1, r.gen_ns_per_call, r.cpu / max(r.records, 1) * 1e9)
    kind, full = who.split("-")
    extra = sink_of(full)[0]
    with tempfile.TemporaryDirectory(prefix="auditlink-forward-bench-") as tmp:
        conf_dir = Path(tmp)
        db.write_conf(
            conf_dir, "ENRICHED", max_log_file=200, num_logs=3, max_log_file_action="ROTATE"
        )
        toml = auditlink_toml(full, conf_dir, drains, central, nice)
        (conf_dir / "auditlink.toml").write_text(toml)
        log_dir = conf_dir / "log"
        for drain in drains.values():
            drain.count = 0
        messages = conf_dir / "daemon.messages"
        proc = db.start_daemon(control, kind, conf_dir, messages=messages)
        sink_cpu = far_cpu = host = 0.0
        try:
            far0 = central.cpu() if central is not None and extra == "remote" else {}
            cpu0 = db.cpu_seconds(proc.pid)
            sink0 = db.thread_cpu_seconds(proc.pid, f"sink-{extra}")
            busy0, own0 = busy_seconds(), time.process_time()
            pid, ns, started, gen_cpu = db.run_generator(control, gen, calls)
            logged_at = db.wait_log_quiet(log_dir)
            arrived_at, delivered = 0.0, -1
            if extra in SINKS:
                arrived_at, delivered = wait_delivered(extra, pid, calls, drains, central)
            cpu = db.cpu_seconds(proc.pid) - cpu0
            sink_cpu = db.thread_cpu_seconds(proc.pid, f"sink-{extra}") - sink0
            if central is not None and extra == "remote":
                far_cpu = sum(c - far0.get(p, 0.0) for p, c in central.cpu().items())
            # Everything the machine did from the generator's start until the
            # log (and the sink's receiver) had it all: the audited process, the
            # kernel, the daemon, write-back; not the receiver (it stands in for
            # another machine), not this script (its receivers and polling).
            host = busy_seconds() - busy0 - (time.process_time() - own0) - far_cpu
        finally:
            db.stop_daemon(control, proc)
            # The sink's own account at exit: "sink NAME: acked=... last_error=..."
            sink_line = next(
                (
                    ln
                    for ln in messages.read_text(errors="replace").splitlines()
                    if ln.startswith("auditlink daemon: sink ")
                ),
                "",
            )
        kept = db.count_syscalls(log_dir, pid)
        if extra == "json":
            jsonl = log_dir / "audit.jsonl"
            delivered = jsonl.read_bytes().count(f'"pid":{pid},'.encode())
    run = Run(who, kept, delivered, ns, cpu / max(3 * kept, 1) * 1e9, gen_cpu_ns=gen_cpu)
    run.host_cpu_ns = host / calls * 1e9
    run.sink_line = sink_line.removeprefix("auditlink daemon: ")
    run.log_rate = kept / max(logged_at - started, 1e-9)
    if extra in SINKS:
        run.sink_rate = delivered / max(arrived_at - started, 1e-9)
        run.sink_cpu_ns = sink_cpu / max(delivered, 1) * 1e9
        run.far_cpu_ns = far_cpu / max(delivered, 1) * 1e9
    return run


def print_run(who: str, r: Run, calls: int, delivered: str, tail: str = "") -> None:
    """One round's line: what was kept and `delivered` (its label), the cost."""
    got = "" if r.delivered < 0 else f"  {delivered} {r.delivered:7}"
    print(
        f"  {who:19} kept {r.kept:7}/{calls}{got}  gen {r.gen_ns_per_call:6.0f} ns/call"
        f"{f' ({r.gen_cpu_ns:.0f} on CPU)' if r.gen_cpu_ns else ''}  "
        f"daemon cpu {r.cpu_ns_per_record:6.0f} ns/record{tail}",
        flush=True,
    )


def wait_delivered(
    sink: str, pid: int, calls: int, drains: dict[str, Drain], central: Central | None
) -> tuple[float, int]:
    """Wait (60 s at most) until the receiver has `calls` events of `pid`; returns
    when the last one arrived (monotonic) and how many did."""
    deadline = time.monotonic() + 60
    if sink in drains:
        drain = drains[sink]
        while drain.count < calls and time.monotonic() < deadline:
            time.sleep(0.05)
        return drain.last, drain.count
    assert central is not None
    count, last = central.count(pid), time.monotonic()
    while count < calls and time.monotonic() < deadline:
        time.sleep(0.05)
        now = central.count(pid)
        if now != count:
            count, last = now, time.monotonic()
    return last, count


def run_all(control: AuditClient, gen: Path, recv_c: Path, args: argparse.Namespace) -> int:
    control.set_enabled(True)
    control.set_backlog_limit(8192)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (shared machine)")
    only = set(args.only.split(",")) if args.only else None
    receivers = [w for w in RECEIVERS if only is None or w.split("-")[-1] in only or w in BASELINES]
    drains = {"syslog": Drain(), "otlp": OtlpDrain()}
    with tempfile.TemporaryDirectory(prefix="auditlink-forward-central-") as tmp:
        central = (
            Central(Path(tmp), args.central_idle, args.receiver)
            if any(sink_of(w.split("-")[-1])[0] == "remote" for w in receivers)
            else None
        )
        runs: dict[str, list[Run]] = {w: [] for w in receivers}
        try:
            for _ in range(args.rounds):
                for who in receivers:
                    r = one(control, who, gen, recv_c, args.calls, drains, central, args.sink_nice)
                    runs[who].append(r)
                    print_run(who, r, args.calls, "delivered")
                    if r.sink_line:
                        print(f"  {'':19} {r.sink_line}", flush=True)
        finally:
            for drain in drains.values():
                drain.close()
            if central is not None:
                central.close()
    report(runs, args)
    return 0


BASELINES = ("c", "auditd-enriched", "auditlink-enriched")


def report(runs: dict[str, list[Run]], args: argparse.Namespace) -> None:
    def med(w: str, f: str) -> float:
        return statistics.median(getattr(r, f) for r in runs[w])

    ns = {w: med(w, "gen_ns_per_call") for w in runs}
    print(f"\ncalls per run {args.calls}, rounds {args.rounds}, medians; cost per audited call:")
    for w in runs:
        print(
            f"  {w:19} {ns[w]:7.0f} ns  {ns[w] / ns['c']:5.2f}x C  "
            f"{ns[w] / ns['auditd-enriched']:5.2f}x auditd ENRICHED  "
            f"{ns[w] / ns['auditlink-enriched']:5.2f}x auditlink log only (target <= 1.1x)"
        )
    print("the generator's own CPU per call (the rest of its time it waited), medians:")
    for w in runs:
        if w.startswith("auditlink"):
            print(f"  {w:19} {med(w, 'gen_cpu_ns'):7.0f} ns on CPU")
    print(
        "the machine's CPU per call, from the generator's start until all was logged and "
        "delivered (every CPU; the receiver and this script excluded), medians:"
    )
    for w in runs:
        if w.startswith("auditlink"):
            host = med(w, "host_cpu_ns")
            print(
                f"  {w:19} {host:7.0f} ns  "
                f"{host / med('auditlink-enriched', 'host_cpu_ns'):5.2f}x auditlink log only"
            )
    print("sinks, from the generator's start (medians):")
    for w in runs:
        if sink_of(w.split("-")[-1])[0] in SINKS:
            sink, log = med(w, "sink_rate"), med(w, "log_rate")
            print(
                f"  {w:19} delivered {sink:8.0f} events/s, the daemon logged {log:8.0f} "
                f"events/s ({sink / log:4.2f}x); sink thread "
                f"{med(w, 'sink_cpu_ns'):6.0f} ns CPU per event"
            )
            if sink_of(w.split("-")[-1])[0] == "remote":
                priority = "SCHED_IDLE" if args.central_idle else "normal priority"
                print(
                    f"  {'':19} receiving side on this machine ({args.receiver}, "
                    f"{priority}): {med(w, 'far_cpu_ns'):6.0f} ns CPU per event"
                )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="", help="sinks/outputs to run besides the baselines")
    ap.add_argument(
        "--receiver",
        choices=["auditd", "ack"],
        default="auditd",
        help="what receives the remote sink: the central Debian auditd, or "
        "bench/sinks/remote_ack.c, which only acknowledges and logs (a stand-in for a "
        "central server on another machine, for the host cost)",
    )
    ap.add_argument(
        "--central-idle",
        action="store_true",
        help="run the receiver under SCHED_IDLE: only on CPU time the "
        "audited side leaves idle, standing in for a central server on another machine",
    )
    ap.add_argument(
        "--sink-nice",
        default="",
        help="the sinks' `nice` key (the delivering thread's nice value; default: the sink's own)",
    )
    args = ap.parse_args()
    gen, recv_c = stream_bench.build()
    return with_kernel(lambda control: run_all(control, gen, recv_c, args))


if __name__ == "__main__":
    sys.exit(main())
