"""Search and report speed against ausearch/aureport 3.0.9, same run, same log.

    python bench/search/bench.py [--log PATH] [--mb 100] [--key KEY] [--repeat 3]
                                 [--seed seed|corpus]

Builds (once, under /tmp) a ~100 MB ENRICHED log from the real-kernel seed
with bench/records/make_big_log.py unless --log is given, then times, best of
--repeat, each pair with output to /dev/null:

- ``auditlink search -k KEY`` vs ``ausearch -k KEY`` (target >= 30x)
- ``auditlink search -k KEY --format csv|text`` vs ausearch's (target >= 20x;
  skipped while the normalizer's formatters are not in this build)
- ``auditlink report`` vs ``aureport`` (summary) and ``-x --summary``
  (target >= 20x)

and prints the ratios, the load average before and after (the machine is
shared: ratios from one run are what counts, absolute times are noisy).
Checks that both sides wrote the same bytes for each pair it times.
Also follows a growing log with ``auditlink top --plain`` in a bounded loop
and prints its peak RSS at two input sizes (bounded memory).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PY = sys.executable
ENV = dict(os.environ, LC_ALL="C")


def timed(cmd: list[str], repeat: int) -> tuple[float, str, int]:
    best = float("inf")
    digest = ""
    rc = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
        best = min(best, time.perf_counter() - t0)
        digest = hashlib.sha256(p.stdout).hexdigest()[:12]
        rc = p.returncode
    return best, digest, rc


def has_format(fmt: str, log: str) -> bool:
    p = subprocess.run(
        [PY, "-m", "auditlink", "search", "-if", log, "-a", "0", "--format", fmt],
        capture_output=True,
        env=ENV,
    )
    return b"needs the normalizer" not in p.stderr


def rss_following(log_size_mb: float, source: str, workdir: Path) -> int:
    """Peak RSS (KiB) of ``auditlink top -f`` after ``log_size_mb`` of appends,
    taken in order from ``source`` (a log that moves on, as a live one does)."""
    path = workdir / "followed.log"
    path.write_bytes(b"")
    proc = subprocess.Popen(
        [PY, "-m", "auditlink", "top", "-f", str(path), "--plain", "--interval", "0.5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        written = 0
        deadline = time.monotonic() + 120
        with open(path, "ab") as f, open(source, "rb") as src:
            while written < log_size_mb * 1e6 and time.monotonic() < deadline:
                chunk = src.read(256 * 1024)
                if not chunk:
                    src.seek(0)
                    continue
                f.write(chunk)
                f.flush()
                written += len(chunk)
                time.sleep(0.02)
        time.sleep(2)
        with open(f"/proc/{proc.pid}/status") as st:
            for line in st:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return -1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        path.unlink()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--log")
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--key", default="exec")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument(
        "--seed",
        choices=("seed", "corpus"),
        default="seed",
        help="the log repeated (bench/records/make_big_log.py): 'seed' is dense and "
        "interleaved, 'corpus' one event at a time (the C tools' best case)",
    )
    args = ap.parse_args()
    log = args.log
    if log is None:
        suffix = "" if args.seed == "seed" else f"-{args.seed}"
        log = f"/tmp/auditlink-search-bench-{int(args.mb)}mb{suffix}.log"
        if not os.path.exists(log):
            make = [PY, str(ROOT / "bench/records/make_big_log.py"), log]
            subprocess.run([*make, "--mb", str(args.mb), "--seed", args.seed], check=True)
    size = os.path.getsize(log) / 1e6
    print(f"log {log}: {size:.0f} MB; load {os.getloadavg()[0]:.2f}")
    me = [PY, "-m", "auditlink"]
    pairs = [
        (
            f"search -k {args.key}",
            ["search", "-if", log, "-k", args.key],
            ["ausearch", "-if", log, "-k", args.key],
            30,
        ),
        (
            f"search -k {args.key} -i",
            ["search", "-if", log, "-k", args.key, "-i"],
            ["ausearch", "-if", log, "-k", args.key, "-i"],
            0,
        ),
        ("report (summary)", ["report", "-if", log], ["aureport", "-if", log], 20),
        (
            "report -x --summary",
            ["report", "-if", log, "-x", "--summary"],
            ["aureport", "-if", log, "-x", "--summary"],
            20,
        ),
    ]
    for fmt in ("csv", "text"):
        if has_format(fmt, log):
            pairs.append(
                (
                    f"search --format {fmt}",
                    ["search", "-if", log, "-k", args.key, "--format", fmt],
                    ["ausearch", "-if", log, "-k", args.key, "--format", fmt],
                    20,
                )
            )
        else:
            print(
                f"search --format {fmt}: not measured "
                "(the normalizer's formatters are not in this build)"
            )
    ok = True
    for name, mine, ref, target in pairs:
        t_me, d_me, _ = timed(me + mine, args.repeat)
        t_ref, d_ref, _ = timed(ref, args.repeat)
        ratio = t_ref / t_me
        same = "same output" if d_me == d_ref else f"OUTPUT DIFFERS ({d_me} vs {d_ref})"
        verdict = (
            ""
            if not target
            else (f" target {target}x: " + ("met" if ratio >= target else "NOT met"))
        )
        ok &= not target or ratio >= target
        print(
            f"{name:28} auditlink {t_me:7.3f} s  reference {t_ref:7.3f} s  "
            f"{ratio:6.1f}x  {same}{verdict}"
        )
    print(f"load after {os.getloadavg()[0]:.2f}")
    if not args.no_rss:
        small = rss_following(5, log, Path("/tmp"))
        large = rss_following(40, log, Path("/tmp"))
        print(f"top -f peak RSS: {small} KiB after 5 MB, {large} KiB after 40 MB of appends")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
