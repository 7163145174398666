"""Regenerate the records corpus from the real kernel (root; changes kernel state).

    flock is taken here; run from the repository root with the venv python:
    python tests/data/make_corpus.py

What it does, restoring everything afterwards (also on failure):
1. holds /tmp/auditlink-kernel.lock, saves the audit status and rules;
2. starts auditd as our child (`auditd -n -c <tmp conf dir>`) writing an
   ENRICHED log with node names into a temporary directory;
3. enables auditing, adds rules limited to gid 4242 (and a two-key rule);
4. runs corpus_workload.py as gid 4242, sends user messages, changes config;
5. deletes the rules, stops auditd by PID, unregisters its pid (AUDIT_SET pid 0),
   restores enabled/backlog/rate, releases the lock;
6. writes tests/data/corpus_enriched.log and corpus_raw.log (the same lines cut
   at the enrichment separator), then the auparse goldens (make_golden.py).

Never touches failure mode 2, enabled 2 or loginuid immutability.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOCK = "/tmp/auditlink-kernel.lock"
GID = 4242
SYSPY = "/usr/bin/python3"

AUDITD_CONF = """\
local_events = yes
write_logs = yes
log_file = {log}
log_group = root
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 20
max_log_file = 100
num_logs = 2
priority_boost = 0
name_format = USER
name = corpus-node
max_log_file_action = IGNORE
space_left = 10
space_left_action = IGNORE
admin_space_left = 5
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
use_libwrap = no
distribute_network = no
q_depth = 2000
overflow_action = IGNORE
max_restarts = 10
plugin_dir = {plugins}
end_of_event_timeout = 2
"""

RULES = [
    ["-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-F", f"gid={GID}", "-k", "exec"],
    ["-a", "always,exit", "-F", "arch=b64", "-S", "connect,bind", "-F", f"gid={GID}", "-k", "net"],
    [
        "-a",
        "always,exit",
        "-F",
        "arch=b64",
        "-S",
        "openat,chown,fchownat",
        "-F",
        "success=0",
        "-F",
        f"gid={GID}",
        "-k",
        "fail",
        "-k",
        "second key",
    ],
    [
        "-a",
        "always,exit",
        "-F",
        "arch=b32",
        "-S",
        "open,socketcall",
        "-F",
        f"gid={GID}",
        "-k",
        "compat32",
    ],
]


def sh(*args: str, check: bool = True) -> str:
    return subprocess.run(list(args), check=check, capture_output=True, text=True).stdout


def status() -> dict[str, int]:
    out: dict[str, int] = {}
    for line in sh("auditctl", "-s").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def unregister_dead_daemon() -> None:
    sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
    from auditlink import AuditClient

    with AuditClient() as c:
        if c.get_status().pid != 0:
            c.unregister()


def main() -> int:
    work = tempfile.mkdtemp(prefix="auditlink-corpus-")
    os.chmod(work, 0o755)
    conf = os.path.join(work, "conf")
    plugins = os.path.join(work, "plugins")
    os.makedirs(conf)
    os.makedirs(plugins)
    log = os.path.join(work, "audit.log")
    with open(os.path.join(conf, "auditd.conf"), "w") as f:
        f.write(AUDITD_CONF.format(log=log, plugins=plugins))
    os.chmod(os.path.join(conf, "auditd.conf"), 0o640)
    int80 = os.path.join(work, "int80")
    subprocess.run(
        ["gcc", "-O0", "-no-pie", "-o", int80, os.path.join(HERE, "int80.c")], check=True
    )

    lock = open(LOCK, "a")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    started = time.monotonic()
    saved = status()
    saved_rules = sh("auditctl", "-l")
    if "No rules" not in saved_rules or saved.get("pid", 0) != 0:
        print("kernel audit is in use (rules or a daemon): not touching it", file=sys.stderr)
        return 1
    daemon = None
    try:
        sh("auditctl", "-b", "8192")
        daemon = subprocess.Popen(
            ["auditd", "-n", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(50):
            if status().get("pid") == daemon.pid:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("auditd did not register")
        sh("auditctl", "-e", "1")
        sh("auditctl", "-w", os.path.join(work, "watched"), "-p", "wa", "-k", "watch")
        for r in RULES:
            sh("auditctl", *r)
        sh("auditctl", "-r", "0")  # unchanged value: just a CONFIG_CHANGE record
        time.sleep(0.5)
        subprocess.run(
            [
                "setpriv",
                "--regid",
                str(GID),
                "--clear-groups",
                SYSPY,
                os.path.join(HERE, "corpus_workload.py"),
                work,
                int80,
            ],
            check=False,
        )
        sh("auditctl", "-m", "hello from the corpus")
        sh("auditctl", "-m", "key=value with 'quotes' and \"double\"")
        subprocess.run([SYSPY, "-c", USER_MESSAGES], check=False)
        time.sleep(2.5)
    finally:
        sh("auditctl", "-D", check=False)
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        unregister_dead_daemon()
        sh("auditctl", "-e", str(saved.get("enabled", 0)), check=False)
        sh("auditctl", "-b", str(saved.get("backlog_limit", 64)), check=False)
        sh("auditctl", "-r", str(saved.get("rate_limit", 0)), check=False)
        after = status()
        fcntl.flock(lock, fcntl.LOCK_UN)
        print(f"kernel held {time.monotonic() - started:.1f} s; state now {after}")
    with open(log, "rb") as f:
        data = f.read()
    with open(os.path.join(HERE, "corpus_enriched.log"), "wb") as f:
        f.write(data)
    raw = b"".join(line.split(b"\x1d")[0].rstrip(b" ") + b"\n" for line in data.splitlines())
    with open(os.path.join(HERE, "corpus_raw.log"), "wb") as f:
        f.write(raw)
    shutil.rmtree(work, ignore_errors=True)
    for name in ["corpus_enriched", "corpus_raw"]:
        subprocess.run(
            [
                SYSPY,
                os.path.join(HERE, "make_golden.py"),
                os.path.join(HERE, name + ".log"),
                os.path.join(HERE, name + ".auparse.jsonl"),
            ],
            check=True,
        )
    return 0


USER_MESSAGES = """
import audit
fd = audit.audit_open()
log = audit.audit_log_user_message
log(fd, audit.AUDIT_USER_LOGIN, "op=login id=0", "host.example", "10.1.2.3", "pts/1", 0)
msg = "op=PAM:session_open grantors=pam_unix acct=\\"root\\""
log(fd, audit.AUDIT_USER_START, msg, None, None, "pts/1", 1)
audit.audit_log_acct_message(
    fd, audit.AUDIT_USER_CHAUTHTOK, "passwd", "change password", "user with space", 1000,
    "host", "127.0.0.1", "pts/2", 1,
)
cmd = "cwd=\\"/root\\" cmd=6C73202D6C"
audit.audit_log_user_comm_message(fd, audit.AUDIT_USER_CMD, cmd, "sudo", None, None, "pts/1", 1)
avc = "avc:  denied  { read write } for scontext=a tcontext=b tclass=file"
log(fd, audit.AUDIT_USER_AVC, avc, None, None, None, 0)
audit.audit_close(fd)
"""


if __name__ == "__main__":
    raise SystemExit(main())
