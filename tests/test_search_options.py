"""ausearch 3.0.9's less common options against ausearch itself: exit
values, all-group ids, arch, SELinux labels and virtual machines (on a
crafted log: this machine has no SELinux), --just-one, --line-buffered,
--eoe-timeout, --checkpoint over growing and rotated logs; and the live
search over a client, filtered in Rust."""

from __future__ import annotations

import lzma
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import auditlink
from auditlink.search import make_filter
from auditlink.testing import FakeKernel

DATA = Path(__file__).parent / "data"
LABELS = DATA / "labels.log"
ENV = dict(os.environ, LC_ALL="C")
needs_ausearch = pytest.mark.skipif(shutil.which("ausearch") is None, reason="ausearch missing")

CASES = [
    ["-e", "-13"],
    ["-e", "EACCES"],
    ["-e", "-EACCES"],
    ["-e", "16"],
    ["-e", "0x10"],
    ["-ga", "7"],
    ["-ga", "1000"],
    ["-gi", "5", "-ga", "7"],
    ["-su", "httpd_t"],
    ["-o", "shadow_t"],
    ["-o", "ipc_t"],
    ["-se", "init_t"],
    ["-se", "svirt"],
    ["-se", "user_home_t"],
    ["-su", "unconfined", "-o", "shadow"],
    ["-su", "system_u:system_r:httpd_t:s0", "-w"],
    ["-vm", "guest"],
    ["-vm", "guest2", "-w"],
    ["-uu", "6a6e3a6b"],
    ["-uu", "11111111-2222-3333-4444-555555555555", "-w"],
    ["--arch", "b32"],
    ["--arch", "b64"],
    ["--arch", "i386"],
    ["--arch", "b32", "-sc", "open"],
    ["--just-one"],
    ["--just-one", "-se", "s0"],
    ["--eoe-timeout", "1"],
    ["-l", "-k", "access"],
    ["-n", "nowhere"],
]


def run(cmd: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, capture_output=True, env=ENV, input=stdin)


def mine(*args: str) -> subprocess.CompletedProcess[bytes]:
    return run([sys.executable, "-m", "auditlink", "search", *args])


@needs_ausearch
@pytest.mark.parametrize("fmt", [["--raw"], ["-i"]], ids=["raw", "interpret"])
def test_options_select_what_ausearch_selects(fmt: list[str]) -> None:
    bad = []
    for case in CASES:
        ref = run(["ausearch", "-if", str(LABELS), *fmt, *case])
        got = mine("-if", str(LABELS), *fmt, *case)
        if (got.stdout, got.returncode) != (ref.stdout, ref.returncode):
            bad.append(case)
    assert bad == []
    # Each case selects something, or nothing on purpose.
    empty = {("-e", "EACCES"), ("-n", "nowhere")}
    for case in CASES:
        out = mine("-if", str(LABELS), "--raw", *case).stdout
        assert bool(out) != (tuple(case) in empty), case


@needs_ausearch
def test_more_options_on_real_logs() -> None:
    log = str(DATA / "corpus_raw.log")
    for case in (
        ["-e", "0"],
        ["-e", "-2"],
        ["-e", "-ENOENT"],
        ["-ga", "0"],
        ["--just-one", "-k", "exec"],
    ):
        ref = run(["ausearch", "-if", log, "--raw", *case])
        got = mine("-if", log, "--raw", *case)
        assert (got.stdout, got.returncode) == (ref.stdout, ref.returncode), case


def test_unknown_values_fail_clearly() -> None:
    for case, word in (
        (["-e", "ENOTANERRNO"], b"Unknown errno"),
        (["--arch", "vax"], b"Unknown arch"),
        (["--eoe-timeout", "0"], b"End of Event Timeout"),
        (["--escape", "shell"], b"invalid choice"),
        (["--debug"], b"unrecognized"),
    ):
        got = mine("-if", str(LABELS), *case)
        assert got.returncode != 0 and word in got.stderr, case


