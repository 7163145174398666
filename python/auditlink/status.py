"""The kernel's audit status (``struct audit_status``)."""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable
from typing import TypeVar

from auditlink import _native
from auditlink.enums import AuditFeatureBitmap, AuditStatusMask, FailureMode

STATUS_FIELDS = (
    # struct audit_status, in wire order
    "mask",
    "enabled",
    "failure",
    "pid",
    "rate_limit",
    "backlog_limit",
    "lost",
    "backlog",
    "feature_bitmap",
    "backlog_wait_time",
    "backlog_wait_time_actual",
)

_F = TypeVar("_F", bound=enum.IntFlag)


def _flag_converter(cls: type[_F]) -> Callable[[int], _F]:
    """``cls(value)`` that never grows with its input.

    ``enum.Flag`` keeps every pseudo-member it makes (a value that combines members)
    in ``_value2member_map_`` for good. Combinations of known bits are few (2**n for
    n members), but a value with unknown bits — garbage, or a newer kernel — would
    stay forever, so a long-running process reading varied input would grow without
    bound. Such a member is made, then dropped from that map; the last 256 values
    converted are kept here for speed.
    """
    known = 0
    for member in cls:
        known |= member.value

    @functools.lru_cache(maxsize=256)
    def convert(value: int) -> _F:
        member = cls(value)
        if value & ~known:
            cls._value2member_map_.pop(value, None)
        return member

    return convert


_mask = _flag_converter(AuditStatusMask)
_features = _flag_converter(AuditFeatureBitmap)
_FAILURE_MODES = {int(m): m for m in FailureMode}


def _failure(value: int) -> FailureMode | int:
    return _FAILURE_MODES.get(value, value)


@dataclasses.dataclass(frozen=True)
class AuditStatus:
    """A snapshot of the kernel audit configuration and counters.

    The AUDIT_GET reply, and the AUDIT_SET request (where ``mask`` says which fields
    count). Frozen and hashable; build modified copies with :func:`dataclasses.replace`.
    ``mask``, ``feature_bitmap`` and ``failure`` given as plain ints are converted
    to their enum types.
    """

    mask: AuditStatusMask = AuditStatusMask(0)  # noqa: RUF009 (immutable int)
    """Which fields are meaningful (set by AUDIT_SET; the kernel's reply has 0)."""
    enabled: int = 0
    """0 = off, 1 = on, 2 = on and locked (immutable until reboot)."""
    failure: FailureMode | int = FailureMode.SILENT
    """The failure mode; a value outside 0..2 (which no kernel reports) stays an int."""
    pid: int = 0
    """PID of the registered audit daemon, 0 if none."""
    rate_limit: int = 0
    """Records per second the kernel may emit; 0 = unlimited."""
    backlog_limit: int = 0
    """Records that may wait in the kernel queue for the daemon."""
    lost: int = 0
    """Records lost (rate limit, backlog overflow, allocation failures) since reset."""
    backlog: int = 0
    """Records waiting in the kernel queue now."""
    feature_bitmap: AuditFeatureBitmap = AuditFeatureBitmap(0)  # noqa: RUF009 (immutable int)
    """Features of this kernel's audit (the old ``version`` field)."""
    backlog_wait_time: int = 0
    """How long (in jiffies) a producer waits for backlog space before dropping."""
    backlog_wait_time_actual: int = 0
    """Total time producers actually waited (kernel 5.9+), since reset."""

    def __post_init__(self) -> None:
        set_field = object.__setattr__
        set_field(self, "mask", _mask(int(self.mask)))
        set_field(self, "failure", _failure(int(self.failure)))
        set_field(self, "feature_bitmap", _features(int(self.feature_bitmap)))

    @classmethod
    def from_bytes(cls, data: bytes) -> AuditStatus:
        """Decode a ``struct audit_status`` as the kernel sends it (native byte order).

        Older kernels send a shorter prefix (32, 36 or 40 bytes): the fields it lacks
        are 0. A newer kernel may append fields: bytes past the 44 known here are
        ignored.

        Arguments:
            data: at least 32 bytes, in whole 4-byte fields.

        Returns:
            The decoded status.

        Raises:
            ValueError: ``data`` is shorter than 32 bytes or not a multiple of 4 long.
        """
        return cls._from_tuple(_native.status_from_bytes(data))

    def to_bytes(self) -> bytes:
        """Encode as the 44-byte layout.

        Returns:
            The 44 bytes, native byte order.

        Raises:
            OverflowError: a field does not fit in 32 unsigned bits.
        """
        return _native.status_to_bytes(tuple(int(getattr(self, f)) for f in STATUS_FIELDS))  # type: ignore[arg-type]

    @classmethod
    def _from_tuple(cls, values: tuple[int, ...]) -> AuditStatus:
        # The hot path of get_status(): fill the frozen instance's __dict__ directly
        # (dataclass __init__ on a frozen class costs an object.__setattr__ per field).
        status = cls.__new__(cls)
        fields = status.__dict__
        fields.update(zip(STATUS_FIELDS, values))
        fields["mask"] = _mask(values[0])
        fields["failure"] = _failure(values[2])
        fields["feature_bitmap"] = _features(values[8])
        return status


__all__ = ["AuditStatus"]
