"""AuditRule without a kernel: parsing auditctl syntax, the binary codec, the
``auditctl -l`` text, errors. The expected texts and values are what auditctl 3.0.9
printed and sent on this machine (x86_64) for the same rules."""

from __future__ import annotations

import contextlib
import pickle
import platform
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlink import AuditRule, RuleAction, RuleField, RuleList, RuleSyntaxError

x86_64 = pytest.mark.skipif(
    platform.machine() != "x86_64", reason="expected values are for an x86_64 host"
)

HEADER = 1040


def words(data: bytes) -> tuple[int, ...]:
    return struct.unpack_from("=260I", data)


@x86_64
def test_issue_example() -> None:
    r = AuditRule.parse(
        "-a always,exit -F arch=b64 -S openat,open -F exit=-EACCES -F auid>=1000 "
        "-F auid!=unset -k access"
    )
    assert r.list is RuleList.EXIT and r.action is RuleAction.ALWAYS and not r.prepend
    assert r.syscalls == (2, 257) and r.syscall_names == ("open", "openat")
    assert r.arch == 0xC000003E
    assert r.keys == ("access",)
    assert [(f.name, f.op, f.value) for f in r.fields] == [
        ("arch", "=", 0xC000003E),
        ("exit", "=", 2**32 - 13),
        ("auid", ">=", 1000),
        ("auid", "!=", 0xFFFFFFFF),
        ("key", "=", "access"),
    ]
    assert str(r) == (
        "-a always,exit -F arch=b64 -S open,openat -F exit=-EACCES -F auid>=1000 "
        "-F auid!=-1 -F key=access"
    )
    data = r.to_bytes()
    w = words(data)
    assert len(data) == HEADER + len("access")
    assert w[:3] == (4, 2, 5)  # flags=EXIT, action=ALWAYS, field_count
    assert w[3] == 1 << 2 and w[3 + 8] == 1 << 1  # open=2, openat=257
    assert w[67:72] == (11, 103, 9, 9, 210)  # fields
    assert w[131:136] == (0xC000003E, 2**32 - 13, 1000, 0xFFFFFFFF, 6)  # values
    assert w[195:200] == (0x40000000, 0x40000000, 0x60000000, 0x30000000, 0x40000000)
    assert w[259] == 6 and data[HEADER:] == b"access"


def test_watch_golden_bytes() -> None:
    """``-w /etc/shadow -p wa -k identity`` as strace showed auditctl sending it."""
    r = AuditRule.parse("-w /etc/shadow -p wa -k identity")
    data = r.to_bytes()
    w = words(data)
    assert w[:3] == (4, 2, 3)
    assert w[3:67] == (0xFFFFFFFF,) * 64
    assert w[67:70] == (105, 106, 210) and w[131:134] == (11, 10, 8)
    assert data[HEADER:] == b"/etc/shadowidentity"
    assert r.is_watch and r.all_syscalls and r.syscalls == ()
    assert str(r) == "-w /etc/shadow -p wa -k identity"


def test_prepend_sets_the_flag() -> None:
    r = AuditRule.parse("-A always,exit -F arch=b64 -S open")
    assert r.prepend
    assert words(r.to_bytes())[0] == 0x14  # AUDIT_FILTER_EXIT | AUDIT_FILTER_PREPEND
    assert r == AuditRule.parse("-a always,exit -F arch=b64 -S open")  # same rule
    assert str(r).startswith("-A always,exit")


def test_watch_forms() -> None:
    assert AuditRule.parse("-w /etc/ -p rwxa").fields[0] == AuditRule.parse("-w /etc").fields[0]
    d = AuditRule.parse("-w /etc/")
    assert (d.fields[0].name, d.fields[0].value) == ("dir", "/etc")
    assert str(d) == "-w /etc -p rwxa"
    w = AuditRule.parse("-W /etc/shadow")
    assert w == AuditRule.parse("-w /etc/shadow")
    p = AuditRule.parse("-a always,exit -F path=/etc/passwd -F perm=wa -k pw")
    assert str(p) == "-w /etc/passwd -p wa -k pw"
    assert p == AuditRule.parse("-w /etc/passwd -p wa -k pw")


