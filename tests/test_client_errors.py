"""How AuditClient reports what goes wrong: kernel errnos, timeouts, short,
garbled, stale and wrong replies (fake kernel)."""

from __future__ import annotations

import errno
import os
import struct
import time

import pytest

from auditlink import (
    AUDIT_GET,
    AuditClient,
    AuditError,
)
from auditlink.testing import (
    NLMSG_DONE,
    NLMSG_ERROR,
    FakeKernel,
    Request,
    encode_message,
)


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
