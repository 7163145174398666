"""The audit daemon (rust/bindings/daemon.rs)."""

from typing import Any, final

from auditlink._native.client import AuditClient
from auditlink._native.records import EventBatch

@final
class Daemon:
    """A started audit daemon (the native half of :class:`auditlink.Daemon`).

    Constructing it opens the log, writes DAEMON_START, loads the rules, applies the
    status settings and registers ``client`` as the audit daemon; the reader and
    writer threads then run until :meth:`stop`. Every method may be called from any
    thread.
    """

    def __new__(
        cls,
        client: AuditClient,
        config_path: str | None = None,
        config_text: str | None = None,
        extras_text: str | None = None,
        rules: str | None = None,
        take_over: bool = False,
        python_events: bool = False,
        event_types: list[int] | None = None,
    ) -> Daemon:
        """Start the daemon.

        Arguments:
            client: the connection to register (real, or a FakeKernel's).
            config_path: auditd.conf to read (``auditlink.toml`` beside it too).
            config_text: auditd.conf text (wins over ``config_path``'s content).
            extras_text: auditlink.toml text.
            rules: a rules file or a rules.d directory (augenrules order).
            take_over: register even if another live process is registered.
            python_events: keep events for :meth:`next_events`.
            event_types: only events holding one of these record types.

        Raises:
            ValueError: a bad auditd.conf / auditlink.toml (naming its line).
            FileExistsError: another live process is the audit daemon.
            OSError: the log cannot be opened, or the kernel refused a request.
        """
    def rotate(self, from_signal: bool = False) -> None:
        """Rotate the logs and log DAEMON_ROTATE.

        Arguments:
            from_signal: name the sender of the last signal (kernel signal info)
                instead of this process in the record.

        Raises:
            OSError: the daemon has stopped (EBADF).
        """
    def resume(self, from_signal: bool = False) -> None:
        """Resume logging after a suspend and log DAEMON_RESUME.

        Arguments:
            from_signal: as for :meth:`rotate`.

        Raises:
            OSError: the daemon has stopped (EBADF).
        """
    def reload(self, from_signal: bool = False) -> None:
        """Re-read auditd.conf, auditlink.toml and the rules; log DAEMON_CONFIG.

        Arguments:
            from_signal: as for :meth:`rotate`.

        Raises:
            ValueError: the new configuration is not valid (the old one stays).
            OSError: the daemon has stopped, or the new log cannot be opened.
        """
    def flush(self) -> None:
        """Return once everything received so far is written and synced.

        Raises:
            OSError: the daemon has stopped (EBADF).
        """
    def stop(self, from_signal: bool = False) -> None:
        """Read what the kernel sent, unregister, log DAEMON_END, sync, end the
        threads. Idempotent.

        Arguments:
            from_signal: as for :meth:`rotate`.

        Raises:
            OSError: unregistering failed (the log is complete anyway).
        """
    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` ran."""
    def stats(self) -> dict[str, int]:
        """Counters by name (records received, lines written, suspended or
        failed, rotations, disk events, Python queue drops, per-plugin counts,
        the fan-out's JSON / filter / forwarding counts, per-sink ``sinkN_*``)."""
    def sink_stats(self) -> list[dict[str, Any]]:
        """Each running ``[[sink]]``'s counters, ``name``, ``connected``,
        ``last_error`` and ``last_warning`` (the fields of
        :class:`auditlink.SinkStats`), in the order of the ``sinkN_*`` counters."""
    def plugin_paths(self) -> list[str]:
        """The running plugins, in the order of their ``pluginN_*`` counters."""
    def next_events(self, max: int, timeout: float) -> EventBatch | None:
        """Up to ``max`` events for the callback, waiting up to ``timeout`` seconds
        (at most 1) for the first.

        Returns:
            The events (possibly none), or None once stopped and drained.
        """

def check_auditd_conf(text: str) -> list[str]:
    """Check auditd.conf text.

    Returns:
        One warning per setting accepted but not acted on.

    Raises:
        ValueError: an unknown key or a bad value, naming its line.
    """

def check_auditlink_toml(text: str) -> None:
    """Check auditlink.toml text.

    Raises:
        ValueError: not valid TOML, or an unknown key or bad value.
    """

def daemon_messages_to_stderr(on: bool) -> None:
    """Also print the daemon's syslog messages on stderr (``auditlink daemon -f``)."""
