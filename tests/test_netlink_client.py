"""The generic NetlinkClient against the fake kernel, and the fuzzed receive path."""

from __future__ import annotations

import struct

import pytest

from auditlink import (
    AUDIT_GET,
    AuditClient,
    AuditError,
)
from auditlink.testing import (
    NLMSG_ERROR,
    FakeKernel,
)


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
        # Longer than the read buffer: counted and dropped, as AuditClient does.
        fake.send_record(1300, b"x" * 100)
        fake.send_record(1300, b"next")
        assert nl.receive()[0].data == b"next"
        assert nl.truncated == 1
        assert nl.receive(timeout=0) == []
        assert nl.receive(nonblocking=True) == []
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
