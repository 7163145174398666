"""Value types, enums and decoders: golden values and property tests."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import auditlink
from auditlink import (
    AUDIT_GET,
    AUDIT_MESSAGE_MAX_LENGTH,
    AUDIT_SET,
    NETLINK_AUDIT,
    AuditFeatureBitmap,
    AuditStatus,
    AuditStatusMask,
    FailureMode,
    MessageType,
    NetlinkErrno,
    RawAuditMessage,
    WaitMode,
    _native,
    parse_netlink_error,
)

u32 = st.integers(min_value=0, max_value=2**32 - 1)


def test_constants() -> None:
    assert (AUDIT_GET, AUDIT_SET, NETLINK_AUDIT, AUDIT_MESSAGE_MAX_LENGTH) == (1000, 1001, 9, 8970)


def test_enums() -> None:
    assert [int(m) for m in AuditStatusMask] == [1 << i for i in range(8)]
    assert [int(m) for m in AuditFeatureBitmap] == [1 << i for i in range(7)]
    assert (FailureMode.SILENT, FailureMode.PRINTK, FailureMode.PANIC) == (0, 1, 2)
    assert len({FailureMode.SILENT, FailureMode.PRINTK, FailureMode.PANIC}) == 3
    assert {WaitMode.WAIT_FOR_REPLY, WaitMode.NO_WAIT} == set(WaitMode)
    assert int(NetlinkErrno.NLE_SEQ_MISMATCH) == 16
    assert NetlinkErrno.NLE_SEQ_MISMATCH.description == "Message sequence number mismatch"
    assert str(NetlinkErrno.NLE_ATTRSIZE) == "Attribute max length exceeded"
    assert len(NetlinkErrno) == 35


def test_message_types() -> None:
    assert int(MessageType.SYSCALL) == 1300 and int(MessageType.EOE) == 1320
    assert int(MessageType.PROCTITLE) == 1327 and int(MessageType.USER_AUTH) == 1100
    assert MessageType.GET == AUDIT_GET and MessageType(1001) is MessageType.SET
    assert MessageType(1300).name == "SYSCALL"
    # One table: the enum has exactly the Rust table's numbers.
    assert {n for n, _, _ in _native.message_types()} == {int(m) for m in MessageType}


def test_generated_message_type_module_is_current() -> None:
    tool = Path(__file__).resolve().parent.parent / "tools" / "gen_message_type.py"
    subprocess.run([sys.executable, str(tool), "--check"], check=True)


def test_status_golden_bytes() -> None:
    s = AuditStatus(mask=AuditStatusMask.PID | AuditStatusMask.ENABLED, enabled=1, pid=0x01020304)
    b = s.to_bytes()
    assert len(b) == 44
    assert struct.unpack("=11I", b) == (5, 1, 0, 0x01020304, 0, 0, 0, 0, 0, 0, 0)
    assert AuditStatus.from_bytes(b) == s


@pytest.mark.parametrize("size", [32, 36, 40, 44])
def test_status_layouts(size: int) -> None:
    words = list(range(1, 12))
    s = AuditStatus.from_bytes(struct.pack("=11I", *words)[:size])
    got = [int(getattr(s, f.name)) for f in s.__dataclass_fields__.values()]
    n = size // 4
    assert got == words[:n] + [0] * (11 - n)


@pytest.mark.parametrize("size", [0, 4, 28, 31, 33, 43])
def test_status_bad_sizes(size: int) -> None:
    with pytest.raises(ValueError, match="audit_status"):
        AuditStatus.from_bytes(b"\0" * size)


def test_status_is_frozen_and_hashable() -> None:
    s = AuditStatus(enabled=1)
    with pytest.raises(AttributeError):
        s.enabled = 0  # type: ignore[misc]
    assert hash(s) == hash(AuditStatus(enabled=1))
    assert {s, AuditStatus(enabled=1)} == {s}


def test_status_to_bytes_rejects_out_of_range() -> None:
    with pytest.raises(OverflowError):
        AuditStatus(pid=2**32).to_bytes()


@given(st.tuples(*([u32] * 11)))
def test_status_round_trip(words: tuple[int, ...]) -> None:
    s = AuditStatus._from_tuple(words)
    assert AuditStatus.from_bytes(s.to_bytes()) == s


@settings(max_examples=500)
@given(st.binary(max_size=100))
def test_status_random_bytes(data: bytes) -> None:
    try:
        s = AuditStatus.from_bytes(data)
    except ValueError:
        assert len(data) < 32 or len(data) % 4
    else:
        assert s.to_bytes()[: min(len(data), 44)] == data[:44]


def test_parse_netlink_error() -> None:
    assert parse_netlink_error(struct.pack("=i", 0)) is None
    assert parse_netlink_error(struct.pack("=i", 7)) is None  # a value, not an error
    hdr = struct.pack("=IHHII", 60, 1001, 5, 42, 0)
    e = parse_netlink_error(struct.pack("=i", -1) + hdr)
    assert isinstance(e, PermissionError) and isinstance(e, auditlink.AuditError)
    assert e.errno == 1 and e.seq == 42
    e = parse_netlink_error(struct.pack("=i", -17))
    assert isinstance(e, FileExistsError) and isinstance(e, auditlink.AuditError)
    assert e.seq is None
    with pytest.raises(ValueError):
        parse_netlink_error(b"\0\0\0")


@settings(max_examples=500)
@given(st.binary(max_size=64))
def test_parse_netlink_error_random(data: bytes) -> None:
    try:
        e = parse_netlink_error(data)
    except ValueError:
        assert len(data) < 4
    else:
        code = struct.unpack_from("=i", data)[0]
        assert (e is None) == (code >= 0)


@given(st.integers(min_value=0, max_value=65535), st.binary(max_size=300))
def test_raw_message_round_trip(t: int, data: bytes) -> None:
    m = RawAuditMessage(t, data)
    assert m.type == t and m.data == data
    assert isinstance(m.type, MessageType) == (t in MessageType._value2member_map_)


def test_public_names() -> None:
    expected = {
        "AuditClient",
        "NetlinkClient",
        "NetlinkMessage",
        "RawAuditMessage",
        "AuditStatus",
        "AuditStatusMask",
        "AuditFeatureBitmap",
        "FailureMode",
        "WaitMode",
        "MessageType",
        "NetlinkErrno",
        "AuditError",
        "parse_netlink_error",
        "AUDIT_GET",
        "AUDIT_SET",
        "AUDIT_MESSAGE_MAX_LENGTH",
        "NETLINK_AUDIT",
    }
    assert expected <= set(auditlink.__all__)
    for name in auditlink.__all__:
        assert hasattr(auditlink, name)
