"""AuditRecord, parse_record, parse_log_line: the parser and interpreter from Python."""

from __future__ import annotations

import collections.abc
import datetime
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import auditlink
from auditlink import (
    AuditRecord,
    AuditTimestamp,
    MessageType,
    RecordParseError,
    parse_log_line,
    parse_record,
)

SYSCALL = (
    "type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=257 success=no "
    "exit=-13 a0=ffffff9c a1=7ffd a2=80000 a3=0 items=1 ppid=1 pid=42 auid=4294967295 uid=0 "
    'gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="cat" '
    'exe="/usr/bin/cat" key=6B310166'
)


def test_header_and_fields() -> None:
    r = parse_log_line(SYSCALL)
    assert r.type is MessageType.SYSCALL
    assert r.serial == 456
    assert r.timestamp == AuditTimestamp(1700000000, 123)
    assert (r.timestamp.seconds, r.timestamp.milliseconds) == (1700000000, 123)
    assert str(r.timestamp) == "1700000000.123"
    assert r.timestamp.datetime == datetime.datetime(
        2023, 11, 14, 22, 13, 20, 123000, tzinfo=datetime.timezone.utc
    )
    assert r.node is None
    assert r.error is None
    assert r.text == SYSCALL
    f = r.fields
    assert isinstance(f, collections.abc.Mapping)
    assert list(f)[:3] == ["arch", "syscall", "success"]
    assert f["comm"] == "cat"  # quotes removed
    assert f["tty"] == "(none)"
    assert f.get("nope") is None and f.get("nope", "d") == "d"
    assert "exe" in f and "nope" not in f and 3 not in f
    assert len(f) == len(f.keys()) == len(f.values()) == len(f.items()) == 25
    assert dict(f.items())["pid"] == "42"
    with pytest.raises(KeyError):
        f["nope"]


def test_fields_mapping_views_and_lookups() -> None:
    # Lookups read the record until a whole-mapping operation builds the dict;
    # both give the same answers. keys/values/items are dict views.
    line = SYSCALL + " uid=7"  # a second uid: the first value wins
    for warm in (False, True):
        f = parse_log_line(line).fields
        if warm:
            list(f.items())
        assert f["uid"] == "0" and f.get("uid") == "0" and "uid" in f
        assert f.get(3) is None and 3 not in f  # type: ignore[arg-type]
        with pytest.raises(KeyError):
            f[3]  # type: ignore[index]
        with pytest.raises(TypeError):
            f[["unhashable"]]  # type: ignore[index]
        with pytest.raises(TypeError):
            ["unhashable"] in f  # noqa: B015
        assert list(f.keys()) == list(f) and len(f) == 25
        assert isinstance(f.keys(), collections.abc.KeysView)
        assert isinstance(f.values(), collections.abc.ValuesView)
        assert isinstance(f.items(), collections.abc.ItemsView)
        assert list(f.items())[:2] == [("arch", "c000003e"), ("syscall", "257")]
        assert ("pid", "42") in f.items() and "42" in f.values()
        assert repr(f).startswith("RecordFields({'arch': 'c000003e'")


def test_interpretations() -> None:
    r = parse_log_line(SYSCALL)
    assert r.interpret("arch") == "x86_64"
    assert r.interpret("syscall") == "openat"
    assert r.interpret("exit") == "EACCES(Permission denied)"
    assert r.interpret("a0") == "AT_FDCWD"
    assert r.interpret("a2") == "O_RDONLY|O_CLOEXEC"
    assert r.interpret("auid") == "unset"
    assert r.interpret("ses") == "unset"
    assert r.interpret("uid") == "root"
    assert r.interpret("key") == "k1\x01f"
    assert r.interpret("missing") is None
    names = [n for n, _, _ in r.interpreted_fields()]
    assert names == list(r.fields)


def test_netlink_payload() -> None:
    r = parse_record(1307, b'audit(1700000000.001:7): cwd="/root"')
    assert r.type == MessageType.CWD and r.serial == 7 and r.timestamp.milliseconds == 1
    assert r.fields["cwd"] == "/root"
    unknown = parse_record(1999, b"audit(1.000:1): a=b")
    assert unknown.type == 1999 and not isinstance(unknown.type, MessageType)


def test_node_and_enriched() -> None:
    r = parse_log_line(
        b"node=web1 type=USER_START msg=audit(1.000:2): pid=1 uid=0 auid=1000 ses=1 "
        b'msg=\'op=PAM:session_open acct="bob" exe="/bin/login" res=success\''
        b'\x1dUID="root" AUID="bob"'
    )
    assert r.node == "web1"
    assert r.fields["op"] == "PAM:session_open"
    assert r.fields["acct"] == "bob"
    assert r.interpret("auid") == "bob"  # the ENRICHED part wins, as in auparse
    assert "AUID" not in r.fields


