"""Forwarding to a central auditd, syslog or OTLP collector; auditlink.forward wraps
these (rust/bindings/sinks.rs)."""

def sink_check_config(config: str) -> str:
    """Parse one ``[[sink]]`` table (TOML text); returns the sink's name.

    Raises:
        ValueError: the table is not a valid sink configuration.
    """

def sink_forward_log(
    config: str,
    *,
    path: str | None = None,
    data: bytes | None = None,
    node: str | None = None,
    json: bool = False,
    timeout: float = 30.0,
) -> dict[str, str | int | bool]:
    """Replay an auditd log (``path`` or ``data``) through a new sink; returns its stats.

    Raises:
        ValueError: bad configuration or arguments.
        OSError: the log or the spool directory cannot be opened.
    """
