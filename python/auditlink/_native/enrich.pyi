"""The process table and laurel-style enrichment (rust/bindings/enrich.rs)."""

from typing import final

from auditlink._native.records import AuditEvent

@final
class TrackedProcess:
    """One process of an :class:`~auditlink.Enricher`'s table (a snapshot).

    A process is identified by ``event_id`` (the audit event of its exec, or of its
    first sighting) or, if it was found in /proc, by ``start_time``; a reused pid
    is a different ``TrackedProcess``.
    """

    @property
    def pid(self) -> int: ...
    @property
    def ppid(self) -> int: ...
    @property
    def comm(self) -> str | None:
        """The command name (undecodable bytes as lone surrogates)."""
    @property
    def exe(self) -> str | None: ...
    @property
    def event_id(self) -> str | None:
        """``SECONDS.MILLISECONDS:SERIAL`` of the event that made this entry."""
    @property
    def start_time(self) -> str | None:
        """``SECONDS.MILLISECONDS`` start time, for processes found in /proc."""
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def container_id(self) -> str | None:
        """64 hex digits, from the process's cgroup path."""
    @property
    def container_runtime(self) -> str | None:
        """``docker``, ``containerd``, ``cri-o`` or ``podman``, when the path says."""
    @property
    def pod_uid(self) -> str | None:
        """The Kubernetes pod uid, when the cgroup path has one."""
    @property
    def systemd_service(self) -> tuple[str, ...]:
        """The ``.service`` units of the cgroup path, outermost first, without suffix."""
    @property
    def systemd_unit(self) -> str | None:
        """The innermost ``.service`` or ``.scope`` unit."""
    @property
    def running(self) -> bool:
        """False once the process exited or its pid was taken by another."""

@final
class Enricher:
    """The Rust enricher behind :class:`auditlink.Enricher`."""

    def __new__(
        cls, toml: str | None = None, json: str | None = None, logs: bool = False
    ) -> Enricher:
        """Arguments: ``toml`` (laurel-format text) or ``json`` (the same as JSON);
        ``logs``: /proc is off unless configured. Raises: ValueError for a bad
        configuration."""
    def enrich(self, event: AuditEvent) -> tuple[str, str | None]:
        """Track ``event``. Returns: ``(verdict, json)``, verdict ``keep``/``drop``/
        ``divert``, json None when dropped."""
    def feed_log(self, chunk: bytes) -> tuple[bytes, bytes]:
        """Parse a log chunk. Returns: ``(kept, diverted)`` enriched JSON lines."""
    def finish_log(self) -> tuple[bytes, bytes]:
        """End of the log. Returns: as :meth:`feed_log`."""
    def pump_fd(self, src: int, out: int, divert: int | None = None) -> bool:
        """Read one chunk (1 MiB) of the log open at descriptor ``src`` and write the
        enriched JSON lines of the events it completes to descriptor ``out`` (diverted
        ones to ``divert``, else dropped); at the end of the log, the events still open.

        Arguments:
            src: descriptor to read the log from (kept open by the caller).
            out: descriptor for the kept events' lines.
            divert: descriptor for the diverted events' lines, or None.

        Returns:
            False once the end of the log is reached and written.

        Raises:
            OSError: reading or writing failed.
            ValueError: a negative descriptor."""
    def process(self, pid: int) -> TrackedProcess | None:
        """The process now holding ``pid``, or None."""
    def ancestors(self, pid: int) -> list[TrackedProcess]:
        """Its spawners, nearest first."""
    def stats(self) -> tuple[int, int, int, int, int]:
        """``(events, dropped, diverted, processes, evicted)``."""
    def save_state(self) -> None:
        """Write the state file. Raises: OSError."""
