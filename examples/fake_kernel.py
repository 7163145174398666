"""Test your own audit code without root: a FakeKernel speaks the real wire format."""

from __future__ import annotations

import errno

from auditlink import AuditClient, MessageType
from auditlink.testing import FakeKernel


def my_service(client: AuditClient) -> str:
    client.set_enabled(True)
    msg = client.receive()
    assert msg is not None
    return msg.data.decode()


def test_my_service() -> None:
    with FakeKernel() as fake, fake.client() as client:
        fake.send_record(MessageType.USER, "audit(1700000000.000:1): msg='hello'")
        assert my_service(client).endswith("msg='hello'")
        assert fake.status.enabled == 1
        client.add_rule("-w /etc/shadow -p wa -k identity")
        assert [str(rule) for rule in fake.rules] == ["-w /etc/shadow -p wa -k identity"]
        fake.fail_next(errno.EPERM)
        try:
            client.set_enabled(False)
        except PermissionError as e:
            assert e.errno == errno.EPERM


if __name__ == "__main__":
    test_my_service()
    print("ok")
