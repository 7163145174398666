"""AuditClient's status and control calls against the fake kernel: AUDIT_GET/SET,
registration, waiting or not."""

from __future__ import annotations

import dataclasses
import errno
import os

import pytest

from auditlink import (
    AUDIT_GET,
    AUDIT_SET,
    AuditClient,
    AuditError,
    AuditStatus,
    AuditStatusMask,
    ClientStats,
    FailureMode,
    WaitMode,
)
from auditlink.testing import (
    FakeKernel,
    Request,
)


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
        fake_client.set_enabled(True, wait="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fake_client.set_rate_limit(1, wait=1)  # type: ignore[arg-type]


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


def test_wait_takes_a_bool_or_a_wait_mode(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake_client.set_rate_limit(1, wait=True)
    fake_client.set_backlog_limit(2, wait=False)
    fake_client.set_backlog_wait_time(3, False)
    fake_client.set_enabled(True, wait=WaitMode.NO_WAIT)
    fake_client.request_ack(AUDIT_SET, AuditStatus(mask=AuditStatusMask.ENABLED).to_bytes(), False)
    fake_client.wait_for_pending_acks()
    fake_client.set_failure(FailureMode.SILENT, wait=WaitMode.WAIT_FOR_REPLY)
    fake_client.set_pid(wait=True)
    assert fake_client.set_status(AuditStatus(mask=AuditStatusMask.LOST), wait=False) == 0
    fake_client.add_rule("-w /etc/shadow -p wa", wait=False)
    fake_client.delete_rule("-w /etc/shadow -p wa", wait=True)
    fake_client.wait_for_pending_acks()
    s = fake.status
    assert (s.rate_limit, s.backlog_limit, s.backlog_wait_time, s.enabled) == (1, 2, 3, 0)
    assert fake.rules == []


def test_status_failure_is_a_failure_mode(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake_client.set_failure(FailureMode.PRINTK)
    s = fake_client.get_status()
    assert s.failure is FailureMode.PRINTK
    assert AuditStatus(failure=0).failure is FailureMode.SILENT


def test_stats_are_a_typed_snapshot(fake: FakeKernel, fake_client: AuditClient) -> None:
    fake.send_record(1300, b"abc")
    fake_client.receive()
    st = fake_client.stats
    assert isinstance(st, ClientStats)
    assert st.messages == st["messages"] == 1 and st.bytes == 3
    assert st["overruns"] == 0 and st.as_dict()["datagrams"] == st.datagrams
    assert st.keys()[0] == "messages"
    with pytest.raises(KeyError):
        st["nope"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.messages = 5  # type: ignore[misc]


def test_daemon_leaves_a_callers_client_open(fake: FakeKernel, fake_client: AuditClient) -> None:
    with AuditClient.daemon(client=fake_client) as c:
        assert c is fake_client and fake.status.pid == os.getpid()
    assert not fake_client.closed and not fake_client.registered
    assert fake.status.pid == 0
    fake_client.get_status()
