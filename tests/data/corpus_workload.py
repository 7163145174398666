"""The workload audited for the records corpus (run by make_corpus.py as gid 4242).

Each step makes the kernel write records the parser must handle: execve with odd
arguments, a watched directory, sockets of several families, failing syscalls,
32-bit syscalls, a crash, user messages. Run with Debian's /usr/bin/python3.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys

work = sys.argv[1]
int80 = sys.argv[2]
watched = os.path.join(work, "watched")


def run(*args: bytes | str, **kw: object) -> None:
    subprocess.run(
        list(args), check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw
    )  # type: ignore[call-overload]


# execve with odd arguments: spaces, quotes, newline, tab, non-UTF-8, empty,
# unicode, one long argument the kernel splits into a1[0], a1[1], ...
run("/bin/echo", "plain", "with space", 'quo"te', "new\nline", "tab\there", "", "h\u00e9llo")
run(b"/bin/echo", b"\xff\xfe-not-utf8", b"$(x) `y` 'z'")
run("/bin/echo", "x" * 9000, "after-long")
run("/bin/true", *[f"arg{i}" for i in range(40)])
run("/bin/sh", "-c", "exit 3")

# The watched directory: create, write, chmod, rename, unlink; odd file names.
os.makedirs(watched, exist_ok=True)
for name in ["plain.txt", "with space.txt", "new\nline.txt", "\u00e9t\u00e9.txt"]:
    p = os.path.join(watched, name)
    with open(p, "w") as f:
        f.write("data\n")
    os.chmod(p, 0o4755 if name == "plain.txt" else 0o600)
    os.rename(p, p + ".old")
    os.unlink(p + ".old")
bad = os.path.join(os.fsencode(watched), b"bad\xffname")
with open(bad, "wb") as fb:
    fb.write(b"x")
os.unlink(bad)

# Sockets: connect/bind with inet, inet6, unix path, abstract unix, netlink.
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(srv.getsockname())
c.close()
srv.close()
with contextlib.suppress(OSError), socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
    s6.bind(("::1", 0))
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
upath = os.path.join(work, "sock")
u.bind(upath)
u.close()
os.unlink(upath)
a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a.bind("\0auditlink-abstract")
a.close()
n = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
n.bind((0, 0))
n.close()
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as d, contextlib.suppress(OSError):
    d.connect(("127.0.0.1", 9))

# Failures with errnos.
for path in ["/nonexistent/file", os.path.join(work, "missing")]:
    with contextlib.suppress(OSError), open(path):
        pass
run("setpriv", "--reuid", "65534", "--regid", "4242", "--clear-groups", "cat", "/etc/shadow")
run("setpriv", "--reuid", "65534", "--regid", "4242", "--clear-groups", "chown", "0", "/tmp")

# 32-bit syscalls (int $0x80): open, close, socketcall(socket).
run(int80)

# A crash: ANOM_ABEND.
run("/bin/sh", "-c", "kill -SEGV $$")
