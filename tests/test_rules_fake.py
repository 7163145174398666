"""Rule management, load_rules, features, signal info, TTY status and user messages
against the fake kernel: every path, including the ones never to be taken on the
real kernel (``-e 2``, ``--loginuid-immutable``, failure mode 2)."""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import pytest

from auditlink import (
    AuditClient,
    AuditError,
    AuditFeature,
    AuditRule,
    MessageType,
    RuleList,
    RuleLoadError,
    RuleSyntaxError,
    SignalInfo,
    TtyStatus,
    WaitMode,
)
from auditlink.rules import LoadResult
from auditlink.testing import AUDIT_ADD_RULE, AUDIT_DEL_RULE, FakeKernel

DATA = Path(__file__).parent / "data" / "rules"


@pytest.fixture
def client(fake_client: AuditClient) -> AuditClient:
    return fake_client


def write_rules(tmp_path: Path, text: str, name: str = "audit.rules") -> Path:
    p = tmp_path / name
    p.write_text(text)
    os.chmod(p, 0o640)
    return p


# ------------------------------------------------------------------- rules


def test_add_list_delete(client: AuditClient, fake: FakeKernel) -> None:
    rule = AuditRule.parse("-w /etc/shadow -p wa -k identity")
    client.add_rule(rule)
    client.add_rule("-a always,exit -F arch=b64 -S openat -k access")
    req = fake.requests[-1]
    assert req.type == AUDIT_ADD_RULE
    assert req.flags == 0x05
    assert req.data == AuditRule.parse("-a always,exit -F arch=b64 -S openat -k access").to_bytes()
    rules = client.get_rules()
    assert rules == [rule, AuditRule.parse("-a always,exit -F arch=b64 -S openat -k access")]
    # The stored form lacks the class bits; still equal, and listed as a watch.
    assert rules[0].to_bytes() != rule.to_bytes()
    assert str(rules[0]) == "-w /etc/shadow -p wa -k identity"
    client.delete_rule(rules[0])
    assert fake.requests[-1].type == AUDIT_DEL_RULE
    assert client.get_rules() == [AuditRule.parse("-a always,exit -F arch=b64 -S openat -k access")]


def test_duplicate_is_file_exists(client: AuditClient) -> None:
    client.add_rule("-a always,exit -F arch=b64 -S open")
    with pytest.raises(FileExistsError) as info:
        client.add_rule("-a always,exit -F arch=b64 -S open")
    assert isinstance(info.value, AuditError)
    assert info.value.errno == errno.EEXIST
    assert info.value.operation == "add_rule"


def test_real_errno_for_everything_else(client: AuditClient, fake: FakeKernel) -> None:
    for code, exc in [
        (errno.EINVAL, OSError),
        (errno.ENOENT, FileNotFoundError),
        (errno.EPERM, PermissionError),
        (errno.ENOMEM, OSError),
        (errno.ENOSPC, OSError),
    ]:
        fake.fail_next(code)
        with pytest.raises(exc) as info:
            client.add_rule("-a always,exit -F arch=b64 -S open")
        assert isinstance(info.value, AuditError)
        assert info.value.errno == code
    with pytest.raises(FileNotFoundError):
        client.delete_rule("-a always,exit -F arch=b64 -S close")


def test_prepend_really_prepends(client: AuditClient) -> None:
    client.add_rule("-a always,exit -F arch=b64 -S open")
    client.add_rule("-a always,task -F uid=0")
    client.add_rule("-A never,exit -F arch=b64 -S all -F pid=1")
    rules = client.get_rules()
    assert [str(r) for r in rules] == [
        "-a always,task -F uid=0",
        "-a never,exit -F arch=b64 -S all -F pid=1",
        "-a always,exit -F arch=b64 -S open",
    ]
    assert not any(r.prepend for r in rules)


