"""Real receivers for the sink tests and bench: a central Debian auditd, rsyslogd, audisp-remote.

Every server here runs inside a private network namespace that has only a
loopback interface (auditd 3.0.9 has no listen-address option and would
otherwise bind the wildcard address), and inside a private mount namespace
where /run (and, for audisp-remote, /etc/audit) are temp directories, so no
system file is touched. Each is started and stopped by PID.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from .helpers import compile_c

AUDITD = shutil.which("auditd") or "/usr/sbin/auditd"
AUDISP_REMOTE = shutil.which("audisp-remote") or "/usr/sbin/audisp-remote"
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
NODE = "sinktest-host"


def need_root_tools(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (network and mount namespaces)")
    for t in ("unshare", "nsenter", "ip", *tools):
        if not (shutil.which(t) or os.path.exists(t)):
            pytest.skip(f"{t} is not installed")


def make_log(events: int, first_serial: int = 1, sec: int = 1_700_000_000) -> bytes:
    """`events` events of three records each, in auditd RAW log format (no node=)."""
    out = []
    for i in range(events):
        s = first_serial + i
        stamp = f"{sec + i // 1000}.{i % 1000:03d}:{s}"
        out.append(
            f"type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=257 success=yes exit=3 "
            f"a0=ffffff9c a1=55d0 a2=0 a3=0 items=1 ppid=100 pid={1000 + i % 30000} auid=1000 "
            f'uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="cat" '
            f'exe="/usr/bin/cat" subj=unconfined key="sinktest"\n'
            f'type=PATH msg=audit({stamp}): item=0 name="/etc/shadow" inode={s} dev=fd:01 '
            f"mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 "
            f"cap_fe=0 cap_fver=0 cap_frootid=0\n"
            f"type=PROCTITLE msg=audit({stamp}): proctitle=636174002F6574632F736861646F77\n"
        )
    return "".join(out).encode()


class NetNs:
    """A network namespace with only `lo`, kept alive by a sleeping holder process."""

    def __init__(self) -> None:
        self.holder = subprocess.Popen(
            ["unshare", "--net", "sh", "-c", "ip link set lo up && exec sleep 3600"]
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.readlink(f"/proc/{self.holder.pid}/exe").endswith("sleep"):
                break
            time.sleep(0.02)

    def prefix(self) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net"]

    def proc_net(self) -> Path:
        """This namespace's /proc/net."""
        return Path(f"/proc/{self.holder.pid}/net")

    def listening(self, port: int) -> bool:
        """Whether a TCP socket listens on `port` in this namespace."""
        return bool(_listeners(self.proc_net(), port))

    def close(self) -> None:
        stop(self.holder)


def idle_prefix(sched_idle: bool) -> list[str]:
    """The command prefix that runs a program under SCHED_IDLE (or nothing)."""
    return ["chrt", "--idle", "0"] if sched_idle else []


def stop(p: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def loopback_shim() -> Path:
    """tests/loopback_bind.c built as a shared object (once per process): preloaded,
    it makes a server that binds the wildcard address bind loopback instead."""
    global _SHIM
    if _SHIM is None:
        where = tempfile.mkdtemp(prefix="auditlink-shim-")
        atexit.register(shutil.rmtree, where, True)
        out = Path(where) / "loopback_bind.so"
        src = Path(__file__).resolve().parent / "loopback_bind.c"
        _SHIM = compile_c(src, out, "-ldl", shared=True)
    return _SHIM


_SHIM: Path | None = None


def _listeners(proc_net: Path, port: int) -> list[str]:
    """The local addresses (hex, as /proc/net/tcp* gives them) of the TCP sockets
    listening on `port` in the namespace of `proc_net` (/proc/<pid>/net)."""
    want = f":{port:04X}"
    out = []
    for name in ("tcp", "tcp6"):
        try:
            text = (proc_net / name).read_text()
        except OSError:
            continue
        for line in text.splitlines()[1:]:
            cols = line.split()
            if len(cols) > 3 and cols[1].endswith(want) and cols[3] == "0A":
                out.append(cols[1][: -len(want)])
    return out


# 127.0.0.1, ::1, ::ffff:127.0.0.1 as /proc/net/tcp* writes them.
LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}


