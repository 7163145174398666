"""Inputs other projects' logs and fuzzing turned up: output bounded by the input,
field names that are not UTF-8, odd time stamps, per-object id resolution."""

from __future__ import annotations

import io
import json
import pwd

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlink import (
    AuditTimestamp,
    MessageType,
    RecordParseError,
    parse_log_line,
    parse_record,
    read_events,
)


def events_of(text: bytes) -> list[object]:
    return list(read_events(io.BytesIO(text)))


# ------------------------------------------------------------------ argv size


def test_a_huge_argument_index_does_not_make_a_huge_argv() -> None:
    line = b"type=EXECVE msg=audit(1700000000.000:1): argc=1 a999999=x\n"
    (ev,) = read_events(io.BytesIO(line))
    assert len(ev.to_json()) < 200
    execve = ev.to_dict()["EXECVE"]
    assert execve["argv"] == []
    assert execve["a999999"] == "x"  # kept, as an ordinary field


def test_argv_holes_from_lost_records_stay_up_to_argc() -> None:
    log = (
        b"type=EXECVE msg=audit(1700000000.000:1): argc=4 a0=ls a3=x\n"
        b"type=PROCTITLE msg=audit(1700000000.000:1): proctitle=6C73\n"
    )
    (ev,) = read_events(io.BytesIO(log))
    assert ev.to_dict()["EXECVE"]["argv"] == ["ls", "", "", "x"]


def test_a_huge_argc_is_bounded_by_the_input() -> None:
    log = b"type=EXECVE msg=audit(1700000000.000:1): argc=4000000000 a0=ls a5=x\n"
    (ev,) = read_events(io.BytesIO(log))
    assert ev.to_dict()["EXECVE"]["argv"] == ["ls", "", "", "", "", "x"]
    assert len(ev.to_json()) < 300


FIELD_NAMES = st.sampled_from(
    [
        "argc", "a0", "a1", "a2", "a3", "a9", "a77", "a999999", "a4294967296", "a1[0]",
        "a1[1]", "a2_len", "saddr", "proctitle", "cap_pi", "cap_fp", "perm", "mode", "uid",
        "auid", "syscall", "arch", "exit", "data", "msg", "key", "name", "flags", "sig",
        "res", "x",
    ]
)  # fmt: skip
FIELD_VALUES = st.one_of(
    st.from_regex(r"[0-9a-fA-F]{1,40}", fullmatch=True),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    st.from_regex(r'"[ -~]{0,20}"', fullmatch=True).filter(lambda s: s.count('"') == 2),
    st.just("ffffffffffffffff"),
    st.just("4294967295"),
)
RECORD_TYPES = st.one_of(
    st.sampled_from(sorted(int(t) for t in MessageType)), st.integers(0, 65535)
)


@settings(max_examples=300, deadline=None)
@given(
    types=st.lists(RECORD_TYPES, min_size=1, max_size=6),
    fields=st.lists(st.tuples(FIELD_NAMES, FIELD_VALUES), max_size=12),
)
def test_output_grows_at_most_linearly_with_the_input(
    types: list[int], fields: list[tuple[str, str]]
) -> None:
    body = " ".join(f"{n}={v}" for n, v in fields)
    text = b"".join(
        f"type=UNKNOWN[{t}] msg=audit(1700000000.000:7): arch=c000003e syscall=59 {body}\n".encode()
        for t in types
    )
    bound = 64 * len(text) + 4096
    for ev in read_events(io.BytesIO(text)):
        assert len(ev.to_json()) <= bound
        assert len(repr(ev.to_dict())) <= bound
        for rec in ev.records:
            assert sum(len(repr(f)) for f in rec.interpreted_fields()) <= bound


# ------------------------------------------------------- names not in UTF-8


@pytest.mark.parametrize("build_dict_first", [False, True])
def test_a_field_name_that_is_not_utf8_looks_itself_up(build_dict_first: bool) -> None:
    rec = parse_log_line(b'type=USER_CMD msg=audit(1700000000.000:1): \xff=1 cwd="/"')
    if build_dict_first:
        assert list(rec.fields) == ["\udcff", "cwd"]
    assert "\udcff" in rec.fields
    assert rec.fields["\udcff"] == "1"
    assert rec.fields.get("\udcff") == "1"
    assert rec.interpret("\udcff") == "1"
    assert rec.interpreted_fields()[0][0] == "\udcff"
    assert "\udcfe" not in rec.fields
    assert rec.interpret("\udcfe") is None


# ---------------------------------------------------------------- time stamps


@pytest.mark.parametrize(
    ("stamp", "milliseconds"), [("5", 500), ("1234", 123), ("05", 50), ("0001", 0)]
)
def test_milliseconds_not_in_three_digits_are_read_and_flagged(
    stamp: str, milliseconds: int
) -> None:
    line = f"type=CWD msg=audit(1700000000.{stamp}:1): cwd=/"
    with pytest.raises(RecordParseError, match="three digits"):
        parse_log_line(line)
    with pytest.raises(RecordParseError, match="three digits"):
        parse_record(1307, f"audit(1700000000.{stamp}:1): cwd=/".encode())
    (ev,) = read_events(io.BytesIO(line.encode() + b"\n"))
    (rec,) = ev.records
    assert rec.error is not None and "three digits" in rec.error
    assert (rec.timestamp.seconds, rec.timestamp.milliseconds) == (1700000000, milliseconds)
    assert rec.fields["cwd"] == "/"  # the record is still parsed
    assert json.loads(ev.to_json())["timestamp"] == f"1700000000.{milliseconds:03d}"


def test_a_time_past_year_9999_is_flagged_and_datetime_says_so_cleanly() -> None:
    line = b"type=CWD msg=audit(253402300800.000:1): cwd=/\n"
    (ev,) = read_events(io.BytesIO(line))
    rec = ev.records[0]
    assert rec.error is not None and "9999" in rec.error
    with pytest.raises(ValueError, match="9999"):
        _ = rec.timestamp.datetime
    with pytest.raises(ValueError):
        _ = AuditTimestamp(2**64 - 1, 999).datetime
    last = AuditTimestamp(253402300799, 999).datetime
    assert (last.year, last.microsecond) == (9999, 999000)
    assert parse_log_line("type=CWD msg=audit(1700000000.123:1): cwd=/").error is None


# ------------------------------------------------------------- id resolution


def _named_uid() -> tuple[int, str]:
    for p in pwd.getpwall():
        if 0 < p.pw_uid < 2**31:
            return p.pw_uid, p.pw_name
    pytest.skip("no named non-root user on this machine")


def test_id_resolution_is_a_parameter_of_what_makes_records() -> None:
    uid, name = _named_uid()
    line = f"type=USER_CMD msg=audit(1700000000.000:1): pid=1 uid={uid} res=success"
    assert parse_log_line(line, id_resolution=True).interpret("uid") == name
    assert parse_log_line(line, id_resolution=False).interpret("uid") == str(uid)
    payload = f"audit(1700000000.000:1): pid=1 uid={uid}".encode()
    assert parse_record(1123, payload, id_resolution=False).interpret("uid") == str(uid)
    (off,) = read_events(io.BytesIO(line.encode() + b"\n"), id_resolution=False)
    (on,) = read_events(io.BytesIO(line.encode() + b"\n"), id_resolution=True)
    assert off.records[0].interpret("uid") == str(uid)
    assert on.records[0].interpret("uid") == name
    assert json.loads(off.to_json())["USER_CMD"].get("UID") in (None, str(uid))
    assert json.loads(on.to_json())["USER_CMD"]["UID"] == name
