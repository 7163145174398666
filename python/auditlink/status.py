"""The kernel's audit status (``struct audit_status``)."""

from __future__ import annotations

import dataclasses
import functools

from auditlink import _native
from auditlink.enums import AuditFeatureBitmap, AuditStatusMask

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


@dataclasses.dataclass(frozen=True)
class AuditStatus:
    """A snapshot of the kernel audit configuration and counters.

    The AUDIT_GET reply, and the AUDIT_SET request (where ``mask`` says which fields
    count). Frozen and hashable; build modified copies with :func:`dataclasses.replace`.
    """

    mask: AuditStatusMask = AuditStatusMask(0)  # noqa: RUF009 (immutable int)
    """Which fields are meaningful (set by AUDIT_SET; the kernel's reply has 0)."""
    enabled: int = 0
    """0 = off, 1 = on, 2 = on and locked (immutable until reboot)."""
    failure: int = 0
    """The failure mode: 0 silent, 1 printk, 2 panic (see :class:`FailureMode`)."""
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

    @classmethod
    def from_bytes(cls, data: bytes) -> AuditStatus:
        """Decode the 32, 36, 40 or 44-byte kernel layouts (missing fields are 0).

        Raises :class:`ValueError` for any other size.
        """
        return cls._from_tuple(_native.status_from_bytes(data))

    def to_bytes(self) -> bytes:
        """The 44-byte layout, native byte order."""
        return _native.status_to_bytes(tuple(int(getattr(self, f)) for f in STATUS_FIELDS))  # type: ignore[arg-type]

    @classmethod
    def _from_tuple(cls, values: tuple[int, ...]) -> AuditStatus:
        # The hot path of get_status(): fill the frozen instance's __dict__ directly
        # (dataclass __init__ on a frozen class costs an object.__setattr__ per field).
        status = cls.__new__(cls)
        fields = status.__dict__
        fields.update(zip(STATUS_FIELDS, values))
        fields["mask"] = _mask(values[0])
        fields["feature_bitmap"] = _features(values[8])
        return status


# The flag values seen are few (usually one each): convert each once.
_mask = functools.lru_cache(maxsize=256)(AuditStatusMask)
_features = functools.lru_cache(maxsize=256)(AuditFeatureBitmap)


__all__ = ["AuditStatus"]
