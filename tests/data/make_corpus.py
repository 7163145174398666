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

import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from tests.data.auditd_session import (  # noqa: E402
    SYSPY,
    auditd_session,
    build_int80,
    sh,
    write_conf,
)

GID = 4242

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


def main() -> int:
    work = tempfile.mkdtemp(prefix="auditlink-corpus-")
    os.chmod(work, 0o755)
    log = os.path.join(work, "audit.log")
    name_lines = "name_format = USER\nname = corpus-node"
    conf = write_conf(work, log, freq=20, max_log_file=100, name_lines=name_lines, q_depth=2000)
    int80 = build_int80(work)
    with auditd_session(conf):
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