def test_delete_all_and_by_key(client: AuditClient) -> None:
    for text in [
        "-w /etc/shadow -p wa -k identity",
        "-w /etc/passwd -p wa -k identity -k other",
        "-w /etc/group -p wa -k identity2",
        "-a always,exit -F arch=b64 -S open",
    ]:
        client.add_rule(text)
    assert client.delete_rules_by_key("identity") == 2
    assert [r.keys for r in client.get_rules()] == [("identity2",), ()]
    assert client.delete_rules_by_key("nothing") == 0
    assert client.delete_all_rules() == 2
    assert client.get_rules() == []
    assert client.delete_all_rules() == 0


def test_no_wait_then_collect(client: AuditClient) -> None:
    client.add_rule("-a always,exit -F arch=b64 -S open", wait=WaitMode.NO_WAIT)
    client.add_rule("-a always,exit -F arch=b64 -S open", wait=WaitMode.NO_WAIT)
    with pytest.raises(FileExistsError):
        client.wait_for_pending_acks()
    assert len(client.get_rules()) == 1


def test_bad_arguments(client: AuditClient) -> None:
    with pytest.raises(TypeError):
        client.add_rule(42)  # type: ignore[arg-type]
    with pytest.raises(RuleSyntaxError):
        client.add_rule("-a always,exit -F nosuch=1")
    with pytest.raises(TypeError):
        client.delete_rules_by_key(b"x")  # type: ignore[arg-type]


def test_immutable_refuses_rules(client: AuditClient, fake: FakeKernel) -> None:
    client.set_immutable()
    with pytest.raises(PermissionError):
        client.add_rule("-a always,exit -F arch=b64 -S open")


def test_garbled_list_reply_is_an_audit_error(client: AuditClient, fake: FakeKernel) -> None:
    from auditlink.testing import NLM_F_MULTI, NLMSG_DONE, Datagram, Request, encode_message

    def garbled(f: FakeKernel, req: Request) -> list[Datagram]:
        return [
            f.ack(req),
            encode_message(1013, b"\x01" * 100, seq=req.seq, flags=NLM_F_MULTI),
            encode_message(NLMSG_DONE, b"\0" * 4, seq=req.seq, flags=NLM_F_MULTI),
        ]

    fake.respond_next(garbled)
    with pytest.raises(AuditError) as info:
        client.get_rules()
    assert info.value.errno is None
    assert "AUDIT_LIST_RULES" in str(info.value)


# -------------------------------------------------------------- load_rules


def test_load_rules_like_auditctl(client: AuditClient, fake: FakeKernel, tmp_path: Path) -> None:
    client.add_rule("-a always,exit -F arch=b64 -S close")
    path = write_rules(
        tmp_path,
        "## header\n"
        "-D\n"
        "-b 8192\n"
        "-f 1\n"
        "--backlog_wait_time 60000\n"
        "-r 100\n"
        "\n"
        "-w /etc/shadow -p wa -k identity\n"
        "-a always,exit -F arch=b64 -S openat -F exit=-EACCES -k access\n"
        "-A never,exit -F arch=b64 -S all -F pid=1\n"
        "-e 1\n",
    )
    result = client.load_rules(path)
    assert result.ok and not result.dry_run
    assert result.rules_added == 3 and result.rules_deleted == 1
    assert [line.lineno for line in result.lines] == [2, 3, 4, 5, 6, 8, 9, 10, 11]
    assert all(line.executed and line.status == "ok" for line in result.lines)
    s = client.get_status()
    assert (s.backlog_limit, s.failure, s.backlog_wait_time, s.rate_limit, s.enabled) == (
        8192,
        1,
        60000,
        100,
        1,
    )
    assert [str(r) for r in client.get_rules()] == [
        "-a never,exit -F arch=b64 -S all -F pid=1",
        "-w /etc/shadow -p wa -k identity",
        "-a always,exit -F arch=b64 -S openat -F exit=-EACCES -F key=access",
    ]


