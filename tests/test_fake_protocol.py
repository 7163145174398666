"""Every protocol path of the client, against the fake kernel (no root needed)."""

from __future__ import annotations

import errno
import io
import os
import signal
import struct
import threading
import time

import pytest

from auditlink import (
    AUDIT_GET,
    AUDIT_SET,
    AuditClient,
    AuditError,
    AuditStatus,
    AuditStatusMask,
    FailureMode,
    MessageType,
    RawAuditMessage,
    WaitMode,
)
from auditlink.testing import (
    NLMSG_DONE,
    NLMSG_ERROR,
    FakeKernel,
    Request,
    encode_message,
)

# ----------------------------------------------------------------- status


def test_get_status_ack_first(fake: FakeKernel, fake_client: AuditClient) -> None:
    s = fake_client.get_status()
    assert s == AuditStatus(
        enabled=0,
        failure=1,
        backlog_limit=64,
        feature_bitmap=s.feature_bitmap,
        backlog_wait_time=15000,
    )
    assert int(s.feature_bitmap) == 0x7F
    req = fake.requests[-1]
    assert req.type == AUDIT_GET
    assert req.flags == 0x05  # NLM_F_REQUEST | NLM_F_ACK
    assert req.pid == fake_client.port_id
    assert req.seq != 0


