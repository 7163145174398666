"""Record the benchmark's seed log from the real kernel (root; changes kernel
audit state for about a minute and restores it).

    python bench/records/make_seed.py [--seconds 25] [--iterations 4000]

Writes bench/records/seed.log.xz: an ENRICHED auditd log of a varied workload
(seed_workload.py) run by three concurrent workers, so records of different
events interleave the way they do in a real log and the record rate is a real
one. The workers run with the real group ``games`` (gid 60, used by nothing
else here, so the rules below match only them) and as real users that resolve
to names: root with the login uid of ``cloudsdk`` (an admin after sudo),
``cloudsdk`` (uid 1000, logged in) and ``www-data`` (a service: auid unset).
Meanwhile this script changes the audit configuration every few seconds
(CONFIG_CHANGE records).

Kernel safety (see the project notes): holds /tmp/auditlink-kernel.lock while it
touches the kernel; refuses to run if rules or a daemon are present; saves and
restores enabled, backlog_limit and rate_limit; removes its rules; stops its
auditd by PID and unregisters it (AUDIT_SET pid 0). Never touches the failure
mode, enabled=2 or loginuid immutability (login uids are set per process only).
"""

from __future__ import annotations

import argparse
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from tests.data.auditd_session import (  # noqa: E402
    SYSPY,
    auditd_session,
    build_int80,
    sh,
    write_conf,
)

GID = 60  # games
SEED = os.path.join(HERE, "seed.log.xz")
# (uid, login uid or None): root after sudo, a logged-in user, a service.
WORKERS = [(0, 1000), (1000, 1000), (33, None)]


def rules(work: str) -> list[list[str]]:
    g = ["-F", f"gid={GID}"]
    b64 = ["-a", "always,exit", "-F", "arch=b64"]
    return [
        [*b64, "-S", "execve,execveat", *g, "-k", "exec"],
        [*b64, "-S", "open,openat,creat,truncate", "-F", "exit=-EACCES", *g,
         "-k", "access", "-k", "second key"],
        [*b64, "-S", "openat", "-F", "exit=-ENOENT", "-F", "exe=/usr/bin/python3.11", *g,
         "-k", "missing"],
        [*b64, "-S", "chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown", *g, "-k", "perm_mod"],
        [*b64, "-S", "rename,renameat,renameat2,unlink,unlinkat,rmdir,mkdir,mkdirat,"
         "symlink,symlinkat", *g, "-k", "delete"],
        [*b64, "-S", "connect,bind,listen,accept,accept4", *g, "-k", "net"],
        [*b64, "-S", "kill,tkill,tgkill", *g, "-k", "signal"],
        [*b64, "-S", "setuid,setgid,setreuid,setregid,setresuid,setresgid,setgroups", *g,
         "-k", "priv"],
        ["-a", "always,exit", "-F", "arch=b32", "-S", "open,close,socketcall", *g,
         "-k", "compat32"],
        ["-w", os.path.join(work, "watched"), "-p", "wa", "-k", "watch"],
    ]  # fmt: skip


def worker_cmd(work: str, int80: str, n: int, iterations: int, deadline: float) -> list[str]:
    uid, loginuid = WORKERS[n]
    drop = ["setpriv", f"--reuid={uid}", f"--regid={GID}", "--clear-groups"]
    py = [SYSPY, os.path.join(HERE, "seed_workload.py"), work, int80, str(n)]
    cmd = " ".join(f"'{a}'" for a in [*drop, *py, str(iterations), repr(deadline)])
    # The shell opens /proc/self/loginuid itself, so the login uid (and a new
    # session id) is set on the shell and inherited by everything it execs.
    login = f"echo {loginuid} > /proc/self/loginuid && " if loginuid is not None else ""
    return ["/bin/sh", "-c", f"{login}exec {cmd}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=25.0)
    ap.add_argument("--iterations", type=int, default=4000, help="per worker")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="auditlink-seed-")
    os.chmod(work, 0o777)
    os.makedirs(os.path.join(work, "watched"), mode=0o777)
    os.chmod(os.path.join(work, "watched"), 0o777)
    # auditd makes its log's directory 0700: keep it apart from the workers' files.
    os.makedirs(os.path.join(work, "log"))
    log = os.path.join(work, "log", "audit.log")
    name_lines = "name_format = HOSTNAME"
    conf = write_conf(work, log, freq=100, max_log_file=1000, name_lines=name_lines, q_depth=8000)
    int80 = build_int80(work)
    workers: list[subprocess.Popen[bytes]] = []
    with auditd_session(conf):
        try:
            for r in rules(work):
                sh("auditctl", *r)
            time.sleep(0.5)
            deadline = time.monotonic() + args.seconds
            workers = [
                subprocess.Popen(worker_cmd(work, int80, n, args.iterations, deadline))
                for n in range(len(WORKERS))
            ]
            temp = ["-F", "arch=b64", "-S", "fchmod", "-F", f"gid={GID}", "-k", "temporary"]
            tick = 0
            while any(w.poll() is None for w in workers):
                time.sleep(0.5)
                tick += 1
                if tick % 6 == 0:  # configuration changes, as an admin or a tool makes them
                    sh("auditctl", "-a", "always,exit", *temp, check=False)
                    sh("auditctl", "-d", "always,exit", *temp, check=False)
                    sh("auditctl", "-b", "8192", check=False)
                if time.monotonic() > deadline + 30:
                    break
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
                    w.wait()
    with open(log, "rb") as f:
        data = f.read()
    with lzma.open(SEED, "wb", preset=9) as out:
        out.write(data)
    shutil.rmtree(work, ignore_errors=True)
    lines = data.count(b"\n")
    print(f"{SEED}: {len(data) / 1e6:.1f} MB, {lines} records")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
