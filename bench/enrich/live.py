"""Live enriched JSON: the cost per audited call of auditlink's daemon writing
enriched JSON lines, next to auditd with laurel as its plugin (the reference) and
the bare C recv loop, in the same run.

    python bench/enrich/live.py [--calls 100000] [--rounds 3]

Generator, C loop and daemon harness of bench/daemon_bench.py, and the rows of
bench/daemon_forward_bench.py, alternated round by round:

  c                   the bare C recv() loop
  auditd-enriched     Debian's auditd 3.0.9, ENRICHED log, flush INCREMENTAL_ASYNC
  auditd-laurel       the same, with laurel 0.8.2 as its plugin (its default
                      enrichments, JSON lines to a file in the run's directory)
  auditlink-enriched  ``auditlink daemon``, the same auditd.conf (the log only)
  auditlink-json      + enriched JSON lines (laurel's default enrichments, /proc on)

Reported: generator ns per audited call (medians; vs C), the JSON lines of the
generator's pid each JSON writer wrote, and the CPU per record of the daemon (for
auditd-laurel: auditd's and laurel's). Target (issue 11): auditlink-json <= 1.35x C.

Touches the real kernel: holds /tmp/auditlink-kernel.lock, saves the audit state and
restores it at the end, also on error (bench/kernel_lock.py). Daemons are started
and stopped by PID; laurel is auditd's child and ends with it (else it is killed by
its PID); every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import daemon_bench as db
import daemon_forward_bench as dfb
import stream_bench
from kernel_lock import with_kernel
from laurel_config import LAUREL_BASE

from auditlink import AuditClient

_spec = importlib.util.spec_from_file_location("enrich_bench", Path(__file__).with_name("bench.py"))
assert _spec is not None and _spec.loader is not None
enrich_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(enrich_bench)

RECEIVERS = ("c", "auditd-enriched", "auditd-laurel", "auditlink-enriched", "auditlink-json")


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def count_lines(path: Path, pid: int) -> int:
    return path.read_bytes().count(f'"pid":{pid},'.encode()) if path.exists() else 0


def laurel_run(control: AuditClient, laurel: str, gen: Path, calls: int) -> dfb.Run:
    with tempfile.TemporaryDirectory(prefix="auditlink-live-laurel-") as tmp:
        conf_dir = Path(tmp)
        db.write_conf(
            conf_dir, "ENRICHED", max_log_file=200, num_logs=3, max_log_file_action="ROTATE"
        )
        work = conf_dir / "laurel"
        work.mkdir()
        out = work / "audit.jsonl"
        cfg = conf_dir / "laurel.toml"
        cfg.write_text(LAUREL_BASE.format(dir=work, out=out))
        plugin = conf_dir / "plugins.d" / "laurel.conf"
        plugin.write_text(
            f"active = yes\ndirection = out\npath = {laurel}\ntype = always\n"
            f"args = --config {cfg}\nformat = string\n"
        )
        plugin.chmod(0o640)
        proc = db.start_daemon(control, "auditd", conf_dir)
        plugins: list[int] = []
        try:
            deadline = time.monotonic() + 10
            while not (plugins := children(proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not plugins:
                raise RuntimeError("auditd started no laurel")
            cpu0 = db.cpu_seconds(proc.pid) + sum(db.cpu_seconds(p) for p in plugins)
            pid, ns, _ = db.run_generator(control, gen, calls)
            db.wait_log_quiet(conf_dir / "log")
            # laurel writes its lines a little after auditd's log: wait for them.
            deadline = time.monotonic() + 60
            while count_lines(out, pid) < calls and time.monotonic() < deadline:
                time.sleep(0.2)
            cpu = db.cpu_seconds(proc.pid) + sum(db.cpu_seconds(p) for p in plugins) - cpu0
        finally:
            db.stop_daemon(control, proc)
            for p in plugins:
                deadline = time.monotonic() + 10
                while Path(f"/proc/{p}").exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
                if Path(f"/proc/{p}").exists():
                    os.kill(p, signal.SIGKILL)
        kept = db.count_syscalls(conf_dir / "log", pid)
        delivered = count_lines(out, pid)
    return dfb.Run("auditd-laurel", kept, delivered, ns, cpu / max(3 * kept, 1) * 1e9)


def run_all(
    control: AuditClient, laurel: str, gen: Path, recv_c: Path, args: argparse.Namespace
) -> int:
    control.set_enabled(True)
    control.set_backlog_limit(8192)
    print(f"load average before: {os.getloadavg()[0]:.2f} (shared machine)")
    runs: dict[str, list[dfb.Run]] = {w: [] for w in RECEIVERS}
    for _ in range(args.rounds):
        for who in RECEIVERS:
            if who == "auditd-laurel":
                r = laurel_run(control, laurel, gen, args.calls)
            else:
                r = dfb.one(control, who, gen, recv_c, args.calls, {}, None)
            runs[who].append(r)
            dfb.print_run(who, r, args.calls, "JSON lines", f"  (load {os.getloadavg()[0]:.2f})")
    ns = {w: statistics.median(r.gen_ns_per_call for r in rs) for w, rs in runs.items()}
    print(f"\ncalls per run {args.calls}, rounds {args.rounds}, medians; cost per audited call:")
    for w in RECEIVERS:
        cpu = statistics.median(r.cpu_ns_per_record for r in runs[w])
        print(
            f"  {w:19} {ns[w]:7.0f} ns  {ns[w] / ns['c']:5.2f}x C  "
            f"{ns[w] / ns['auditd-laurel']:5.2f}x auditd+laurel  daemon cpu {cpu:6.0f} ns/record"
        )
    print(f"auditlink-json: {ns['auditlink-json'] / ns['c']:.2f}x C [target <= 1.35x]")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    laurel = enrich_bench.laurel_binary()
    if laurel is None:
        print("laurel not found (cargo install laurel --root /var/cache/auditlink-enrich/laurel)")
        return 1
    gen, recv_c = stream_bench.build()
    return with_kernel(lambda control: run_all(control, laurel, gen, recv_c, args))


if __name__ == "__main__":
    sys.exit(main())
