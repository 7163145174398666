"""Kernel behaviour for rules, features, signal info, TTY status and user messages,
installed into :class:`auditlink.testing.FakeKernel` through its ``handlers``.

Modelled on kernel/auditfilter.c and kernel/audit.c (6.18): rules are kept per list
in insertion order (``AUDIT_FILTER_PREPEND`` inserts at the head and is not stored),
the syscall-class bits of the mask are cleared when stored, a duplicate is EEXIST, a
missing rule on delete ENOENT, anything while immutable (enabled=2) EPERM; the list
dump sends the ack first, then one message per rule (NLM_F_MULTI) and NLMSG_DONE;
a locked feature refuses a change with EPERM.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from auditlink import AuditRule
from auditlink.testing import (
    NLM_F_ACK,
    NLM_F_MULTI,
    NLMSG_DONE,
    Datagram,
    FakeKernel,
    Request,
    encode_message,
)

AUDIT_SIGNAL_INFO = 1010
AUDIT_ADD_RULE = 1011
AUDIT_DEL_RULE = 1012
AUDIT_LIST_RULES = 1013
AUDIT_TRIM = 1014
AUDIT_MAKE_EQUIV = 1015
AUDIT_TTY_GET = 1016
AUDIT_TTY_SET = 1017
AUDIT_SET_FEATURE = 1018
AUDIT_GET_FEATURE = 1019

_FEATURES = struct.Struct("=IIII")


@dataclass
class RuleState:
    """What the fake holds beyond the status."""

    rules: list[bytes] = field(default_factory=list)
    features: int = 0
    lock: int = 0
    tty: tuple[int, int] = (0, 0)
    sig_info: bytes = struct.pack("=Ii", 0xFFFFFFFF, 0)
    user_messages: list[tuple[int, bytes]] = field(default_factory=list)


def _immutable(fake: FakeKernel) -> bool:
    return fake.status.enabled == 2


def _store_form(data: bytes) -> bytes:
    """The rule as the kernel keeps and lists it: no prepend flag, no class bits."""
    b = bytearray(data)
    flags = struct.unpack_from("=I", b, 0)[0]
    struct.pack_into("=I", b, 0, flags & 0x07)
    last = 12 + 63 * 4
    word = struct.unpack_from("=I", b, last)[0]
    struct.pack_into("=I", b, last, word & 0xFFFF)
    return bytes(b)


def install(fake: FakeKernel) -> RuleState:
    """Serve rule and control-plane requests on ``fake``; returns the state."""
    state = RuleState()

    def ack(req: Request, error: int = 0) -> list[Datagram]:
        # The kernel acks when asked, and always on error (kernel/audit.c audit_receive).
        if error or req.flags & NLM_F_ACK:
            return [fake.ack(req, error)]
        return []

    def add(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        if _immutable(fake):
            return ack(req, -errno.EPERM)
        try:
            rule = AuditRule.from_bytes(req.data)
        except ValueError:
            return ack(req, -errno.EINVAL)
        if rule.list not in (0, 1, 4, 5, 6, 7):
            return ack(req, -errno.EINVAL)
        if any(AuditRule.from_bytes(r) == rule for r in state.rules):
            return ack(req, -errno.EEXIST)
        stored = _store_form(req.data)
        if rule.prepend:
            at = next(
                (i for i, r in enumerate(state.rules) if AuditRule.from_bytes(r).list >= rule.list),
                len(state.rules),
            )
        else:
            at = next(
                (i for i, r in enumerate(state.rules) if AuditRule.from_bytes(r).list > rule.list),
                len(state.rules),
            )
        state.rules.insert(at, stored)
        return ack(req)

    def delete(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        if _immutable(fake):
            return ack(req, -errno.EPERM)
        try:
            rule = AuditRule.from_bytes(req.data)
        except ValueError:
            return ack(req, -errno.EINVAL)
        for i, r in enumerate(state.rules):
            if AuditRule.from_bytes(r) == rule:
                del state.rules[i]
                return ack(req)
        return ack(req, -errno.ENOENT)

    def list_rules(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        out: list[Datagram] = [fake.ack(req)]
        for r in state.rules:
            out.append(encode_message(AUDIT_LIST_RULES, r, seq=req.seq, flags=NLM_F_MULTI))
        out.append(encode_message(NLMSG_DONE, b"\0\0\0\0", seq=req.seq, flags=NLM_F_MULTI))
        return out

    def get_feature(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        reply = fake.reply(
            req, AUDIT_GET_FEATURE, _FEATURES.pack(1, 0x3, state.features, state.lock)
        )
        return [fake.ack(req), reply]

    def set_feature(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        if len(req.data) < _FEATURES.size:
            return ack(req, -errno.EINVAL)
        _vers, mask, features, lock = _FEATURES.unpack_from(req.data)
        if mask & ~0x3:
            return ack(req, -errno.EINVAL)
        changing = (state.features ^ features) & mask
        if changing & state.lock:
            return ack(req, -errno.EPERM)
        state.features = (state.features & ~mask) | (features & mask)
        state.lock |= lock & mask
        return ack(req)

    def signal_info(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        return [fake.ack(req), fake.reply(req, AUDIT_SIGNAL_INFO, state.sig_info)]

    def tty_get(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        return [fake.ack(req), fake.reply(req, AUDIT_TTY_GET, struct.pack("=II", *state.tty))]

    def tty_set(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        enabled, log_passwd = struct.unpack_from("=II", req.data.ljust(8, b"\0"))
        if enabled > 1 or log_passwd > 1:
            return ack(req, -errno.EINVAL)
        state.tty = (enabled, log_passwd)
        return ack(req)

    def user_message(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        state.user_messages.append((req.type, req.data))
        return ack(req)

    def simple_ack(fake: FakeKernel, req: Request) -> Sequence[Datagram]:
        return ack(req)

    fake.handlers.update(
        {
            AUDIT_ADD_RULE: add,
            AUDIT_DEL_RULE: delete,
            AUDIT_LIST_RULES: list_rules,
            AUDIT_GET_FEATURE: get_feature,
            AUDIT_SET_FEATURE: set_feature,
            AUDIT_SIGNAL_INFO: signal_info,
            AUDIT_TTY_GET: tty_get,
            AUDIT_TTY_SET: tty_set,
            AUDIT_TRIM: simple_ack,
            AUDIT_MAKE_EQUIV: simple_ack,
        }
    )
    for t in [1005, *range(1100, 1200), *range(2100, 3000)]:
        fake.handlers[t] = user_message
    return state
