"""The generic netlink client, and what both clients share."""

from __future__ import annotations

import os
import types
from typing import BinaryIO, TypeVar

from auditlink import _native
from auditlink._native import NetlinkMessage
from auditlink.errors import _from_errno


def _timeout(timeout: float | None) -> float | None:
    """``timeout`` of the receiving calls: seconds, None = forever, 0 = do not block.
    The native side refuses negative and NaN values; a bool is refused here."""
    if isinstance(timeout, bool):
        raise TypeError(f"timeout must be seconds (a float) or None, got {timeout!r}")
    return timeout


_C = TypeVar("_C", bound="_Closing")


class _Closing:
    """Context manager protocol for the clients: ``with`` closes on exit."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()


class NetlinkClient(_Closing):
    """A generic netlink client for any netlink protocol: send messages, receive
    datagrams split into :class:`NetlinkMessage` objects.

    ``send`` fills in the sequence number and this socket's port id. ``receive``
    returns the messages of one datagram from the kernel; datagrams from other
    senders, and datagrams longer than the read buffer, are dropped and counted
    (``foreign_dropped``, ``truncated``), as :class:`AuditClient` does.

    Arguments:
        protocol: the netlink protocol number (e.g. 9 for NETLINK_AUDIT).
        groups: multicast groups bitmask to bind.
        read_buffer_size: largest datagram to receive (default 64 KiB).
        tee: a binary file that receives a copy of every datagram read.

    Raises:
        OSError: the socket cannot be opened or bound.
        ValueError: ``read_buffer_size`` is below a netlink header (16 bytes).
    """

    def __init__(
        self,
        protocol: int,
        groups: int = 0,
        read_buffer_size: int | None = None,
        tee: BinaryIO | None = None,
    ) -> None:
        self._native = _native.NetlinkClient(protocol, groups, read_buffer_size, tee)

    @classmethod
    def _wrap(cls, native: _native.NetlinkClient) -> NetlinkClient:
        self = cls.__new__(cls)
        self._native = native
        return self

    def send(self, msg_type: int, data: bytes = b"", flags: int = 0x05) -> int:
        """Send one message.

        Arguments:
            msg_type: the message type.
            data: the payload.
            flags: header flags (default NLM_F_REQUEST|NLM_F_ACK).

        Returns:
            The sequence number used.

        Raises:
            OSError: the send failed; AuditError (EBADF): the client is closed.
        """
        return self._native.send(msg_type, data, flags)

    def receive(
        self, timeout: float | None = None, *, nonblocking: bool = False
    ) -> list[NetlinkMessage]:
        """The messages of the next datagram from the kernel.

        Arguments:
            timeout: seconds to wait; None = until one arrives, 0 = do not block.
            nonblocking: the same as ``timeout=0``.

        Returns:
            The messages; [] when none arrived in time.

        Raises:
            AuditError: a datagram that does not split into netlink messages, or
                the client was closed (errno EBADF).
        """
        return self._native.receive(0.0 if nonblocking else _timeout(timeout))

    @property
    def port_id(self) -> int:
        """The netlink port id of this socket."""
        return self._native.port_id

    @property
    def foreign_dropped(self) -> int:
        """Datagrams dropped because they did not come from the kernel."""
        return self._native.foreign_dropped

    @property
    def truncated(self) -> int:
        """Datagrams dropped because they were longer than the read buffer."""
        return self._native.truncated

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._native.closed

    def fileno(self) -> int:
        """The socket's file descriptor."""
        return self._native.fileno()

    def close(self) -> None:
        """Close the socket. Idempotent."""
        self._native.close()


def parse_netlink_error(data: bytes) -> OSError | None:
    """Decode the payload of an NLMSG_ERROR message.

    Arguments:
        data: the payload (the error, then the request's header).

    Returns:
        None for an ack (error 0, or the non-negative value some audit commands
        return), else an :class:`OSError` (also an :class:`~auditlink.AuditError`)
        with the kernel's errno.

    Raises:
        ValueError: ``data`` is shorter than 4 bytes.
    """
    errno, seq = _native.netlink_error_errno(data)
    if errno is None:
        return None
    return _from_errno(errno, os.strerror(errno), "netlink error", seq)


__all__ = ["NetlinkClient", "parse_netlink_error"]
