"""AuditClient.events() timeouts and events_async() against the fake kernel."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from auditlink import AuditClient, AuditEvent, Reassembler
from auditlink.testing import FakeKernel

from .helpers import cancel_iteration

SYSCALL = b"audit(1700000000.001:%d): arch=c000003e syscall=59 exit=0"
PROCTITLE = b"audit(1700000000.001:%d): proctitle=6C73"


def send_event(fake: FakeKernel, serial: int) -> None:
    fake.send_record(1300, SYSCALL % serial)
    fake.send_record(1327, PROCTITLE % serial)


def test_events_timeout_zero_takes_what_is_there(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    assert list(fake_client.events(timeout=0)) == []
    send_event(fake, 5)
    time.sleep(0.05)
    assert [e.serial for e in fake_client.events(timeout=0)] == [5]


def test_events_timeout_ends_a_quiet_stream(fake: FakeKernel, fake_client: AuditClient) -> None:
    send_event(fake, 5)
    start = time.monotonic()
    got = [e.serial for e in fake_client.events(timeout=0.3)]
    assert got == [5]
    assert 0.25 <= time.monotonic() - start < 3


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_events_refuses_bad_timeouts(fake_client: AuditClient, bad: float) -> None:
    with pytest.raises(ValueError):
        next(fake_client.events(timeout=bad))

    async def main() -> None:
        async for _ in fake_client.events_async(timeout=bad):
            pass

    with pytest.raises(ValueError):
        asyncio.run(main())


def test_grouping_options_belong_to_the_reassembler(fake_client: AuditClient) -> None:
    with pytest.raises(ValueError):
        next(fake_client.events(Reassembler(), split_login=True))
    assert Reassembler(split_login=True).split_login


def test_events_join_login_unless_split(fake: FakeKernel, fake_client: AuditClient) -> None:
    for split, sizes in ((False, [3]), (True, [1, 2])):
        fake.send_record(1006, b"audit(1700000000.001:9): pid=1 uid=0 old-auid=-1 auid=0")
        fake.send_record(1300, SYSCALL % 9)
        fake.send_record(1327, PROCTITLE % 9)
        got = list(fake_client.events(timeout=0.3, split_login=split))
        assert [len(e) for e in got] == sizes


def test_events_async(fake: FakeKernel, fake_client: AuditClient) -> None:
    async def main() -> list[AuditEvent]:
        out: list[AuditEvent] = []

        async def feed() -> None:
            for i in range(1, 21):
                send_event(fake, i)
                if i % 5 == 0:
                    await asyncio.sleep(0.01)

        feeder = asyncio.create_task(feed())
        async for ev in fake_client.events_async(timeout=0.5):
            out.append(ev)
        await feeder
        return out

    got = asyncio.run(main())
    assert [e.serial for e in got] == list(range(1, 21))
    assert all(e.complete and len(e) == 2 for e in got)


def test_events_async_emits_incomplete_events_while_quiet(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    async def main() -> list[AuditEvent]:
        fake.send_record(1300, SYSCALL % 7)
        return [ev async for ev in fake_client.events_async(Reassembler(timeout=0.2), timeout=3)]

    start = time.monotonic()
    got = asyncio.run(main())
    assert [(e.serial, e.complete) for e in got] == [(7, False)]
    assert time.monotonic() - start < 6


def test_events_async_ends_when_closed_with_what_is_in_flight(fake: FakeKernel) -> None:
    client = fake.client()

    async def main() -> list[AuditEvent]:
        out: list[AuditEvent] = []

        async def consume() -> None:
            async for ev in client.events_async(Reassembler(timeout=60)):
                out.append(ev)

        task = asyncio.create_task(consume())
        fake.send_record(1300, SYSCALL % 3)
        await asyncio.sleep(0.3)
        client.close()
        await asyncio.wait_for(task, 3)
        return out

    got = asyncio.run(main())
    assert [(e.serial, e.complete) for e in got] == [(3, False)]


def test_events_async_cancellation_leaves_the_client_usable(
    fake: FakeKernel, fake_client: AuditClient
) -> None:
    async def main() -> None:
        await cancel_iteration(fake_client.events_async())
        send_event(fake, 11)
        assert [e.serial for e in fake_client.events(timeout=1)] == [11]

    asyncio.run(main())