class CentralAuditd:
    """auditd with local_events = no (it never opens the audit netlink socket),
    receiving on tcp_listen_port and writing its own log file. In `ns`, or with
    `ns=None` in this namespace on loopback only (see `loopback_shim`)."""

    def __init__(
        self, ns: NetNs | None, workdir: Path, port: int = 60123, sched_idle: bool = False
    ) -> None:
        self.ns, self.dir, self.port = ns, workdir, port
        # SCHED_IDLE: it runs only on CPU time nothing else here wants, as if on
        # another machine (the benches' stand-in for a remote central server).
        self.priority = idle_prefix(sched_idle)
        self.log = workdir / "central.log"
        (workdir / "plugins").mkdir(parents=True, exist_ok=True)
        (workdir / "auditd.conf").write_text(
            f"""local_events = no
write_logs = yes
log_file = {self.log}
log_format = RAW
log_group = root
flush = none
freq = 50
max_log_file = 10000
num_logs = 2
max_log_file_action = ignore
space_left = 2
space_left_action = ignore
admin_space_left = 1
admin_space_left_action = ignore
disk_full_action = ignore
disk_error_action = ignore
name_format = none
tcp_listen_port = {port}
tcp_listen_queue = 128
tcp_max_per_addr = 1024
use_libwrap = no
distribute_network = no
plugin_dir = {workdir / "plugins"}
q_depth = 2000
overflow_action = ignore
"""
        )
        os.chmod(workdir / "auditd.conf", 0o640)
        self.proc: subprocess.Popen[bytes] | None = None

    def listeners(self) -> list[str]:
        proc_net = self.ns.proc_net() if self.ns else Path("/proc/self/net")
        return _listeners(proc_net, self.port)

    def start(self) -> None:
        where = self.ns.prefix() if self.ns else ["env", f"LD_PRELOAD={loopback_shim()}"]
        self.proc = subprocess.Popen(
            [
                *self.priority,
                *where,
                "unshare",
                "--mount",
                "sh",
                "-c",
                f"mount -t tmpfs tmpfs /run && exec {AUDITD} -n -c {self.dir}",
            ],
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.listeners():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                rc = self.proc.poll()
                self.stop()
                raise RuntimeError(f"central auditd did not start (rc={rc})")
            time.sleep(0.05)
        wide = [a for a in self.listeners() if a not in LOOPBACK_HEX]
        if self.ns is None and wide:
            self.stop()
            raise RuntimeError(f"central auditd listens beyond loopback: {wide}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop(self.proc, sig)
            self.proc = None

    def lines(self, node: str = NODE, record_type: str = "SYSCALL") -> list[str]:
        if not self.log.exists():
            return []
        prefix = f"node={node} type={record_type} "
        return [
            ln for ln in self.log.read_text(errors="replace").splitlines() if ln.startswith(prefix)
        ]

    def wait_for(self, count: int, timeout: float, node: str = NODE) -> float:
        """Seconds until `count` SYSCALL records of `node` are in the log (or the timeout)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if len(self.lines(node)) >= count:
                break
            time.sleep(0.05)
        return time.monotonic() - start


SENDER = """
import json, sys
from auditlink.forward import forward
st = forward(sys.argv[2], sys.argv[1], node=sys.argv[3], timeout=float(sys.argv[4]))
print(json.dumps(st.__dict__))
"""


def run_sender(
    ns: NetNs | None, config: str, log: Path, node: str = NODE, timeout: float = 60.0
) -> subprocess.Popen[bytes]:
    """auditlink.forward in a subprocess inside the namespace, if any (stdout: stats JSON)."""
    prefix = ns.prefix() if ns is not None else []
    return subprocess.Popen(
        [*prefix, sys.executable, "-c", SENDER, config, str(log), node, str(timeout)],
        stdout=subprocess.PIPE,
    )


def sender_stats(p: subprocess.Popen[bytes], timeout: float = 120.0) -> dict[str, Any]:
    out, _ = p.communicate(timeout=timeout)
    assert p.returncode == 0, out
    stats: dict[str, Any] = json.loads(out)
    return stats


def run_audisp_remote(ns: NetNs, workdir: Path, port: int, lines: bytes) -> subprocess.Popen[bytes]:
    """Debian's audisp-remote fed `lines` (records with node=) on stdin, with its
    fixed-path config replaced inside a private mount namespace."""
    etc = workdir / "etc-audit"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "audisp-remote.conf").write_text(
        f"remote_server = 127.0.0.1\nport = {port}\ntransport = tcp\nmode = immediate\n"
        "queue_depth = 200000\nformat = managed\nnetwork_retry_time = 1\n"
        "max_tries_per_record = 3\nmax_time_per_record = 5\nheartbeat_timeout = 0\n"
        "network_failure_action = syslog\ndisk_low_action = ignore\n"
        "disk_full_action = ignore\ndisk_error_action = ignore\n"
        "remote_ending_action = reconnect\ngeneric_error_action = syslog\n"
        "generic_warning_action = syslog\noverflow_action = syslog\n"
        "startup_failure_action = warn_once_continue\n"
    )
    os.chmod(etc / "audisp-remote.conf", 0o640)
    p = subprocess.Popen(
        [
            *ns.prefix(),
            "unshare",
            "--mount",
            "sh",
            "-c",
            f"mount -t tmpfs tmpfs /run && mount --bind {etc} /etc/audit && exec {AUDISP_REMOTE}",
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert p.stdin is not None
    p.stdin.write(lines)
    p.stdin.flush()
    return p


class Pki:
    """A test CA made with the openssl CLI, and certificates it signs."""

    def __init__(self, d: Path, name: str) -> None:
        d.mkdir(parents=True, exist_ok=True)
        self.dir = d
        self.ca, self.ca_key = d / "ca.pem", d / "ca.key"
        _openssl("req", "-x509", *_EC_KEY, "-nodes", "-days", "2", "-subj", f"/CN={name}",
                 "-keyout", str(self.ca_key), "-out", str(self.ca))  # fmt: skip

    def issue(self, tag: str, cn: str, san: str = "IP:127.0.0.1") -> tuple[Path, Path]:
        """A leaf certificate (server and client use) for `san`: (cert, key)."""
        cert, key, csr = self.dir / f"{tag}.pem", self.dir / f"{tag}.key", self.dir / f"{tag}.csr"
        ext = self.dir / f"{tag}.cnf"
        ext.write_text(
            f"subjectAltName = {san}\nbasicConstraints = CA:FALSE\n"
            "keyUsage = digitalSignature, keyEncipherment\n"
            "extendedKeyUsage = serverAuth, clientAuth\n"
        )
        _openssl("req", *_EC_KEY, "-nodes", "-subj", f"/CN={cn}",
                 "-keyout", str(key), "-out", str(csr))  # fmt: skip
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.ca),
                 "-CAkey", str(self.ca_key), "-CAcreateserial", "-days", "2",
                 "-extfile", str(ext), "-out", str(cert))  # fmt: skip
        return cert, key


# P-256 keys: made in milliseconds, where RSA keys take seconds on a loaded machine.
_EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def need_openssl() -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")


class RsyslogTls:
    """The TLS input of an rsyslogd (gnutls driver): CA, server cert and key,
    and whether it requires a client certificate signed by that CA."""

    def __init__(self, pki: Pki, port: int, require_client_cert: bool = False) -> None:
        self.ca = pki.ca
        self.cert, self.key = pki.issue("rsyslog", "127.0.0.1")
        self.port = port
        self.auth_mode = "x509/certvalid" if require_client_cert else "anon"


GTLS = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"


def start_rsyslogd(workdir: Path) -> subprocess.Popen[bytes]:
    """rsyslogd in the foreground with `workdir`'s rsyslog.conf and its pid file there."""
    return subprocess.Popen(
        [RSYSLOGD, "-n", "-f", str(workdir / "rsyslog.conf"), "-i", str(workdir / "pid")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class Rsyslog:
    """rsyslogd (-n, own config, pid file and work dir in a temp dir) receiving
    on 127.0.0.1 (imtcp, imudp, optionally imtcp over TLS) and a private unix
    socket, writing one line per message: HOSTNAME MSGID FACILITY.SEVERITY
    APP-NAME MSG, and each message's raw bytes (`%rawmsg%`) to raw.log."""

    def __init__(
        self, workdir: Path, tcp_port: int, udp_port: int, tls: RsyslogTls | None = None
    ) -> None:
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.out = workdir / "received.log"
        self.raw = workdir / "raw.log"
        self.socket = workdir / "log.sock"
        self.tcp_port, self.udp_port = tcp_port, udp_port
        self.tls = tls
        tls_global = tls_input = ""
        if tls is not None:
            tls_global = (
                f' DefaultNetstreamDriverCAFile="{tls.ca}"'
                f' DefaultNetstreamDriverCertFile="{tls.cert}"'
                f' DefaultNetstreamDriverKeyFile="{tls.key}"'
            )
            tls_input = (
                f'input(type="imtcp" port="{tls.port}" address="127.0.0.1" '
                f'streamDriver.name="gtls" streamDriver.mode="1" '
                f'streamDriver.authMode="{tls.auth_mode}")\n'
            )
        (workdir / "rsyslog.conf").write_text(
            f"""global(workDirectory="{workdir}" maxMessageSize="64k"{tls_global})
module(load="imuxsock" SysSock.Use="off")
module(load="imtcp")
module(load="imudp")
input(type="imuxsock" Socket="{self.socket}" UseSpecialParser="off")
input(type="imtcp" port="{tcp_port}" address="127.0.0.1")
{tls_input}input(type="imudp" port="{udp_port}" address="127.0.0.1" rcvbufSize="16m")
template(name="line" type="string"
  string="%hostname% %msgid% %syslogfacility-text%.%syslogseverity-text% %app-name% %msg%\\n")
template(name="raw" type="string" string="%rawmsg%\\n")
*.* action(type="omfile" file="{self.out}" template="line")
*.* action(type="omfile" file="{self.raw}" template="raw")
"""
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # A socket file left by an earlier run would pass for the new one.
        self.socket.unlink(missing_ok=True)
        self.proc = start_rsyslogd(self.dir)
        deadline = time.monotonic() + 10
        while (
            not self.socket.exists()
            or not _listening_here(self.tcp_port)
            or (self.tls is not None and not _listening_here(self.tls.port))
        ):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rsyslogd did not start (rc={self.proc.poll()})")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def lines(self) -> list[str]:
        if not self.out.exists():
            return []
        return self.out.read_text(errors="replace").splitlines()

    def raw_lines(self) -> list[str]:
        if not self.raw.exists():
            return []
        return self.raw.read_text(errors="replace").splitlines()

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.lines()) < count and time.monotonic() < deadline:
            time.sleep(0.05)


def _listening_here(port: int) -> bool:
    return bool(_listeners(Path("/proc/self/net"), port))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rotel_agent() -> str | None:
    """The rotel-agent binary: $AUDITLINK_ROTEL_AGENT (CI points the venvs of
    CPythons rotel has no wheel for at the dev venv's), else the `rotel` PyPI
    package's, if installed."""
    import importlib.util

    given = os.environ.get("AUDITLINK_ROTEL_AGENT")
    if given and os.access(given, os.X_OK):
        return given

    spec = importlib.util.find_spec("rotel")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "rotel-agent"
    return str(path) if path.exists() else None


class Rotel:
    """rotel-agent, an OpenTelemetry collector, with its OTLP receivers on
    127.0.0.1 and a debug exporter printing every log record to a file."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.out = workdir / "rotel.out"
        self.http_port, self.grpc_port = free_port(), free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, binary: str) -> None:
        with self.out.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    binary,
                    "start",
                    "--exporter",
                    "blackhole",
                    "--debug-log",
                    "logs",
                    "--debug-log-verbosity",
                    "detailed",
                    "--otlp-http-endpoint",
                    f"127.0.0.1:{self.http_port}",
                    "--otlp-grpc-endpoint",
                    f"127.0.0.1:{self.grpc_port}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"},
            )
        deadline = time.monotonic() + 10
        while not _listening_here(self.http_port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rotel-agent did not start (rc={self.proc.poll()})")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def records(self) -> list[dict[str, str]]:
        """Each LogRecord printed so far: its attributes plus `body` and the resource's."""
        import re

        text = re.sub(r"\x1b\[[0-9;]*m", "", self.out.read_text(errors="replace"))
        out: list[dict[str, str]] = []
        resource: dict[str, str] = {}
        current: dict[str, str] | None = None
        section = ""
        for line in text.splitlines():
            if line.startswith("Resource attributes:"):
                resource, section = {}, "resource"
            elif line.startswith("LogRecord #"):
                current = dict(resource)
                out.append(current)
                section = "record"
            elif line.startswith("Body: ") and current is not None:
                current["body"] = line[len("Body: ") :]
            elif line.startswith("Attributes:"):
                section = "attributes"
            elif line.strip().startswith("-> "):
                key, _, value = line.strip()[3:].partition(": ")
                if section == "resource":
                    resource[key] = value
                elif section == "attributes" and current is not None:
                    current[key] = value
        return out


# The audit netlink socket exists only in the first network namespace, while the
# central auditd runs in a private one (it binds every address): a relay
# listening on 127.0.0.1 here connects to it from inside, one process per
# connection, so stopping the central auditd breaks the daemon's connection.
RELAY = """
import selectors, socket, sys
inner = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
outer = socket.socket(fileno=0)
peer = {inner: outer, outer: inner}
# Bytes waiting to be written to each socket.
pending = {inner: bytearray(), outer: bytearray()}
sel = selectors.DefaultSelector()
for s in (inner, outer):
    # Both ends of the real protocol send at once (auditd sets TCP_NODELAY on
    # its connections): without it the relay's small writes (acknowledgements)
    # would wait for the peer's delayed ACK.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
# Neither direction ever blocks the other: auditd drops an acknowledgement it
# cannot write at once, so they are read as they come even while the sender's
# records wait for auditd to take them.
while True:
    for key, mask in sel.select():
        s = key.fileobj
        if mask & selectors.EVENT_READ:
            try:
                data = s.recv(1 << 16)
            except BlockingIOError:
                data = None
            if data == b"":
                sys.exit(0)
            if data:
                pending[peer[s]] += data
    for s in (inner, outer):
        if pending[s]:
            try:
                del pending[s][: s.send(pending[s])]
            except BlockingIOError:
                pass
    for s in (inner, outer):
        # Reading stops only where the peer does not keep up (1 MiB waiting).
        events = selectors.EVENT_READ if len(pending[peer[s]]) < (1 << 20) else 0
        if pending[s]:
            events |= selectors.EVENT_WRITE
        current = sel.get_key(s).events if s in sel.get_map() else 0
        if events == current:
            continue
        if not current:
            sel.register(s, events)
        elif not events:
            sel.unregister(s)
        else:
            sel.modify(s, events)
"""


class Relay:
    """Listens on 127.0.0.1 here and relays each connection to `inner_port` in `ns`."""

    def __init__(self, ns: NetNs, inner_port: int, sched_idle: bool = False) -> None:
        self.ns, self.inner_port = ns, inner_port
        self.priority = idle_prefix(sched_idle)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                self.procs.append(
                    subprocess.Popen(
                        [
                            *self.priority,
                            *self.ns.prefix(),
                            sys.executable,
                            "-c",
                            RELAY,
                            str(self.inner_port),
                        ],
                        stdin=conn.fileno(),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )

    def close(self) -> None:
        self.listener.close()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
