"""The counters of one client (:attr:`AuditClient.stats`)."""

from __future__ import annotations

import dataclasses

__all__ = ["ClientStats"]


@dataclasses.dataclass(frozen=True)
class ClientStats:
    """Counters of one client since it was opened (:attr:`AuditClient.stats`).

    Also readable by name, ``stats["overruns"]``, like a read-only mapping.
    """

    messages: int
    """Event records delivered or queued (not replies)."""
    bytes: int
    """Payload bytes of those records."""
    datagrams: int
    """Datagrams read from the socket (all kinds)."""
    overruns: int
    """ENOBUFS: the socket's receive buffer overflowed and the kernel dropped records."""
    foreign_dropped: int
    """Datagrams dropped because they did not come from the kernel (port id != 0)."""
    truncated: int
    """Datagrams dropped because they were longer than the read buffer."""
    malformed: int
    """Datagrams that did not split into valid netlink messages."""
    stale_replies: int
    """Replies to requests nobody waits for any more."""
    queue_dropped: int
    """Records dropped because the client's internal queue was full."""

    def __getitem__(self, name: str) -> int:
        """The counter called ``name``.

        Raises:
            KeyError: ``name`` is not a counter.
        """
        if name not in _STATS_FIELDS:
            raise KeyError(name)
        value: int = getattr(self, name)
        return value

    def keys(self) -> tuple[str, ...]:
        """The counter names, in field order."""
        return _STATS_FIELDS

    def as_dict(self) -> dict[str, int]:
        """The counters as a new dict."""
        return dataclasses.asdict(self)


_STATS_FIELDS = tuple(f.name for f in dataclasses.fields(ClientStats))
