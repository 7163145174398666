"""auditd 3.0.9 run as a child writing an ENRICHED log from the real kernel, for the
scripts that record logs (tests/data/make_corpus.py, bench/records/make_seed.py;
they put the repository root on ``sys.path`` and run with the venv python).

:func:`auditd_session` holds /tmp/auditlink-kernel.lock, refuses to run when rules
or a daemon are present, starts auditd and enables auditing; afterwards (also on
failure) it deletes the rules, stops auditd by PID, unregisters it (AUDIT_SET pid
0), restores enabled/backlog_limit/rate_limit and releases the lock. It never
touches failure mode 2, enabled 2 or loginuid immutability.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

from tests.helpers import auditctl_status as status

from auditlink import AuditClient

LOCK = "/tmp/auditlink-kernel.lock"
SYSPY = "/usr/bin/python3"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

AUDITD_CONF = """\
local_events = yes
write_logs = yes
log_file = {log}
log_group = root
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = {freq}
max_log_file = {max_log_file}
num_logs = 2
priority_boost = 0
{name_lines}
max_log_file_action = IGNORE
space_left = 10
space_left_action = IGNORE
admin_space_left = 5
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
use_libwrap = no
distribute_network = no
q_depth = {q_depth}
overflow_action = IGNORE
max_restarts = 10
plugin_dir = {plugins}
end_of_event_timeout = 2
"""


def sh(*args: str, check: bool = True) -> str:
    return subprocess.run(list(args), check=check, capture_output=True, text=True).stdout


def unregister_dead_daemon() -> None:
    with AuditClient() as c:
        if c.get_status().pid != 0:
            c.unregister()


def write_conf(
    work: str, log: str, *, freq: int, max_log_file: int, name_lines: str, q_depth: int
) -> str:
    """An auditd.conf (and an empty plugin directory) under ``work``; returns its folder."""
    conf, plugins = os.path.join(work, "conf"), os.path.join(work, "plugins")
    os.makedirs(conf)
    os.makedirs(plugins)
    text = AUDITD_CONF.format(
        log=log,
        plugins=plugins,
        freq=freq,
        max_log_file=max_log_file,
        name_lines=name_lines,
        q_depth=q_depth,
    )
    with open(os.path.join(conf, "auditd.conf"), "w") as f:
        f.write(text)
    os.chmod(os.path.join(conf, "auditd.conf"), 0o640)
    return conf


def build_int80(work: str) -> str:
    """tests/data/int80.c built into ``work`` (32-bit syscalls from a 64-bit process)."""
    int80 = os.path.join(work, "int80")
    source = os.path.join(ROOT, "tests", "data", "int80.c")
    subprocess.run(["gcc", "-O0", "-no-pie", "-o", int80, source], check=True)
    os.chmod(int80, 0o755)
    return int80


@contextlib.contextmanager
def auditd_session(conf: str) -> Iterator[subprocess.Popen[bytes]]:
    """auditd (``auditd -n -c conf``) registered and auditing enabled, for the block.

    Raises:
        SystemExit: the kernel's audit is in use (rules or a daemon).
    """
    lock = open(LOCK, "a")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    started = time.monotonic()
    saved = status()
    if "No rules" not in sh("auditctl", "-l") or saved.get("pid", 0) != 0:
        fcntl.flock(lock, fcntl.LOCK_UN)
        print("kernel audit is in use (rules or a daemon): not touching it", file=sys.stderr)
        raise SystemExit(1)
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
        yield daemon
        time.sleep(2.5)  # let auditd write what is queued
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
        rules_after = sh("auditctl", "-l", check=False).strip()
        fcntl.flock(lock, fcntl.LOCK_UN)
        print(f"kernel held {time.monotonic() - started:.1f} s; state now {after}; {rules_after}")