@x86_64
@pytest.mark.parametrize(
    ("text", "listed"),
    [
        ("-a always,exit -S open", "-a always,exit -S open"),
        ("-a exit,always -F arch=b32 -S open", "-a always,exit -F arch=b32 -S open"),
        ("-a always,exit -F uid=0", "-a always,exit -S all -F uid=0"),
        ("-a always,task -F uid=0", "-a always,task -F uid=0"),
        ("-a always,exclude -F msgtype=CWD", "-a always,exclude -F msgtype=CWD"),
        ("-a never,user -F msgtype=user_login", "-a never,user -F msgtype=USER_LOGIN"),
        (
            "-a never,filesystem -F fstype=debugfs -k fs",
            "-a never,filesystem -F fstype=debugfs -F key=fs",
        ),
        (
            "-a always,exit -F arch=b64 -S open -F filetype=file",
            "-a always,exit -F arch=b64 -S open -F filetype=32768",
        ),
        (
            "-a always,exit -F arch=b64 -S all -F field_compare=11",
            "-a always,exit -F arch=b64 -S all -C uid=euid",
        ),
        (
            "-a always,exit -F arch=b64 -S ioctl -F a1=0x5401 -F a0&=3",
            "-a always,exit -F arch=b64 -S ioctl -F a1=0x5401 -F a0&=0x3",
        ),
        (
            "-a always,exit -F arch=b64 -S all -F exit=-EPERM -F exit!=-13",
            "-a always,exit -F arch=b64 -S all -F exit=-EPERM -F exit!=-EACCES",
        ),
        (
            "-a always,exit -F arch=b64 -S all -F uid=root -F gid=root",
            "-a always,exit -F arch=b64 -S all -F uid=0 -F gid=0",
        ),
        ("-a always,exit -F arch=b64 -S 0,1,2", "-a always,exit -F arch=b64 -S read,write,open"),
        ("-a always,exit -F arch=b32 -S 400,401", "-a always,exit -F arch=b32 -S msgsnd,msgrcv"),
        ("-a always,exit -F arch=b64 -S 500", "-a always,exit -F arch=b64 -S 500"),
        ("-a always,exit -F arch=i386 -S open", "-a always,exit -F arch=b32 -S open"),
        (
            "-a always,exit -F arch=b64 -S open -k a -k b",
            "-a always,exit -F arch=b64 -S open -F key=a -F key=b",
        ),
        (
            "-a always,exit -F arch=b64 -S open -F uid=-5",
            "-a always,exit -F arch=b64 -S open -F uid=-5",
        ),
        (
            "-a always,exit -F arch=b64 -S execve -F sessionid!=unset",
            "-a always,exit -F arch=b64 -S execve -F sessionid!=-1",
        ),
        ("-w /etc -F uid=0", "-a always,exit -S all -F dir=/etc -F perm=rwxa -F uid=0"),
    ],
)
def test_listing_matches_auditctl(text: str, listed: str) -> None:
    assert AuditRule.parse(text).to_command_line() == listed


def test_extensions_beyond_auditctl_3_0_9() -> None:
    r = AuditRule.parse("-a always,exit -F loginuid_set=1")
    assert (r.fields[0].field, r.fields[0].name) == (24, "loginuid_set")
    assert str(r) == "-a always,exit -S all -F loginuid_set=1"
    u = AuditRule.parse("-a always,io_uring -U openat,connect -k io")
    assert u.list is RuleList.IO_URING
    assert u.syscalls == (16, 18) and u.syscall_names == ("connect", "openat")
    assert str(u) == "-a always,io_uring -U connect,openat -F key=io"
    assert AuditRule.parse("-a always,uring -F uid=0") == AuditRule.parse(
        "-a always,io_uring -F uid=0"
    )


