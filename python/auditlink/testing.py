"""A fake kernel audit endpoint for tests — no root, no kernel audit needed.

:class:`FakeKernel` speaks the real NETLINK_AUDIT wire format to real
:class:`~auditlink.AuditClient` / :class:`~auditlink.NetlinkClient` objects over a
``socketpair(AF_UNIX, SOCK_DGRAM)``; the clients run exactly the code they run
against the kernel. By default it behaves like the kernel (kernel/audit.c and
kernel/auditfilter.c, Linux 6.18) for every request type the kernel accepts:

* status: AUDIT_GET / AUDIT_SET with the kernel's validation, daemon registration,
  the immutable lock (enabled=2) and the counter resets;
* rules: AUDIT_ADD_RULE / AUDIT_DEL_RULE / AUDIT_LIST_RULES, kept per filter list
  as the kernel keeps them (duplicates EEXIST, a missing rule ENOENT);
* AUDIT_GET_FEATURE / AUDIT_SET_FEATURE with feature locks, AUDIT_SIGNAL_INFO,
  AUDIT_TTY_GET / AUDIT_TTY_SET, AUDIT_TRIM, AUDIT_MAKE_EQUIV;
* user messages (AUDIT_USER and the user ranges 1100-1199, 2100-2999), recorded;
* replies come after the ack, event records carry the kernel's length quirk.

What it holds is readable (and settable) on the fake: :attr:`FakeKernel.status`,
:attr:`~FakeKernel.rules`, :attr:`~FakeKernel.features`,
:attr:`~FakeKernel.signal_info`, :attr:`~FakeKernel.tty`,
:attr:`~FakeKernel.user_messages`; the raw form is :attr:`FakeKernel.state`.
Tests can script any answer: an errno, short or garbled replies, wrong sequence
numbers, reply before ack, several messages per datagram, silence, spoofed senders,
socket overruns.

    from auditlink.testing import FakeKernel

    with FakeKernel() as fake, fake.client() as client:
        client.add_rule("-w /etc/shadow -p wa -k identity")
        assert [str(r) for r in fake.rules] == ["-w /etc/shadow -p wa -k identity"]
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
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Union

from auditlink import _native
from auditlink._fake_wire import (
    _ERROR_FRAME_SENDER,
    _HDR,
    AUDIT_ADD_RULE,
    AUDIT_DEL_RULE,
    AUDIT_GET,
    AUDIT_GET_FEATURE,
    AUDIT_LIST_RULES,
    AUDIT_MAKE_EQUIV,
    AUDIT_SET,
    AUDIT_SET_FEATURE,
    AUDIT_SIGNAL_INFO,
    AUDIT_TRIM,
    AUDIT_TTY_GET,
    AUDIT_TTY_SET,
    AUDIT_USER,
    NLM_F_ACK,
    NLM_F_MULTI,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    NLMSG_HDRLEN,
    NLMSG_NOOP,
    Request,
    _align4,
    ack_payload,
    encode_message,
)
from auditlink.client import AuditClient, NetlinkClient
from auditlink.enums import AuditFeatureBitmap, AuditStatusMask
from auditlink.netlink import _Closing
from auditlink.rules import AuditFeatures, AuditRule, RuleList, SignalInfo, TtyStatus
from auditlink.status import AuditStatus

# 60 s in jiffies at HZ=250 (kernel/audit.c AUDIT_BACKLOG_WAIT_TIME = 60 * HZ).
DEFAULT_BACKLOG_WAIT_TIME = 15000

# struct audit_features (linux/audit.h): version, mask, features, lock.
_FEATURES = struct.Struct("=IIII")
# AUDIT_FEATURE_VERSION, and the mask of every feature up to AUDIT_LAST_FEATURE.
_FEATURE_VERSION = 1
_FEATURE_MASK = 0x3
# The rule lists audit_to_entry_common() (kernel/auditfilter.c) accepts.
_RULE_LISTS = frozenset(
    {
        RuleList.USER,
        RuleList.TASK,
        RuleList.EXIT,
        RuleList.EXCLUDE,
        RuleList.FILESYSTEM,
        RuleList.IO_URING,
    }
)
# struct audit_rule_data: flags, action, field_count, then mask[64] (32-bit words).
_RULE_FLAGS_OFFSET = 0
_RULE_LAST_MASK_WORD_OFFSET = 12 + 63 * 4
_AUDIT_FILTER_PREPEND = 0x10


def _stored_rule(data: bytes) -> bytes:
    """A rule as the kernel keeps and lists it: audit_add_rule() drops the prepend
    flag, audit_to_entry_common() turns the syscall-class bits of the mask's last
    word into syscalls and clears them."""
    rule = bytearray(data)
    (flags,) = struct.unpack_from("=I", rule, _RULE_FLAGS_OFFSET)
    struct.pack_into("=I", rule, _RULE_FLAGS_OFFSET, flags & ~_AUDIT_FILTER_PREPEND)
    (word,) = struct.unpack_from("=I", rule, _RULE_LAST_MASK_WORD_OFFSET)
    struct.pack_into("=I", rule, _RULE_LAST_MASK_WORD_OFFSET, word & 0xFFFF)
    return bytes(rule)


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
    """What the fake kernel holds; tests may read and change it directly (the fake
    serves from its own thread: change it between requests, not during one)."""

    status: AuditStatus
    rules: list[bytes] = field(default_factory=list)
    """Every rule as the kernel keeps and lists it (``struct audit_rule_data``
    without the prepend flag and the syscall-class bits), in listing order: by filter
    list, then in the order of each list."""
    features: AuditFeatures = field(
        default_factory=lambda: AuditFeatures(
            version=_FEATURE_VERSION, mask=_FEATURE_MASK, features=0, lock=0
        )
    )
    """``struct audit_features`` as AUDIT_GET_FEATURE reports it."""
    signal_info: SignalInfo = field(
        default_factory=lambda: SignalInfo(uid=0xFFFF_FFFF, pid=0, context=None)
    )
    """What AUDIT_SIGNAL_INFO reports (the kernel's answer when nobody signalled the
    daemon: uid -1, pid 0, no context)."""
    tty: TtyStatus = field(default_factory=lambda: TtyStatus(enabled=False, log_passwd=False))
    """What AUDIT_TTY_GET reports (the requesting process's TTY auditing)."""
    user_messages: list[tuple[int, bytes]] = field(default_factory=list)
    """Every user message received: ``(type, payload)``, the payload as sent."""
    daemon_channel: int | None = None


class FakeKernel(_Closing):
    """A scripted stand-in for the kernel's audit netlink endpoint.

    Default behaviour mirrors kernel/audit.c and kernel/auditfilter.c (Linux 6.18):

    * Request types the kernel does not know get EINVAL; with ``privileged=False``
      (no CAP_AUDIT_CONTROL / CAP_AUDIT_WRITE) every known one gets EPERM.
    * AUDIT_GET, AUDIT_GET_FEATURE, AUDIT_SIGNAL_INFO and AUDIT_TTY_GET answer the ack
      first, then the reply (see :attr:`reply_before_ack`, :attr:`combine_replies`).
    * AUDIT_SET validates and applies every masked field (EINVAL for out-of-range
      values, EPERM once locked with enabled=2, EEXIST when another daemon is
      registered) and acks; a mask of exactly LOST or BACKLOG_WAIT_TIME_ACTUAL
      returns the old counter in the ack.
    * AUDIT_ADD_RULE appends the rule to its filter list (``-A``: to the head),
      keeping it without the prepend flag and the syscall-class bits; AUDIT_DEL_RULE
      removes the equal rule. EINVAL for a malformed rule or list, EEXIST for a
      duplicate, ENOENT for a missing rule, EPERM while immutable.
    * AUDIT_LIST_RULES: the ack, one NLM_F_MULTI message per rule, NLMSG_DONE.
    * AUDIT_SET_FEATURE changes the masked features and adds locks; changing a
      locked feature is EPERM, an unknown feature EINVAL.
    * AUDIT_TTY_SET stores the status (EINVAL for values other than 0 and 1);
      AUDIT_TRIM and AUDIT_MAKE_EQUIV are acked; user messages are recorded.
    * Acks go out when the request asks for one (NLM_F_ACK), and always on error.

    State: :attr:`state` (raw) and the views :attr:`status`, :attr:`rules`,
    :attr:`features`, :attr:`signal_info`, :attr:`tty`, :attr:`user_messages`.

    Scripting (each applies to the next request, in order): :meth:`fail_next`,
    :meth:`drop_next`, :meth:`respond_next`; persistent switches
    :attr:`reply_before_ack` and :attr:`combine_replies`; :attr:`handlers` replaces
    the default answer for a message type. Injection: :meth:`send_record`,
    :meth:`send_messages`, :meth:`send_raw`, :meth:`send_socket_error`. Everything
    received is in :attr:`requests`.

    Arguments:
        status: the initial status (default: auditing off, failure printk, backlog 64).
        privileged: False answers every change with EPERM, as for a caller without
            CAP_AUDIT_CONTROL.
        first_port_id: the port id of the first client; each next one gets the next.
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
        """Send a reply (status, features, signal info, TTY status) before the ack (the
        kernel sends the ack first)."""
        self.combine_replies = False
        """Put ack and reply in one datagram."""
        self.requests: list[Request] = []
        self.handlers: dict[int, Responder] = {}
        """Answers that replace the default one for a message type (or serve a type
        the fake does not know): ``handlers[type](fake, request) -> datagrams``."""
        # The kernel's answer per request type (kernel/audit.c audit_receive_msg()):
        # a change is acked with its result, a query acked and then answered.
        self._changes: dict[int, Callable[[Request], int]] = {
            AUDIT_SET: self._set,
            AUDIT_ADD_RULE: self._add_rule,
            AUDIT_DEL_RULE: self._delete_rule,
            AUDIT_SET_FEATURE: self._set_feature,
            AUDIT_TTY_SET: self._set_tty,
            AUDIT_TRIM: self._accept,
            AUDIT_MAKE_EQUIV: self._accept,
        }
        self._queries: dict[int, Callable[[], bytes]] = {
            AUDIT_GET: self._status_payload,
            AUDIT_GET_FEATURE: self._features_payload,
            AUDIT_SIGNAL_INFO: self._signal_info_payload,
            AUDIT_TTY_GET: self._tty_payload,
        }
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
        """A real :class:`AuditClient` connected to this fake.

        Arguments:
            tee, receive_buffer_size, timeout: as for :class:`AuditClient`.
            read_buffer_size: the client's largest datagram (default 64 KiB).

        Returns:
            A new client on its own connection, with its own port id.
        """
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
        """A real :class:`NetlinkClient` connected to this fake.

        Arguments:
            read_buffer_size, tee: as for :class:`NetlinkClient`.

        Returns:
            A new client on its own connection, with its own port id.
        """
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

    @property
    def rules(self) -> list[AuditRule]:
        """The rules, as AUDIT_LIST_RULES would list them (decoded from
        :attr:`FakeState.rules`)."""
        with self._lock:
            stored = list(self.state.rules)
        return [AuditRule.from_bytes(r) for r in stored]

    @property
    def features(self) -> AuditFeatures:
        return self.state.features

    @features.setter
    def features(self, value: AuditFeatures) -> None:
        self.state.features = value

    @property
    def signal_info(self) -> SignalInfo:
        return self.state.signal_info

    @signal_info.setter
    def signal_info(self, value: SignalInfo) -> None:
        self.state.signal_info = value

    @property
    def tty(self) -> TtyStatus:
        return self.state.tty

    @tty.setter
    def tty(self, value: TtyStatus) -> None:
        self.state.tty = value

    @property
    def user_messages(self) -> list[tuple[int, bytes]]:
        """Every user message received so far: ``(type, payload)``."""
        with self._lock:
            return list(self.state.user_messages)

    # --------------------------------------------------------------- scripting

    def respond_next(self, responder: Responder) -> None:
        """Answer the next request (after any already scripted) with what
        ``responder(fake, request)`` returns: the datagrams to send, in order."""
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
        """Send one datagram as is.

        Arguments:
            datagram: the netlink bytes.
            sender: the port id it claims to come from (0 = the kernel).
            channel: the connection (default: the registered daemon, else the newest).

        Raises:
            RuntimeError: no client is connected.
        """
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
        """Several netlink messages in ONE datagram.

        Arguments:
            messages: ``(type, payload[, seq])`` each.
            quirk: write the kernel's event-record length (without the header).
            sender, channel: as for :meth:`send_raw`.
        """
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
        """One event record in its own datagram.

        Arguments:
            msg_type: the record type.
            text: the payload (a str is UTF-8 encoded).
            quirk: the kernel's unicast length quirk (False: the multicast copy's
                correct length).
            sender, channel: as for :meth:`send_raw`.
        """
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
        change = self._changes.get(req.type)
        if change is None and _native.is_user_message(req.type):
            change = self._record_user_message
        query = self._queries.get(req.type)
        if change is None and query is None and req.type != AUDIT_LIST_RULES:
            return self._ack_only(req, -_errno.EINVAL)  # audit_netlink_ok(): unknown
        if not self.privileged:
            return self._ack_only(req, -_errno.EPERM)  # no CAP_AUDIT_CONTROL / _WRITE
        with self._lock:
            if change is not None:
                return self._ack_only(req, change(req))
            if query is not None:
                return self._ack_and_reply(req, query())
            return self._ack_and_dump(req, self.state.rules)

    def _ack_only(self, req: Request, error: int) -> Sequence[Datagram]:
        # The kernel acks when asked, and always on error (netlink_rcv_skb).
        if error < 0 or req.flags & NLM_F_ACK:
            return [self.ack(req, error)]
        return []

    def _ack_and_reply(self, req: Request, payload: bytes) -> Sequence[Datagram]:
        # audit_send_reply() queues the reply to a kernel thread: the ack (sent when
        # audit_receive_msg() returns) comes first.
        reply = self.reply(req, req.type, payload)
        if not req.flags & NLM_F_ACK:
            return [reply]
        ack = self.ack(req)
        if self.combine_replies:
            return [reply + ack] if self.reply_before_ack else [ack + reply]
        return [reply, ack] if self.reply_before_ack else [ack, reply]

    def _ack_and_dump(self, req: Request, payloads: Iterable[bytes]) -> Sequence[Datagram]:
        # audit_list_rules_send(): the dump, sent by a kernel thread, after the ack.
        dump = [self.reply(req, req.type, p, flags=NLM_F_MULTI) for p in payloads]
        dump.append(self.reply(req, NLMSG_DONE, b"\0\0\0\0", flags=NLM_F_MULTI))
        return [*self._ack_only(req, 0), *dump]

    # Queries: the reply payloads.

    def _status_payload(self) -> bytes:
        return replace(self.state.status, mask=AuditStatusMask(0)).to_bytes()

    def _features_payload(self) -> bytes:
        f = self.state.features
        return _FEATURES.pack(f.version, f.mask, f.features, f.lock)

    def _signal_info_payload(self) -> bytes:
        # struct audit_sig_info: uid, pid, then the NUL-terminated security context.
        s = self.state.signal_info
        context = b"" if s.context is None else os.fsencode(s.context) + b"\0"
        return struct.pack("=Ii", s.uid, s.pid) + context

    def _tty_payload(self) -> bytes:
        return struct.pack("=II", self.state.tty.enabled, self.state.tty.log_passwd)

    # Changes: each returns the ack's error field.

    def _set(self, req: Request) -> int:
        """Apply an AUDIT_SET like audit_receive_msg()."""
        padded = req.data[:44] + b"\0" * max(0, 44 - len(req.data))
        s = AuditStatus.from_bytes(padded)
        mask = int(s.mask)
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

    def _add_rule(self, req: Request) -> int:
        """audit_rule_change(AUDIT_ADD_RULE): kernel/auditfilter.c audit_add_rule()."""
        rule = self._rule_change(req)
        if isinstance(rule, int):
            return rule
        rules = self.state.rules
        if any(AuditRule.from_bytes(r) == rule for r in rules):
            return -_errno.EEXIST
        # Each filter list is its own list; listing walks them in list order. A
        # prepended rule goes to the head of its list, others to the tail.
        if rule.prepend:
            at = next(
                (i for i, r in enumerate(rules) if AuditRule.from_bytes(r).list >= rule.list),
                len(rules),
            )
        else:
            at = next(
                (i for i, r in enumerate(rules) if AuditRule.from_bytes(r).list > rule.list),
                len(rules),
            )
        rules.insert(at, _stored_rule(req.data))
        return 0

    def _delete_rule(self, req: Request) -> int:
        """audit_rule_change(AUDIT_DEL_RULE): kernel/auditfilter.c audit_del_rule()."""
        rule = self._rule_change(req)
        if isinstance(rule, int):
            return rule
        for i, r in enumerate(self.state.rules):
            if AuditRule.from_bytes(r) == rule:
                del self.state.rules[i]
                return 0
        return -_errno.ENOENT

    def _rule_change(self, req: Request) -> AuditRule | int:
        """The rule of an add or delete request, or the error refusing it."""
        if self.state.status.enabled == 2:
            return -_errno.EPERM
        try:
            rule = AuditRule.from_bytes(req.data)
        except ValueError:
            return -_errno.EINVAL
        if rule.list not in _RULE_LISTS:
            return -_errno.EINVAL
        return rule

    def _set_feature(self, req: Request) -> int:
        """kernel/audit.c audit_set_feature(): a locked feature cannot change."""
        if len(req.data) < _FEATURES.size:
            return -_errno.EINVAL
        _version, mask, features, lock = _FEATURES.unpack_from(req.data)
        if mask & ~_FEATURE_MASK:
            return -_errno.EINVAL
        old = self.state.features
        if (old.features ^ features) & mask & old.lock:
            return -_errno.EPERM
        self.state.features = replace(
            old,
            features=(old.features & ~mask) | (features & mask),
            lock=old.lock | (lock & mask),
        )
        return 0

    def _set_tty(self, req: Request) -> int:
        # A short payload is zero-padded (audit_receive_msg() AUDIT_TTY_SET).
        enabled, log_passwd = struct.unpack_from("=II", req.data.ljust(8, b"\0"))
        if enabled > 1 or log_passwd > 1:
            return -_errno.EINVAL
        self.state.tty = TtyStatus(enabled=bool(enabled), log_passwd=bool(log_passwd))
        return 0

    def _record_user_message(self, req: Request) -> int:
        self.state.user_messages.append((req.type, req.data))
        return 0

    def _accept(self, req: Request) -> int:
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


__all__ = [
    "AUDIT_ADD_RULE",
    "AUDIT_DEL_RULE",
    "AUDIT_GET",
    "AUDIT_GET_FEATURE",
    "AUDIT_LIST_RULES",
    "AUDIT_MAKE_EQUIV",
    "AUDIT_SET",
    "AUDIT_SET_FEATURE",
    "AUDIT_SIGNAL_INFO",
    "AUDIT_TRIM",
    "AUDIT_TTY_GET",
    "AUDIT_TTY_SET",
    "AUDIT_USER",
    "NLMSG_DONE",
    "NLMSG_ERROR",
    "NLMSG_HDRLEN",
    "NLMSG_NOOP",
    "NLM_F_ACK",
    "NLM_F_MULTI",
    "NLM_F_REQUEST",
    "FakeKernel",
    "FakeState",
    "Request",
    "ack_payload",
    "encode_message",
]
