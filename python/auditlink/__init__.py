"""auditlink: the Linux kernel audit subsystem over NETLINK_AUDIT, from Python."""

from __future__ import annotations

from auditlink._native import __version__

__all__ = ["__version__"]
