"""The daemon's reader on the real kernel: a unicast client takes datagrams from the
kernel only (the kernel itself refuses other senders), so its reads skip sender
addresses."""

from __future__ import annotations

import socket
import struct

import pytest

from auditlink import NETLINK_AUDIT, AuditClient

pytestmark = pytest.mark.kernel

AUDIT_USER = 1005


def test_a_unicast_client_hears_only_the_kernel(kernel_client: AuditClient) -> None:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT) as other:
        other.bind((0, 0))
        payload = b"spoofed record"
        header = struct.pack("=IHHII", 16 + len(payload), AUDIT_USER, 0, 0, other.getsockname()[0])
        with pytest.raises(ConnectionRefusedError):
            other.sendto(header + payload, (kernel_client.port_id, 0))
    assert kernel_client.stats["foreign_dropped"] == 0
