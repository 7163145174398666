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

Reported: generator ns per audited call (vs C and vs auditd ENRICHED), the records the
log kept, JSON lines / events received for the generator's pid, the daemon's CPU per
record.

    python bench/daemon_forward_bench.py [--calls 100000] [--rounds 2]

Touches the real kernel: holds /tmp/auditlink-kernel.lock, saves the audit state and
restores it at the end, also on error. Daemons are started and stopped by PID; the
receiver listens on 127.0.0.1 only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
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

RECEIVERS = ("c", "auditd-enriched", "auditlink-enriched", "auditlink-json", "auditlink-syslog")


class Drain:
    """A TCP receiver on 127.0.0.1 counting the SYSCALL records of one pid."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        # Every SYSCALL record that arrives: the generator's, and the few of the
        # auditctl calls that add and remove its rule.
        self.needle = b"type=SYSCALL "
        self.count = 0
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
                carry = buf[-(len(self.needle) - 1) :]

    def close(self) -> None:
        self.listener.close()


@dataclass
class Run:
    receiver: str
    kept: int
    delivered: int  # JSON lines of the generator / SYSCALL records received (-1: n/a)
    gen_ns_per_call: float
    cpu_ns_per_record: float


def auditlink_toml(kind: str, conf_dir: Path, drain: Drain) -> str:
    if kind == "json":
        return f'[json]\npath = "{conf_dir / "log" / "audit.jsonl"}"\n[enrich]\npid = true\n'
    if kind == "syslog":
        return (
            f'[[sink]]\ntype = "syslog"\ntransport = "tcp"\nport = {drain.port}\n'
            f'spool_dir = "{conf_dir / "spool"}"\n'
        )
    return ""


def one(control: AuditClient, who: str, gen: Path, recv_c: Path, calls: int, drain: Drain) -> Run:
    if who == "c":
        r = db.c_run(control, gen, recv_c, calls)
        return Run(who, r.kept, -1, r.gen_ns_per_call, r.cpu / max(r.records, 1) * 1e9)
    kind, extra = who.split("-")
    with tempfile.TemporaryDirectory(prefix="auditlink-forward-bench-") as tmp:
        conf_dir = Path(tmp)
        db.write_conf(
            conf_dir, "ENRICHED", max_log_file=200, num_logs=3, max_log_file_action="ROTATE"
        )
        (conf_dir / "auditlink.toml").write_text(auditlink_toml(extra, conf_dir, drain))
        log_dir = conf_dir / "log"
        drain.count = 0
        proc = db.start_daemon(control, kind, conf_dir)
        try:
            cpu0 = db.cpu_seconds(proc.pid)
            pid, ns, _ = db.run_generator(control, gen, calls)
            db.wait_log_quiet(log_dir)
            if extra == "syslog":
                deadline = time.monotonic() + 60
                while drain.count < calls and time.monotonic() < deadline:
                    time.sleep(0.2)
            cpu = db.cpu_seconds(proc.pid) - cpu0
        finally:
            db.stop_daemon(control, proc)
        kept = db.count_syscalls(log_dir, pid)
        if extra == "json":
            jsonl = log_dir / "audit.jsonl"
            delivered = jsonl.read_bytes().count(f'"pid":{pid},'.encode())
        else:
            delivered = drain.count if extra == "syslog" else -1
    return Run(who, kept, delivered, ns, cpu / max(3 * kept, 1) * 1e9)


def run_all(control: AuditClient, gen: Path, recv_c: Path, args: argparse.Namespace) -> int:
    control.set_enabled(True)
    control.set_backlog_limit(8192)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (shared machine)")
    drain = Drain()
    runs: dict[str, list[Run]] = {w: [] for w in RECEIVERS}
    try:
        for _ in range(args.rounds):
            for who in RECEIVERS:
                r = one(control, who, gen, recv_c, args.calls, drain)
                runs[who].append(r)
                got = "" if r.delivered < 0 else f"  delivered {r.delivered:7}"
                print(
                    f"  {who:19} kept {r.kept:7}/{args.calls}{got}  gen {r.gen_ns_per_call:6.0f} "
                    f"ns/call  daemon cpu {r.cpu_ns_per_record:6.0f} ns/record",
                    flush=True,
                )
    finally:
        drain.close()
    ns = {w: statistics.median(r.gen_ns_per_call for r in runs[w]) for w in RECEIVERS}
    print(f"\ncalls per run {args.calls}, rounds {args.rounds}, medians; cost per audited call:")
    for w in RECEIVERS:
        print(
            f"  {w:19} {ns[w]:7.0f} ns  {ns[w] / ns['c']:5.2f}x C  "
            f"{ns[w] / ns['auditd-enriched']:5.2f}x auditd ENRICHED  "
            f"{ns[w] / ns['auditlink-enriched']:5.2f}x auditlink log only"
        )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    gen, recv_c = stream_bench.build()
    return with_kernel(lambda control: run_all(control, gen, recv_c, args))


if __name__ == "__main__":
    sys.exit(main())
