"""get_status() round trips per second: auditlink vs a C client using libaudit, in
the same run, alternating rounds so both see the same machine load.

    python bench/status_roundtrip.py [--rounds 5] [--n 20000]

Read-only (AUDIT_GET): it changes no kernel state. Holds the kernel test lock.
Target (issue 2): auditlink's time per round trip within 1.1x of C's.
"""

from __future__ import annotations

import argparse
import fcntl
import statistics
import subprocess
import sys
import time
from pathlib import Path

from auditlink import AuditClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import compile_c

HERE = Path(__file__).resolve().parent
BUILD = HERE / "build"


def build_c() -> Path:
    BUILD.mkdir(exist_ok=True)
    exe = BUILD / "status_c"
    src = HERE / "status_c.c"
    return compile_c(src, exe, "-laudit", if_stale=True)


def run_c(exe: Path, n: int) -> float:
    out = subprocess.run([str(exe), str(n)], check=True, capture_output=True, text=True).stdout
    count, seconds = out.split()
    return float(seconds) / int(count)


def run_auditlink(n: int) -> float:
    with AuditClient() as c:
        c.get_status()  # warm up
        t0 = time.perf_counter()
        for _ in range(n):
            c.get_status()
        return (time.perf_counter() - t0) / n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    exe = build_c()
    with open("/tmp/auditlink-kernel.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        c_times, py_times = [], []
        for _ in range(args.rounds):
            c_times.append(run_c(exe, args.n))
            py_times.append(run_auditlink(args.n))
    c_us = statistics.median(c_times) * 1e6
    py_us = statistics.median(py_times) * 1e6
    ratio = py_us / c_us
    print(
        f"C libaudit (audit_request_status+audit_get_reply): {c_us:7.2f} us/round trip "
        f"({1e6 / c_us:,.0f}/s)"
    )
    print(
        f"auditlink AuditClient.get_status():                 {py_us:7.2f} us/round trip "
        f"({1e6 / py_us:,.0f}/s)"
    )
    verdict = "PASS" if ratio <= 1.10 else "FAIL"
    print(f"ratio auditlink/C = {ratio:.3f} (target <= 1.10): {verdict}")
    return 0 if ratio <= 1.10 else 1


if __name__ == "__main__":
    sys.exit(main())
