"""A fake kernel audit endpoint for tests — no root, no kernel audit needed.

:class:`FakeKernel` speaks the real NETLINK_AUDIT wire format to real
:class:`~auditlink.AuditClient` / :class:`~auditlink.NetlinkClient` objects over a
``socketpair(AF_UNIX, SOCK_DGRAM)``; the clients run exactly the code they run
against the kernel. By default it behaves like the kernel (AUDIT_GET/AUDIT_SET with
the kernel's validation, ack before reply, the record length quirk); tests can script
any answer: an errno, short or garbled replies, wrong sequence numbers, reply before
ack, several messages per datagram, silence, spoofed senders, socket overruns.

    from auditlink.testing import FakeKernel

    with FakeKernel() as fake, fake.client() as client:
        fake.fail_next(errno.EPERM)
        with pytest.raises(PermissionError):
            client.set_enabled(True)
        fake.send_record(MessageType.USER, b"audit(1.000:1): pid=1 msg='hi'")
        assert client.receive().data.startswith(b"audit(")

Wire framing between the fake and a client: datagrams from the fake carry a 4-byte
native-endian sender port id before the netlink bytes (0 = "the kernel"); a frame
with sender 0xFFFFFFFF and a 4-byte body delivers that errno as a socket error
(used to emulate ENOBUFS). Requests from the client are plain netlink bytes.
"""

from __future__ import annotations

import errno as _errno
import os
import selectors
import socket
import struct
import threading
import types
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Union

from auditlink import _native
from auditlink.client import AuditClient, NetlinkClient
from auditlink.enums import AuditFeatureBitmap, AuditStatusMask
from auditlink.status import AuditStatus

_HDR = struct.Struct("=IHHII")
NLMSG_HDRLEN = _HDR.size
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ACK = 0x04
AUDIT_GET = 1000
AUDIT_SET = 1001
AUDIT_LIST_RULES = 1013
_ERROR_FRAME_SENDER = 0xFFFF_FFFF

# 60 s in jiffies at HZ=250 (kernel/audit.c AUDIT_BACKLOG_WAIT_TIME = 60 * HZ).
DEFAULT_BACKLOG_WAIT_TIME = 15000


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
    """One netlink message. ``quirk=True`` writes ``nlmsg_len`` the way the kernel does
    for event records: the payload length without the 16-byte header."""
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


Datagram = Union[bytes, "tuple[int, bytes]"]
"""What a script returns per datagram: netlink bytes (sent from the kernel, port 0),
or ``(sender_port_id, bytes)``."""

Responder = Callable[["FakeKernel", Request], Sequence[Datagram]]
"""A scripted answer: given the request, the datagrams to send back, in order."""


@dataclass
class _Channel:
    sock: socket.socket
    peer: socket.socket
    port_id: int
    groups: int = 0


@dataclass
class FakeState:
    """What the fake kernel holds; tests may read and change it directly."""

    status: AuditStatus
    rules: list[bytes] = field(default_factory=list)
    daemon_channel: int | None = None


