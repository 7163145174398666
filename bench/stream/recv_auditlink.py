"""auditlink receiver for bench/stream_bench.py: the daemon helper + receive_batch,
touching every message's type and data. Same stop rule and output as recv_c.c.

    python recv_auditlink.py EXPECT IDLE_MS RCVBUF_BYTES [RSS_AT ...]
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

from auditlink import AuditClient

LINGER = float(os.environ.get("AUDITLINK_LINGER", "0.0005"))


def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


def main() -> None:
    expect = int(sys.argv[1])
    idle = int(sys.argv[2]) / 1000
    rcvbuf = int(sys.argv[3])
    marks = sorted(int(x) for x in sys.argv[4:])
    rss_at: dict[int, int] = {}
    records = size = touch = 0
    first = last = 0.0
    with AuditClient.daemon(enable=False, receive_buffer_size=rcvbuf or None) as client:
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        print("ready", flush=True)
        while records < expect:
            batch = client.receive_batch(4096, idle if records else 30.0, linger=LINGER)
            if not batch:
                break
            if not records:
                first = time.monotonic()
            for m in batch:
                touch += m.type
                size += len(m.data)
            records += len(batch)
            last = time.monotonic()
            while marks and records >= marks[0]:
                rss_at[marks.pop(0)] = rss_kb()
        overruns = client.stats["overruns"]
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "cpu": ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime,
                "csw": ru.ru_nvcsw + ru.ru_nivcsw - ru0.ru_nvcsw - ru0.ru_nivcsw,
                "records": records,
                "bytes": size,
                "seconds": last - first,
                "overruns": overruns,
                "rss_kb": rss_kb(),
                "rss_at": rss_at,
                "touch": touch,
            }
        )
    )


if __name__ == "__main__":
    main()
