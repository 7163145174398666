"""Rules and the control plane on the real kernel, cross-checked with Debian's
auditctl 3.0.9 on the corpus in tests/data/rules/corpus.rules.

Safety: every test runs under the ``kernel_state`` fixture (machine-wide lock; status
and rules restored afterwards). No test sets enabled=2, failure mode 2 or
loginuid_immutable on this kernel: files loaded here are checked for those first
(:func:`assert_safe`), and the lock paths are covered by tests/test_rules_fake.py.
"""

from __future__ import annotations

import collections
import errno
import os
import re
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditlink import (
    AuditClient,
    AuditError,
    AuditFeature,
    AuditRule,
    LoadResult,
    MessageType,
    RuleList,
)
from auditlink._rules_client import dry_run_rules
from auditlink.testing import AUDIT_LIST_RULES

from .helpers import KernelState, auditctl_status

pytestmark = pytest.mark.kernel

CORPUS = Path(__file__).parent / "data" / "rules" / "corpus.rules"


def assert_safe(result: LoadResult) -> None:
    """Refuse to load a file that would lock the kernel or make it panic."""
    for line in result.lines:
        for c in line.commands:
            assert not (c.kind == "set_enabled" and c.value == 2), line.text
            assert not (c.kind == "set_failure" and c.value == 2), line.text
            assert c.kind != "loginuid_immutable", line.text


def auditctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["auditctl", *args], capture_output=True, text=True, check=check)


def auditctl_list() -> list[str]:
    out = auditctl("-l").stdout
    return [] if out == "No rules\n" else out.rstrip("\n").split("\n")


def raw_rules(client: AuditClient) -> list[bytes]:
    return [m.data for m in client.request_dump(AUDIT_LIST_RULES) if m.type == AUDIT_LIST_RULES]


@pytest.fixture
def client(kernel_state: KernelState) -> Iterator[AuditClient]:
    with AuditClient() as c:
        rc = c
        rc.delete_all_rules()
        yield rc


@pytest.fixture(scope="module")
def corpus() -> LoadResult:
    result = dry_run_rules(CORPUS)
    assert result.ok, result.errors
    assert_safe(result)
    assert len(result.rules) >= 100
    return result