def _three_rounds(tmp: Path, args: list[str], rotate: bool, log: bytes) -> None:
    """Run ausearch and auditlink three times each with their own checkpoint
    on their own copy of a log that grows (or rotates) after the first run."""
    lines = log.splitlines(keepends=True)
    half = len(lines) // 2
    dirs = {tool: tmp / tool for tool in ("ausearch", "auditlink")}
    for d in dirs.values():
        d.mkdir()
        (d / "audit.log").write_bytes(b"".join(lines[:half]))
    for round_ in range(3):
        results = {}
        for tool, d in dirs.items():
            cmd = (
                ["ausearch"]
                if tool == "ausearch"
                else [sys.executable, "-m", "auditlink", "search"]
            )
            p = run([*cmd, "-if", str(d), "--checkpoint", str(d) + ".ck", *args])
            state = Path(str(d) + ".ck").read_text().splitlines()[2:]
            results[tool] = (p.stdout, p.returncode, state)
        assert results["ausearch"] == results["auditlink"], (round_, args)
        if round_ == 0:
            for d in dirs.values():
                if rotate:
                    (d / "audit.log").rename(d / "audit.log.1")
                    (d / "audit.log").write_bytes(b"".join(lines[half:]))
                else:
                    with open(d / "audit.log", "ab") as f:
                        f.write(b"".join(lines[half:]))


@needs_ausearch
@pytest.mark.parametrize(
    "args", [["--raw"], ["-i"], ["-ts", "checkpoint", "--raw"], ["-k", "exec"]]
)
def test_checkpoint_resumes_like_ausearch(tmp_path: Path, args: list[str]) -> None:
    _three_rounds(tmp_path, args, rotate=False, log=(DATA / "corpus_raw.log").read_bytes())


@needs_ausearch
@pytest.mark.parametrize("args", [["--raw"], ["-sv", "no", "--raw"]])
def test_checkpoint_follows_rotation_like_ausearch(tmp_path: Path, args: list[str]) -> None:
    seed = Path(__file__).parent.parent / "bench" / "records" / "seed.log.xz"
    log = lzma.decompress(seed.read_bytes())[: 4 << 20]
    _three_rounds(tmp_path, args, rotate=True, log=log[: log.rfind(b"\n") + 1])


@needs_ausearch
def test_checkpoint_errors(tmp_path: Path) -> None:
    ck = tmp_path / "ck"
    ck.write_text("garbage\n")
    for cmd in (["ausearch"], [sys.executable, "-m", "auditlink", "search"]):
        p = run([*cmd, "-if", str(LABELS), "--checkpoint", str(ck)])
        assert p.returncode == 10 and b"Unknown checkpoint line" in p.stderr
    # The checkpointed file is gone from the directory: status 10.
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "audit.log").write_bytes(LABELS.read_bytes())
    ck.write_text("dev=0x1\ninode=1\noutput=- 1.000:1 0x514\n")
    codes = {
        run([*cmd, "-if", str(tmp_path / "logs"), "--checkpoint", str(ck)]).returncode
        for cmd in (["ausearch"], [sys.executable, "-m", "auditlink", "search"])
    }
    assert codes == {10}


def _record(fake: FakeKernel, kind: int, serial: int, body: str) -> None:
    fake.send_record(kind, f"audit(1700000000.000:{serial}): {body}".encode())


def test_live_search_filters_in_rust(fake: FakeKernel, fake_client: auditlink.AuditClient) -> None:
    syscall = 1300
    for serial, key in ((1, "exec"), (2, "other"), (3, "exec"), (4, "other")):
        _record(
            fake,
            syscall,
            serial,
            f"arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 ppid=1 pid=9 auid=0 "
            f'uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="ls" '
            f'exe="/bin/ls" key="{key}"',
        )
        _record(fake, 1320, serial, "")  # EOE
    live = auditlink._native.LiveSearch(make_filter(key="exec"))
    got: list[int] = []
    while len(got) < 2:
        batch = live.receive(fake_client._native, timeout=2.0)
        assert batch, "matching events did not arrive"
        got += [e.serial for e in batch]
    assert got == [1, 3]
    assert live.receive(fake_client._native, timeout=0.2) == []
    # The public API: search(client) yields the same matches and ends on close.
    _record(fake, syscall, 5, 'arch=c000003e syscall=59 success=no a0=1 a1=2 pid=9 key="exec"')
    _record(fake, 1320, 5, "")
    it = auditlink.search(fake_client, key="exec", success=False)
    assert next(it).serial == 5
