"""Flags and codes of the audit netlink protocol (values from include/uapi/linux/audit.h)."""

from __future__ import annotations

import enum


class AuditStatusMask(enum.IntFlag):
    """Which fields of an :class:`~auditlink.AuditStatus` an AUDIT_SET changes
    (``AUDIT_STATUS_*``)."""

    ENABLED = 0x0001
    FAILURE = 0x0002
    PID = 0x0004
    RATE_LIMIT = 0x0008
    BACKLOG_LIMIT = 0x0010
    BACKLOG_WAIT_TIME = 0x0020
    LOST = 0x0040
    BACKLOG_WAIT_TIME_ACTUAL = 0x0080


class AuditFeatureBitmap(enum.IntFlag):
    """What the running kernel's audit supports (``AUDIT_FEATURE_BITMAP_*``)."""

    BACKLOG_LIMIT = 0x0001
    BACKLOG_WAIT_TIME = 0x0002
    EXECUTABLE_PATH = 0x0004
    EXCLUDE_EXTEND = 0x0008
    SESSIONID_FILTER = 0x0010
    LOST_RESET = 0x0020
    FILTER_FS = 0x0040


class FailureMode(enum.IntEnum):
    """What the kernel does when it cannot log a record (``AUDIT_FAIL_*``).

    Never set ``PANIC`` on a machine you care about: the kernel panics on the first
    record it cannot deliver.
    """

    SILENT = 0
    PRINTK = 1
    PANIC = 2


class WaitMode(enum.Enum):
    """Whether a control call waits for the kernel's acknowledgement.

    With ``NO_WAIT`` the call returns once the request is sent; collect the result
    with :meth:`AuditClient.wait_for_pending_acks`.
    """

    WAIT_FOR_REPLY = "wait_for_reply"
    NO_WAIT = "no_wait"


class RuleList(enum.IntEnum):
    """The kernel's filter lists (``AUDIT_FILTER_*``): where a rule is checked."""

    USER = 0
    """Messages user space sends (``-a ...,user``)."""
    TASK = 1
    """Task creation: fork/clone (``-a ...,task``)."""
    ENTRY = 2
    """Syscall entry; obsolete, refused by current kernels."""
    WATCH = 3
    """Obsolete watch list, refused by current kernels."""
    EXIT = 4
    """Syscall exit: syscall rules and watches (``-a ...,exit``, ``-w``)."""
    EXCLUDE = 5
    """Records about to be emitted: drop by type or subject (``-a ...,exclude``)."""
    FILESYSTEM = 6
    """Whole file systems by type (``-a ...,filesystem -F fstype=...``)."""
    IO_URING = 7
    """io_uring operations (``-a ...,io_uring -U op``); kernel 5.16+."""


class RuleAction(enum.IntEnum):
    """What a matching rule does."""

    NEVER = 0
    POSSIBLE = 1
    """Obsolete; auditctl refuses it."""
    ALWAYS = 2


class AuditFeature(enum.IntEnum):
    """Settable kernel audit features (``AUDIT_FEATURE_*``)."""

    ONLY_UNSET_LOGINUID = 0
    """A process may set its loginuid only while it is unset."""
    LOGINUID_IMMUTABLE = 1
    """No process may change a loginuid once set (``auditctl --loginuid-immutable``)."""


class NetlinkErrno(enum.IntEnum):
    """libnl's ``NLE_*`` error codes, kept from the seed API for reference.

    These are *libnl* codes (libnl/include/netlink/errno.h); they are NOT what the
    kernel sends. The kernel reports failures as negative ``errno`` values in
    NLMSG_ERROR, which auditlink raises as :class:`OSError` with the real ``errno``
    (see :func:`auditlink.parse_netlink_error`).
    """

    description: str

    def __new__(cls, value: int, description: str) -> NetlinkErrno:
        member = int.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    NLE_SUCCESS = (0, "Success")
    NLE_FAILURE = (1, "Unspecific failure")
    NLE_INTR = (2, "Interrupted system call")
    NLE_BAD_SOCK = (3, "Bad socket")
    NLE_AGAIN = (4, "Try again")
    NLE_NOMEM = (5, "Out of memory")
    NLE_EXIST = (6, "Object exists")
    NLE_INVAL = (7, "Invalid input data or parameter")
    NLE_RANGE = (8, "Input data out of range")
    NLE_MSGSIZE = (9, "Message size not sufficient")
    NLE_OPNOTSUPP = (10, "Operation not supported")
    NLE_AF_NOSUPPORT = (11, "Address family not supported")
    NLE_OBJ_NOTFOUND = (12, "Object not found")
    NLE_NOATTR = (13, "Attribute not available")
    NLE_MISSING_ATTR = (14, "Missing attribute")
    NLE_AF_MISMATCH = (15, "Address family mismatch")
    NLE_SEQ_MISMATCH = (16, "Message sequence number mismatch")
    NLE_MSG_OVERFLOW = (17, "Kernel reported message overflow")
    NLE_MSG_TRUNC = (18, "Kernel reported truncated message")
    NLE_NOADDR = (19, "Invalid address for specified address family")
    NLE_SRCRT_NOSUPPORT = (20, "Source based routing not supported")
    NLE_MSG_TOOSHORT = (21, "Netlink message is too short")
    NLE_MSGTYPE_NOSUPPORT = (22, "Netlink message type is not supported")
    NLE_OBJ_MISMATCH = (23, "Object type does not match cache")
    NLE_NOCACHE = (24, "Unknown or invalid cache type")
    NLE_BUSY = (25, "Object busy")
    NLE_PROTO_MISMATCH = (26, "Protocol mismatch")
    NLE_NOACCESS = (27, "No Access")
    NLE_PERM = (28, "Operation not permitted")
    NLE_PKTLOC_FILE = (29, "Unable to open packet location file")
    NLE_PARSE_ERR = (30, "Unable to parse object")
    NLE_NODEV = (31, "No such device")
    NLE_IMMUTABLE = (32, "Immutable attribute")
    NLE_DUMP_INTR = (33, "Dump inconsistency detected, interrupted")
    NLE_ATTRSIZE = (34, "Attribute max length exceeded")

    def __str__(self) -> str:
        return self.description


__all__ = [
    "AuditFeature",
    "AuditFeatureBitmap",
    "AuditStatusMask",
    "FailureMode",
    "NetlinkErrno",
    "RuleAction",
    "RuleList",
    "WaitMode",
]
