"""Make a big auditd log for the benchmark by repeating the kernel corpus
(tests/data/corpus_enriched.log) with fresh serials and later time stamps, so
every event stays distinct. Written at bench time (never committed).

    python bench/records/make_big_log.py OUT [--mb 100]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "data" / "corpus_enriched.log"
STAMP = re.compile(rb"msg=audit\((\d+)\.(\d+):(\d+)\)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=100.0)
    args = ap.parse_args()
    lines = [line for line in CORPUS.read_bytes().splitlines(keepends=True) if STAMP.search(line)]
    stamps = [STAMP.search(line) for line in lines]
    first_sec = min(int(m.group(1)) for m in stamps if m)
    span = max(int(m.group(1)) for m in stamps if m) - first_sec + 3
    target = int(args.mb * 1024 * 1024)
    written = 0
    round_ = 0
    serial_base = 1
    with open(args.out, "wb") as out:
        while written < target:
            mapping: dict[bytes, int] = {}
            chunk = []
            for line, m in zip(lines, stamps):
                assert m is not None
                old = m.group(3)
                if old not in mapping:
                    mapping[old] = serial_base + len(mapping)
                sec = int(m.group(1)) + round_ * span
                new = b"msg=audit(%d.%s:%d)" % (sec, m.group(2), mapping[old])
                chunk.append(line[: m.start()] + new + line[m.end() :])
            data = b"".join(chunk)
            out.write(data)
            written += len(data)
            serial_base += len(mapping)
            round_ += 1
    print(f"{args.out}: {written / 1e6:.1f} MB, {round_} copies of the corpus")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