def corpus_lines() -> list[str]:
    return [
        line
        for line in CORPUS.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


# Where auditctl's listing does not name the rule exactly, auditlink prints text that
# does (docs/rules.md, "Listing"): auditctl's line -> auditlink's line.
LOSSY_IN_AUDITCTL = {
    "-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/bash": (
        "-a always,exit -F arch=b64 -S execve -F exe!=/usr/bin/bash"
    ),
    "-w /etc/sysctl.d/ -p wa -k sysctl": (
        "-a always,exit -S all -F dir=/etc/sysctl.d/ -F perm=wa -F key=sysctl"
    ),
    "-a always,exit -F arch=b64 -S open -F key='quoted-key'": (
        r"-a always,exit -F arch=b64 -S open -F key=''\''quoted-key'\'''"
    ),
}


def test_corpus_both_ways(client: AuditClient, corpus: LoadResult) -> None:
    """auditctl loads, auditlink lists (same rules, same text, same bytes); then
    auditlink loads, auditctl lists (same text and bytes as auditctl's own load)."""
    res = auditctl("-R", str(CORPUS), check=False)
    assert res.returncode == 0, res.stderr
    by_auditctl_text = auditctl_list()
    by_auditctl_bytes = raw_rules(client)
    rules = client.get_rules()
    assert len(rules) == len(corpus.rules) == len(by_auditctl_text)
    # auditlink reads what auditctl added: auditctl's text (except where that text
    # names another rule), the kernel's bytes, the same AuditRule as parsing the line.
    expected = [LOSSY_IN_AUDITCTL.get(t, t) for t in by_auditctl_text]
    assert [r.to_command_line() for r in rules] == expected
    assert [AuditRule.parse(str(r)) for r in rules] == rules
    assert [r.to_bytes() for r in rules] == by_auditctl_bytes
    assert collections.Counter(rules) == collections.Counter(corpus.rules)

    assert client.delete_all_rules() == len(rules)
    assert client.get_rules() == []

    result = client.load_rules(CORPUS)
    assert result.ok and result.rules_added == len(corpus.rules)
    # auditctl reads what auditlink added: its own text and bytes.
    assert auditctl_list() == by_auditctl_text
    assert raw_rules(client) == by_auditctl_bytes


def _sent_rule(strace_out: str) -> bytes:
    """The AUDIT_ADD_RULE payload in ``strace -xx -e trace=sendto`` output."""
    m = re.search(
        r'nlmsg_len=(\d+), nlmsg_type=AUDIT_ADD_RULE[^}]*\}, "((?:\\x[0-9a-f]{2})*)"', strace_out
    )
    assert m, strace_out
    payload = bytes.fromhex(m.group(2).replace("\\x", ""))[: int(m.group(1)) - 16]
    # libaudit sets nlmsg_len to NLMSG_SPACE(size): the rule plus zero padding to 4
    # bytes. The rule itself ends after buflen bytes of strings.
    end = 1040 + struct.unpack_from("=I", payload, 1036)[0]
    assert payload[end:] == b"\0" * (len(payload) - end) and len(payload) - end < 4
    return payload[:end]


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
def test_bytes_equal_what_auditctl_sends(client: AuditClient, corpus: LoadResult) -> None:
    """For every corpus rule, the bytes auditlink builds are the bytes auditctl sends
    (captured with strace; the kernel's read-back differs from both in the class bits
    of ``-S all`` masks, so this is the strict comparison)."""
    lines = corpus_lines()
    assert len(lines) == len(corpus.rules)
    for line, rule in zip(lines, corpus.rules):
        res = subprocess.run(
            [
                "strace",
                "-qq",
                "-e",
                "trace=sendto",
                "-xx",
                "-s",
                "65536",
                "auditctl",
                *line.split(),
            ],
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, (line, res.stderr)
        assert _sent_rule(res.stderr) == rule.to_bytes(), line


def test_parse_equals_file_dialect(corpus: LoadResult) -> None:
    """A rules-file line and the same text given to AuditRule.parse agree (quotes
    aside: rules files do not unquote, shells do)."""
    for line, rule in zip(corpus_lines(), corpus.rules):
        if "'" in line:
            continue
        assert AuditRule.parse(line) == rule, line


def test_duplicate_and_missing_rules(client: AuditClient) -> None:
    client.add_rule("-w /etc/shadow -p wa -k identity")
    with pytest.raises(FileExistsError) as info:
        client.add_rule("-w /etc/shadow -p wa -k identity")
    assert isinstance(info.value, AuditError) and info.value.errno == errno.EEXIST
    res = auditctl("-w", "/etc/shadow", "-p", "wa", "-k", "identity", check=False)
    assert "Rule exists" in res.stderr
    client.delete_rule("-W /etc/shadow -p wa -k identity")
    with pytest.raises(FileNotFoundError) as info2:
        client.delete_rule("-W /etc/shadow -p wa -k identity")
    assert info2.value.errno == errno.ENOENT


def test_kernel_refusals_keep_their_errno(client: AuditClient) -> None:
    # auditctl lets these through and the kernel says EINVAL; so do we.
    for text in [
        "-a always,filesystem -F uid=0",
        "-a always,exit -F arch=b64 -S open -F uid&1",
        "-a always,exit -F path=/etc/ -F perm=r",
    ]:
        with pytest.raises(OSError) as info:
            client.add_rule(text)
        assert isinstance(info.value, AuditError)
        assert info.value.errno == errno.EINVAL, text
    with pytest.raises(FileNotFoundError):
        client.add_rule("-w /nonexistent-dir-auditlink/file -p w")


def test_prepend_on_the_kernel(client: AuditClient) -> None:
    client.add_rule("-a always,exit -F arch=b64 -S open -k first")
    client.add_rule("-A always,exit -F arch=b64 -S close -k second")
    assert [r.keys for r in client.get_rules()] == [("second",), ("first",)]
    assert auditctl_list()[0] == "-a always,exit -F arch=b64 -S close -F key=second"


def test_delete_rules_by_key_on_the_kernel(client: AuditClient) -> None:
    client.add_rule("-w /etc/shadow -p wa -k identity")
    client.add_rule("-w /etc/passwd -p wa -k identity -k x")
    client.add_rule("-w /etc/group -p wa -k identity-group")
    assert client.delete_rules_by_key("identity") == 2
    assert auditctl_list() == ["-w /etc/group -p wa -k identity-group"]


def test_extensions_on_the_kernel(client: AuditClient) -> None:
    """io_uring rules and loginuid_set: the kernel takes them, auditlink reads them
    back; auditctl 3.0.9 lists them as ``(null)`` and ``f24``."""
    uring = AuditRule.parse("-a always,io_uring -U openat,connect -F uid=0 -k io")
    lset = AuditRule.parse("-a never,exit -F arch=b64 -S all -F loginuid_set=0")
    client.add_rule(uring)
    client.add_rule(lset)
    rules = client.get_rules()
    assert rules == [lset, uring]
    assert rules[1].list is RuleList.IO_URING
    listed = auditctl_list()
    assert listed[1].startswith("-a always,(null) ")
    assert listed[0] == "-a never,exit -F arch=b64 -S all f24=0"
    # The kernel refuses perm on the io_uring list; auditlink refuses it first.
    with pytest.raises(ValueError, match="perm can only be used with exit filter list"):
        client.add_rule("-a always,io_uring -U openat -F perm=r")


def test_load_rules_controls(client: AuditClient, tmp_path: Path) -> None:
    path = tmp_path / "audit.rules"
    path.write_text(
        "# controls auditctl -R understands\n"
        "-D\n"
        "-b 320\n"
        "-f 1\n"
        "-r 55\n"
        "--backlog_wait_time 12345\n"
        "-w /etc/shadow -p wa -k identity\n"
        "-e 0\n"
    )
    os.chmod(path, 0o600)
    dry = client.load_rules(path, dry_run=True)
    assert_safe(dry)
    result = client.load_rules(path)
    assert result.ok and result.rules_added == 1
    s = client.get_status()
    assert (s.backlog_limit, s.failure, s.rate_limit, s.backlog_wait_time, s.enabled) == (
        320,
        1,
        55,
        12345,
        0,
    )
    assert auditctl_list() == ["-w /etc/shadow -p wa -k identity"]


def test_load_rules_error_is_the_kernels(client: AuditClient, tmp_path: Path) -> None:
    path = tmp_path / "audit.rules"
    path.write_text("-w /etc/shadow -p wa\n-w /etc/shadow -p wa\n-w /etc/passwd -p wa\n")
    os.chmod(path, 0o600)
    from auditlink import RuleLoadError

    with pytest.raises(RuleLoadError) as info:
        client.load_rules(path)
    assert info.value.lineno == 2 and info.value.errno == errno.EEXIST
    assert isinstance(info.value.__cause__, FileExistsError)
    assert auditctl_list() == ["-w /etc/shadow -p wa"]


def test_features_on_the_kernel(client: AuditClient) -> None:
    f = client.get_features()
    ref = auditctl_status()
    assert f.loginuid_immutable == (ref["loginuid_immutable"] == 1)
    assert f.loginuid_immutable_locked == (ref["loginuid_immutable_locked"] == 1)
    # ONLY_UNSET_LOGINUID without lock is reversible: flip and restore.
    if f.locked(AuditFeature.ONLY_UNSET_LOGINUID):
        pytest.skip("ONLY_UNSET_LOGINUID is locked on this kernel")
    before = f.only_unset_loginuid
    try:
        client.set_feature(AuditFeature.ONLY_UNSET_LOGINUID, not before, lock=False)
        assert client.get_features().only_unset_loginuid == (not before)
    finally:
        client.set_feature(AuditFeature.ONLY_UNSET_LOGINUID, before, lock=False)
    assert client.get_features() == f


def test_signal_info_on_the_kernel(client: AuditClient) -> None:
    info = client.get_signal_info()
    assert isinstance(info.uid, int) and isinstance(info.pid, int)


def test_tty_status_on_the_kernel(client: AuditClient) -> None:
    before = client.get_tty_status()
    try:
        client.set_tty_status(True, log_passwd=False)
        assert client.get_tty_status().enabled
        client.set_tty_status(False)
        assert not client.get_tty_status().enabled
    finally:
        client.set_tty_status(before.enabled, before.log_passwd)


def test_user_message_reaches_the_log(client: AuditClient) -> None:
    text = f"auditlink test message {os.getpid()} {time.time()}"
    with AuditClient.multicast() as listener:
        client.set_enabled(True)
        client.send_user_message(MessageType.USER, text)
        deadline = time.monotonic() + 5
        found = None
        while found is None and time.monotonic() < deadline:
            for msg in listener.receive_batch(timeout=0.5):
                if text.encode() in msg.data:
                    found = msg
    assert found is not None
    assert found.type == MessageType.USER


def _batch_file(tmp_path: Path, head: str) -> tuple[Path, list[str]]:
    """200 syscall rules (batched together) with a duplicate of rule 50 as line 101
    and a bitmask on uid the kernel refuses (EINVAL) as line 153."""
    rules = [f"-a always,exit -F arch=b64 -S openat -F uid={i} -k k{i}" for i in range(200)]
    lines = [head, *rules]
    lines.insert(101, rules[50])
    lines.insert(152, "-a always,exit -F arch=b64 -S openat -F uid&1")
    path = tmp_path / "audit.rules"
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path, rules


def test_batched_load_stops_at_the_bad_line(client: AuditClient, tmp_path: Path) -> None:
    """Without -c/-i, the load stops at the duplicate in the middle of a batch: the
    rules before it are in the kernel, the ones after it are not (as with auditctl)."""
    from auditlink import RuleLoadError

    path, rules = _batch_file(tmp_path, "## no flags")
    with pytest.raises(RuleLoadError) as info:
        client.load_rules(path)
    assert info.value.lineno == 102 and info.value.errno == errno.EEXIST
    assert client.get_rules() == [AuditRule.parse(r) for r in rules[:100]]
    assert all(line.status == "not_run" for line in info.value.result.lines[101:])


@pytest.mark.parametrize("flag", ["-c", "-i"])
def test_batched_load_goes_on_with_c_and_i(client: AuditClient, tmp_path: Path, flag: str) -> None:
    """With -c or -i every other rule is added; each bad line fails alone with its
    line number and errno; -c makes the load fail at the end, -i does not."""
    from auditlink import RuleLoadError

    path, rules = _batch_file(tmp_path, flag)
    if flag == "-c":
        with pytest.raises(RuleLoadError) as info:
            client.load_rules(path)
        result = info.value.result
    else:
        result = client.load_rules(path)
        assert result.ok
    failed = [(line.lineno, line.errno) for line in result.errors]
    assert failed[0] == (102, errno.EEXIST)
    assert failed[1] == (153, errno.EINVAL) and len(failed) == 2
    assert result.rules_added == 200
    loaded = client.get_rules()
    assert loaded == [AuditRule.parse(r) for r in rules]
    # auditctl -R on the same file leaves the same rules.
    client.delete_all_rules()
    auditctl("-R", str(path), check=False)
    assert client.get_rules() == loaded
