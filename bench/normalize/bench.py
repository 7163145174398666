"""Benchmark: normalizing every event of a big log, and ausearch's csv/text
output, against the C references in the same run.

    python bench/normalize/bench.py [--mb 20] [--log FILE] [--rounds 1]

Rows:
- python3-audit: /usr/bin/python3 walking the log with ``auparse.AuParser`` and,
  per event, ``aup_normalize(NORM_OPT_ALL)`` plus every getter (kind, session,
  subject primary/secondary/kind, action, result, object primary/secondary/kind,
  how, key; each located field interpreted) — what a Python program using
  libauparse's normalizer does.
- auditlink normalize(): ``read_events(log)`` and, per event, ``normalize()``
  with the same parts read (``interpreted`` of each field).
- ausearch --format csv|text -if LOG > /dev/null, against auditlink's Rust
  formatter driven from Python (``normalize.format_lines``: a reader thread
  parses, Rust formats, Python only writes the chunks).
The log is made by bench/records/make_big_log.py (the real-kernel seed log,
repeated). Wall times include interpreter start-up. The machine is shared:
the load average is printed with each row.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

PY_AUPARSE = r"""
import sys, time, auparse
t = time.perf_counter()
au = auparse.AuParser(auparse.AUSOURCE_FILE, sys.argv[1])
n = 0
def f(get):
    try:
        if get() == 1:
            return au.interpret_field()
    except (RuntimeError, ValueError):
        return None
def g(get):
    try:
        return get()
    except RuntimeError:  # the getter's way of saying None
        return None
while au.parse_next_event():
    n += 1
    try:
        au.aup_normalize(auparse.NORM_OPT_ALL)
    except RuntimeError:
        continue
    parts = (g(au.aup_normalize_get_event_kind), f(au.aup_normalize_session),
             f(au.aup_normalize_subject_primary), f(au.aup_normalize_subject_secondary),
             g(au.aup_normalize_subject_kind), g(au.aup_normalize_get_action),
             f(au.aup_normalize_get_results), f(au.aup_normalize_object_primary),
             f(au.aup_normalize_object_secondary), g(au.aup_normalize_object_kind),
             g(au.aup_normalize_how), f(au.aup_normalize_key))
print(n, time.perf_counter() - t)
"""

PY_AUDITLINK = r"""
import sys, time
import auditlink
t = time.perf_counter()
n = 0
def f(x):
    return None if x is None else x.interpreted
for ev in auditlink.read_events(sys.argv[1]):
    n += 1
    m = ev.normalize()
    s, o = m.subject, m.object
    parts = (m.kind, f(m.session), f(s.primary), f(s.secondary), s.kind, m.action,
             f(m.result), f(o.primary), f(o.secondary), o.kind, m.how, f(m.key))
print(n, time.perf_counter() - t)
"""

PY_FORMAT = r"""
import sys
from auditlink.normalize import format_lines
out = sys.stdout.buffer
for chunk in format_lines(sys.argv[1], sys.argv[2]):
    out.write(chunk)
"""


def run_script(python: str, script: str, log: Path) -> tuple[int, float]:
    out = subprocess.run(
        [python, "-c", script, str(log)], capture_output=True, check=True, text=True
    ).stdout.split()
    return int(out[0]), float(out[1])


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    with open(os.devnull, "wb") as null:
        subprocess.run(
            cmd,
            stdout=null,
            stderr=subprocess.DEVNULL,
            check=False,
            env={**os.environ, "TZ": "UTC"},
        )
    return time.perf_counter() - t


def best(rounds: int, fn):  # type: ignore[no-untyped-def]
    return min((fn() for _ in range(rounds)), key=lambda r: r if isinstance(r, float) else r[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=20, help="size of the generated log")
    ap.add_argument("--log", type=Path, help="use this log instead of generating one")
    ap.add_argument("--rounds", type=int, default=1, help="best of N runs per row")
    args = ap.parse_args()
    tmp = None
    log = args.log
    if log is None:
        tmp = tempfile.TemporaryDirectory(prefix="auditlink-bench-")
        log = Path(tmp.name) / "big.log"
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "records" / "make_big_log.py"),
                str(log),
                "--mb",
                str(args.mb),
            ],
            check=True,
        )
    size = log.stat().st_size / 1e6
    print(f"log: {log} ({size:.1f} MB); load average before: {os.getloadavg()}")

    def row(name: str, seconds: float, events: int | None = None) -> None:
        rate = f"{events / seconds:>10,.0f} ev/s" if events else ""
        print(f"{name:<36} {seconds:8.2f} s {rate}  (load {os.getloadavg()[0]:.2f})")

    n_c, t_c = best(args.rounds, lambda: run_script("/usr/bin/python3", PY_AUPARSE, log))
    row("python3-audit normalizer loop", t_c, n_c)
    n_r, t_r = best(args.rounds, lambda: run_script(sys.executable, PY_AUDITLINK, log))
    row("auditlink normalize() loop", t_r, n_r)
    results = {"normalize": t_c / t_r}
    for fmt in ("csv", "text"):
        t_a = best(
            args.rounds, lambda fmt=fmt: wall(["ausearch", "--format", fmt, "-if", str(log)])
        )
        row(f"ausearch --format {fmt}", t_a)
        t_l = best(
            args.rounds, lambda fmt=fmt: wall([sys.executable, "-c", PY_FORMAT, str(log), fmt])
        )
        row(f"auditlink {fmt} (Rust formatter)", t_l)
        results[fmt] = t_a / t_l
    print(f"\nevents: python3-audit {n_c}, auditlink {n_r}")
    print(f"normalize(): {results['normalize']:.1f}x python3-audit (target >= 5x)")
    for fmt in ("csv", "text"):
        print(f"--format {fmt}: {results[fmt]:.1f}x ausearch (target >= 20x)")
    print(f"load average after: {os.getloadavg()} (2 vCPUs, shared)")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
