"""One worker of the benchmark seed workload (run by make_seed.py, never by hand).

    /usr/bin/python3 seed_workload.py WORK INT80 WORKER ITERATIONS DEADLINE

Runs as a real user with the workload's group (so only our processes match the
audit rules) and loops over a mix of actions that make the kernel write the
records a real audit log is made of: execve with plain, many, odd (hex-encoded)
and long (split) arguments, shell pipelines and scripts (several PATH items),
file changes in a watched directory (create, chmod, rename: four PATH items,
unlink, mkdir, symlink, odd names), permission and lookup failures, sockets of
every family (SOCKADDR), signals, 32-bit syscalls, a crash now and then, and
(root workers only, as sshd, sudo and login do) PAM-style user messages.
Stops after ITERATIONS rounds or at the DEADLINE (time.monotonic() value).
Debian's /usr/bin/python3 (for the ``audit`` module).
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import time

work, int80, worker = sys.argv[1], sys.argv[2], int(sys.argv[3])
iterations, deadline = int(sys.argv[4]), float(sys.argv[5])
rng = random.Random(worker)
watched = os.path.join(work, "watched")
mine = os.path.join(watched, f"w{worker}")
os.makedirs(mine, exist_ok=True)
script = os.path.join(work, f"script{worker}.sh")
with open(script, "w") as f:
    f.write('#!/bin/sh\n[ -n "$1" ] && exit 0\nexit 1\n')
os.chmod(script, 0o755)

try:
    import audit  # type: ignore[import-not-found]

    audit_fd = audit.audit_open() if os.geteuid() == 0 else -1
except (ImportError, OSError):
    audit_fd = -1


def run(*args: bytes | str, **kw: object) -> None:
    subprocess.run(
        list(args), check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw
    )  # type: ignore[call-overload]


ODD = [
    "with space",
    'quo"te',
    "new\nline",
    "tab\there",
    "",
    "h\u00e9llo",
    "$(x) `y` 'z'",
    "--opt=a b",
    "\u2603",
]


def exec_plain(i: int) -> None:
    prog = rng.choice(["/bin/true", "/bin/echo", "/usr/bin/id", "/bin/ls", "/usr/bin/env"])
    args = [prog] + [f"arg{i}-{k}" for k in range(rng.randrange(0, 6))]
    if prog == "/bin/ls":
        args = [prog, "-la", work]
    run(*args)


def exec_odd(i: int) -> None:
    args: list[bytes | str] = ["/bin/echo", *rng.sample(ODD, 3)]
    if i % 3 == 0:
        args.append(b"\xff\xfe-not-utf8")
    run(*args)


def exec_many(i: int) -> None:
    run("/bin/true", *[f"--flag-{k}=value{i}" for k in range(rng.randrange(20, 80))])


def exec_long(i: int) -> None:
    run("/bin/echo", "x" * rng.randrange(8000, 12000), "after-long")


def pipeline(i: int) -> None:
    run("/bin/sh", "-c", f"ls {work} | wc -l > /dev/null; echo {i} | cat > /dev/null")


def run_script(i: int) -> None:
    run(script, *(["yes"] if i % 2 else []))


def files(i: int) -> None:
    name = rng.choice(["plain.txt", "with space.txt", "new\nline.txt", "\u00e9t\u00e9.txt"])
    p = os.path.join(mine, f"{i}-{name}")
    with open(p, "w") as fw:
        fw.write("data\n")
    os.chmod(p, rng.choice([0o600, 0o644, 0o4755, 0o2750]))
    os.rename(p, p + ".old")
    if i % 4 == 0:
        d = os.path.join(mine, f"dir{i}")
        os.mkdir(d)
        os.symlink(p + ".old", os.path.join(d, "link"))
        os.unlink(os.path.join(d, "link"))
        os.rmdir(d)
    os.unlink(p + ".old")
    if i % 9 == 0:
        bad = os.path.join(os.fsencode(mine), b"bad\xffname%d" % i)
        with open(bad, "wb") as fb:
            fb.write(b"x")
        os.unlink(bad)


def failures(i: int) -> None:
    for path in ["/etc/shadow", "/root/.bashrc", os.path.join(work, "missing", str(i))]:
        with contextlib.suppress(OSError), open(path):
            pass
    with contextlib.suppress(OSError):
        os.chown("/tmp", 0, 0)
    with contextlib.suppress(OSError):
        os.chmod("/etc/hostname", 0o644)
    if i % 5 == 0:
        run("/bin/cat", "/etc/shadow")


def sockets(i: int) -> None:
    kind = i % 6
    if kind == 0:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(srv.getsockname())
        a, _ = srv.accept()
        for s in (a, c, srv):
            s.close()
    elif kind == 1:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, contextlib.suppress(OSError):
            s.connect(("127.0.0.1", 1 + i % 1000))  # refused
    elif kind == 2:
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s6:
            s6.connect(("::1", 53))
    elif kind == 3:
        upath = os.path.join(work, f"sock{worker}")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as u:
            u.bind(upath)
        os.unlink(upath)
    elif kind == 4:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as a, contextlib.suppress(OSError):
            a.bind(f"\0auditlink-seed-{worker}-{i}")
    else:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as n:
            n.bind((0, 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as d, contextlib.suppress(OSError):
            d.connect(("10.0.0.1", 123))


def signals(i: int) -> None:
    p = subprocess.Popen(["/bin/sleep", "5"])
    p.send_signal(rng.choice([9, 15, 1]))
    p.wait()


def user_messages(i: int) -> None:
    if audit_fd < 0:
        return
    log = audit.audit_log_user_message
    ok = 0 if i % 7 == 0 else 1
    acct = rng.choice(["root", "cloudsdk", "www-data", "no such user"])
    host, addr, tty = "client.example", f"10.0.{i % 256}.{worker}", f"pts/{worker}"
    log(
        audit_fd,
        audit.AUDIT_USER_AUTH,
        f'op=PAM:authentication grantors=pam_unix acct="{acct}"',
        host,
        addr,
        "ssh",
        ok,
    )
    log(
        audit_fd,
        audit.AUDIT_USER_ACCT,
        f'op=PAM:accounting grantors=pam_unix acct="{acct}"',
        host,
        addr,
        "ssh",
        ok,
    )
    for t, op in [
        (audit.AUDIT_CRED_ACQ, "setcred"),
        (audit.AUDIT_USER_START, "session_open"),
        (audit.AUDIT_USER_END, "session_close"),
        (audit.AUDIT_CRED_DISP, "setcred"),
    ]:
        msg = f'op=PAM:{op} grantors=pam_unix,pam_env acct="{acct}"'
        log(audit_fd, t, msg, None, None, tty, 1)
    audit.audit_log_acct_message(
        audit_fd, audit.AUDIT_USER_LOGIN, "sshd", "login", acct, 1000, host, addr, "ssh", ok
    )
    cmd = os.fsencode(f"ls -l /root/{i}").hex().upper()
    audit.audit_log_user_comm_message(
        audit_fd, audit.AUDIT_USER_CMD, f'cwd="/root" cmd={cmd}', "sudo", None, None, tty, 1
    )


ACTIONS = [
    (exec_plain, 20),
    (exec_odd, 6),
    (exec_many, 4),
    (exec_long, 1),
    (pipeline, 4),
    (run_script, 4),
    (files, 10),
    (failures, 6),
    (sockets, 8),
    (signals, 2),
    (user_messages, 5),
]
weighted = [fn for fn, w in ACTIONS for _ in range(w)]

for i in range(iterations):
    if time.monotonic() > deadline:
        break
    fn = rng.choice(weighted)
    with contextlib.suppress(OSError):
        fn(i)
    if i % 400 == 0:
        run(int80)  # 32-bit syscalls
    if i % 700 == 350:
        run("/bin/sh", "-c", "kill -SEGV $$")  # ANOM_ABEND
