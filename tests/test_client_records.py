"""Event records through AuditClient.receive (fake kernel): framing quirks, foreign
senders, truncation, overruns, counters, the tee."""

from __future__ import annotations

import errno
import io
import time

import pytest

from auditlink import (
    AUDIT_GET,
    AuditClient,
    MessageType,
    RawAuditMessage,
)
from auditlink.testing import (
    FakeKernel,
    Request,
    encode_message,
)


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


def test_receive_timeout_in_seconds(fake: FakeKernel, fake_client: AuditClient) -> None:
    start = time.monotonic()
    assert fake_client.receive(timeout=0.1) is None
    assert time.monotonic() - start >= 0.09
    assert fake_client.receive(timeout=0) is None
    assert fake_client.receive(nonblocking=True) is None
    fake.send_record(1300, b"x")
    m = fake_client.receive(timeout=5)
    assert m is not None and m.data == b"x"
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="timeout"):
            fake_client.receive(timeout=bad)
        with pytest.raises(ValueError, match="timeout"):
            fake_client.receive_batch(timeout=bad)
    with pytest.raises(TypeError, match="timeout"):
        fake_client.receive(True)
    with pytest.raises(TypeError, match="timeout"):
        list(fake_client.messages(timeout=False))


def test_messages_timeout_zero_yields_what_is_queued(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    fake.send_messages([(1300, b"a"), (1300, b"b")])
    fake_client.get_status()  # both records are queued once the reply is in
    assert [m.data for m in fake_client.messages(timeout=0)] == [b"a", b"b"]
