"""syslog (TCP, TLS) and otlp sink throughput vs rsyslog's omfwd sending the same events, same run.

The receiver is one rsyslogd (imtcp plain and over TLS with the gnutls
driver) on 127.0.0.1. The reference is a second rsyslogd reading the same
events from a file (imfile, one message per event: `startmsg.regex` on the
SYSCALL record, inotify mode) and forwarding them with omfwd (RFC 5424, octet-counted
framing; `gtls` for TLS). The otlp sink sends to rotel-agent (PyPI), a real
collector; it is put next to the same omfwd reference, once with one export
in flight at a time and once with the default window. Each sender is timed
from its process start until the receiver has written the whole burst.
Usage (root not needed):

    .venv/bin/python bench/sinks/forwarding.py [--events 20000] [--rounds 3]
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from common import engines, main

from auditlink.forward import OtlpSink, SyslogSink

# The otlp sink's default `exports_in_flight`; it also runs with 1 (each
# export waits for the previous one's answer) for comparison.
OTLP_IN_FLIGHT = OtlpSink("").exports_in_flight


def wait_until(
    rsyslog: engines.Rsyslog, before: int, n: int, t0: float, timeout: float = 600
) -> float:
    """Seconds since `t0` until `rsyslog` has written `n` lines after its first `before`."""
    while len(rsyslog.lines()) - before < n:
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"only {len(rsyslog.lines()) - before} of {n} arrived")
        time.sleep(0.01)
    return time.monotonic() - t0


def omfwd_run(
    work: Path, log: Path, port: int, tls: engines.RsyslogTls | None
) -> subprocess.Popen[bytes]:
    """rsyslogd reading `log` with imfile and forwarding with omfwd to 127.0.0.1:`port`."""
    work.mkdir(parents=True, exist_ok=True)
    driver = ""
    glob = ""
    if tls is not None:
        glob = f' DefaultNetstreamDriverCAFile="{tls.ca}"'
        driver = ' StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"'
        driver += ' StreamDriverPermittedPeers="127.0.0.1"'
    (work / "rsyslog.conf").write_text(
        f"""global(workDirectory="{work}" maxMessageSize="64k"{glob})
module(load="imfile")
input(type="imfile" file="{log}" tag="ref" startmsg.regex="^type=SYSCALL" readTimeout="1"
      freshStartTail="off" reopenOnTruncate="on")
*.* action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp"
           TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"{driver}
           queue.type="LinkedList" queue.size="200000")
"""
    )
    return engines.start_rsyslogd(work)


def run(work: Path, n: int, rounds: int) -> None:
    pki = engines.Pki(work / "pki", "bench CA")
    tls = engines.RsyslogTls(pki, engines.free_port())
    receiver = engines.Rsyslog(work / "receiver", engines.free_port(), engines.free_port(), tls)
    rotel_bin = engines.rotel_agent()
    rotel = engines.Rotel(work / "rotel") if rotel_bin else None
    try:
        receiver.start()
        if rotel is not None and rotel_bin is not None:
            rotel.start(rotel_bin)
        events = engines.make_log(n)
        best: dict[str, float] = {}

        def record(name: str, rate: float, r: int, dt: float) -> None:
            best[name] = max(best.get(name, 0.0), rate)
            print(f"round {r}: {name:22s} {rate:9.0f} events/s ({dt:.2f} s)")

        for r in range(rounds):
            for transport in ("tcp", "tls"):
                log = work / f"in-{transport}-{r}.log"
                log.write_bytes(events)
                port = receiver.tcp_port if transport == "tcp" else tls.port
                sink = SyslogSink(
                    str(work / f"spool-{transport}-{r}"),
                    transport=transport,
                    port=port,
                    ca_file=str(pki.ca) if transport == "tls" else None,
                )
                before = len(receiver.lines())
                t0 = time.monotonic()
                p = engines.run_sender(None, sink.to_toml(), log, f"al-{transport}{r}", 600)
                dt = wait_until(receiver, before, n, t0)
                engines.sender_stats(p, 60)
                record(f"auditlink syslog {transport}", n / dt, r, dt)
                before = len(receiver.lines())
                # imfile ends a message at the next SYSCALL line: one more
                # (never counted) so the last event does not wait for readTimeout.
                ref_log = work / f"ref-{transport}-{r}.log"
                ref_log.write_bytes(
                    events + engines.make_log(1, first_serial=n + 1).splitlines(True)[0]
                )
                t0 = time.monotonic()
                ref = omfwd_run(
                    work / f"omfwd-{transport}-{r}",
                    ref_log,
                    port,
                    tls if transport == "tls" else None,
                )
                dt = wait_until(receiver, before, n, t0)
                engines.stop(ref)
                record(f"rsyslog omfwd {transport}", n / dt, r, dt)
            if rotel is not None:
                log = work / f"in-otlp-{r}.log"
                log.write_bytes(events)
                for in_flight in (1, OTLP_IN_FLIGHT):
                    sink_otlp = OtlpSink(
                        str(work / f"spool-otlp-{r}-{in_flight}"),
                        endpoint=f"http://127.0.0.1:{rotel.http_port}/v1/logs",
                        exports_in_flight=in_flight,
                    )
                    before = rotel.out.stat().st_size
                    t0 = time.monotonic()
                    p = engines.run_sender(
                        None, sink_otlp.to_toml(), log, f"al-otlp{r}-{in_flight}", 600
                    )
                    engines.sender_stats(p, 600)
                    # forward() returns once the collector answered every export.
                    dt = time.monotonic() - t0
                    assert rotel.out.stat().st_size > before
                    record(f"auditlink otlp {in_flight}", n / dt, r, dt)
        ref_tcp = best["rsyslog omfwd tcp"]
        print("best of each, ratio to rsyslog omfwd (same events, same receiver, same run):")
        for name, reference in (
            ("auditlink syslog tcp", ref_tcp),
            ("auditlink syslog tls", best["rsyslog omfwd tls"]),
            ("auditlink otlp 1", ref_tcp),
            (f"auditlink otlp {OTLP_IN_FLIGHT}", ref_tcp),
        ):
            if name in best:
                print(f"  {name:22s} {best[name]:9.0f} events/s  {best[name] / reference:5.2f}x")
    finally:
        receiver.stop()
        if rotel is not None:
            rotel.stop()


if __name__ == "__main__":
    main(__doc__, "auditlink-fwd-bench-", run)
