"""Remote sink throughput vs Debian's audisp-remote, same events, same central auditd, same run.

Both senders are timed from process start until the central auditd has
written every record of the burst to its log (both wait for the receiver's
acknowledgement of each record: audisp-remote one round trip per record,
auditlink pipelined per batch). Usage (root):

    .venv/bin/python bench/sinks/bench.py [--events 20000] [--rounds 3]
"""

from __future__ import annotations

import time
from pathlib import Path

from common import engines, main

from auditlink.forward import RemoteSink


def run(work: Path, n: int, rounds: int) -> None:
    ns = engines.NetNs()
    central = engines.CentralAuditd(ns, work / "central")
    try:
        central.start()
        events = engines.make_log(n)
        log = work / "in.log"
        log.write_bytes(events)
        best = {"auditlink": 0.0, "audisp-remote": 0.0}
        for r in range(rounds):
            node = f"al{r}"
            spool = work / f"spool{r}"
            t0 = time.monotonic()
            stats = engines.sender_stats(
                engines.run_sender(
                    ns,
                    RemoteSink("127.0.0.1", str(spool), port=central.port).to_toml(),
                    log,
                    node=node,
                    timeout=300,
                )
            )
            central.wait_for(n, 300, node=node)
            dt = time.monotonic() - t0
            assert stats["acked"] == n, stats
            best["auditlink"] = max(best["auditlink"], n / dt)
            print(f"round {r}: auditlink     {n / dt:9.0f} events/s ({dt:.2f} s)")
            node = f"ref{r}"
            lines = b"".join(f"node={node} ".encode() + ln + b"\n" for ln in events.splitlines())
            t0 = time.monotonic()
            ref = engines.run_audisp_remote(ns, work / f"ref{r}", central.port, lines)
            central.wait_for(n, 300, node=node)
            dt = time.monotonic() - t0
            engines.stop(ref)
            got = len(central.lines(node))
            best["audisp-remote"] = max(best["audisp-remote"], got / dt)
            print(
                f"round {r}: audisp-remote {got / dt:9.0f} events/s ({dt:.2f} s, {got}/{n} arrived)"
            )
        ratio = best["auditlink"] / max(best["audisp-remote"], 1e-9)
        print(
            f"best: auditlink {best['auditlink']:.0f}/s, "
            f"audisp-remote {best['audisp-remote']:.0f}/s, ratio {ratio:.1f}x (target >= 2x)"
        )
    finally:
        central.stop()
        ns.close()


if __name__ == "__main__":
    main(__doc__, "auditlink-sinks-bench-", run)
