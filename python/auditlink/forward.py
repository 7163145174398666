"""Forward audit events to the collectors a site already runs (central auditd, syslog, OTLP).

Each sink runs in Rust on its own thread, with a bounded queue and an on-disk
spool; see docs/fleet.md for the guarantees. The config objects here render to
the same ``[[sink]]`` TOML table the daemon reads from ``auditlink.toml``.
"""

from __future__ import annotations

import dataclasses
import json as _json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Union

from auditlink import _native

FullAction = Literal["drop_oldest", "drop_newest", "suspend"]


def _toml_value(value: object) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A JSON string with ASCII escapes is a valid TOML basic string.
    return _json.dumps(str(value))


class _SinkTable:
    """Renders a dataclass as one ``[[sink]]`` table body."""

    type: str

    def to_toml(self) -> str:
        """The ``[[sink]]`` table body (without the header line) for this sink."""
        lines = [f"type = {_toml_value(self.type)}"]
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not None:
                lines.append(f"{f.name} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RemoteSink(_SinkTable):
    """A central auditd (``tcp_listen_port``), spoken to as audisp-remote does.

    Keys are audisp-remote.conf's, plus the spool's and ``batches_in_flight``:
    how many batches (of up to 256 events) are written before the oldest
    one's acknowledgements are in (1 to 64; 1 waits for each batch's).
    ``read_log``/``read_log_hold`` are for the daemon's sinks (auditlink.toml):
    the sink reads the events back from the daemon's log, holding back while it
    grows (docs/fleet.md); :func:`forward` refuses them.
    """

    remote_server: str
    spool_dir: str
    port: int = 60
    mode: Literal["immediate", "forward"] = "immediate"
    queue_depth: int = 2048
    network_retry_time: int = 1
    nice: int = 19
    max_time_per_record: int = 5
    heartbeat_timeout: int = 0
    batches_in_flight: int = 4
    spool_max_bytes: int = 256 << 20
    spool_full_action: FullAction = "drop_oldest"
    name: str | None = None
    read_log: bool = False
    read_log_hold: int = 5
    type = "remote"


@dataclass(frozen=True)
class SyslogSink(_SinkTable):
    """An RFC 5424 syslog receiver over UDP, TCP (octet counting), TLS (RFC 5425) or a local socket.

    ``port`` defaults to 514 (6514 for ``tls``). With ``transport="tls"`` the
    server's certificate is verified against ``ca_file`` (default: the Mozilla
    roots) for the name ``tls_server_name`` (default: ``server``);
    ``cert_file``/``key_file`` give a client certificate. ``read_log`` and
    ``read_log_hold`` are for the daemon's sinks, as for :class:`RemoteSink`.
    """

    spool_dir: str
    transport: Literal["udp", "tcp", "tls", "unix"] = "udp"
    server: str = "127.0.0.1"
    port: int | None = None
    socket_path: str = "/dev/log"
    facility: str = "authpriv"
    severity: str = "info"
    app_name: str = "auditlink"
    format: Literal["text", "json"] = "text"
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_server_name: str | None = None
    queue_depth: int = 2048
    network_retry_time: int = 1
    nice: int = 19
    spool_max_bytes: int = 256 << 20
    spool_full_action: FullAction = "drop_oldest"
    name: str | None = None
    read_log: bool = False
    read_log_hold: int = 5
    type = "syslog"


@dataclass(frozen=True)
class OtlpSink(_SinkTable):
    """An OpenTelemetry collector's OTLP/HTTP logs endpoint (protobuf), one log record per event.

    For ``https://`` endpoints the collector's certificate is verified against
    ``ca_file`` (default: the Mozilla roots); ``cert_file``/``key_file`` give a
    client certificate for collectors that require one (mTLS).
    ``exports_in_flight`` export requests may await the collector's answer at
    once (1 to 64; 1 waits for each answer before sending the next); the
    spool still moves past an export only once it and every earlier one were
    answered.
    """

    spool_dir: str
    endpoint: str = "http://127.0.0.1:4318/v1/logs"
    headers: dict[str, str] | None = None
    service_name: str = "auditlink"
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    timeout: int = 10
    exports_in_flight: int = 4
    queue_depth: int = 2048
    network_retry_time: int = 1
    nice: int = 19
    spool_max_bytes: int = 256 << 20
    spool_full_action: FullAction = "drop_oldest"
    name: str | None = None
    type = "otlp"


SinkConfig = Union[RemoteSink, SyslogSink, OtlpSink]


@dataclass(frozen=True)
class SinkStats:
    """Counters of one sink after a forward.

    ``sent`` counts transmissions (a resend after a reconnect counts again),
    ``acked`` events the far end took, ``spooled`` events still waiting on disk.
    """

    name: str
    submitted: int
    sent: int
    acked: int
    spooled: int
    spool_bytes: int
    queued: int
    dropped: int
    reconnects: int
    connected: bool
    last_error: str
    last_warning: str


Source = Union[str, "os.PathLike[str]", bytes, Iterable[Union[str, bytes]]]


def forward(
    events_or_source: Source,
    sink: SinkConfig | str,
    *,
    node: str | None = None,
    json: bool = False,
    timeout: float = 30.0,
) -> SinkStats:
    """Send the events of an auditd log through a sink and wait for delivery.

    Arguments:
        events_or_source: a log file path, the log's bytes, or an iterable of
            log lines (``str`` or ``bytes``, with or without line ends).
        sink: a ``RemoteSink``/``SyslogSink``/``OtlpSink`` or a ``[[sink]]`` table as TOML text.
        node: the host name receivers see for records without ``node=``
            (default: this machine's).
        json: also build each event's JSON (used by ``format = "json"``).
        timeout: seconds to wait for the far end to take everything; what is
            left stays in the spool and goes first on the next start.

    Returns:
        The sink's counters when done (or timed out).

    Raises:
        ValueError: invalid sink configuration.
        OSError: the log or the spool directory cannot be opened.
    """
    config = sink if isinstance(sink, str) else sink.to_toml()
    if isinstance(events_or_source, (str, os.PathLike)):
        raw = _native.sink_forward_log(
            config, path=os.fspath(events_or_source), node=node, json=json, timeout=timeout
        )
    else:
        if isinstance(events_or_source, bytes):
            data = events_or_source
        else:
            parts = [
                line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
                for line in events_or_source
            ]
            data = b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts)
        raw = _native.sink_forward_log(config, data=data, node=node, json=json, timeout=timeout)
    return SinkStats(**raw)  # type: ignore[arg-type]


__all__ = ["OtlpSink", "RemoteSink", "SinkConfig", "SinkStats", "SyslogSink", "forward"]
