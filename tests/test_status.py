"""AuditStatus decoding: sizes a kernel may send, enum fields, bounded memory."""

from __future__ import annotations

import random
import struct
import tracemalloc

import pytest

from auditlink import AuditFeatureBitmap, AuditStatus, AuditStatusMask, FailureMode


def test_longer_status_keeps_the_known_fields() -> None:
    words = list(range(1, 12))
    s = AuditStatus.from_bytes(struct.pack("=13I", *words, 0xFFFF_FFFF, 7))
    assert [int(getattr(s, f)) for f in s.__dataclass_fields__] == words


@pytest.mark.parametrize("size", [45, 46, 47, 50])
def test_status_not_whole_fields_raises(size: int) -> None:
    with pytest.raises(ValueError, match="multiple of 4"):
        AuditStatus.from_bytes(b"\0" * size)


def test_enum_fields() -> None:
    s = AuditStatus.from_bytes(struct.pack("=11I", 3, 1, 1, 0, 0, 0, 0, 0, 0x41, 0, 0))
    assert s.mask == AuditStatusMask.ENABLED | AuditStatusMask.FAILURE
    assert isinstance(s.mask, AuditStatusMask)
    assert s.failure is FailureMode.PRINTK
    assert s.feature_bitmap == AuditFeatureBitmap.BACKLOG_LIMIT | AuditFeatureBitmap.FILTER_FS
    odd = AuditStatus.from_bytes(struct.pack("=11I", 1 << 20, 0, 9, *([0] * 8)))
    assert odd.failure == 9 and not isinstance(odd.failure, FailureMode)
    assert int(odd.mask) == 1 << 20
    assert AuditStatus(mask=5, failure=2).failure is FailureMode.PANIC  # type: ignore[arg-type]
    assert isinstance(AuditStatus(mask=5).mask, AuditStatusMask)  # type: ignore[arg-type]


def test_memory_does_not_grow_with_random_flag_bits() -> None:
    """Each distinct unknown flag combination used to stay cached for good (~1 kB
    per call). 3000 calls keep the test quick (a pseudo-member costs ~0.1 ms to make);
    the bound is far below what the old growth would reach."""
    rng = random.Random(7)

    def decode(n: int) -> None:
        for _ in range(n):
            words = [rng.getrandbits(32) for _ in range(11)]
            AuditStatus.from_bytes(struct.pack("=11I", *words))

    decode(1000)  # fill every bounded cache
    maps = len(AuditStatusMask._value2member_map_), len(AuditFeatureBitmap._value2member_map_)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        decode(3000)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 300_000, f"grew {grown} bytes over 3000 decodes"
    # Only the bounded set of known-bit combinations (and single unknown bits) remains.
    after = len(AuditStatusMask._value2member_map_), len(AuditFeatureBitmap._value2member_map_)
    assert after[0] <= max(maps[0], 2**8 + 32) and after[1] <= max(maps[1], 2**7 + 32)
