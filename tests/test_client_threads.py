"""One AuditClient shared between threads (fake kernel): replies reach their
callers, close wakes waiters, Ctrl-C."""

from __future__ import annotations

import errno
import os
import signal
import threading
import time

import pytest

from auditlink import (
    AUDIT_GET,
    AuditClient,
    AuditError,
    RawAuditMessage,
)
from auditlink.testing import (
    FakeKernel,
    Request,
    encode_message,
)


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


def test_ctrl_c_interrupts_receive(fake_client: AuditClient, ctrl_c: None) -> None:
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
