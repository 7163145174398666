"""The event stream (batches, iterators, asyncio, daemon helper) against the fake kernel."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
import threading
import time

import pytest

from auditlink import AuditClient, AuditStatusMask, MessageType, RawAuditMessage
from auditlink.testing import FakeKernel, Request, encode_message

from .helpers import cancel_iteration


def _records(n: int, start: int = 0) -> list[tuple[int, bytes]]:
    rng = random.Random(n + start)
    out = []
    for i in range(start, start + n):
        body = "".join(rng.choice("abcdef=\" '\\") for _ in range(rng.randint(0, 120)))
        out.append((1300 + i % 30, f"audit(1700000000.{i % 1000:03d}:{i}): {body}".encode()))
    return out


def test_receive_batch_drains_in_order_byte_exact(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    recs = _records(300)
    for t, d in recs[:100]:
        fake.send_record(t, d)  # one per datagram, kernel length quirk
    fake.send_messages(recs[100:200])  # many per datagram
    for t, d in recs[200:]:
        fake.send_record(t, d, quirk=False)  # multicast-style correct lengths
    got: list[RawAuditMessage] = []
    deadline = time.monotonic() + 5
    while len(got) < 300 and time.monotonic() < deadline:
        got += fake_client.receive_batch(64, timeout=1.0)
    assert [(int(m.type), m.data) for m in got] == recs


def test_receive_batch_respects_max_and_keeps_the_rest(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    fake.send_messages(_records(10))
    first = fake_client.receive_batch(3, timeout=1.0)
    assert len(first) == 3
    rest = fake_client.receive_batch(100, timeout=1.0)
    assert [m.data for m in first + rest] == [d for _, d in _records(10)]


def test_receive_batch_timeouts(fake_client: AuditClient) -> None:
    assert fake_client.receive_batch(10, timeout=0) == []
    t0 = time.monotonic()
    assert fake_client.receive_batch(10, timeout=0.3) == []
    assert 0.25 <= time.monotonic() - t0 < 1.5
    assert fake_client.receive_batch(0, timeout=0) == []
    with pytest.raises(ValueError):
        fake_client.receive_batch(10, timeout=-1)


def test_receive_batch_waits_for_first_then_returns(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    threading.Timer(0.2, lambda: fake.send_record(1300, b"late")).start()
    t0 = time.monotonic()
    got = fake_client.receive_batch(100)
    assert [m.data for m in got] == [b"late"]
    assert time.monotonic() - t0 < 2


def test_batch_path_counts_spoofed_truncated_and_overruns(
    fake: FakeKernel, caplog: pytest.LogCaptureFixture
) -> None:
    with fake.client(read_buffer_size=256) as c:
        fake.send_record(1300, b"spoof", sender=77)
        fake.send_record(1300, b"x" * 1000)
        fake.send_socket_error(errno.ENOBUFS)
        fake.send_record(1300, b"good")
        with caplog.at_level(logging.WARNING, logger="auditlink"):
            got = c.receive_batch(10, timeout=1.0)
        assert [m.data for m in got] == [b"good"]
        st = c.stats
        assert (st["foreign_dropped"], st["truncated"], st["overruns"]) == (1, 1, 1)
        assert any("overran" in r.getMessage() for r in caplog.records)
        # The stream goes on after an overrun.
        fake.send_record(1300, b"after")
        assert [m.data for m in c.receive_batch(10, timeout=1.0)] == [b"after"]


def test_batch_and_requests_share_the_socket(fake: FakeKernel, fake_client: AuditClient) -> None:
    got: list[RawAuditMessage] = []
    stop = threading.Event()

    def consumer() -> None:
        while not stop.is_set() or len(got) < 200:
            got.extend(fake_client.receive_batch(50, timeout=0.2))
            if len(got) >= 200:
                break

    t = threading.Thread(target=consumer)
    t.start()

    def noisy(f: FakeKernel, req: Request) -> list[bytes]:
        recs = [
            encode_message(1300, f"audit(1.0:{req.seq}.{i}): r".encode(), quirk=True)
            for i in range(10)
        ]
        return [*recs[:5], f.ack(req), *recs[5:]]

    for _ in range(20):
        fake.respond_next(noisy)
        fake_client.set_rate_limit(1)
    stop.set()
    t.join(timeout=10)
    assert len(got) == 200
    assert fake_client.stats["stale_replies"] == 0


def test_messages_iterator_timeout_and_close(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.send_messages(_records(5))
    assert len(list(fake_client.messages(timeout=0.2))) == 5

    seen: list[RawAuditMessage] = []
    done = threading.Event()

    def consume() -> None:
        for m in fake_client.messages():
            seen.append(m)
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    fake.send_record(1300, b"one")
    time.sleep(0.2)
    fake_client.close()
    assert done.wait(2), "messages() did not stop on close()"
    t.join()
    assert [m.data for m in seen] == [b"one"]


def test_messages_async(fake: FakeKernel, fake_client: AuditClient) -> None:
    async def main() -> list[bytes]:
        out: list[bytes] = []

        async def feed() -> None:
            for i in range(30):
                fake.send_record(1300, f"r{i}".encode())
                if i % 7 == 0:
                    await asyncio.sleep(0.01)

        feeder = asyncio.create_task(feed())
        async for m in fake_client.messages_async(timeout=0.5):
            out.append(m.data)
        await feeder
        return out

    assert asyncio.run(main()) == [f"r{i}".encode() for i in range(30)]


def test_messages_async_cancellation(fake: FakeKernel, fake_client: AuditClient) -> None:
    async def main() -> None:
        await cancel_iteration(fake_client.messages_async())
        # The fd is no longer watched by the loop, and the client still works.
        fake.send_record(1300, b"after cancel")
        assert [m.data for m in fake_client.receive_batch(5, timeout=1)] == [b"after cancel"]

    asyncio.run(main())


def test_messages_async_close_from_another_task(fake: FakeKernel) -> None:
    client = fake.client()

    async def main() -> list[bytes]:
        out: list[bytes] = []

        async def consume() -> None:
            async for m in client.messages_async():
                out.append(m.data)

        task = asyncio.create_task(consume())
        fake.send_record(1300, b"before close")
        await asyncio.sleep(0.2)
        client.close()
        await asyncio.wait_for(task, 2)
        return out

    assert asyncio.run(main()) == [b"before close"]


def test_messages_async_close_from_another_thread(fake: FakeKernel) -> None:
    client = fake.client()

    async def main() -> None:
        threading.Timer(0.2, client.close).start()
        async for _ in client.messages_async():
            pass

    t0 = time.monotonic()
    asyncio.run(asyncio.wait_for(main(), 3))
    assert time.monotonic() - t0 < 2.5


def test_messages_async_sees_records_queued_by_a_request(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    def noisy(f: FakeKernel, req: Request) -> list[bytes]:
        return [encode_message(1300, b"queued", quirk=True), f.ack(req)]

    async def main() -> list[bytes]:
        fake.respond_next(noisy)
        await asyncio.get_running_loop().run_in_executor(None, fake_client.set_rate_limit, 3)
        return [m.data async for m in fake_client.messages_async(timeout=0.3)]

    assert asyncio.run(main()) == [b"queued"]


def test_daemon_helper_restores_on_error(fake: FakeKernel) -> None:
    assert fake.status.enabled == 0
    with pytest.raises(RuntimeError, match="boom"), AuditClient.daemon(client=fake.client()) as c:
        assert fake.status.enabled == 1
        assert fake.status.pid == os.getpid()
        assert c.registered
        raise RuntimeError("boom")
    assert fake.status.pid == 0
    assert fake.status.enabled == 0
    assert not c.closed  # the caller's client: the caller closes it
    c.close()


def test_daemon_helper_leaves_enabled_alone_if_already_on(fake: FakeKernel) -> None:
    from dataclasses import replace

    fake.status = replace(fake.status, enabled=1)
    with fake.client() as own, AuditClient.daemon(client=own) as c:
        fake.send_record(MessageType.USER, b"hi")
        assert next(c.messages()).data == b"hi"
    assert (fake.status.enabled, fake.status.pid) == (1, 0)
    masks = [int.from_bytes(r.data[:4], "little") for r in fake.requests if r.type == 1001]
    assert masks == [AuditStatusMask.PID, AuditStatusMask.PID]


def test_close_unregisters_while_flooded(fake: FakeKernel) -> None:
    """The unregister ack is lost (as when the socket is full): close() confirms by status."""
    c = fake.client(timeout=0.5)
    c.set_pid()
    for _ in range(50):
        fake.send_record(1300, b"flood " * 50)

    def ack_lost(f: FakeKernel, req: Request) -> list[bytes]:
        f.default_response(req)  # the kernel applies it...
        return [encode_message(1300, b"more flood", quirk=True)] * 20  # ...but the ack is dropped

    fake.respond_next(ack_lost)
    c.close()
    assert fake.status.pid == 0
    assert c.closed


def test_ctrl_c_stops_messages(fake: FakeKernel, fake_client: AuditClient, ctrl_c: None) -> None:
    import signal

    fake.send_record(1300, b"before")
    seen: list[bytes] = []
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        for m in fake_client.messages():
            seen.append(m.data)
    assert seen == [b"before"] and time.monotonic() - t0 < 2
    # The client is still usable afterwards.
    fake.send_record(1300, b"after")
    assert [m.data for m in fake_client.receive_batch(5, timeout=1)] == [b"after"]
