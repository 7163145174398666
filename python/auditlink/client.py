"""Clients for the kernel audit netlink socket."""

from __future__ import annotations

import contextlib
import errno as _errno
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, overload

from auditlink import _native
from auditlink._native import AuditEvent, NetlinkMessage, RawAuditMessage, Reassembler
from auditlink._rules_client import RulesClientMixin, _bool_flag, _wait
from auditlink.enums import FailureMode, WaitMode
from auditlink.errors import AuditError
from auditlink.netlink import NetlinkClient, _Closing, _timeout, parse_netlink_error
from auditlink.stats import ClientStats
from auditlink.status import AuditStatus

if TYPE_CHECKING:
    # Imported where used: ``import auditlink`` stays cheap for programs that never
    # touch the asyncio API (asyncio alone costs more than the rest of the package).
    import asyncio
    from typing import TypedDict

    from typing_extensions import Unpack

    from auditlink.enrich import Enricher

    # The options the two typings of ``AuditClient.events`` share.
    class _EventOptions(TypedDict, total=False):
        """The keyword options of :meth:`AuditClient.events` besides ``enrich``."""

        timeout: float | None
        max_messages: int
        split_login: bool
        id_resolution: bool | None


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


_T = TypeVar("_T")


class AuditClient(RulesClientMixin, _Closing):
    """A client for the kernel audit subsystem over a unicast NETLINK_AUDIT socket.

    Control calls (``get_status``, ``set_*``) send one request and wait for the
    kernel's answer, matched by sequence number; each wait has a deadline
    (``timeout`` seconds, default 5) after which :class:`~auditlink.errors.AuditTimeoutError`
    is raised. Kernel errors are raised as :class:`OSError` subclasses that are also
    :class:`~auditlink.AuditError` (``PermissionError`` for EPERM, ...). Every control
    call takes ``wait`` (default True): False sends the request and returns at once;
    :meth:`wait_for_pending_acks` collects the outcomes later. ``WaitMode`` values
    are accepted too.

    Thread safety: one client may be shared between threads. Any number of threads
    may call control methods while one thread blocks in :meth:`receive` or
    :meth:`receive_batch`: whoever is reading the socket hands each message to the
    thread it belongs to (replies by sequence number; event records to the
    receivers), so no thread ever steals another's message. Several threads
    receiving events at once each get distinct records, in no guaranteed split.
    :meth:`close` may be called from any thread; it wakes every waiting thread.
    Sequence numbers are atomic. Blocking calls release the GIL, and a blocked
    ``receive`` wakes within 0.1 s for signals (Ctrl-C raises KeyboardInterrupt).

    Arguments:
        tee: a binary file that receives a copy of every datagram read from the
            socket (for debugging; written from whichever thread reads).
        receive_buffer_size: socket receive buffer to ask for (SO_RCVBUFFORCE when
            privileged), in bytes; None keeps the system default.
        timeout: seconds to wait for the kernel's reply to a control request.

    Raises:
        OSError: the socket cannot be opened (e.g. no NETLINK_AUDIT in a container).
        ValueError: ``timeout`` is not positive.
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
        Multicast delivery is best effort: if this socket's buffer is full the kernel
        drops records for it (counted in ``stats.overruns``) — raise
        ``receive_buffer_size`` to avoid that.

        Arguments:
            tee, receive_buffer_size, timeout: as for :class:`AuditClient`.

        Returns:
            A new client bound to the multicast group.

        Raises:
            PermissionError: no CAP_AUDIT_READ (root has it): the kernel refuses the bind.
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

        Turns auditing on (unless ``enable`` is False) and registers this process as
        the daemon. On exit — also when the body raises — it unregisters (reliably,
        even while the kernel floods the socket) and puts the enabled flag back as it
        was. A process forked before auditing was first enabled since boot never
        produces syscall records: enable first, then start the processes to watch.

        Arguments:
            enable: turn auditing on for the duration if it is off.
            receive_buffer_size: receive buffer of the client opened here.
            timeout: reply timeout of the client opened here.
            client: use this client (e.g. one from
                :class:`auditlink.testing.FakeKernel`) instead of opening one; it
                stays open on exit, as the caller owns it. A client opened here is
                closed on exit.

        Returns:
            A context manager yielding the registered client.

        Raises:
            PermissionError: not allowed to register (CAP_AUDIT_CONTROL), or
                ``FileExistsError``-like refusals when another daemon is registered.
        """
        owned = client is None
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
            if owned:
                client.close()

    # ------------------------------------------------------------------ status

    def get_status(self) -> AuditStatus:
        """The kernel's current audit status (AUDIT_GET).

        Returns:
            The status as the kernel reports it (``mask`` is 0).

        Raises:
            AuditTimeoutError: no reply within the client's timeout.
            AuditError: a malformed reply, or the client is closed.
        """
        return AuditStatus._from_tuple(self._native.get_status())

    def set_enabled(self, enabled: bool, wait: bool | WaitMode = True) -> None:
        """Turn auditing on or off (``auditctl -e 0|1``).

        Arguments:
            enabled: True to audit, False to stop.
            wait: wait for the kernel's ack (False: return once sent).

        Raises:
            PermissionError: no CAP_AUDIT_CONTROL, or the configuration is locked.
            ValueError: ``enabled`` is not a bool (or 0/1).
        """
        self._native.set_enabled(_bool_flag("enabled", enabled), _wait(wait))

    def set_immutable(self, wait: bool | WaitMode = True) -> None:
        """Lock the audit configuration until reboot (``auditctl -e 2``).

        Irreversible: no rule or status change is accepted afterwards, by anyone.

        Arguments:
            wait: wait for the kernel's ack.

        Raises:
            PermissionError: no CAP_AUDIT_CONTROL.
        """
        self._native.set_enabled(2, _wait(wait))

    def set_failure(self, mode: FailureMode, wait: bool | WaitMode = True) -> None:
        """Set the failure mode (``auditctl -f``).

        Arguments:
            mode: what the kernel does when it cannot deliver a record;
                ``FailureMode.PANIC`` panics the kernel.
            wait: wait for the kernel's ack.

        Raises:
            ValueError: ``mode`` is not a failure mode.
            PermissionError: no CAP_AUDIT_CONTROL, or the configuration is locked.
        """
        self._native.set_failure(int(FailureMode(mode)), _wait(wait))

    def set_pid(self, wait: bool | WaitMode = True) -> None:
        """Register the calling process as the audit daemon: the kernel sends every
        record to this socket. :meth:`close` unregisters again.

        Arguments:
            wait: wait for the kernel's ack.

        Raises:
            PermissionError: no CAP_AUDIT_CONTROL, or another live daemon is registered.
        """
        self._native.set_pid(_wait(wait))

    def set_rate_limit(self, limit: int, wait: bool | WaitMode = True) -> None:
        """Records per second the kernel may emit (``auditctl -r``).

        Arguments:
            limit: records per second, 0..2**32-1; 0 is no limit.
            wait: wait for the kernel's ack.

        Raises:
            TypeError, ValueError: ``limit`` is not an int in that range.
            PermissionError: no CAP_AUDIT_CONTROL, or the configuration is locked.
        """
        self._native.set_rate_limit(_u32("limit", limit), _wait(wait))

    def set_backlog_limit(self, limit: int, wait: bool | WaitMode = True) -> None:
        """Records that may queue in the kernel for the daemon (``auditctl -b``).

        Arguments:
            limit: records queued at most, 0..2**32-1 (the kernel boots with 64).
            wait: wait for the kernel's ack.

        Raises:
            TypeError, ValueError: ``limit`` is not an int in 0..2**32-1.
            PermissionError: no CAP_AUDIT_CONTROL, or the configuration is locked.
        """
        self._native.set_backlog_limit(_u32("limit", limit), _wait(wait))

    def set_backlog_wait_time(self, wait_time: int, wait: bool | WaitMode = True) -> None:
        """Jiffies a producer waits for backlog space (``auditctl --backlog_wait_time``).

        Arguments:
            wait_time: 0 to 10 times the kernel's default (600 s worth).
            wait: wait for the kernel's ack.

        Raises:
            OSError: EINVAL from the kernel for a value out of its range.
            TypeError, ValueError: ``wait_time`` is not an int in 0..2**32-1.
        """
        self._native.set_backlog_wait_time(_u32("wait_time", wait_time), _wait(wait))

    def set_status(self, status: AuditStatus, wait: bool | WaitMode = True) -> int:
        """Send ``status`` as one AUDIT_SET: every field whose bit is in
        ``status.mask`` changes at once.

        Arguments:
            status: the new values; ``mask`` selects which ones count.
            wait: wait for the kernel's ack.

        Returns:
            The ack's value (0, or an old counter for the reset bits); 0 when not waiting.

        Raises:
            ValueError: ``status.mask`` selects no field.
            OSError: the kernel refused the change (its errno).
        """
        if not status.mask:
            raise ValueError("status.mask selects no field to set")
        return self._native.set_status("set_status", status.to_bytes(), _wait(wait))

    def reset_lost(self) -> int:
        """Reset the kernel's lost-record counter.

        Returns:
            The counter's value before the reset.

        Raises:
            PermissionError: no CAP_AUDIT_CONTROL.
        """
        return self._native.reset_lost()

    def reset_backlog_wait_time_actual(self) -> int:
        """Reset ``backlog_wait_time_actual``.

        Returns:
            Its value before the reset.

        Raises:
            PermissionError: no CAP_AUDIT_CONTROL.
        """
        return self._native.reset_backlog_wait_time_actual()

    def wait_for_pending_acks(self) -> None:
        """Wait for the acks of every call made with ``wait=False``.

        Raises:
            OSError: the first error among them (by send order); all are collected.
        """
        self._native.wait_for_pending_acks()

    def unregister(self) -> None:
        """Stop being the audit daemon (AUDIT_SET pid 0). Reliable under load: the
        status is read back when the ack is lost to a full socket.

        Raises:
            PermissionError: the registered daemon is another live process.
        """
        self._native.unregister()

    # --------------------------------------------------------------- low level

    def request_ack(self, msg_type: int, data: bytes = b"", wait: bool | WaitMode = True) -> int:
        """Send any audit command and wait for its ack.

        Arguments:
            msg_type: the command's message type.
            data: its payload.
            wait: wait for the kernel's ack.

        Returns:
            The ack's value (0, or what the command returns); 0 when not waiting.

        Raises:
            OSError: the kernel's errno, like every other call.
        """
        return self._native.request_ack(f"request type {msg_type}", msg_type, data, _wait(wait))

    def request_reply(
        self, msg_type: int, data: bytes = b"", reply_type: int | None = None
    ) -> bytes:
        """Send a GET-style command and wait for its one reply.

        Arguments:
            msg_type: the command's message type.
            data: its payload.
            reply_type: the reply's expected type (default: ``msg_type``).

        Returns:
            The reply's payload.

        Raises:
            AuditError: the reply has another type; OSError: the kernel's errno.
        """
        rt = msg_type if reply_type is None else reply_type
        return self._native.request_reply(f"request type {msg_type}", msg_type, data, rt)

    def request_dump(self, msg_type: int, data: bytes = b"") -> list[NetlinkMessage]:
        """Send a dump-style command (e.g. AUDIT_LIST_RULES).

        Arguments:
            msg_type: the command's message type.
            data: its payload.

        Returns:
            Every reply message up to NLMSG_DONE.

        Raises:
            OSError: the kernel's errno.
        """
        return self._native.request_dump(f"request type {msg_type}", msg_type, data)

    # ------------------------------------------------------------------ events

    def receive(
        self, timeout: float | None = None, *, nonblocking: bool = False
    ) -> RawAuditMessage | None:
        """The next event record from the kernel. Replies to this client's requests
        never come out here.

        Arguments:
            timeout: seconds to wait; None = until one arrives, 0 = do not block.
            nonblocking: the same as ``timeout=0``.

        Returns:
            The record, or None when none arrived in time.

        Raises:
            AuditError: the client was closed (errno EBADF) or the socket failed.
            ValueError: ``timeout`` is negative or NaN.
            KeyboardInterrupt: Ctrl-C while waiting.
        """
        return self._native.receive(0.0 if nonblocking else _timeout(timeout))

    def receive_batch(
        self,
        max_messages: int = 1024,
        timeout: float | None = None,
        *,
        linger: float = DEFAULT_LINGER,
    ) -> list[RawAuditMessage]:
        """Up to ``max_messages`` records in one call — the fast path. All the
        receiving happens in Rust with the GIL released.

        Arguments:
            max_messages: most records to return.
            timeout: seconds to wait for the first record only; None = forever,
                0 = return what is queued.
            linger: when records are flowing and the socket runs dry before
                ``max_messages``, wait this long once (default 0.5 ms) and drain
                again, so a busy stream arrives in batches rather than one wakeup
                per record; that halves the CPU the whole pipeline spends per
                record. 0 returns at once instead.

        Returns:
            The records, oldest first; empty when none arrived in time.

        Raises:
            AuditError: the client was closed (errno EBADF) or the socket failed.
            ValueError: ``timeout`` or ``linger`` is negative or NaN.
        """
        return self._native.receive_batch(max_messages, _timeout(timeout), linger=linger)

    # The two typings differ only in ``enrich``.
    @overload
    def events(
        self,
        reassembler: Reassembler | None = None,
        *,
        enrich: None = None,
        **options: Unpack[_EventOptions],
    ) -> Iterator[AuditEvent]: ...
    @overload
    def events(
        self,
        reassembler: Reassembler | None = None,
        *,
        enrich: Enricher,
        **options: Unpack[_EventOptions],
    ) -> Iterator[dict[str, Any]]: ...
    def events(
        self,
        reassembler: Reassembler | None = None,
        *,
        enrich: Enricher | None = None,
        timeout: float | None = None,
        max_messages: int = 1024,
        split_login: bool = False,
        id_resolution: bool | None = None,
    ) -> Iterator[AuditEvent] | Iterator[dict[str, Any]]:
        """The kernel's records parsed and grouped into :class:`~auditlink.AuditEvent`
        objects, in the order they complete.

        Records go from the socket to the Rust parser and reassembler without
        becoming Python objects first. An event whose end does not come — in stream
        time, which also runs on while the socket is quiet — within the
        reassembler's timeout comes out with ``complete == False``. Malformed
        records never raise: they are kept with ``error`` set. Register first
        (:meth:`set_pid`) or use a multicast client, or nothing arrives. Ends when
        the client is closed (from any thread; the events still in flight come out
        first) or when no event completes for ``timeout`` seconds. Ctrl-C raises
        KeyboardInterrupt.

        Arguments:
            reassembler: your own :class:`~auditlink.Reassembler` (to choose
                ``max_in_flight``/``timeout``/grouping or read its ``lost``
                counter); by default a new one.
            timeout: seconds to wait for the next event; None waits forever, 0
                takes only what is there now.
            max_messages: records taken from the socket per native call.
            split_login: for the default reassembler: a LOGIN record is an
                event of its own (auparse 3.0.9) instead of joining its syscall.
            id_resolution: for the default reassembler: user and group names in
                interpretations (True), numbers (False), or the process default.
            enrich: an :class:`~auditlink.Enricher`: each event is tracked and
                enriched in Rust and comes out as a dict; events its filters drop
                do not come out.

        Returns:
            An iterator of :class:`~auditlink.AuditEvent` (of dicts with ``enrich``).

        Raises:
            ValueError: ``timeout`` negative or NaN, or grouping options given
                together with a ``reassembler``.
            AuditError: receiving failed.
        """
        reasm = self._event_reassembler(reassembler, split_login, id_resolution)
        if enrich is not None:
            return enrich.enrich_events(self._events(reasm, max_messages, timeout))
        return self._events(reasm, max_messages, timeout)

    def _events(
        self, reasm: Reassembler, max_messages: int, timeout: float | None
    ) -> Iterator[AuditEvent]:
        while True:
            try:
                batch = _native.receive_events(self._native, reasm, max_messages, timeout)
            except OSError:
                if self.closed:
                    yield from reasm.flush()
                    return
                raise
            if not batch:
                return
            yield from batch

    async def events_async(
        self,
        reassembler: Reassembler | None = None,
        *,
        timeout: float | None = None,
        max_messages: int = 1024,
        split_login: bool = False,
        id_resolution: bool | None = None,
    ) -> AsyncIterator[AuditEvent]:
        """``async for ev in client.events_async()``: :meth:`events` on the event loop.

        Waits for the socket's readability (no thread), then receives, parses and
        groups what it holds in one native call. Ends when the client is closed
        (the events still in flight come out first) or when no event completes for
        ``timeout`` seconds; cancelling the consuming task stops it cleanly. Events
        whose end never comes are emitted while the socket is quiet, at most about
        a second after their timeout.

        Arguments:
            reassembler, timeout, max_messages, split_login, id_resolution: as
                for :meth:`events`.

        Returns:
            An async iterator of :class:`~auditlink.AuditEvent`.

        Raises:
            ValueError: ``timeout`` negative or NaN, or grouping options given
                together with a ``reassembler``.
            AuditError: receiving failed.
        """
        if timeout is not None and not timeout >= 0:
            raise ValueError(f"timeout must be >= 0 seconds, got {timeout}")
        reasm = self._event_reassembler(reassembler, split_login, id_resolution)
        native = self._native

        def take() -> list[AuditEvent]:
            return _native.receive_events(native, reasm, max_messages, 0)

        async for ev in self._drain_async(take, timeout, reasm.flush):
            yield ev

    @staticmethod
    def _event_reassembler(
        reassembler: Reassembler | None, split_login: bool, id_resolution: bool | None
    ) -> Reassembler:
        if reassembler is None:
            return Reassembler(split_login=split_login, id_resolution=id_resolution)
        if split_login or id_resolution is not None:
            raise ValueError("split_login and id_resolution are options of the reassembler")
        return reassembler

    def messages(
        self, timeout: float | None = None, *, batch_size: int = 1024
    ) -> Iterator[RawAuditMessage]:
        """Iterate over records as they arrive, fetched in batches (the fast path).
        Ctrl-C raises KeyboardInterrupt.

        Arguments:
            timeout: end after this many seconds without a record; None = never,
                0 = yield what is queued and end.
            batch_size: records fetched per native call.

        Returns:
            An iterator that ends when the client is closed (from any thread) or
            ``timeout`` passes without a record.

        Raises:
            AuditError: the socket failed.
        """
        native = self._native
        timeout = _timeout(timeout)
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
        message or per client), then drains it in one native call. Cancelling the
        consuming task stops it cleanly.

        Arguments:
            timeout: end after this many seconds without a record; None = never,
                0 = yield what is queued and end.
            batch_size: records fetched per native call.

        Returns:
            An async iterator that ends when the client is closed (from another task
            or thread) or ``timeout`` passes without a record.

        Raises:
            AuditError: the socket failed.
        """
        timeout = _timeout(timeout)
        native = self._native

        def take() -> list[RawAuditMessage]:
            return native.receive_batch(batch_size, 0)

        async for msg in self._drain_async(take, timeout, list):
            yield msg

    async def _drain_async(
        self,
        take: Callable[[], list[_T]],
        timeout: float | None,
        at_close: Callable[[], list[_T]],
    ) -> AsyncIterator[_T]:
        """What ``take()`` (a non-blocking native call) returns, batch by batch, on
        the event loop: waits for readability between empty batches; ends after
        ``timeout`` seconds without anything, or when the client is closed (then
        with what ``at_close()`` returns)."""
        import asyncio

        loop = asyncio.get_running_loop()
        idle_deadline = None if timeout is None else loop.time() + timeout
        while True:
            try:
                batch = take()
            except OSError:
                if self.closed:
                    for item in at_close():
                        yield item
                    return
                raise
            if batch:
                for item in batch:
                    yield item
                if timeout is not None:
                    idle_deadline = loop.time() + timeout
                continue
            if idle_deadline is not None and loop.time() >= idle_deadline:
                return
            await self._readable(loop, idle_deadline)

    async def _readable(self, loop: asyncio.AbstractEventLoop, deadline: float | None) -> None:
        """Wait until the socket is readable, the client closes, ``deadline`` (loop
        time) passes, or a re-check interval passes — whichever comes first."""
        import asyncio

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
    def stats(self) -> ClientStats:
        """The client's counters since it was opened (a snapshot)."""
        return ClientStats(**self._native.stats)

    # --------------------------------------------------------------- lifecycle

    @property
    def port_id(self) -> int:
        """The netlink port id of this client's socket."""
        return self._native.port_id

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._native.closed

    @property
    def registered(self) -> bool:
        """True while this client is registered as the audit daemon."""
        return self._native.registered

    def fileno(self) -> int:
        """The socket's file descriptor (for select/poll/asyncio).

        Raises:
            AuditError: the client is closed.
        """
        return self._native.fileno()

    def close(self) -> None:
        """Unregister (if :meth:`set_pid` registered this client), wake every thread
        and task blocked in this client, and close the socket. Idempotent.

        Raises:
            OSError: unregistering failed (the socket is closed anyway).
        """
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


def _finish(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


__all__ = ["AuditClient", "ClientStats", "NetlinkClient", "parse_netlink_error"]