class FakeKernel:
    """A scripted stand-in for the kernel's audit netlink endpoint.

    Default behaviour mirrors kernel/audit.c: AUDIT_GET answers the ack first, then
    the status; AUDIT_SET validates and applies every masked field (EINVAL for
    out-of-range values, EPERM once locked with enabled=2 or when ``privileged`` is
    False, EEXIST when another daemon is registered) and acks; a mask of exactly
    LOST or BACKLOG_WAIT_TIME_ACTUAL returns the old counter in the ack; unknown
    types get EINVAL. Extra types can be served by adding to :attr:`handlers`.

    Scripting (each applies to the next request, in order): :meth:`fail_next`,
    :meth:`drop_next`, :meth:`respond_next`; persistent switches
    :attr:`reply_before_ack` and :attr:`combine_replies`. Injection:
    :meth:`send_record`, :meth:`send_messages`, :meth:`send_raw`,
    :meth:`send_socket_error`. Everything received is in :attr:`requests`.
    """

    def __init__(
        self,
        status: AuditStatus | None = None,
        *,
        privileged: bool = True,
        first_port_id: int = 4242,
    ) -> None:
        self.state = FakeState(
            status
            or AuditStatus(
                enabled=0,
                failure=1,
                backlog_limit=64,
                feature_bitmap=AuditFeatureBitmap(0x7F),
                backlog_wait_time=DEFAULT_BACKLOG_WAIT_TIME,
            )
        )
        self.privileged = privileged
        self.reply_before_ack = False
        """Send the AUDIT_GET reply before the ack (the kernel sends the ack first)."""
        self.combine_replies = False
        """Put ack and reply in one datagram."""
        self.requests: list[Request] = []
        self.handlers: dict[int, Responder] = {}
        """Extra message types: ``handlers[type](fake, request) -> datagrams``."""
        self._script: deque[Responder] = deque()
        self._channels: list[_Channel] = []
        self._next_port = first_port_id
        self._lock = threading.RLock()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="FakeKernel", daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- clients

    def _new_channel(self) -> _Channel:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        with self._lock:
            ch = _Channel(ours, theirs, self._next_port)
            self._next_port += 1
            self._channels.append(ch)
            self._selector.register(ours, selectors.EVENT_READ, len(self._channels) - 1)
        os.write(self._wake_w, b"x")
        return ch

    def client(
        self,
        tee: BinaryIO | None = None,
        *,
        timeout: float = 2.0,
        receive_buffer_size: int | None = None,
        read_buffer_size: int | None = None,
    ) -> AuditClient:
        """A real :class:`AuditClient` connected to this fake (each call: a new
        connection with its own port id)."""
        ch = self._new_channel()
        native = _native.AuditClient._over_socketpair(
            ch.peer.fileno(),
            ch.port_id,
            tee,
            receive_buffer_size=receive_buffer_size,
            read_buffer_size=read_buffer_size,
            timeout=timeout,
        )
        ch.peer.close()
        return AuditClient._wrap(native)

    def netlink_client(
        self, read_buffer_size: int | None = None, tee: BinaryIO | None = None
    ) -> NetlinkClient:
        """A real :class:`NetlinkClient` connected to this fake."""
        ch = self._new_channel()
        native = _native.NetlinkClient._over_socketpair(
            ch.peer.fileno(), ch.port_id, read_buffer_size, tee
        )
        ch.peer.close()
        return NetlinkClient._wrap(native)

    @property
    def status(self) -> AuditStatus:
        return self.state.status

    @status.setter
    def status(self, value: AuditStatus) -> None:
        self.state.status = value

    # --------------------------------------------------------------- scripting

    def respond_next(self, responder: Responder) -> None:
        """Answer the next request with whatever ``responder`` returns."""
        with self._lock:
            self._script.append(responder)

    def fail_next(self, errno: int) -> None:
        """Answer the next request with NLMSG_ERROR carrying ``-errno``."""
        self.respond_next(lambda fake, req: [fake.ack(req, -errno)])

    def drop_next(self) -> None:
        """Do not answer the next request at all (the client should time out)."""
        self.respond_next(lambda fake, req: [])

    # ---------------------------------------------------------------- builders

    @staticmethod
    def ack(request: Request, error: int = 0) -> bytes:
        """An NLMSG_ERROR answering ``request`` (0 = success, -errno = failure)."""
        return encode_message(NLMSG_ERROR, ack_payload(error, request), seq=request.seq)

    @staticmethod
    def reply(request: Request, msg_type: int, payload: bytes, flags: int = 0) -> bytes:
        """A reply message of ``msg_type`` carrying ``request``'s sequence number."""
        return encode_message(msg_type, payload, seq=request.seq, flags=flags)

    # --------------------------------------------------------------- injection

    def _target(self, channel: int | None) -> _Channel:
        with self._lock:
            if not self._channels:
                raise RuntimeError("no client is connected to this FakeKernel")
            if channel is None:
                channel = (
                    self.state.daemon_channel
                    if self.state.daemon_channel is not None
                    else len(self._channels) - 1
                )
            return self._channels[channel]

    def send_raw(self, datagram: bytes, *, sender: int = 0, channel: int | None = None) -> None:
        """Send one datagram as is (``sender`` = port id it claims to come from).
        ``channel`` defaults to the registered daemon, else the newest client."""
        ch = self._target(channel)
        ch.sock.send(struct.pack("=I", sender) + datagram)

    def send_messages(
        self,
        messages: Iterable[tuple[int, bytes] | tuple[int, bytes, int]],
        *,
        quirk: bool = False,
        sender: int = 0,
        channel: int | None = None,
    ) -> None:
        """Several netlink messages in ONE datagram: ``(type, payload[, seq])`` each."""
        parts = []
        for m in messages:
            seq = m[2] if len(m) > 2 else 0
            parts.append(encode_message(m[0], m[1], seq=seq, quirk=quirk))
        self.send_raw(b"".join(parts), sender=sender, channel=channel)

    def send_record(
        self,
        msg_type: int,
        text: bytes | str,
        *,
        quirk: bool = True,
        sender: int = 0,
        channel: int | None = None,
    ) -> None:
        """One event record in its own datagram, with the kernel's length quirk
        unless ``quirk=False`` (the multicast copy has a correct length)."""
        data = text.encode() if isinstance(text, str) else text
        self.send_raw(encode_message(msg_type, data, quirk=quirk), sender=sender, channel=channel)

    def send_socket_error(self, errno: int = _errno.ENOBUFS, *, channel: int | None = None) -> None:
        """Make the client's next read fail with ``errno`` (ENOBUFS = an overrun)."""
        self.send_raw(struct.pack("=i", errno), sender=_ERROR_FRAME_SENDER, channel=channel)

    # -------------------------------------------------------- default behaviour

    def _serve(self) -> None:
        while not self._closed:
            for key, _ in self._selector.select():
                if key.data is None:
                    os.read(self._wake_r, 4096)
                    continue
                index = int(key.data)
                ch = self._channels[index]
                try:
                    data = ch.sock.recv(1 << 16)
                except OSError:
                    continue
                if not data:
                    continue
                self._handle_datagram(index, data)

    def _handle_datagram(self, channel: int, data: bytes) -> None:
        offset = 0
        while offset + NLMSG_HDRLEN <= len(data):
            length, msg_type, flags, seq, pid = _HDR.unpack_from(data, offset)
            if length < NLMSG_HDRLEN or offset + length > len(data):
                return
            req = Request(
                msg_type, flags, seq, pid, data[offset + NLMSG_HDRLEN : offset + length], channel
            )
            offset += _align4(length)
            with self._lock:
                self.requests.append(req)
                responder = self._script.popleft() if self._script else None
            answer = responder(self, req) if responder else self.default_response(req)
            for d in answer:
                sender, raw = d if isinstance(d, tuple) else (0, d)
                self.send_raw(raw, sender=sender, channel=channel)

    def default_response(self, req: Request) -> Sequence[Datagram]:
        """What the fake answers when nothing is scripted (kernel behaviour)."""
        if req.type in self.handlers:
            return self.handlers[req.type](self, req)
        if req.type == AUDIT_GET:
            return self._get(req)
        if req.type == AUDIT_SET:
            return self._ack_only(req, self._set(req))
        return self._ack_only(req, -_errno.EINVAL)

    def _ack_only(self, req: Request, error: int) -> Sequence[Datagram]:
        # The kernel acks when asked, and always on error (netlink_rcv_skb).
        if error < 0 or req.flags & NLM_F_ACK:
            return [self.ack(req, error)]
        return []

    def _get(self, req: Request) -> Sequence[Datagram]:
        if not self.privileged:
            return [self.ack(req, -_errno.EPERM)]
        with self._lock:
            status = replace(self.state.status, mask=AuditStatusMask(0))
        reply = self.reply(req, AUDIT_GET, status.to_bytes())
        if not req.flags & NLM_F_ACK:
            return [reply]
        ack = self.ack(req)
        if self.combine_replies:
            return [reply + ack] if self.reply_before_ack else [ack + reply]
        return [reply, ack] if self.reply_before_ack else [ack, reply]

    def _set(self, req: Request) -> int:
        """Apply an AUDIT_SET like audit_receive_msg(); returns the ack's error field."""
        if not self.privileged:
            return -_errno.EPERM
        padded = req.data[:44] + b"\0" * max(0, 44 - len(req.data))
        s = AuditStatus.from_bytes(padded)
        mask = int(s.mask)
        with self._lock:
            cur = self.state.status
            locked = cur.enabled == 2
            changes: dict[str, int] = {}
            if mask & AuditStatusMask.ENABLED:
                if s.enabled not in (0, 1, 2):
                    return -_errno.EINVAL
                if locked:
                    return -_errno.EPERM
                changes["enabled"] = s.enabled
            if mask & AuditStatusMask.FAILURE:
                if s.failure not in (0, 1, 2):
                    return -_errno.EINVAL
                if locked:
                    return -_errno.EPERM
                changes["failure"] = s.failure
            if mask & AuditStatusMask.PID:
                if cur.pid and s.pid:
                    return -_errno.EEXIST
                changes["pid"] = s.pid
                self.state.daemon_channel = req.channel if s.pid else None
            if mask & AuditStatusMask.RATE_LIMIT:
                if locked:
                    return -_errno.EPERM
                changes["rate_limit"] = s.rate_limit
            if mask & AuditStatusMask.BACKLOG_LIMIT:
                if locked:
                    return -_errno.EPERM
                changes["backlog_limit"] = s.backlog_limit
            if mask & AuditStatusMask.BACKLOG_WAIT_TIME:
                if len(req.data) < 44 or s.backlog_wait_time > 10 * DEFAULT_BACKLOG_WAIT_TIME:
                    return -_errno.EINVAL
                if locked:
                    return -_errno.EPERM
                changes["backlog_wait_time"] = s.backlog_wait_time
            self.state.status = replace(cur, **changes)  # type: ignore[arg-type]
            if mask == AuditStatusMask.LOST:
                old = self.state.status.lost
                self.state.status = replace(self.state.status, lost=0)
                return old
            if mask == AuditStatusMask.BACKLOG_WAIT_TIME_ACTUAL:
                old = self.state.status.backlog_wait_time_actual
                self.state.status = replace(self.state.status, backlog_wait_time_actual=0)
                return old
        return 0

    # --------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Stop serving and close every connection (clients then see no replies)."""
        if self._closed:
            return
        self._closed = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for ch in self._channels:
            ch.sock.close()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def __enter__(self) -> FakeKernel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["FakeKernel", "FakeState", "Request", "ack_payload", "encode_message"]
