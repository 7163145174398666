"""Record tests/data/normalize/corpus.log: a real-kernel audit log that walks
libauparse's normalizer through its branches.

Run as root on a machine whose kernel audit answers (it takes the machine-wide
lock /tmp/auditlink-kernel.lock and restores the kernel's audit state after):

    .venv/bin/python tests/data/normalize/record_corpus.py [OUT.log]

What it does: starts Debian's auditd (by PID, with its own config directory,
RAW format, no plugins), loads rules limited to this script's login uid, and
runs a workload — file syscalls of every kind (and failures), a file watch,
executions, loopback networking, SysV IPC, a tmpfs mount, privilege changes,
signals, scheduling, user messages, su/login/sudo through PAM with a throwaway
user (successful and failed attempts), account changes (useradd, usermod,
groupadd, chpasswd, userdel, groupdel), audit configuration changes and
anomalies (a crashing process, promiscuous mode on lo). Then it stops auditd
by PID, removes the user, group and files, and restores status and rules.
Needs: auditd, auditctl, su, login, sudo, useradd, ipcmk, ip, chrt.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from auditlink import AuditClient
from auditlink.testing import restore_kernel_state, save_kernel_state

HERE = Path(__file__).resolve().parent
LOCK = "/tmp/auditlink-kernel.lock"
AUID = 4242
USER, UID, PASSWORD = "alcorpus", 4243, "Corpus-pw-1"
GROUP, GID = "alcorpusg", 4244
NOBODY = 65534

# auditd's configuration: the one tests/data/make_corpus.py uses, in RAW
# format and without node names.
sys.path.insert(0, str(HERE.parent))
from make_corpus import AUDITD_CONF as _ENRICHED_CONF  # type: ignore[import-not-found]  # noqa: E402

AUDITD_CONF = _ENRICHED_CONF.replace("log_format = ENRICHED", "log_format = RAW").replace(
    "name_format = USER\nname = corpus-node", "name_format = NONE"
)
assert "log_format = RAW" in AUDITD_CONF and "name_format = NONE" in AUDITD_CONF


def sh(*argv: str, check: bool = False, **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), capture_output=True, check=check, timeout=30, **kw)  # type: ignore[call-overload,no-any-return]


def rules(work: Path) -> list[list[str]]:
    who = ["-F", f"auid>={AUID}", "-F", f"auid<={UID}"]
    b64 = ["-a", "always,exit", "-F", "arch=b64"]

    def s(calls: str, key: str, *extra: str) -> list[str]:
        return [*b64, "-S", calls, *who, *extra, "-k", key]

    return [
        s("execve,execveat", "exec"),
        s("open,openat,creat,truncate,ftruncate", "file", "-F", f"dir={work}"),
        s("openat", "denied", "-F", "exit=-EACCES"),
        s("chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown", "perm", "-F", f"dir={work}"),
        s("setxattr,lsetxattr,removexattr", "xattr", "-F", f"dir={work}"),
        s("rename,renameat,renameat2,link,linkat,symlink,symlinkat", "fs", "-F", f"dir={work}"),
        s("unlink,unlinkat,mkdir,mkdirat,rmdir,mknodat,utimensat", "fs", "-F", f"dir={work}"),
        s("newfstatat,statx,faccessat,faccessat2,statfs", "meta", "-F", f"dir={work}/meta"),
        s("connect,bind,accept,accept4,sendto", "net"),
        s("msgget,semget,shmget,msgctl", "ipc"),
        s("mount,umount2", "mount"),
        s("setuid,setgid,setreuid,setresuid,setresgid,setregid", "priv"),
        s("kill,tkill,tgkill", "signal"),
        s("sched_setscheduler,sethostname", "sched"),
        ["-w", str(work / "watched"), "-p", "rwxa", "-k", "watch"],
    ]


def run_pty(
    argv: list[str],
    answers: list[tuple[bytes, bytes]],
    uid: int | None = None,
    timeout: float = 15.0,
) -> None:
    """Run argv on a new pseudo-terminal, answering prompts (expect-style),
    then wait for it (killed by PID after `timeout`)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(uid)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    buf = b""
    deadline = time.monotonic() + timeout
    pending = list(answers)
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                buf += data
            if pending and pending[0][0] in buf:
                buf = buf[buf.index(pending[0][0]) + len(pending[0][0]) :]
                time.sleep(0.2)
                os.write(fd, pending.pop(0)[1])
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                pid = 0
                break
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
            time.sleep(0.5)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def as_nobody() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def workload(work: Path) -> None:
    meta = work / "meta"
    (work / "mnt").mkdir()
    watched = work / "watched"
    # Files: create, write, attributes, ownership, links, renames, deletes.
    f = work / "a.txt"
    f.write_text("hello\n")
    os.truncate(f, 2)
    os.chmod(f, 0o640)
    os.chown(f, NOBODY, -1)
    os.chown(f, -1, NOBODY)
    os.setxattr(f, "user.corpus", b"1")
    os.removexattr(f, "user.corpus")
    os.link(f, work / "hard.txt")
    os.symlink(f, work / "sym.txt")
    os.rename(work / "hard.txt", work / "renamed.txt")
    os.mkdir(work / "sub")
    os.mknod(work / "fifo", 0o600 | 0o010000)
    os.utime(f, (1, 1))
    os.rmdir(work / "sub")
    os.unlink(work / "renamed.txt")
    (meta / "m.txt").write_text("x")
    os.stat(meta / "m.txt")
    os.access(meta / "m.txt", os.R_OK)
    os.statvfs(meta)
    # Relative names: the object is made absolute against the cwd.
    here = os.getcwd()
    os.chdir(work)
    open("rel.txt", "w").close()
    os.unlink("../" + work.name + "/rel.txt")
    os.chdir(here)
    # Failures: missing file, permission denied, not permitted.
    with contextlib.suppress(FileNotFoundError):
        (work / "missing.txt").read_text()
    sh("cat", "/etc/shadow", preexec_fn=as_nobody)
    sh("chmod", "600", str(f), preexec_fn=as_nobody)
    # Watched file: write, read, attribute change, execute attempt.
    watched.write_text("#!/bin/sh\ntrue\n")
    watched.read_text()
    os.chmod(watched, 0o755)
    sh(str(watched))
    # Executions, one failing.
    sh("/bin/true")
    sh("ls", str(work))
    sh("python3", "-c", "pass")
    with contextlib.suppress(OSError):
        sh(str(work / "no-such-program"))
    # Loopback networking: TCP, UDP, a unix socket, a refused connection.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def serve() -> None:
        c, _ = srv.accept()
        c.sendall(c.recv(16))
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    cl = socket.create_connection(("127.0.0.1", port))
    cl.sendall(b"ping")
    cl.recv(16)
    cl.close()
    t.join(5)
    srv.close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x", ("127.0.0.1", 9))
    u.close()
    u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u6.sendto(b"x", ("::1", 9))
    u6.close()
    us = socket.socket(socket.AF_UNIX)
    us.bind(str(work / "sock"))
    us.close()
    refused = socket.socket()
    with contextlib.suppress(OSError):
        refused.connect(("127.0.0.1", 1))
    refused.close()
    # SysV IPC.
    q = sh("ipcmk", "-Q").stdout.split()[-1].decode()
    sh("ipcrm", "-q", q)
    # Mount and unmount a tmpfs.
    sh("mount", "-t", "tmpfs", "-o", "size=1m", "corpus", str(work / "mnt"))
    sh("umount", str(work / "mnt"))
    # Privilege changes (one refused), signals, scheduling.
    sh(
        "/usr/bin/python3",
        "-c",
        "import os; os.setresgid(65534,65534,65534); os.setresuid(65534,65534,65534)",
    )
    sh("/usr/bin/python3", "-c", "import os; os.setgid(65534); os.setuid(65534)")
    sh(
        "/usr/bin/python3",
        "-c",
        "import os\ntry: os.setuid(0)\nexcept OSError: pass",
        preexec_fn=as_nobody,
    )
    sleeper = subprocess.Popen(["sleep", "30"])
    sh("chrt", "-o", "-p", "0", str(sleeper.pid))
    os.kill(sleeper.pid, signal.SIGTERM)
    sleeper.wait()
    # A user message, audit configuration changes, anomalies.
    sh("auditctl", "-m", "auditlink normalize corpus")
    status = sh("auditctl", "-s").stdout.decode()
    backlog = next(
        line.split()[1] for line in status.splitlines() if line.startswith("backlog_limit")
    )
    sh("auditctl", "-b", backlog)
    sh("auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "chroot", "-k", "temporary")
    sh("auditctl", "-d", "always,exit", "-F", "arch=b64", "-S", "chroot", "-k", "temporary")
    sh("sh", "-c", "kill -SEGV $$")
    sh("ip", "link", "set", "lo", "promisc", "on")
    sh("ip", "link", "set", "lo", "promisc", "off")


def accounts_and_logins() -> None:
    sh("groupadd", "-g", str(GID), GROUP)
    sh("useradd", "-u", str(UID), "-g", str(GID), "-m", "-s", "/bin/sh", USER)
    sh("chpasswd", input=f"{USER}:{PASSWORD}\n".encode())
    sh("usermod", "-c", "auditlink corpus", USER)
    sh("usermod", "-aG", "users", USER)
    # su: root needs no password; nobody needs the user's (wrong, then right).
    sh("su", "-c", "true", USER)
    run_pty(["su", "-c", "true", USER], [(b"assword", b"wrong-password\n")], uid=NOBODY)
    run_pty(["su", "-c", "true", USER], [(b"assword", PASSWORD.encode() + b"\n")], uid=NOBODY)
    # login (pam_loginuid sets the session's login uid): right, then wrong.
    run_pty(["login", USER], [(b"assword", PASSWORD.encode() + b"\n"), (b"$ ", b"id; exit\n")])
    run_pty(["login", USER], [(b"assword", b"wrong-password\n")], timeout=8.0)
    # sudo: root may; the user may not (wrong password, then not in sudoers).
    sh("sudo", "-u", USER, "true")
    sh("runuser", "-u", USER, "--", "sudo", "-S", "-k", "true", input=b"wrong\nwrong\nwrong\n")
    sh("runuser", "-u", USER, "--", "sudo", "-S", "-k", "true", input=PASSWORD.encode() + b"\n")


def cleanup_accounts() -> None:
    sh("userdel", "-r", USER)
    sh("groupdel", GROUP)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "corpus.log"
    tmp = Path(tempfile.mkdtemp(prefix="auditlink-corpus-"))
    work = tmp / "work"
    work.mkdir()
    (work / "meta").mkdir()
    conf = tmp / "conf"
    (conf / "plugins.d").mkdir(parents=True)
    log = tmp / "audit.log"
    (conf / "auditd.conf").write_text(AUDITD_CONF.format(log=log, plugins=conf / "plugins.d"))
    os.chmod(conf / "auditd.conf", 0o640)
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with AuditClient() as client:
            saved = save_kernel_state(client)
        auditd = subprocess.Popen(["auditd", "-n", "-c", str(conf)])
        try:
            for _ in range(50):
                if log.exists() and log.stat().st_size > 0:
                    break
                time.sleep(0.1)
            # This process and its children act for login uid AUID.
            Path("/proc/self/loginuid").write_text(str(AUID))
            for r in rules(work):
                sh("auditctl", *r, check=True)
            workload(work)
            accounts_and_logins()
            time.sleep(3)
        finally:
            cleanup_accounts()
            auditd.send_signal(signal.SIGTERM)
            auditd.wait(timeout=20)
            with AuditClient() as client:
                restore_kernel_state(client, saved)
    shutil.copyfile(log, out)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{out}: {len(out.read_bytes().splitlines())} records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
