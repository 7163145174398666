"""Clients for the kernel audit netlink socket."""

from __future__ import annotations

import asyncio
import contextlib
import errno as _errno
import os
import threading
import types
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, overload

from auditlink import _native
from auditlink._native import AuditEvent, NetlinkMessage, RawAuditMessage, Reassembler
from auditlink._rules_client import RulesClientMixin, _bool_flag, _wait
from auditlink.enums import FailureMode, WaitMode
from auditlink.errors import AuditError, _from_errno
from auditlink.status import AuditStatus

if TYPE_CHECKING:
    from auditlink.enrich import Enricher

DEFAULT_TIMEOUT = 5.0
"""Seconds to wait for the kernel's reply to a control request."""

DAEMON_RECEIVE_BUFFER = 16 * 1024 * 1024
"""Socket receive buffer :meth:`AuditClient.daemon` asks for (SO_RCVBUFFORCE)."""

DEFAULT_LINGER = 0.0005
"""Default ``linger`` of :meth:`AuditClient.receive_batch`, in seconds."""

_ASYNC_RECHECK = 1.0
"""Seconds between re-checks of the queue while awaiting readability (records another
thread's request wait queued do not make the socket readable)."""


def _u32(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= value <= 0xFFFF_FFFF:
        raise ValueError(f"{name} must be in 0..4294967295, got {value}")
    return value


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


class AuditClient(RulesClientMixin, _Closing):
    """A client for the kernel audit subsystem over a unicast NETLINK_AUDIT socket.

    Control calls (``get_status``, ``set_*``) send one request and wait for the
    kernel's answer, matched by sequence number; each wait has a deadline
    (``timeout`` seconds, default 5) after which :class:`~auditlink.errors.AuditTimeoutError`
    is raised. Kernel errors are raised as :class:`OSError` subclasses that are also
    :class:`~auditlink.AuditError` (``PermissionError`` for EPERM, ...).

    ``tee``, if given, receives a copy of every datagram read from the socket (for
    debugging; it is written from whichever thread reads).

    Thread safety: one client may be shared between threads. Any number of threads
    may call control methods while one thread blocks in :meth:`receive` or
    :meth:`receive_batch`: whoever is reading the socket hands each message to the
    thread it belongs to (replies by sequence number; event records to the
    receivers), so no thread ever steals another's message. Several threads
    receiving events at once each get distinct records, in no guaranteed split.
    :meth:`close` may be called from any thread; it wakes every waiting thread.
    Sequence numbers are atomic. Blocking calls release the GIL, and a blocked
    ``receive`` wakes within 0.1 s for signals (Ctrl-C raises KeyboardInterrupt).
    """

    def __init__(
        self,
        tee: BinaryIO | None = None,
        *,
        receive_buffer_size: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._setup(
            _native.AuditClient(tee, receive_buffer_size=receive_buffer_size, timeout=timeout)
        )

    def _setup(self, native: _native.AuditClient) -> None:
        self._native = native
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._waiters_lock = threading.Lock()

    @classmethod
    def _wrap(cls, native: _native.AuditClient) -> AuditClient:
        self = cls.__new__(cls)
        self._setup(native)
        return self

    @classmethod
    def multicast(
        cls,
        tee: BinaryIO | None = None,
        *,
        receive_buffer_size: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> AuditClient:
        """A read-only listener on the kernel's ``AUDIT_NLGRP_READLOG`` multicast group.

        It receives a copy of every record the kernel emits, whether or not a daemon
        (auditd, or another auditlink) is registered, and never affects that daemon.
        Needs CAP_AUDIT_READ (root has it): without it the kernel refuses the bind and
        this raises :class:`PermissionError`. Multicast delivery is best effort: if
        this socket's buffer is full the kernel drops records for it (counted as
        ``stats["overruns"]``) — raise ``receive_buffer_size`` to avoid that.
        """
        groups = 1 << (_native.AUDIT_NLGRP_READLOG - 1)
        return cls._wrap(
            _native.AuditClient(
                tee, groups=groups, receive_buffer_size=receive_buffer_size, timeout=timeout
            )
        )

    @classmethod
    @contextlib.contextmanager
    def daemon(
        cls,
        *,
        enable: bool = True,
        receive_buffer_size: int | None = DAEMON_RECEIVE_BUFFER,
        timeout: float = DEFAULT_TIMEOUT,
        client: AuditClient | None = None,
    ) -> Iterator[AuditClient]:
        """Run the body as the kernel's audit daemon::

            with AuditClient.daemon() as client:
                for msg in client.messages():
                    ...

        Opens a client (with a large receive buffer), turns auditing on (unless
        ``enable`` is False) and registers this process as the daemon. On exit — also
        when the body raises — it unregisters (reliably, even while the kernel floods
        the socket), puts the enabled flag back as it was, and closes the client.

        ``client`` uses an existing client instead of opening one (e.g. one from
        :class:`auditlink.testing.FakeKernel`); it is closed on exit too.

        Note: a process forked before auditing was first enabled since boot never
        produces syscall records; enable first, then start the processes to watch.
        """
        if client is None:
            client = cls(receive_buffer_size=receive_buffer_size, timeout=timeout)
        try:
            was_enabled = client.get_status().enabled
            changed = enable and was_enabled == 0
            if changed:
                client.set_enabled(True)
            try:
                client.set_pid()
                yield client
            finally:
                try:
                    if client.registered:
                        client.unregister()
                finally:
                    if changed:
                        client.set_enabled(False)
        finally:
            client.close()

    # ------------------------------------------------------------------ status

    def get_status(self) -> AuditStatus:
        """The kernel's current audit status (AUDIT_GET)."""
        return AuditStatus._from_tuple(self._native.get_status())

    def set_enabled(self, enabled: bool, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> None:
        """Turn auditing on or off (``auditctl -e 0|1``)."""
        self._native.set_enabled(_bool_flag("enabled", enabled), _wait(wait))

    def set_immutable(self, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> None:
        """Lock the audit configuration until reboot (``auditctl -e 2``).

        Irreversible: no rule or status change is accepted afterwards, by anyone.
        """
        self._native.set_enabled(2, _wait(wait))

    def set_failure(self, mode: FailureMode, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> None:
        """Set the failure mode (``auditctl -f``). ``FailureMode.PANIC`` panics the
        kernel when a record cannot be delivered."""
        self._native.set_failure(int(FailureMode(mode)), _wait(wait))

    def set_pid(self, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> None:
        """Register the calling process as the audit daemon: the kernel sends every
        record to this socket. :meth:`close` unregisters again."""
        self._native.set_pid(_wait(wait))

    def set_rate_limit(self, limit: int, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> None:
        """Records per second the kernel may emit; 0 = unlimited (``auditctl -r``)."""
        self._native.set_rate_limit(_u32("limit", limit), _wait(wait))

    def set_backlog_limit(self, limit: int, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> None:
        """Records that may queue in the kernel for the daemon (``auditctl -b``)."""
        self._native.set_backlog_limit(_u32("limit", limit), _wait(wait))

    def set_backlog_wait_time(
        self, wait_time: int, wait: WaitMode = WaitMode.WAIT_FOR_REPLY
    ) -> None:
        """Jiffies a producer waits for backlog space (``auditctl --backlog_wait_time``).

        The kernel accepts 0 to 10 times its default (600 s worth); EINVAL otherwise.
        """
        self._native.set_backlog_wait_time(_u32("wait_time", wait_time), _wait(wait))

    def set_status(self, status: AuditStatus, wait: WaitMode = WaitMode.WAIT_FOR_REPLY) -> int:
        """Send ``status`` as one AUDIT_SET: every field whose bit is in
        ``status.mask`` changes at once. Returns the ack's value."""
        if not status.mask:
            raise ValueError("status.mask selects no field to set")
        return self._native.set_status("set_status", status.to_bytes(), _wait(wait))

    def reset_lost(self) -> int:
        """Reset the kernel's lost-record counter; returns the old value."""
        return self._native.reset_lost()

    def reset_backlog_wait_time_actual(self) -> int:
        """Reset ``backlog_wait_time_actual``; returns the old value."""
        return self._native.reset_backlog_wait_time_actual()

    def wait_for_pending_acks(self) -> None:
        """Wait for the acks of every call made with ``WaitMode.NO_WAIT``; raise the
        first error among them (by send order)."""
        self._native.wait_for_pending_acks()

    def unregister(self) -> None:
        """Stop being the audit daemon (AUDIT_SET pid 0). Reliable under load."""
        self._native.unregister()

    # --------------------------------------------------------------- low level

    def request_ack(
        self, msg_type: int, data: bytes = b"", wait: WaitMode = WaitMode.WAIT_FOR_REPLY
    ) -> int:
        """Send any audit command and wait for its ack; returns the ack's value (0, or
        what the command returns). Kernel errors raise like every other call."""
        return self._native.request_ack(f"request type {msg_type}", msg_type, data, _wait(wait))

    def request_reply(
        self, msg_type: int, data: bytes = b"", reply_type: int | None = None
    ) -> bytes:
        """Send a GET-style command; returns the payload of its one reply (of
        ``reply_type``, default the same type as the request)."""
        rt = msg_type if reply_type is None else reply_type
        return self._native.request_reply(f"request type {msg_type}", msg_type, data, rt)

    def request_dump(self, msg_type: int, data: bytes = b"") -> list[NetlinkMessage]:
        """Send a dump-style command (e.g. AUDIT_LIST_RULES); returns every reply
        message up to NLMSG_DONE."""
        return self._native.request_dump(f"request type {msg_type}", msg_type, data)

    # ------------------------------------------------------------------ events

    def receive(self, nonblocking: bool = False) -> RawAuditMessage | None:
        """The next event record from the kernel.

        Blocks until one arrives unless ``nonblocking``; returns None only when
        ``nonblocking`` and nothing is queued. Replies to this client's requests
        never come out here.
        """
        return self._native.receive(nonblocking)

    def receive_batch(
        self,
        max_messages: int = 1024,
        timeout: float | None = None,
        *,
        linger: float = DEFAULT_LINGER,
    ) -> list[RawAuditMessage]:
        """Up to ``max_messages`` records in one call — the fast path.

        Returns what is already queued plus what the socket holds, waiting up to
        ``timeout`` seconds (None = forever, 0 = not at all) for the first record only.
        All the receiving happens in Rust with the GIL released.

        ``linger``: when records are flowing and the socket runs dry before
        ``max_messages``, wait this long once (default 0.5 ms) and drain again, so a
        busy stream arrives in batches rather than one wakeup per record; that halves
        the CPU the whole pipeline spends per record. 0 returns at once instead.
        """
        return self._native.receive_batch(max_messages, timeout, linger=linger)

    # records/events area (issue 4): the live stream as parsed events.

    @overload
    def events(
        self,
        reassembler: Reassembler | None = None,
        *,
        max_messages: int = 1024,
        enrich: None = None,
    ) -> Iterator[AuditEvent]: ...
    @overload
    def events(
        self,
        reassembler: Reassembler | None = None,
        *,
        max_messages: int = 1024,
        enrich: Enricher,
    ) -> Iterator[dict[str, Any]]: ...
    def events(
        self,
        reassembler: Reassembler | None = None,
        *,
        max_messages: int = 1024,
        enrich: Enricher | None = None,
    ) -> Iterator[AuditEvent] | Iterator[dict[str, Any]]:
        """The kernel's records parsed and grouped into :class:`~auditlink.AuditEvent`
        objects, in the order they complete; runs until the client is closed.

        Records go from the socket to the Rust parser and reassembler without
        becoming Python objects first. Pass your own ``reassembler`` to choose
        ``max_in_flight``/``timeout`` or to read its ``lost`` counter. An event whose
        EOE does not come — in stream time, which also runs on while the socket is
        quiet — within the reassembler's timeout comes out with ``complete == False``.
        Malformed records never raise: they are kept with ``error`` set. Register
        first (:meth:`set_pid`) or use a multicast client, or nothing arrives.

        With ``enrich`` (an :class:`~auditlink.Enricher`), each event is tracked and
        enriched in Rust and comes out as a dict; events its filters drop do not.
        """
        if enrich is not None:
            return enrich.enrich_events(self.events(reassembler, max_messages=max_messages))
        return self._events(reassembler, max_messages)

    def _events(self, reassembler: Reassembler | None, max_messages: int) -> Iterator[AuditEvent]:
        reasm = reassembler if reassembler is not None else Reassembler()
        while True:
            try:
                batch = _native.receive_events(self._native, reasm, max_messages, None)
            except OSError:
                if self.closed:
                    yield from reasm.flush()
                    return
                raise
            yield from batch

    def messages(
        self, timeout: float | None = None, *, batch_size: int = 1024
    ) -> Iterator[RawAuditMessage]:
        """Iterate over records as they arrive, fetched in batches (the fast path).

        Ends when the client is closed (from any thread), or when no record arrives
        for ``timeout`` seconds (None = never). Ctrl-C raises KeyboardInterrupt.
        """
        native = self._native
        while True:
            try:
                batch = native.receive_batch(batch_size, timeout)
            except AuditError as e:
                if e.errno == _errno.EBADF and self.closed:
                    return
                raise
            if not batch:
                return
            yield from batch

    async def messages_async(
        self, timeout: float | None = None, *, batch_size: int = 1024
    ) -> AsyncIterator[RawAuditMessage]:
        """``async for msg in client.messages_async()``: records as they arrive.

        Runs on the event loop: waits for the socket's readability (no thread per
        message or per client), then drains it in one native call. Ends when the
        client is closed (from another task or thread) or after ``timeout`` seconds
        without a record; cancelling the consuming task stops it cleanly.
        """
        loop = asyncio.get_running_loop()
        idle_deadline = None if timeout is None else loop.time() + timeout
        while not self.closed:
            try:
                batch = self._native.receive_batch(batch_size, 0)
            except AuditError as e:
                if e.errno == _errno.EBADF and self.closed:
                    return
                raise
            if batch:
                for msg in batch:
                    yield msg
                if timeout is not None:
                    idle_deadline = loop.time() + timeout
                continue
            if idle_deadline is not None and loop.time() >= idle_deadline:
                return
            await self._readable(loop, idle_deadline)

    async def _readable(self, loop: asyncio.AbstractEventLoop, deadline: float | None) -> None:
        """Wait until the socket is readable, the client closes, ``deadline`` (loop
        time) passes, or a re-check interval passes — whichever comes first."""
        fut: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not fut.done():
                fut.set_result(None)

        with self._waiters_lock:
            if self.closed:
                return
            fd = self.fileno()
            self._async_waiters.add((loop, fut))
        loop.add_reader(fd, ready)
        try:
            wait = _ASYNC_RECHECK
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - loop.time()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(fut, wait)
        finally:
            loop.remove_reader(fd)
            with self._waiters_lock:
                self._async_waiters.discard((loop, fut))

    @property
    def receive_buffer_size(self) -> int:
        """The socket receive buffer the kernel granted (SO_RCVBUF, in bytes; the
        kernel doubles what is asked for its own bookkeeping)."""
        return self._native.receive_buffer_size

    @property
    def stats(self) -> dict[str, int]:
        """Counters: messages, bytes, datagrams, overruns (ENOBUFS), foreign_dropped
        (datagrams not from the kernel), truncated, malformed, stale_replies,
        queue_dropped."""
        return self._native.stats

    # --------------------------------------------------------------- lifecycle

    @property
    def port_id(self) -> int:
        """The netlink port id of this client's socket."""
        return self._native.port_id

    @property
    def closed(self) -> bool:
        return self._native.closed

    @property
    def registered(self) -> bool:
        """True while this client is registered as the audit daemon."""
        return self._native.registered

    def fileno(self) -> int:
        """The socket's file descriptor (for select/poll/asyncio)."""
        return self._native.fileno()

    def close(self) -> None:
        """Unregister (if :meth:`set_pid` registered this client), wake every thread
        and task blocked in this client, and close the socket. Idempotent."""
        try:
            self._native.close()
        finally:
            with self._waiters_lock:
                waiters = list(self._async_waiters)
            for loop, fut in waiters:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    loop.call_soon_threadsafe(_finish, fut)

    def __repr__(self) -> str:
        if self.closed:
            return "<AuditClient closed>"
        return f"<AuditClient port_id={self.port_id}>"


class NetlinkClient(_Closing):
    """A generic netlink client: send messages, receive datagrams split into
    :class:`NetlinkMessage` objects. Works for any netlink protocol.

    ``send`` fills in the sequence number (returned) and this socket's port id.
    ``receive`` returns the messages of one datagram from the kernel; datagrams
    from other senders are dropped and counted in ``foreign_dropped``.
    ``read_buffer_size`` bounds the datagram size (default 64 KiB); a larger one
    raises :class:`~auditlink.AuditError` instead of being cut silently.
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
        """Send one message (default flags NLM_F_REQUEST|NLM_F_ACK); returns its
        sequence number."""
        return self._native.send(msg_type, data, flags)

    def receive(self, nonblocking: bool = False) -> list[NetlinkMessage]:
        """The messages of the next datagram from the kernel ([] if ``nonblocking``
        and none is queued)."""
        return self._native.receive(nonblocking)

    @property
    def port_id(self) -> int:
        return self._native.port_id

    @property
    def foreign_dropped(self) -> int:
        return self._native.foreign_dropped

    @property
    def closed(self) -> bool:
        return self._native.closed

    def fileno(self) -> int:
        return self._native.fileno()

    def close(self) -> None:
        """Close the socket. Idempotent."""
        self._native.close()


def _finish(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def parse_netlink_error(data: bytes) -> OSError | None:
    """Decode the payload of an NLMSG_ERROR message.

    Returns None for an ack (error 0, or the non-negative value some audit commands
    return), else an :class:`OSError` (also an :class:`~auditlink.AuditError`) with the
    kernel's errno. Raises :class:`ValueError` if ``data`` is shorter than 4 bytes.
    """
    errno, seq = _native.netlink_error_errno(data)
    if errno is None:
        return None
    return _from_errno(errno, os.strerror(errno), "netlink error", seq)


__all__ = ["AuditClient", "NetlinkClient", "parse_netlink_error"]
