"""Generate auparse_tables.rs: the value -> name tables libauparse 3.0.9 uses to
interpret syscall arguments and a few fields (personality, ptrace requests,
prctl options, rlimits, fcntl commands, socket options, mount flags, ...).

The tables are facts from audit-userspace's `auparse/*tab.h` files; their
symbolic values (PR_SET_NAME, MS_RDONLY, ...) are resolved by compiling each
table against this machine's C headers, as the Debian build of libauparse did.

    apt-get source audit        # or any audit-userspace 3.0.9 tree
    python rust/audit/records/gen_auparse_tables.py AUDIT_SRC_DIR

Output order is the header's order: auparse's flag tables keep it, and its
value -> name lookups take the first entry of a value, which we do too.

Rows that several headers repeat (the protocol-independent MCAST_* socket
options are in both ipoptnametab.h and ip6optnametab.h) are written once, as a
table of their own that the interpreter looks up after the table they were
taken from (see SHARED); the script checks that this changes no lookup.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

TABLES = [
    # (header, Rust name, what it is)
    ("persontab", "PERSONALITIES", "personality(2) personas (`per`, a0 of personality)"),
    ("ptracetab", "PTRACE_REQUESTS", "ptrace(2) requests (a0 of ptrace)"),
    ("prctl-opt-tab", "PRCTL_OPTIONS", "prctl(2) options (a0 of prctl)"),
    ("rlimittab", "RLIMITS", "resource limits (a0 of getrlimit/setrlimit)"),
    ("fcntl-cmdtab", "FCNTL_COMMANDS", "fcntl(2) commands (a1 of fcntl)"),
    ("epoll_ctl", "EPOLL_CTL_OPS", "epoll_ctl(2) operations (a1)"),
    ("clocktab", "CLOCK_IDS", "clock ids (a0 of clock_settime)"),
    ("seektab", "SEEK_WHENCE", "lseek(2) whence (a2)"),
    ("schedtab", "SCHED_POLICIES", "scheduler policies (a1 of sched_setscheduler)"),
    ("sockleveltab", "SOCKET_LEVELS", "socket option levels (a1 of [gs]etsockopt)"),
    ("ioctlreqtab", "IOCTL_REQUESTS", "ioctl(2) requests (a1 of ioctl, `ioctlcmd`)"),
    ("bpftab", "BPF_COMMANDS", "bpf(2) commands (a0 of bpf)"),
    ("icmptypetab", "ICMP_TYPES", "ICMP types (`icmptype`)"),
    ("inethooktab", "INET_HOOKS", "netfilter inet hooks (`hook`)"),
    ("netactiontab", "NET_ACTIONS", "netfilter actions (`action`)"),
    ("umounttab", "UMOUNT_FLAGS", "umount2(2) flags (a1)"),
    ("mounttab", "MOUNT_FLAGS", "mount(2) flags (a3)"),
    ("recvtab", "RECV_FLAGS", "send/recv message flags"),
    ("ipccmdtab", "IPC_COMMAND_FLAGS", "IPC_CREAT/IPC_EXCL (shmget flags)"),
    ("shm_modetab", "SHM_MODE_FLAGS", "SHM_HUGETLB/SHM_NORESERVE (shmget flags)"),
    ("openat2-resolvetab", "OPENAT2_RESOLVE", "openat2(2) resolve flags (`resolve`)"),
    ("ipoptnametab", "IP_OPTION_NAMES", "IPPROTO_IP socket options"),
    ("sockoptnametab", "SOCKET_OPTION_NAMES", "SOL_SOCKET socket options"),
    ("tcpoptnametab", "TCP_OPTION_NAMES", "IPPROTO_TCP socket options"),
    ("ip6optnametab", "IP6_OPTION_NAMES", "IPPROTO_IPV6 socket options"),
    ("pktoptnametab", "PACKET_OPTION_NAMES", "SOL_PACKET socket options"),
]

# (Rust name, what it is, label prefix, tables that hold the same rows)
SHARED = [
    (
        "MCAST_OPTION_NAMES",
        "MCAST_* socket options",
        "MCAST_",
        ("IP_OPTION_NAMES", "IP6_OPTION_NAMES"),
    ),
]

HEADERS = """
#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sched.h>
#include <linux/net.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <linux/if_packet.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/netfilter.h>
#include <sys/shm.h>
#include <sys/ipc.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <linux/fs.h>
"""


def dump(src: str, header: str, work: str) -> list[tuple[int, str]]:
    c = os.path.join(work, "t.c")
    exe = os.path.join(work, "t")
    path = os.path.join(src, "auparse", f"{header}.h")
    with open(c, "w") as f:
        f.write(HEADERS)
        f.write("int main(void) {\n")
        f.write('#define _S(n, s) printf("%llu\\t%s\\n", (unsigned long long)(n), s);\n')
        f.write(f'#include "{path}"\n')
        f.write("return 0; }\n")
    subprocess.run(["gcc", "-w", "-o", exe, c], check=True)
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        value, name = line.split("\t", 1)
        rows.append((int(value), name))
    return rows


def split_shared(
    by_name: dict[str, list[tuple[int, str]]], prefix: str, holders: tuple[str, ...]
) -> list[tuple[int, str]]:
    """Take the rows labelled `prefix...` out of every table in `holders` (they
    must be the same rows in each) and return them. A lookup of the rest and
    then of the shared rows must find what the whole table did: no shared value
    may also stand elsewhere in a holder."""
    shared: list[tuple[int, str]] | None = None
    for name in holders:
        rows = by_name[name]
        mine = [r for r in rows if r[1].startswith(prefix)]
        rest = [r for r in rows if not r[1].startswith(prefix)]
        if shared is not None and mine != shared:
            raise SystemExit(f"{name}: its {prefix}* rows differ from the other tables'")
        clash = {v for v, _ in mine} & {v for v, _ in rest}
        if clash:
            raise SystemExit(f"{name}: {prefix}* values also name other rows: {sorted(clash)}")
        shared = mine
        by_name[name] = rest
    return shared or []


def main() -> int:
    src = sys.argv[1]
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "auparse_tables.rs")
    lines = [
        "// @generated by rust/audit/records/gen_auparse_tables.py -- do not edit by hand.",
        "//",
        "// Value -> name tables of libauparse 3.0.9 (audit-userspace auparse/*tab.h),",
        "// their symbolic values resolved against this machine's C headers (glibc,",
        "// linux-libc-dev), in header order.",
        "",
    ]
    with tempfile.TemporaryDirectory() as work:
        by_name = {name: dump(src, header, work) for header, name, _ in TABLES}
    out = [(name, f"{what}: auparse `{header}.h`") for header, name, what in TABLES]
    for shared, what, prefix, holders in SHARED:
        by_name[shared] = split_shared(by_name, prefix, holders)
        headers = " and ".join(f"`{h}.h`" for h, n, _ in TABLES if n in holders)
        out.append((shared, f"{what}: in both auparse {headers}"))
    for name, doc in out:
        lines.append(f"/// {doc}.")
        lines.append(f"pub static {name}: &[(u64, &str)] = &[")
        for value, label in by_name[name]:
            lines.append(f'    ({value:#x}, "{label}"),')
        lines.append("];")
        lines.append("")
    with open(out_path, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