def test_get_status_reply_before_ack(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.reply_before_ack = True
    assert fake_client.get_status().backlog_limit == 64


@pytest.mark.parametrize("reply_first", [False, True])
def test_get_status_ack_and_reply_in_one_datagram(
    fake: FakeKernel, fake_client: AuditClient, reply_first: bool
) -> None:
    fake.combine_replies = True
    fake.reply_before_ack = reply_first
    assert fake_client.get_status().backlog_wait_time == 15000
    assert fake_client.stats["datagrams"] == 1


def test_old_kernel_status_layouts(fake: FakeKernel, fake_client: AuditClient) -> None:
    for size in (32, 36, 40, 44):
        full = AuditStatus(
            enabled=1,
            pid=7,
            backlog=3,
            feature_bitmap=fake.status.feature_bitmap,
            backlog_wait_time=99,
            backlog_wait_time_actual=5,
        )

        def respond(
            f: FakeKernel, req: Request, size: int = size, full: AuditStatus = full
        ) -> list[bytes]:
            return [f.ack(req), f.reply(req, AUDIT_GET, full.to_bytes()[:size])]

        fake.respond_next(respond)
        s = fake_client.get_status()
        assert s.enabled == 1 and s.pid == 7 and s.backlog == 3
        assert s.feature_bitmap == (full.feature_bitmap if size >= 36 else 0)
        assert s.backlog_wait_time == (99 if size >= 40 else 0)
        assert s.backlog_wait_time_actual == (5 if size >= 44 else 0)


def test_set_calls_apply(fake: FakeKernel, fake_client: AuditClient) -> None:
    c = fake_client
    c.set_enabled(True)
    c.set_failure(FailureMode.SILENT)
    c.set_rate_limit(100)
    c.set_backlog_limit(8192)
    c.set_backlog_wait_time(0)
    s = c.get_status()
    assert (s.enabled, s.failure, s.rate_limit, s.backlog_limit, s.backlog_wait_time) == (
        1,
        0,
        100,
        8192,
        0,
    )
    # Each set sent exactly its own mask bit and a 44-byte status.
    sets = [r for r in fake.requests if r.type == AUDIT_SET]
    masks = [AuditStatus.from_bytes(r.data).mask for r in sets]
    assert masks == [
        AuditStatusMask.ENABLED,
        AuditStatusMask.FAILURE,
        AuditStatusMask.RATE_LIMIT,
        AuditStatusMask.BACKLOG_LIMIT,
        AuditStatusMask.BACKLOG_WAIT_TIME,
    ]
    assert all(len(r.data) == 44 for r in sets)


def test_set_status_multiple_fields(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake_client.set_status(
        AuditStatus(
            mask=AuditStatusMask.RATE_LIMIT | AuditStatusMask.BACKLOG_LIMIT,
            rate_limit=5,
            backlog_limit=100,
        )
    )
    s = fake_client.get_status()
    assert (s.rate_limit, s.backlog_limit) == (5, 100)
    with pytest.raises(ValueError):
        fake_client.set_status(AuditStatus())


def test_argument_validation(fake_client: AuditClient) -> None:
    with pytest.raises(ValueError):
        fake_client.set_rate_limit(-1)
    with pytest.raises(ValueError):
        fake_client.set_backlog_limit(2**32)
    with pytest.raises(TypeError):
        fake_client.set_rate_limit(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fake_client.set_enabled(2)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fake_client.set_failure(7)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fake_client.set_enabled(True, wait=True)  # type: ignore[arg-type]


def test_set_pid_registers_and_close_unregisters(fake: FakeKernel) -> None:
    c = fake.client()
    c.set_pid()
    assert fake.status.pid == os.getpid()
    assert c.registered
    c.close()
    assert fake.status.pid == 0
    last = AuditStatus.from_bytes(fake.requests[-1].data)
    assert last.mask == AuditStatusMask.PID and last.pid == 0
    c.close()  # idempotent
    assert c.closed


def test_set_pid_eexist_when_another_daemon(fake: FakeKernel) -> None:
    from dataclasses import replace

    fake.status = replace(fake.status, pid=1)
    with fake.client() as c:
        with pytest.raises(FileExistsError) as ei:
            c.set_pid()
        assert isinstance(ei.value, AuditError)
        assert not c.registered


def test_reset_counters_return_old_value(fake: FakeKernel, fake_client: AuditClient) -> None:
    from dataclasses import replace

    fake.status = replace(fake.status, lost=1234, backlog_wait_time_actual=77)
    assert fake_client.reset_lost() == 1234
    assert fake_client.get_status().lost == 0
    assert fake_client.reset_backlog_wait_time_actual() == 77
    assert fake_client.get_status().backlog_wait_time_actual == 0
    # The kernel only treats a mask of exactly LOST as a reset.
    assert AuditStatus.from_bytes(fake.requests[0].data).mask == AuditStatusMask.LOST


def test_immutable_and_panic_only_on_the_fake(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake_client.set_failure(FailureMode.PANIC)
    assert fake.status.failure == 2
    fake_client.set_failure(FailureMode.PRINTK)
    fake_client.set_immutable()
    assert fake.status.enabled == 2
    with pytest.raises(PermissionError) as ei:
        fake_client.set_enabled(False)
    assert ei.value.errno == errno.EPERM
    with pytest.raises(PermissionError):
        fake_client.set_rate_limit(1)
    # Reading still works.
    assert fake_client.get_status().enabled == 2


def test_no_wait_and_pending_acks(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.respond_next(lambda f, req: f.default_response(req))
    fake.fail_next(errno.EINVAL)
    fake_client.set_rate_limit(1, WaitMode.NO_WAIT)
    fake_client.set_backlog_limit(2, WaitMode.NO_WAIT)
    fake_client.set_backlog_wait_time(3, WaitMode.NO_WAIT)
    with pytest.raises(OSError) as ei:
        fake_client.wait_for_pending_acks()
    assert ei.value.errno == errno.EINVAL
    assert "set_backlog_limit" in str(ei.value)
    fake_client.wait_for_pending_acks()  # all collected: nothing left
    s = fake_client.get_status()
    assert (s.rate_limit, s.backlog_wait_time) == (1, 3)


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("code", "builtin"),
    [
        (errno.EPERM, PermissionError),
        (errno.EACCES, PermissionError),
        (errno.EEXIST, FileExistsError),
        (errno.ENOENT, FileNotFoundError),
        (errno.EINVAL, OSError),
        (errno.ECONNREFUSED, ConnectionRefusedError),
        (errno.ENOMEM, OSError),
    ],
)
def test_kernel_errno_becomes_oserror(
    fake: FakeKernel, fake_client: AuditClient, code: int, builtin: type[OSError]
) -> None:
    fake.fail_next(code)
    with pytest.raises(builtin) as ei:
        fake_client.set_enabled(True)
    e = ei.value
    assert isinstance(e, AuditError)
    assert e.errno == code
    assert e.strerror == os.strerror(code)
    assert e.operation == "set_enabled"
    assert e.seq == fake.requests[-1].seq
    assert f"seq {e.seq}" in str(e) and "set_enabled" in str(e)


def test_error_on_get_status(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.fail_next(errno.EPERM)
    with pytest.raises(PermissionError):
        fake_client.get_status()
    # The client is still usable afterwards.
    assert fake_client.get_status().backlog_limit == 64


def test_unprivileged_fake() -> None:
    with FakeKernel(privileged=False) as fake, fake.client() as c:
        with pytest.raises(PermissionError):
            c.get_status()
        with pytest.raises(PermissionError):
            c.set_enabled(True)


def test_no_reply_times_out(fake: FakeKernel) -> None:
    with fake.client(timeout=0.3) as c:
        fake.drop_next()
        t0 = time.monotonic()
        with pytest.raises(TimeoutError) as ei:
            c.get_status()
        assert 0.25 < time.monotonic() - t0 < 2.0
        assert isinstance(ei.value, AuditError)
        assert ei.value.errno == errno.ETIMEDOUT
        # The late reply to the abandoned request is skipped later, not misread.
        assert c.get_status().backlog_limit == 64


def test_ack_without_reply_times_out(fake: FakeKernel) -> None:
    with fake.client(timeout=0.3) as c:
        fake.respond_next(lambda f, req: [f.ack(req)])
        with pytest.raises(TimeoutError):
            c.get_status()


def test_short_status_reply(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.respond_next(lambda f, req: [f.ack(req), f.reply(req, AUDIT_GET, b"\x01" * 12)])
    with pytest.raises(AuditError) as ei:
        fake_client.get_status()
    assert "audit_status" in str(ei.value) and ei.value.errno is None


def test_wrong_reply_type(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.respond_next(lambda f, req: [f.ack(req), f.reply(req, 1005, b"x" * 44)])
    with pytest.raises(AuditError, match="expected a reply of type 1000"):
        fake_client.get_status()


def test_short_ack_is_protocol_error(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.respond_next(lambda f, req: [encode_message(NLMSG_ERROR, b"\0\0", seq=req.seq)])
    with pytest.raises(OSError) as ei:
        fake_client.set_enabled(True)
    assert ei.value.errno == errno.EPROTO
    assert fake_client.stats["malformed"] == 1


def test_garbled_datagrams_are_skipped(fake: FakeKernel, fake_client: AuditClient) -> None:
    def respond(f: FakeKernel, req: Request) -> list[bytes]:
        return [
            b"\x01\x02\x03",  # shorter than a header
            struct.pack("=IHHII", 9999, AUDIT_GET, 0, req.seq, 0),  # length past the end
            struct.pack("=IHHII", 4, AUDIT_GET, 0, req.seq, 0) + b"\0" * 30,  # length < header
            f.ack(req),
            f.reply(req, AUDIT_GET, f.status.to_bytes()),
        ]

    fake.respond_next(respond)
    assert fake_client.get_status().backlog_limit == 64
    assert fake_client.stats["malformed"] == 3


def test_stale_and_wrong_sequence_numbers(fake: FakeKernel, fake_client: AuditClient) -> None:
    def respond(f: FakeKernel, req: Request) -> list[bytes]:
        other = Request(req.type, req.flags, req.seq + 1000, req.pid, req.data, req.channel)
        stale = Request(req.type, req.flags, req.seq - 1 or 99, req.pid, req.data, req.channel)
        return [
            f.ack(stale, -errno.EPERM),
            f.reply(other, AUDIT_GET, b"\xff" * 44),
            f.ack(req),
            f.reply(req, AUDIT_GET, f.status.to_bytes()),
        ]

    fake.respond_next(respond)
    assert fake_client.get_status().backlog_limit == 64
    assert fake_client.stats["stale_replies"] == 2


def test_done_without_dump_is_stale(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.respond_next(lambda f, req: [encode_message(NLMSG_DONE, seq=req.seq + 7), f.ack(req)])
    fake_client.set_enabled(True)
    assert fake_client.stats["stale_replies"] == 1


def test_request_dump(fake: FakeKernel, fake_client: AuditClient) -> None:
    def respond(f: FakeKernel, req: Request) -> list[bytes]:
        return [
            f.ack(req),
            f.reply(req, 1013, b"rule-1", flags=2) + f.reply(req, 1013, b"rule-2", flags=2),
            encode_message(1300, b"audit(1.0:1): x", quirk=True),
            encode_message(NLMSG_DONE, b"\0\0\0\0", seq=req.seq, flags=2),
        ]

    fake.handlers[1013] = respond
    msgs = fake_client.request_dump(1013)
    assert [m.data for m in msgs] == [b"rule-1", b"rule-2"]
    assert all(m.seq == fake.requests[-1].seq for m in msgs)
    # The record that came in between is kept for receive().
    rec = fake_client.receive(nonblocking=True)
    assert rec is not None and rec.data == b"audit(1.0:1): x"


def test_request_dump_error(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.fail_next(errno.EPERM)
    with pytest.raises(PermissionError):
        fake_client.request_dump(1013)


def test_unknown_command_einval(fake_client: AuditClient) -> None:
    with pytest.raises(OSError) as ei:
        fake_client.request_ack(1999)
    assert ei.value.errno == errno.EINVAL


# ----------------------------------------------------------------- records


def test_records_between_ack_and_reply_are_kept(fake: FakeKernel, fake_client: AuditClient) -> None:
    def respond(f: FakeKernel, req: Request) -> list[bytes]:
        return [
            encode_message(1300, b"audit(1.000:1): first", quirk=True),
            f.ack(req),
            encode_message(1320, b"audit(1.000:1): ", quirk=True),
            f.reply(req, AUDIT_GET, f.status.to_bytes()),
        ]

    fake.respond_next(respond)
    fake_client.get_status()
    a = fake_client.receive(nonblocking=True)
    b = fake_client.receive(nonblocking=True)
    assert a == RawAuditMessage(MessageType.SYSCALL, b"audit(1.000:1): first")
    assert b is not None and b.type is MessageType.EOE and b.data == b"audit(1.000:1): "
    assert fake_client.receive(nonblocking=True) is None


def test_receive_quirk_and_correct_lengths(fake: FakeKernel, fake_client: AuditClient) -> None:
    text = b"audit(1700000000.123:42): arch=c000003e syscall=110 success=yes"
    fake.send_record(MessageType.SYSCALL, text)  # nlmsg_len without header
    fake.send_record(MessageType.SYSCALL, text, quirk=False)  # multicast copy: correct
    for _ in range(2):
        m = fake_client.receive()
        assert m is not None
        assert m.type == MessageType.SYSCALL and m.data == text


def test_payload_lengths_around_alignment(fake: FakeKernel, fake_client: AuditClient) -> None:
    for n in range(0, 40):
        payload = bytes(b"a"[0] + i % 26 for i in range(n))
        fake.send_record(1300, payload)
        m = fake_client.receive()
        assert m is not None and m.data == payload


def test_many_messages_in_one_datagram(fake: FakeKernel, fake_client: AuditClient) -> None:
    msgs = [(1300 + i % 3, f"audit(1.0:{i}): n={i}".encode()) for i in range(50)]
    fake.send_messages(msgs)
    got = [fake_client.receive() for _ in msgs]
    assert [(int(m.type), m.data) for m in got if m] == msgs


def test_unknown_type_is_plain_int(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.send_record(3999, b"x")
    m = fake_client.receive()
    assert m is not None and type(m.type) is int and m.type == 3999


def test_foreign_sender_dropped(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.send_record(1300, b"spoofed", sender=31337)
    fake.send_record(1300, b"real")
    m = fake_client.receive()
    assert m is not None and m.data == b"real"
    assert fake_client.stats["foreign_dropped"] == 1


def test_spoofed_reply_is_ignored(fake: FakeKernel, fake_client: AuditClient) -> None:
    def respond(f: FakeKernel, req: Request) -> list[object]:
        return [(999, f.ack(req, -errno.EPERM)), f.ack(req)]

    fake.respond_next(respond)  # type: ignore[arg-type]
    fake_client.set_enabled(True)
    assert fake_client.stats["foreign_dropped"] == 1


def test_truncated_datagram_counted(fake: FakeKernel) -> None:
    with fake.client(read_buffer_size=64) as c:
        fake.send_record(1300, b"x" * 200)
        fake.send_record(1300, b"small")
        m = c.receive()
        assert m is not None and m.data == b"small"
        assert c.stats["truncated"] == 1


def test_overrun_is_counted_and_stream_goes_on(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.send_socket_error(errno.ENOBUFS)
    fake.send_record(1300, b"after")
    m = fake_client.receive()
    assert m is not None and m.data == b"after"
    assert fake_client.stats["overruns"] == 1


def test_other_socket_error_raises(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.send_socket_error(errno.EIO)
    with pytest.raises(OSError) as ei:
        fake_client.receive()
    assert ei.value.errno == errno.EIO


def test_receive_nonblocking_empty(fake_client: AuditClient) -> None:
    assert fake_client.receive(nonblocking=True) is None


def test_stats_count_records(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.send_record(1300, b"12345")
    fake.send_record(1300, b"123")
    fake_client.receive()
    fake_client.receive()
    st = fake_client.stats
    assert st["messages"] == 2 and st["bytes"] == 8


def test_tee_sees_every_datagram(fake: FakeKernel) -> None:
    tee = io.BytesIO()
    with fake.client(tee=tee) as c:
        c.get_status()
        fake.send_record(1300, b"hello")
        c.receive()
    data = tee.getvalue()
    assert b"hello" in data
    # ack (36) + status reply (60) + record (21)
    assert len(data) == 16 + 20 + 16 + 44 + 16 + 5


def test_raw_message_value_semantics() -> None:
    a = RawAuditMessage(1300, b"x")
    b = RawAuditMessage(MessageType.SYSCALL, b"x")
    assert a == b and hash(a) == hash(b)
    assert a != RawAuditMessage(1300, b"y")
    assert a.type is MessageType.SYSCALL
    assert "SYSCALL" in repr(a)
    import pickle

    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(AttributeError):
        a.data = b"z"  # type: ignore[misc]


# ---------------------------------------------------------------- threads


def test_receiver_and_status_caller_share_a_client(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    got: list[RawAuditMessage] = []

    def receiver() -> None:
        for _ in range(20):
            m = fake_client.receive()
            assert m is not None
            got.append(m)

    t = threading.Thread(target=receiver)
    t.start()
    time.sleep(0.05)  # let it block in receive()

    def noisy_get(f: FakeKernel, req: Request) -> list[bytes]:
        rec = encode_message(1300, f"audit(1.0:{req.seq}): during".encode(), quirk=True)
        return [rec, f.ack(req), rec, f.reply(req, AUDIT_GET, f.status.to_bytes())]

    for _ in range(10):
        fake.respond_next(noisy_get)
        assert fake_client.get_status().backlog_limit == 64
    t.join(timeout=5)
    assert not t.is_alive()
    assert len(got) == 20 and all(m.data.endswith(b"during") for m in got)
    assert fake_client.receive(nonblocking=True) is None


def test_many_threads_control_calls(fake: FakeKernel, fake_client: AuditClient) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(30):
                fake_client.set_rate_limit(n * 100 + i)
                assert fake_client.get_status().backlog_limit == 64
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors
    seqs = [r.seq for r in fake.requests]
    assert len(seqs) == len(set(seqs)) == 4 * 30 * 2


def test_close_from_another_thread_wakes_receive(fake: FakeKernel) -> None:
    c = fake.client()
    outcome: list[object] = []

    def receiver() -> None:
        try:
            outcome.append(c.receive())
        except AuditError as e:
            outcome.append(e)

    t = threading.Thread(target=receiver)
    t.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    c.close()
    t.join(timeout=2)
    assert not t.is_alive() and time.monotonic() - t0 < 1
    assert isinstance(outcome[0], AuditError) and outcome[0].errno == errno.EBADF
    with pytest.raises(AuditError):
        c.get_status()


def test_ctrl_c_interrupts_receive(fake_client: AuditClient) -> None:
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        fake_client.receive()
    assert time.monotonic() - t0 < 1.5


def test_context_manager_and_fileno(fake: FakeKernel) -> None:
    with fake.client() as c:
        assert c.fileno() > 2
        assert "port_id" in repr(c)
    assert c.closed and "closed" in repr(c)


# ---------------------------------------------------------- netlink client


def test_netlink_client_send_receive(fake: FakeKernel) -> None:
    with fake.netlink_client() as nl:
        seq = nl.send(AUDIT_GET)
        seq2 = nl.send(AUDIT_GET)
        assert seq2 == seq + 1
        first = nl.receive()
        assert [m.type for m in first] == [NLMSG_ERROR]
        assert first[0].seq == seq
        reply = nl.receive()
        assert reply[0].type == AUDIT_GET and len(reply[0].data) == 44
        assert fake.requests[0].pid == nl.port_id
        assert nl.receive()  # ack of 2nd
        assert nl.receive()  # reply of 2nd
        assert nl.receive(nonblocking=True) == []


def test_netlink_client_multi_and_quirk(fake: FakeKernel) -> None:
    with fake.netlink_client() as nl:
        fake.send_messages([(1300, b"abc", 0), (1305, b"defgh", 0)])
        assert [(m.type, m.data) for m in nl.receive()] == [(1300, b"abc"), (1305, b"defgh")]
        fake.send_record(1300, b"quirky")
        assert nl.receive()[0].data == b"quirky"


def test_netlink_client_foreign_and_truncated(fake: FakeKernel) -> None:
    with fake.netlink_client(read_buffer_size=32) as nl:
        fake.send_record(1300, b"spoof", sender=5)
        fake.send_record(1300, b"ok")
        assert nl.receive()[0].data == b"ok"
        assert nl.foreign_dropped == 1
        fake.send_record(1300, b"x" * 100)
        with pytest.raises(AuditError, match="truncated"):
            nl.receive()
    with pytest.raises(ValueError):
        fake.netlink_client(read_buffer_size=8)


def test_netlink_client_garbled(fake: FakeKernel) -> None:
    with fake.netlink_client() as nl:
        fake.send_raw(b"\x01\x02\x03\x04\x05")
        with pytest.raises(AuditError, match="truncated netlink header"):
            nl.receive()


def test_random_datagrams_never_break_the_client(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    """Fuzz the live receive path: garbage in, counted and skipped, stream goes on."""
    import random

    rng = random.Random(1234)
    for i in range(300):
        size = rng.choice([0, 1, 3, 15, 16, 17, 20, 31, 32, 33, 64, 200])
        garbage = bytes(rng.getrandbits(8) for _ in range(size))
        if size >= 16 and rng.random() < 0.5:
            # Plausible header, random length field: the hardest case for the splitter.
            garbage = (
                struct.pack(
                    "=IHHII", rng.choice([0, 8, 16, size, size + 1, 2**32 - 1]), 1300, 0, 0, 0
                )
                + garbage[16:]
            )
        fake.send_raw(garbage)
        marker = f"audit(1.0:{i}): marker".encode()
        fake.send_record(1300, marker)
        got = []
        while True:
            m = fake_client.receive(nonblocking=False)
            assert m is not None
            got.append(m)
            if m.data == marker:
                break
    assert fake_client.get_status().backlog_limit == 64