def test_load_rules_stops_at_first_error(client: AuditClient, tmp_path: Path) -> None:
    path = write_rules(
        tmp_path,
        "-a always,exit -F arch=b64 -S open\n"
        "-a always,exit -F arch=b64 -S open\n"
        "-a always,exit -F arch=b64 -S close\n",
    )
    with pytest.raises(RuleLoadError) as info:
        client.load_rules(path)
    err = info.value
    assert err.lineno == 2 and err.errno == errno.EEXIST
    assert err.line.message == "Error sending add rule data request (Rule exists)"
    assert isinstance(err.__cause__, FileExistsError)
    assert [line.status for line in err.result.lines] == ["ok", "failed", "not_run"]
    assert len(client.get_rules()) == 1
    assert f"{path}:2:" in str(err)


def test_loaded_lines_read_as_the_dry_run_does(client: AuditClient, tmp_path: Path) -> None:
    """Rule lines sent in batches are kept as their place in the file and their
    encoded rule, and rebuilt when read: every line of the loaded result says what
    the dry run's says, in a stopped load too (its not-run lines lose their warnings)."""
    rules = [f"-a always,exit -F arch=b64 -S openat -F uid={i} -k k{i}" for i in range(150)]
    rules[3] = "-A never,exit -F arch=b64 -S all -F pid=7"
    rules[60] = "-w /tmp/a*b -p wa -k wild"  # a warning, in the middle of a batch
    rules[61] = "-a always,exit -F arch=b32 -S open,chmod -F exit=-EPERM -F auid!=unset\r"
    rules[100] = "   -a always,exit -F arch=b64 -S execve -F path=/usr/bin/x -F perm=x   "
    rules[101] = "-b 320"
    rules[120] = "-a always,exit -F arch=b64 -S openat -F uid=5 -k k5"  # exists: stops here

    def view(result: LoadResult) -> list[tuple[object, ...]]:
        return [(ln.lineno, ln.text, ln.commands) for ln in result.lines]

    path = write_rules(tmp_path, "## generated\n" + "\n".join(rules) + "\n")
    dry = client.load_rules(path, dry_run=True)
    with pytest.raises(RuleLoadError) as info:
        client.load_rules(path)
    loaded = info.value.result
    assert view(loaded) == view(dry)
    assert loaded.lines[60].warnings == dry.lines[60].warnings != ()
    assert [ln.status for ln in loaded.lines[119:]] == ["ok", "failed"] + ["not_run"] * 29
    assert all(ln.warnings == () for ln in loaded.lines[121:])
    assert len(client.get_rules()) == 119  # lines 2-121, one of them -b


def test_load_rules_syntax_error_cause(client: AuditClient, tmp_path: Path) -> None:
    path = write_rules(tmp_path, "-w /etc/shadow -k x\n-a always,exit -F bogus=1\n")
    with pytest.raises(RuleLoadError) as info:
        client.load_rules(path)
    cause = info.value.__cause__
    assert isinstance(cause, RuleSyntaxError)
    assert cause.message == "-F unknown field: bogus"
    assert cause.position == len("-a always,exit -F ")
    assert info.value.errno is None


def test_load_rules_ignore_and_continue(client: AuditClient, tmp_path: Path) -> None:
    text = "{flag}\n-a always,exit -F bogus=1\n-a always,exit -F arch=b64 -S open\n"
    result = client.load_rules(write_rules(tmp_path, text.format(flag="-i"), "i.rules"))
    assert result.ok and result.ignore_errors and not result.continue_on_errors
    assert [line.status for line in result.errors] == ["failed"]
    assert client.delete_all_rules() == 1
    with pytest.raises(RuleLoadError) as info:
        client.load_rules(write_rules(tmp_path, text.format(flag="-c"), "c.rules"))
    assert info.value.result.continue_on_errors
    assert info.value.result.rules_added == 1  # continued past the error
    assert info.value.lineno == 2


def test_lock_and_panic_only_on_the_fake(client: AuditClient, tmp_path: Path) -> None:
    """-e 2, -f 2 and --loginuid-immutable are loaded faithfully (fake kernel only)."""
    path = write_rules(
        tmp_path,
        "-f 2\n--loginuid-immutable\n-w /etc/shadow -p wa\n-e 2\n-a always,task -F uid=0\n",
    )
    dry = client.load_rules(path, dry_run=True)
    kinds = [(c.kind, c.value) for line in dry.lines for c in line.commands]
    assert ("set_enabled", 2) in kinds and ("set_failure", 2) in kinds
    assert ("loginuid_immutable", None) in kinds
    with pytest.raises(RuleLoadError) as info:
        client.load_rules(path)
    assert info.value.lineno == 5 and info.value.errno == errno.EPERM  # immutable now
    s = client.get_status()
    assert (s.enabled, s.failure) == (2, 2)
    f = client.get_features()
    assert f.loginuid_immutable and f.loginuid_immutable_locked


