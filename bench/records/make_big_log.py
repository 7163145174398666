"""Make a big auditd log for the benchmark by repeating a log recorded from the
real kernel, with fresh serials and later time stamps, so every event stays
distinct. Written at bench time (never committed).

    python bench/records/make_big_log.py OUT [--mb 100] [--seed seed|corpus] [--time-scale 1]

Seeds:
- ``seed`` (default): bench/records/seed.log.xz, recorded by make_seed.py: an
  ENRICHED log of a varied workload run by three concurrent workers (real users,
  login sessions, execve with many/odd/long arguments, watched files, sockets,
  failures, PAM-style user messages, config changes). Inside each copy the
  records keep the order and time stamps auditd wrote, so the interleaving of
  concurrent events and the record rate (about 22k records/s) are the real ones.
- ``corpus``: tests/data/corpus_enriched.log, the golden-test corpus: one
  process at a time, 918 records, no interleaving (a best case for parsers
  that hold events back while an older one is open, such as libauparse).

``--time-scale K`` stretches the time stamps inside each copy by K (K = 10 makes
the seed a log written at about 2.2k records/s), to show how a reader's speed
depends on the record rate.
"""

from __future__ import annotations

import argparse
import lzma
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = {
    "seed": HERE / "seed.log.xz",
    "corpus": HERE.parents[1] / "tests" / "data" / "corpus_enriched.log",
}
STAMP = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")


def read_seed(path: Path) -> bytes:
    if path.suffix == ".xz":
        with lzma.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=100.0)
    ap.add_argument("--seed", choices=sorted(SEEDS), default="seed")
    ap.add_argument("--time-scale", type=float, default=1.0)
    args = ap.parse_args()
    # Split on "\n" only: the ENRICHED separator 0x1D is a line break to splitlines().
    lines = [line + b"\n" for line in read_seed(SEEDS[args.seed]).split(b"\n") if line]
    parsed = []
    for line in lines:
        m = STAMP.search(line)
        if m is None:
            continue
        ms = int(m.group(1)) * 1000 + int(m.group(2))
        parsed.append((line, m.start(), m.end(), ms, m.group(3)))
    first_ms = min(p[3] for p in parsed)
    span_ms = int((max(p[3] for p in parsed) - first_ms) * args.time_scale) + 3000
    target = int(args.mb * 1e6)
    written = 0
    copy = 0
    serial_base = 1
    with open(args.out, "wb") as out:
        while written < target:
            mapping: dict[bytes, int] = {}
            chunk = []
            for line, start, end, ms, old in parsed:
                serial = mapping.get(old)
                if serial is None:
                    serial = mapping[old] = serial_base + len(mapping)
                t = first_ms + int((ms - first_ms) * args.time_scale) + copy * span_ms
                new = b"msg=audit(%d.%03d:%d)" % (t // 1000, t % 1000, serial)
                chunk.append(line[:start] + new + line[end:])
            data = b"".join(chunk)
            out.write(data)
            written += len(data)
            serial_base += len(mapping)
            copy += 1
    print(f"{args.out}: {written / 1e6:.1f} MB, {copy} copies of the {args.seed} log")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
