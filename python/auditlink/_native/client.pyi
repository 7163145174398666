"""The netlink clients and their messages, the status codec and protocol constants
(rust/bindings/client.rs)."""

from typing import Any, BinaryIO, final

from auditlink._message_type import MessageType

AUDIT_GET: int
"""1000: the message type that asks for the kernel's audit status."""
AUDIT_SET: int
"""1001: the message type that changes the kernel's audit status."""
NETLINK_AUDIT: int
"""9: the netlink protocol number of the audit subsystem."""
AUDIT_MESSAGE_MAX_LENGTH: int
"""8970: the longest audit message payload (libaudit's MAX_AUDIT_MESSAGE_LENGTH)."""
AUDIT_NLGRP_READLOG: int
"""1: the multicast group that receives a copy of every event record."""

_StatusTuple = tuple[int, int, int, int, int, int, int, int, int, int, int]

def status_from_bytes(data: bytes) -> _StatusTuple:
    """The 11 fields of a ``struct audit_status`` (see ``AuditStatus.from_bytes``)."""

def status_to_bytes(fields: _StatusTuple) -> bytes:
    """The 11 status fields as the 44-byte layout (see ``AuditStatus.to_bytes``)."""

def netlink_error_errno(data: bytes) -> tuple[int | None, int | None]:
    """``(errno or None, request seq or None)`` of an NLMSG_ERROR payload."""

@final
class RawAuditMessage:
    """One audit message as the kernel sent it: frozen, hashable, picklable.

    Arguments:
        type: the message type number.
        data: the payload (copied).

    Raises:
        OverflowError: ``type`` is outside 0..65535.
    """

    def __new__(cls, type: int, data: bytes) -> RawAuditMessage: ...
    @property
    def type(self) -> MessageType | int:
        """The message type: a ``MessageType`` member where known, else the number."""
    @property
    def data(self) -> bytes:
        """The payload (for event records: ``audit(...): ...`` text)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[Any, tuple[int, bytes]]: ...

@final
class NetlinkMessage:
    """One netlink message: the header's fields and the payload. Frozen, hashable.

    Arguments:
        type, flags, seq, pid: the ``nlmsghdr`` fields.
        data: the payload.

    Raises:
        OverflowError: a field is out of its header range.
    """

    def __new__(cls, type: int, flags: int, seq: int, pid: int, data: bytes) -> NetlinkMessage: ...
    @property
    def type(self) -> int:
        """``nlmsg_type``."""
    @property
    def flags(self) -> int:
        """``nlmsg_flags``."""
    @property
    def seq(self) -> int:
        """``nlmsg_seq``: the request's sequence number (0 for kernel records)."""
    @property
    def pid(self) -> int:
        """``nlmsg_pid``: the sender's port id as the sender wrote it."""
    @property
    def data(self) -> bytes:
        """The payload."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuditClient:
    """Native half of :class:`auditlink.AuditClient` (documented there)."""

    def __new__(
        cls,
        tee: BinaryIO | None = None,
        *,
        groups: int = 0,
        receive_buffer_size: int | None = None,
        read_buffer_size: int | None = None,
        timeout: float = 5.0,
    ) -> AuditClient: ...
    @staticmethod
    def _over_socketpair(
        fd: int,
        port_id: int,
        tee: BinaryIO | None = None,
        *,
        receive_buffer_size: int | None = None,
        read_buffer_size: int | None = None,
        timeout: float = 5.0,
    ) -> AuditClient: ...
    def get_status(self) -> _StatusTuple: ...
    def set_enabled(self, enabled: int, wait: bool = True) -> None: ...
    def set_failure(self, mode: int, wait: bool = True) -> None: ...
    def set_pid(self, wait: bool = True) -> None: ...
    def set_rate_limit(self, limit: int, wait: bool = True) -> None: ...
    def set_backlog_limit(self, limit: int, wait: bool = True) -> None: ...
    def set_backlog_wait_time(self, wait_time: int, wait: bool = True) -> None: ...
    def reset_lost(self) -> int: ...
    def reset_backlog_wait_time_actual(self) -> int: ...
    def wait_for_pending_acks(self) -> None: ...
    def unregister(self) -> None: ...
    def set_status(self, operation: str, status: bytes, wait: bool = True) -> int: ...
    def request_ack(self, operation: str, msg_type: int, data: bytes, wait: bool = True) -> int: ...
    def request_reply(
        self, operation: str, msg_type: int, data: bytes, reply_type: int
    ) -> bytes: ...
    def request_dump(self, operation: str, msg_type: int, data: bytes) -> list[NetlinkMessage]: ...
    def receive(self, timeout: float | None = None) -> RawAuditMessage | None: ...
    def receive_batch(
        self, max_messages: int = 1024, timeout: float | None = None, *, linger: float = 0.0005
    ) -> list[RawAuditMessage]: ...
    @property
    def stats(self) -> dict[str, int]: ...
    def fileno(self) -> int: ...
    @property
    def port_id(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    @property
    def registered(self) -> bool: ...
    @property
    def receive_buffer_size(self) -> int: ...
    def set_receive_buffer_size(self, size: int) -> int: ...
    def close(self) -> None: ...

@final
class NetlinkClient:
    """Native half of :class:`auditlink.NetlinkClient` (documented there)."""

    def __new__(
        cls,
        protocol: int,
        groups: int = 0,
        read_buffer_size: int | None = None,
        tee: BinaryIO | None = None,
    ) -> NetlinkClient: ...
    @staticmethod
    def _over_socketpair(
        fd: int, port_id: int, read_buffer_size: int | None = None, tee: BinaryIO | None = None
    ) -> NetlinkClient: ...
    def send(self, msg_type: int, data: bytes = b"", flags: int = 5) -> int: ...
    def receive(self, timeout: float | None = None) -> list[NetlinkMessage]: ...
    @property
    def port_id(self) -> int: ...
    @property
    def foreign_dropped(self) -> int: ...
    @property
    def truncated(self) -> int: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
