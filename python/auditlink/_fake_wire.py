"""The netlink wire format as the fake kernel writes it (re-exported by
:mod:`auditlink.testing`)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from auditlink._message_type import MessageType

_HDR = struct.Struct("=IHHII")
NLMSG_HDRLEN = _HDR.size
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ACK = 0x04
_ERROR_FRAME_SENDER = 0xFFFF_FFFF

# The request types the fake serves, as plain ints (numbers: linux/audit.h).
AUDIT_GET = int(MessageType.GET)
AUDIT_SET = int(MessageType.SET)
AUDIT_USER = int(MessageType.USER)
AUDIT_SIGNAL_INFO = int(MessageType.SIGNAL_INFO)
AUDIT_ADD_RULE = int(MessageType.ADD_RULE)
AUDIT_DEL_RULE = int(MessageType.DEL_RULE)
AUDIT_LIST_RULES = int(MessageType.LIST_RULES)
AUDIT_TRIM = int(MessageType.TRIM)
AUDIT_MAKE_EQUIV = int(MessageType.MAKE_EQUIV)
AUDIT_TTY_GET = int(MessageType.TTY_GET)
AUDIT_TTY_SET = int(MessageType.TTY_SET)
AUDIT_SET_FEATURE = int(MessageType.SET_FEATURE)
AUDIT_GET_FEATURE = int(MessageType.GET_FEATURE)


def _align4(n: int) -> int:
    return (n + 3) & ~3


def encode_message(
    msg_type: int,
    payload: bytes = b"",
    *,
    seq: int = 0,
    flags: int = 0,
    pid: int = 0,
    quirk: bool = False,
    pad: bool = True,
) -> bytes:
    """One netlink message.

    Arguments:
        msg_type, seq, flags, pid: the header fields.
        payload: the message body.
        quirk: write ``nlmsg_len`` the way the kernel does for event records: the
            payload length without the 16-byte header (and no padding).
        pad: pad to a multiple of 4 bytes, as netlink does.

    Returns:
        The encoded message.
    """
    length = len(payload) if quirk else NLMSG_HDRLEN + len(payload)
    raw = _HDR.pack(length, msg_type, flags, seq, pid) + payload
    if pad and not quirk:
        raw += b"\0" * (_align4(len(raw)) - len(raw))
    return raw


def ack_payload(error: int, request: Request | None = None) -> bytes:
    """The payload of NLMSG_ERROR: ``error`` (0, -errno, or a positive value) and the
    request's header."""
    header = request.header_bytes() if request is not None else b"\0" * NLMSG_HDRLEN
    return struct.pack("=i", error) + header


@dataclass(frozen=True)
class Request:
    """A message a client sent to the fake kernel."""

    type: int
    flags: int
    seq: int
    pid: int
    data: bytes
    channel: int
    """Index of the client connection it came on (see :meth:`FakeKernel.client`)."""

    def header_bytes(self) -> bytes:
        return _HDR.pack(NLMSG_HDRLEN + len(self.data), self.type, self.flags, self.seq, self.pid)