def test_dry_run_touches_nothing(client: AuditClient, fake: FakeKernel, tmp_path: Path) -> None:
    before = len(fake.requests)
    result = client.load_rules(DATA / "corpus.rules", dry_run=True)
    assert len(fake.requests) == before
    assert result.dry_run and result.ok
    assert len(result.rules) >= 100
    assert not any(line.executed for line in result.lines)
    bad = client.load_rules(write_rules(tmp_path, "-a always,exit -F x=1\n-D\n"), dry_run=True)
    assert not bad.ok and bad.stopped_at == 1
    assert [line.status for line in bad.lines] == ["failed", "not_run"]


def test_load_rules_file_checks(client: AuditClient, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        client.load_rules(tmp_path / "missing.rules")
    p = write_rules(tmp_path, "-D\n")
    os.chmod(p, 0o666)
    with pytest.raises(PermissionError, match="world writable"):
        client.load_rules(p)
    with pytest.raises(OSError):
        client.load_rules(tmp_path)
    if os.geteuid() == 0:
        os.chmod(p, 0o644)
        os.chown(p, 1, 1)
        with pytest.raises(PermissionError, match="isn't owned by root"):
            client.load_rules(p)


def test_read_only_and_unsupported_lines(client: AuditClient, tmp_path: Path) -> None:
    result = client.load_rules(write_rules(tmp_path, "-i\n-l\n-s\n-v\n-R /x\n--signal TERM\n-t\n"))
    assert result.ok
    assert [line.status for line in result.lines] == [
        "ok",
        "ok",
        "ok",
        "ok",
        "failed",
        "failed",
        "ok",
    ]
    assert result.errors[0].message == "Error - nested rule files not supported"


# ------------------------------------------------------- features and more


def test_features(client: AuditClient, fake: FakeKernel) -> None:
    f = client.get_features()
    assert not f.loginuid_immutable and not f.loginuid_immutable_locked
    client.set_feature(AuditFeature.ONLY_UNSET_LOGINUID, True)
    req = fake.requests[-1]
    assert req.type == 1018 and req.data == struct.pack("=IIII", 0, 1, 1, 0)
    assert client.get_features().only_unset_loginuid
    client.set_loginuid_immutable(lock=False)
    assert client.get_features().loginuid_immutable
    client.set_feature(AuditFeature.LOGINUID_IMMUTABLE, False)
    client.set_loginuid_immutable()  # locks (fake kernel only!)
    assert fake.requests[-1].data == struct.pack("=IIII", 0, 2, 2, 2)
    with pytest.raises(PermissionError):
        client.set_feature(AuditFeature.LOGINUID_IMMUTABLE, False)
    with pytest.raises(ValueError):
        client.set_feature(7, True)  # type: ignore[arg-type]


def test_feature_and_tty_calls_take_wait(client: AuditClient, fake: FakeKernel) -> None:
    client.set_feature(AuditFeature.ONLY_UNSET_LOGINUID, True, wait=False)
    client.set_tty_status(True, wait=WaitMode.NO_WAIT)
    client.set_loginuid_immutable(lock=False, wait=False)
    client.wait_for_pending_acks()
    assert client.get_features().only_unset_loginuid
    assert client.get_tty_status() == TtyStatus(True, False)
    client.set_tty_status(False, wait=True)
    client.set_feature(AuditFeature.ONLY_UNSET_LOGINUID, False, wait=WaitMode.WAIT_FOR_REPLY)
    assert client.get_tty_status() == TtyStatus(False, False)
    assert not client.get_features().only_unset_loginuid
    # A refusal sent without waiting is reported by wait_for_pending_acks.
    client.set_loginuid_immutable(wait=WaitMode.NO_WAIT)  # locks (fake kernel only!)
    client.set_feature(AuditFeature.LOGINUID_IMMUTABLE, False, wait=False)
    with pytest.raises(PermissionError):
        client.wait_for_pending_acks()
    assert client.get_features().loginuid_immutable_locked
    with pytest.raises(TypeError):
        client.set_tty_status(True, wait="yes")  # type: ignore[arg-type]


def test_signal_info(client: AuditClient, fake: FakeKernel) -> None:
    info = client.get_signal_info()
    assert (info.uid, info.pid, info.context) == (0xFFFFFFFF, 0, None)
    fake.signal_info = SignalInfo(uid=0, pid=321, context="system_u:system_r:kernel_t:s0")
    info = client.get_signal_info()
    assert (info.uid, info.pid, info.context) == (0, 321, "system_u:system_r:kernel_t:s0")


def test_tty_status(client: AuditClient, fake: FakeKernel) -> None:
    assert client.get_tty_status() == TtyStatus(False, False)
    client.set_tty_status(True, log_passwd=True)
    assert fake.tty == TtyStatus(True, True)
    status = client.get_tty_status()
    assert status.enabled and status.log_passwd
    with pytest.raises(ValueError):
        client.set_tty_status(2)  # type: ignore[arg-type]


def test_user_messages(client: AuditClient, fake: FakeKernel) -> None:
    client.send_user_message(MessageType.USER_AVC, "avc: denied { read } for pid=1")
    client.send_user_message(1005, "plain")
    assert fake.user_messages == [
        (1107, b"avc: denied { read } for pid=1\0"),
        (1005, b"plain\0"),
    ]
    with pytest.raises(ValueError):
        client.send_user_message(1300, "not a user type")
    with pytest.raises(ValueError):
        client.send_user_message(1100, "nul\0inside")
    with pytest.raises(TypeError):
        client.send_user_message(1100, b"bytes")  # type: ignore[arg-type]


def test_closed_client_raises(fake: FakeKernel) -> None:
    c = fake.client()
    c.close()
    with pytest.raises(OSError) as info:
        c.get_rules()
    assert info.value.errno == errno.EBADF


def test_timeout_is_timeout_error(client: AuditClient, fake: FakeKernel) -> None:
    fake.drop_next()
    with pytest.raises(TimeoutError):
        client.get_rules()


def test_rule_values_from_kernel_listing(client: AuditClient) -> None:
    client.add_rule("-a always,filesystem -F fstype=tracefs -k t")
    client.add_rule("-a always,io_uring -U openat,connect -k io")
    rules = client.get_rules()
    assert [r.list for r in rules] == [RuleList.FILESYSTEM, RuleList.IO_URING]
    assert rules[1].syscall_names == ("connect", "openat")
    assert str(rules[1]) == "-a always,io_uring -U connect,openat -F key=io"


def test_load_rules_batches_rule_lines(
    client: AuditClient, fake: FakeKernel, tmp_path: Path
) -> None:
    """Consecutive rule lines go several to a datagram, only the last asking for an
    ack; a control line in between ends a batch."""
    text = "".join(f"-a always,exit -F arch=b64 -S open -F pid={i}\n" for i in range(300))
    text += "-b 100\n"
    text += "".join(f"-a always,exit -F arch=b64 -S close -F pid={i}\n" for i in range(5))
    before = len(fake.requests)
    result = client.load_rules(write_rules(tmp_path, text))
    assert result.ok and result.rules_added == 305
    adds = [r for r in fake.requests[before:] if r.type == AUDIT_ADD_RULE]
    assert len(adds) == 305
    acked = [r for r in adds if r.flags & 0x04]
    assert 2 <= len(acked) < 20
    assert adds[-1].flags & 0x04 and adds[299].flags & 0x04  # ends of both batches
    assert [r.to_command_line() for r in client.get_rules()][298:301] == [
        "-a always,exit -F arch=b64 -S open -F pid=298",
        "-a always,exit -F arch=b64 -S open -F pid=299",
        "-a always,exit -F arch=b64 -S close -F pid=0",
    ]


def test_batch_error_stops_and_undoes_the_rest(client: AuditClient, tmp_path: Path) -> None:
    """A rule failing inside a batch stops the load exactly where auditctl stops: the
    rules after it, already added by the kernel, are deleted again."""
    client.add_rule("-a always,exit -F arch=b64 -S open -F pid=50")
    text = "".join(f"-a always,exit -F arch=b64 -S open -F pid={i}\n" for i in range(100))
    with pytest.raises(RuleLoadError) as info:
        client.load_rules(write_rules(tmp_path, text))
    result = info.value.result
    assert info.value.lineno == 51 and info.value.errno == errno.EEXIST
    assert result.rules_added == 50
    assert [line.status for line in result.lines] == ["ok"] * 50 + ["failed"] + ["not_run"] * 49
    assert sorted(int(str(r).rsplit("=", 1)[1]) for r in client.get_rules()) == list(range(51))


@pytest.mark.parametrize("flag", ["-i", "-c"])
def test_batch_errors_ignored_with_i_and_c(client: AuditClient, tmp_path: Path, flag: str) -> None:
    """Two rules failing inside one datagram each fail alone, with their line numbers
    and errno; -i and -c both go on, and -c makes the load fail at the end."""
    client.add_rule("-a always,exit -F arch=b64 -S open -F pid=3")
    client.add_rule("-a always,exit -F arch=b64 -S open -F pid=7")
    text = f"{flag}\n" + "".join(
        f"-a always,exit -F arch=b64 -S open -F pid={i}\n" for i in range(10)
    )
    path = write_rules(tmp_path, text)
    if flag == "-c":
        with pytest.raises(RuleLoadError) as info:
            client.load_rules(path)
        assert info.value.lineno == 5
        result = info.value.result
    else:
        result = client.load_rules(path)
        assert result.ok
    assert result.rules_added == 8
    assert [line.lineno for line in result.errors] == [5, 9]
    assert all(line.errno == errno.EEXIST for line in result.errors)
    assert len(client.get_rules()) == 10


def test_m_line_sends_what_auditctl_sends(
    client: AuditClient, fake: FakeKernel, tmp_path: Path
) -> None:
    result = client.load_rules(write_rules(tmp_path, "-m hello\n"))
    assert result.ok
    [(msg_type, data)] = fake.user_messages
    assert msg_type == 1005
    text = data.rstrip(b"\0").decode()
    exe = os.readlink("/proc/self/exe")
    assert text.startswith(f'text=hello exe="{exe}" hostname=? addr=? terminal=')
    assert text.endswith(" res=success")


# ------------------------------------------------- the fake's state, directly


def test_fake_state_views(client: AuditClient, fake: FakeKernel) -> None:
    """What a test of user code reads off the fake: rules as the kernel lists them,
    features, and a changed signal-info answer."""
    client.add_rule("-w /etc/shadow -p wa -k identity")
    client.add_rule("-A always,task -F uid=0")
    assert [str(r) for r in fake.rules] == [
        "-a always,task -F uid=0",
        "-w /etc/shadow -p wa -k identity",
    ]
    assert fake.rules == client.get_rules()
    client.set_feature(AuditFeature.LOGINUID_IMMUTABLE, True)
    assert fake.features.loginuid_immutable and not fake.features.loginuid_immutable_locked
    assert client.get_features() == fake.features


def test_unprivileged_is_refused_everything() -> None:
    with FakeKernel(privileged=False) as fake, fake.client() as c:
        with pytest.raises(PermissionError):
            c.add_rule("-a always,exit -F arch=b64 -S open")
        with pytest.raises(PermissionError):
            c.get_rules()
        with pytest.raises(PermissionError):
            c.send_user_message(MessageType.USER_AVC, "avc: denied")
        assert fake.rules == [] and fake.user_messages == []
        with pytest.raises(OSError) as info:
            c.request_ack(1999)
        assert info.value.errno == errno.EINVAL
