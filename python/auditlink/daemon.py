"""``auditlink.Daemon``: auditlink as the kernel's audit daemon (auditd's job).

The work per record (reading, formatting, writing, plugins) runs in Rust
threads; Python only configures the daemon, reacts to signals and, if asked,
receives events through a bounded queue of its own (see ``on_event``).
"""

from __future__ import annotations

import os
import threading

from auditlink import _native

# Imported where used, or only for type checkers: ``auditlink daemon`` registers
# after a restart as soon as this module and the native one are loaded, so each
# module imported here delays the first record the new daemon can take.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from types import FrameType, TracebackType
    from typing import Union

    from auditlink._native import AuditEvent
    from auditlink.client import AuditClient
    from auditlink.forward import SinkStats

    ConfigValue = Union[str, int, bool]
    StrPath = Union[str, os.PathLike[str]]

__all__ = ["Daemon", "render_auditd_conf", "sd_notify"]


def _log_exception(message: str, *args: object) -> None:
    import logging

    logging.getLogger("auditlink").exception(message, *args)


def render_auditd_conf(settings: Mapping[str, ConfigValue]) -> str:
    """auditd.conf text for a mapping of auditd.conf keys to values (booleans
    become ``yes``/``no``); it is checked by the same parser as the file."""
    lines = []
    for key, value in settings.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        text = str(value)
        if not key or any(c.isspace() for c in key) or "\n" in text or not text.strip():
            raise ValueError(f"bad auditd.conf setting {key!r} = {value!r}")
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def sd_notify(state: str) -> bool:
    """Send ``state`` to systemd's notify socket (``$NOTIFY_SOCKET``); False
    when not run by systemd with ``Type=notify``."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return False
    import socket

    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        s.connect(addr)
        s.sendall(state.encode())
    return True


class Daemon:
    """auditlink as the kernel's audit daemon, writing auditd's log.

    Arguments:
        config: an auditd.conf path (``auditlink.toml`` beside it is read too), a
            mapping of auditd.conf keys to values, or None for auditd's defaults.
        rules: a rules file, or a rules.d directory loaded in augenrules order.
        take_over: register even while another live process is registered.
        on_event: called (on a thread of its own) with each event, through a
            bounded queue: a slow or failing callback loses only its own copies
            (``stats["python_dropped"]``, ``stats["callback_errors"]``), never
            the log's, and never slows the kernel reader.
        event_filter: record types (``MessageType`` or ints); only events holding
            one of them reach ``on_event`` (the filter runs in Rust).
        extras: auditlink.toml text (instead of the file beside ``config``).
        client: the connection to register (default: a new ``AuditClient``).

    ``start()`` registers and starts the threads; ``run()`` also installs auditd's
    signal handlers (SIGHUP reload, SIGUSR1 rotate, SIGUSR2 resume, SIGTERM/SIGINT
    stop), tells systemd READY, and blocks until stopped. ``stop()`` writes
    DAEMON_END and unregisters. A context manager: ``with Daemon(...) as d:``.

    Raises (from ``start``/``run``):
        ValueError: bad configuration (the message names the line).
        FileExistsError: another live process is registered (its pid is named).
        OSError: the log cannot be opened or the kernel refused a request.

    Thread safety: control methods may be called from any thread.
    """

    def __init__(
        self,
        config: StrPath | Mapping[str, ConfigValue] | None = None,
        *,
        rules: StrPath | None = None,
        take_over: bool = False,
        on_event: Callable[[AuditEvent], object] | None = None,
        event_filter: Iterable[int] | None = None,
        extras: str | None = None,
        client: AuditClient | None = None,
    ) -> None:
        self._config_path: str | None = None
        self._config_text: str | None = None
        if isinstance(config, (str, os.PathLike)):
            self._config_path = os.fspath(config)
        elif config is not None:
            self._config_text = render_auditd_conf(config)
        self._rules = None if rules is None else os.fspath(rules)
        self._take_over = take_over
        self._on_event = on_event
        self._event_types = None if event_filter is None else [int(t) for t in event_filter]
        self._extras = extras
        # The native client: the one given, or (on start) one of our own.
        self._client: _native.AuditClient | None = None if client is None else client._native
        self._own_client = False
        self._native: _native.Daemon | None = None
        self._dispatcher: threading.Thread | None = None
        self._callback_errors = 0
        self._callback_calls = 0
        self._stop_event = threading.Event()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._native is not None:
            return
        if self._client is None:
            self._client = _native.AuditClient(None)
            self._own_client = True
        try:
            self._native = _native.Daemon(
                self._client,
                config_path=self._config_path,
                config_text=self._config_text,
                extras_text=self._extras,
                rules=self._rules,
                take_over=self._take_over,
                python_events=self._on_event is not None,
                event_types=self._event_types,
            )
        except BaseException:
            self._close_client()
            raise
        self._stop_event.clear()
        if self._on_event is not None:
            self._dispatcher = threading.Thread(
                target=self._dispatch, name="auditlink-daemon-callback", daemon=True
            )
            self._dispatcher.start()

    def _dispatch(self) -> None:
        native = self._native
        callback = self._on_event
        assert native is not None and callback is not None
        while True:
            batch = native.next_events(256, 0.2)
            if batch is None:
                return
            for event in batch:
                self._callback_calls += 1
                try:
                    callback(event)
                except Exception:
                    self._callback_errors += 1
                    if self._callback_errors == 1:
                        _log_exception("Daemon on_event callback failed (further errors counted)")

    def _close_client(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
            self._own_client = False

    def stop(self, *, from_signal: bool = False) -> None:
        native = self._native
        if native is not None:
            native.stop(from_signal=from_signal)
        if self._dispatcher is not None and self._dispatcher is not threading.current_thread():
            self._dispatcher.join()
            self._dispatcher = None
        self._close_client()
        self._stop_event.set()

    def run(self, *, handle_signals: bool = True, notify: bool = True) -> None:
        self.start()
        import signal  # after registering: it costs the enum module

        previous: dict[int, object] = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            actions: dict[int, Callable[[], None]] = {
                signal.SIGTERM: lambda: self.stop(from_signal=True),
                signal.SIGINT: lambda: self.stop(from_signal=True),
                signal.SIGHUP: lambda: self._signal_call("reload"),
                signal.SIGUSR1: lambda: self._signal_call("rotate"),
                signal.SIGUSR2: lambda: self._signal_call("resume"),
            }

            def handler(signum: int, frame: FrameType | None) -> None:
                actions[signum]()

            for signum in actions:
                previous[signum] = signal.signal(signum, handler)
        try:
            if notify:
                sd_notify(f"READY=1\nMAINPID={os.getpid()}")
            while not self._stop_event.wait(0.5):
                native = self._native
                if native is None or native.stopped:
                    break
        finally:
            self.stop()
            for signum, old in previous.items():
                signal.signal(signum, old)  # type: ignore[arg-type]

    def _signal_call(self, what: str) -> None:
        native = self._native
        if native is None:
            return
        try:
            getattr(native, what)(from_signal=True)
        except Exception:
            _log_exception("audit daemon: %s failed", what)

    # -------------------------------------------------------------- control

    def _running(self) -> _native.Daemon:
        if self._native is None:
            raise RuntimeError("the daemon is not started")
        return self._native

    def rotate(self) -> None:
        self._running().rotate()

    def resume(self) -> None:
        self._running().resume()

    def reload(self) -> None:
        self._running().reload()

    def flush(self) -> None:
        self._running().flush()

    @property
    def stats(self) -> dict[str, int]:
        if self._native is None:
            return {}
        s = dict(self._native.stats())
        s["callback_calls"] = self._callback_calls
        s["callback_errors"] = self._callback_errors
        return s

    @property
    def sink_stats(self) -> list[SinkStats]:
        """Each ``[[sink]]`` of auditlink.toml now running, in the order of the
        ``sinkN_*`` counters of :attr:`stats` (empty when not started)."""
        if self._native is None:
            return []
        from auditlink.forward import SinkStats

        return [SinkStats(**d) for d in self._native.sink_stats()]

    @property
    def running(self) -> bool:
        return self._native is not None and not self._native.stopped

    def __enter__(self) -> Daemon:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