def test_hex_and_invalid_utf8_are_not_lost() -> None:
    r = parse_log_line("type=CWD msg=audit(1.000:2): cwd=2F746D702FFF0A")
    assert r.fields["cwd"] == "2F746D702FFF0A"
    cwd = r.interpret("cwd")
    assert cwd == "/tmp/\udcff\\012"
    assert cwd.encode("utf-8", "surrogateescape") == b"/tmp/\xff\\012"
    assert r.to_dict()["cwd"].encode("utf-8", "surrogateescape") == b"/tmp/\xff\n"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "hello",
        "type=SYSCALL",
        "type=SYSCALL msg=audit(",
        "type=SYSCALL msg=audit(1.000:): a=b",
        "type=SYSCALL msg=audit(x.000:1): a=b",
        "type=NOT_A_TYPE msg=audit(1.000:1): a=b",
        "node=",
    ],
)
def test_parse_errors_are_value_errors(bad: str) -> None:
    with pytest.raises(RecordParseError) as e:
        parse_log_line(bad)
    assert isinstance(e.value, ValueError)


def test_parse_record_errors() -> None:
    with pytest.raises(RecordParseError):
        parse_record(1300, b"")
    with pytest.raises(RecordParseError):
        parse_record(1300, b"no header at all")
    with pytest.raises(TypeError):
        parse_log_line(123)  # type: ignore[arg-type]


def test_values_are_hashable_and_comparable() -> None:
    a, b = parse_log_line(SYSCALL), parse_log_line(SYSCALL)
    assert a == b and hash(a) == hash(b) and a != parse_record(1300, b"audit(1.000:1): x=1")
    assert a.fields == b.fields and a.fields == dict(b.fields.items())
    assert hash(a.fields) == hash(b.fields)
    t1, t2 = AuditTimestamp(5, 1), AuditTimestamp(5, 2)
    assert t1 < t2 and sorted([t2, t1]) == [t1, t2] and float(t2) == pytest.approx(5.002)
    assert {t1, AuditTimestamp(5, 1)} == {t1}
    with pytest.raises(ValueError):
        AuditTimestamp(1, 1000)
    assert "SYSCALL" in repr(a)


def test_to_dict_and_json_agree() -> None:
    import json

    r = parse_log_line(SYSCALL)
    d = r.to_dict()
    assert json.loads(r.to_json()) == d
    assert d["syscall"] == 257 and d["SYSCALL"] == "openat"
    assert d["exit"] == -13 and d["EXIT"] == "EACCES(Permission denied)"
    assert d["arch"] == "c000003e" and d["ARCH"] == "x86_64"
    assert d["key"] == ["k1", "f"]
    assert d["comm"] == "cat"


def test_id_resolution_switch() -> None:
    r = parse_log_line("type=LOGIN msg=audit(1.000:2): pid=1 uid=65534 old-auid=0 auid=4294967295")
    name = r.interpret("uid")
    try:
        auditlink.set_id_resolution(False)
        assert r.interpret("uid") == "65534"
        assert r.interpret("old-auid") == "root"
        assert r.interpret("auid") == "unset"
    finally:
        auditlink.set_id_resolution(True)
    assert r.interpret("uid") == name


def test_records_do_not_pickle_silently() -> None:
    r = parse_log_line(SYSCALL)
    with pytest.raises((TypeError, pickle.PicklingError)):
        pickle.dumps(r)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(0, 65535))
def test_random_bytes_never_crash(data: bytes, t: int) -> None:
    try:
        r = parse_record(t, data)
    except RecordParseError:
        return
    for name, _value, _interp in r.interpreted_fields():
        r.interpret(name)
    r.to_dict()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_log_lines_never_crash(text: str) -> None:
    try:
        r = parse_log_line("type=SYSCALL msg=audit(1.000:1): " + text)
    except RecordParseError:
        return
    assert isinstance(r, AuditRecord)
    r.interpreted_fields()
    r.to_json()


names = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True).filter(lambda n: n != "msg")
values = st.one_of(
    st.from_regex(r"[A-Za-z0-9/._?-]{1,16}", fullmatch=True),
    st.from_regex(r'"[A-Za-z0-9/._ -]{0,16}"', fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(0, 999),
    st.integers(0, 2**32 - 1),
    st.lists(st.tuples(names, values), max_size=15),
)
def test_format_then_parse_round_trips(
    sec: int, ms: int, serial: int, fields: list[tuple[str, str]]
) -> None:
    body = " ".join(f"{n}={v}" for n, v in fields)
    payload = f"audit({sec}.{ms:03d}:{serial}): {body}".encode()
    r = parse_record(1300, payload)
    assert (r.timestamp.seconds, r.timestamp.milliseconds, r.serial) == (sec, ms, serial)
    got = [(n, v) for n, v, _ in r.interpreted_fields()]
    want = []
    for n, v in fields:
        if v.startswith('"'):
            want.append((n, v[1:-1]))
        else:
            # auparse's rules: trailing ':' ',' "'" ')' are punctuation, not value
            for ch in ":,'":
                if v.endswith(ch):
                    v = v[:-1]
            if v.endswith(")") and v not in ("(none)", "(null)"):
                v = v[:-1]
            if v:
                want.append((n, v))
    assert got == want
    line = parse_log_line(b"type=SYSCALL msg=" + payload)
    assert line.interpreted_fields() == r.interpreted_fields()