@pytest.mark.parametrize(
    ("text", "message", "token"),
    [
        ("-a always,exit -S open -F arch=b64", "arch must be before -S", "arch=b64"),
        (
            "-a always,exclude -F exit=1",
            "Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter",
            "exit=1",
        ),
        ("-a always,task -S open", "Error: syscall auditing being added to task list", "open"),
        (
            "-a always,exit -F arch=b64 -S nosuchcall",
            "Syscall name unknown: nosuchcall",
            "nosuchcall",
        ),
        (
            "-a always,exit -S open -F auid=nosuchuser",
            "Unknown user: nosuchuser",
            "auid=nosuchuser",
        ),
        ("-a always,exit -S open -F exit=-ENOSUCH", "-F unknown errno - exit", "exit=-ENOSUCH"),
        ("-a always,exit -S open -C uid=gid", "-C incompatible comparison uid", "uid=gid"),
        (
            "-a always,exit -F key=foo",
            "Key field needs a watch, syscall or exe path given prior to it",
            "key=foo",
        ),
        ("-a always,bogus -S open", "Append rule - bad keyword always,bogus", "always,bogus"),
        ("-w etc/shadow", "The path must start with '/'", "etc/shadow"),
        ("-a always,exit -S open -F uid=12abc", "-F value should be number for uid", "uid=12abc"),
        (
            "-a always,exit -S open -F a0=0x1ffffffff",
            "value is too large for field: a0",
            "a0=0x1ffffffff",
        ),
    ],
)
def test_errors_name_the_argument(text: str, message: str, token: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        AuditRule.parse(text)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.message == message
    assert e.token == token
    assert e.position == text.index(token)
    assert e.text == text
    assert str(e) == f"{message} (at position {e.position}: {token!r})"


def test_shell_quoting() -> None:
    r = AuditRule.parse(
        """auditctl -a always,exit -F arch=b64 -S open -F 'path=/tmp/a b' -k "x y" """
    )
    assert [f.value for f in r.fields[1:]] == ["/tmp/a b", "x y"]
    assert r.keys == ("x y",)
    with pytest.raises(RuleSyntaxError, match="unterminated single quote") as info:
        AuditRule.parse("-w /etc/x -k 'abc")
    assert info.value.position == len("-w /etc/x -k ")
    # positions count characters, not bytes
    with pytest.raises(RuleSyntaxError) as info:
        AuditRule.parse("-w /tmp/é -F bogus=1")
    assert info.value.position == len("-w /tmp/é -F ")


@pytest.mark.parametrize(
    "text", ["", "-D", "-e 1", "-l", "-a always,exit -S open -D", "just words"]
)
def test_not_a_rule(text: str) -> None:
    with pytest.raises(ValueError):
        AuditRule.parse(text)


def test_value_semantics() -> None:
    a = AuditRule.parse("-w /etc/shadow -p wa -k identity")
    b = AuditRule("-w /etc/shadow -p wa -k identity")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != AuditRule.parse("-w /etc/shadow -p w -k identity")
    assert a != "-w /etc/shadow -p wa -k identity"
    assert pickle.loads(pickle.dumps(a)) == a
    assert repr(a) == "AuditRule('-w /etc/shadow -p wa -k identity')"
    with pytest.raises(AttributeError):
        a.prepend = True  # type: ignore[misc]
    f = a.fields[0]
    assert isinstance(f, RuleField) and f == a.fields[0] and hash(f) == hash(a.fields[0])
    assert repr(f) == "RuleField(name='path', op='=', value='/etc/shadow')"


def test_kernel_readback_mask_equals_sent_mask() -> None:
    sent = AuditRule.parse("-a always,exit -F arch=b64 -S all -F uid=0").to_bytes()
    readback = bytearray(sent)
    struct.pack_into("=I", readback, 12 + 63 * 4, 0xFFFF)  # class bits cleared
    r = AuditRule.from_bytes(bytes(readback))
    assert r == AuditRule.from_bytes(sent) and r.all_syscalls
    assert r.to_bytes() == bytes(readback)


@pytest.mark.parametrize(
    "data",
    [b"", b"\0" * 1039, b"\0" * 8 + struct.pack("=I", 65) + b"\0" * 1028],
)
def test_malformed_bytes(data: bytes) -> None:
    with pytest.raises(ValueError):
        AuditRule.from_bytes(data)


def test_non_utf8_paths_survive() -> None:
    r = AuditRule.parse("-w /tmp/x -k k")
    data = bytearray(r.to_bytes())
    data[HEADER + 5] = 0xFF  # "/tmp/\xff"
    back = AuditRule.from_bytes(bytes(data))
    assert back.fields[0].value == "/tmp/\udcff"
    assert back.to_bytes() == bytes(data)


# --------------------------------------------------------------- properties

_FIELD_TEXTS = st.sampled_from(
    [
        "-F uid=0",
        "-F auid>=1000",
        "-F auid!=unset",
        "-F exit=-EACCES",
        "-F exit=-EPERM",
        "-F success=1",
        "-F pid>100",
        "-F ppid=1",
        "-F gid!=5",
        "-F euid=nobody",
        "-F a0=0x10",
        "-F a1&=3",
        "-F a2!=-1",
        "-F inode=1234",
        "-F devmajor<=9",
        "-F sessionid=7",
        "-F saddr_fam=10",
        "-F filetype=dir",
        "-F perm=rwa",
        "-F path=/etc/shadow",
        "-F dir=/etc/ssh",
        "-F exe=/usr/bin/passwd",
        "-F subj_type=unconfined_t",
        "-F obj_user=root",
        "-C uid!=euid",
        "-C auid=obj_uid",
        "-F loginuid_set=1",
    ]
)
_SYSCALLS = st.lists(
    st.sampled_from(["open", "openat", "read", "write", "execve", "connect", "kill", "ioctl"]),
    min_size=1,
    max_size=5,
    unique=True,
)


@st.composite
def exit_rules(draw: st.DrawFn) -> str:
    parts = ["-a", draw(st.sampled_from(["always,exit", "never,exit", "exit,always"]))]
    arch = draw(st.sampled_from([None, "b64", "b32"]))
    if arch:
        parts += ["-F", f"arch={arch}"]
    if draw(st.booleans()):
        parts += ["-S", ",".join(draw(_SYSCALLS))]
    for f in draw(st.lists(_FIELD_TEXTS, max_size=8)):
        parts += f.split(" ", 1)
    for k in draw(st.lists(st.text("abcdefgh-_", min_size=1, max_size=10), max_size=3)):
        parts += ["-k", k]
    return " ".join(parts)


@settings(max_examples=300, deadline=None)
@given(exit_rules())
def test_decode_build_round_trip(text: str) -> None:
    try:
        rule = AuditRule.parse(text)
    except RuleSyntaxError:
        return  # e.g. -k without -S: auditctl refuses those too
    data = rule.to_bytes()
    back = AuditRule.from_bytes(data)
    assert back == rule
    assert back.to_bytes() == data
    assert back.to_command_line() == rule.to_command_line()
    if not rule.is_watch:
        assert AuditRule.parse(rule.to_command_line()) == rule


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1200))
def test_random_bytes_never_crash(data: bytes) -> None:
    try:
        rule = AuditRule.from_bytes(data)
    except ValueError:
        return
    assert AuditRule.from_bytes(rule.to_bytes()) == rule
    str(rule)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 64),
    st.lists(st.sampled_from([1, 105, 210, 13, 111, 11, 0x4000_0069]), min_size=64, max_size=64),
    st.lists(st.integers(0, 40), min_size=64, max_size=64),
    st.binary(max_size=200),
)
def test_structured_garbage_never_crashes(
    count: int, fields: list[int], values: list[int], tail: bytes
) -> None:
    data = struct.pack("=III", 4, 2, count) + b"\xff" * 256
    data += struct.pack("=64I", *fields) + struct.pack("=64I", *values)
    data += struct.pack("=64I", *([0x40000000] * 64)) + struct.pack("=I", len(tail)) + tail
    try:
        rule = AuditRule.from_bytes(data)
    except ValueError:
        return
    str(rule)
    assert AuditRule.from_bytes(rule.to_bytes()) == rule


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text_never_crashes(text: str) -> None:
    with contextlib.suppress(ValueError):
        AuditRule.parse(text)
