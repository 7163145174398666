"""Where the tables come from: header paths and parsing, and the tools asked (ausearch, dpkg)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
OUT_DIR = ROOT / "rust" / "audit" / "tables"
SYSTEM_PYTHON = os.environ.get("AUDITLINK_SYSTEM_PYTHON", "/usr/bin/python3")
HELPER = Path(__file__).resolve().parent / "libaudit_helper.py"

KERNEL_AUDIT_H = Path("/usr/include/linux/audit.h")

# Message types the running kernel (6.18) can emit that this machine's kernel header
# (linux-libc-dev for 6.1) does not define yet. Source: upstream
# include/uapi/linux/audit.h — IPE (v6.12), Landlock (v6.15), multiple LSM contexts
# (v6.16). libaudit 3.0.9 names none of them (auparse prints UNKNOWN[n]).
UPSTREAM_MESSAGE_TYPES = [
    (1420, "IPE_ACCESS"),
    (1421, "IPE_CONFIG_CHANGE"),
    (1422, "IPE_POLICY_LOAD"),
    (1423, "LANDLOCK_ACCESS"),
    (1424, "LANDLOCK_DOMAIN"),
    (1425, "MAC_TASK_CONTEXTS"),
    (1426, "MAC_OBJ_CONTEXTS"),
]
LIBAUDIT_H = Path("/usr/include/libaudit.h")
ELF_EM_H = Path("/usr/include/linux/elf-em.h")
VERSION_H = Path("/usr/include/linux/version.h")
ERRNO_HEADERS = [
    Path("/usr/include/asm-generic/errno-base.h"),
    Path("/usr/include/asm-generic/errno.h"),
]

# libaudit's machine_t members -> Rust variant names. A new member in a future
# libaudit stops the generator until it is named here.
MACHINE_VARIANTS = {
    "MACH_X86": "I386",
    "MACH_86_64": "X86_64",
    "MACH_IA64": "Ia64",
    "MACH_PPC64": "Ppc64",
    "MACH_PPC": "Ppc",
    "MACH_S390X": "S390x",
    "MACH_S390": "S390",
    "MACH_ALPHA": "Alpha",
    "MACH_ARM": "Arm",
    "MACH_AARCH64": "Aarch64",
    "MACH_PPC64LE": "Ppc64le",
}

# AUDIT_FIRST_USER_MSG, AUDIT_LAST_DAEMON, AUDIT_INTEGRITY_FIRST_MSG, ...
RANGE_MARKER = re.compile(r"(^|_)(FIRST|LAST)(_|$)")
DEFINE = re.compile(r"^\s*#\s*define\s+AUDIT_([A-Z0-9_]+)\s+(\d+)\b")


def ask_libaudit(mode: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
    env = dict(os.environ, LC_ALL="C", LANG="C", LANGUAGE="")
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    out = run_checked(
        [SYSTEM_PYTHON, str(HELPER), mode],
        json.dumps(request or {}),
        f"{SYSTEM_PYTHON} (python3-audit)",
        env,
    )
    answer: dict[str, Any] = json.loads(out)
    return answer


def run_checked(
    argv: Sequence[str], stdin: str, what: str, env: dict[str, str] | None = None
) -> str:
    """The standard output of `argv` fed `stdin`; exits naming `what` when it fails."""
    proc = subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{proc.stderr.strip()}")
    return proc.stdout


def run(argv: Sequence[str]) -> str:
    env = dict(os.environ, LC_ALL="C", LANG="C", LANGUAGE="")
    proc = subprocess.run(list(argv), capture_output=True, text=True, env=env, check=False)
    return proc.stdout + proc.stderr


def ausearch_version() -> str:
    """The upstream audit version, as `ausearch -v` prints it ("3.0.9")."""
    exe = shutil.which("ausearch") or "/usr/sbin/ausearch"
    m = re.fullmatch(r"ausearch version (\S+)", run([exe, "-v"]).strip())
    if m is None:
        raise SystemExit("cannot read the version from `ausearch -v`")
    return m.group(1)


def package_version(name: str) -> str:
    if shutil.which("dpkg-query") is None:
        return "unknown"
    return run(["dpkg-query", "-W", "-f=${Version}", name]).strip() or "unknown"


# --------------------------------------------------------------------------
# Header parsing.
# --------------------------------------------------------------------------


def header_defines(path: Path) -> list[tuple[int, str]]:
    """(number, name without AUDIT_) of every `#define AUDIT_X <1000..2999>`."""
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = DEFINE.match(line)
        if m and 1000 <= int(m.group(2)) <= 2999:
            found.append((int(m.group(2)), m.group(1)))
    return found


def header_message_types(path: Path) -> list[tuple[int, str]]:
    return [(n, s) for n, s in header_defines(path) if not RANGE_MARKER.search(s)]


def header_range_markers() -> list[tuple[int, str]]:
    found = {
        (n, s)
        for path in (KERNEL_AUDIT_H, LIBAUDIT_H)
        for n, s in header_defines(path)
        if RANGE_MARKER.search(s)
    }
    return sorted(found)


def libaudit_machine_enum() -> list[str]:
    """The members of libaudit.h's machine_t, in order (their index is the value)."""
    text = LIBAUDIT_H.read_text(encoding="utf-8", errors="replace")
    m = re.search(r"typedef\s+enum\s*\{([^}]*)\}\s*machine_t\s*;", text)
    if not m:
        raise SystemExit(f"machine_t not found in {LIBAUDIT_H}")
    body = re.sub(r"//[^\n]*|/\*.*?\*/", "", m.group(1), flags=re.S)
    if not re.sub(r"\s", "", body).startswith("MACH_X86=0,"):
        raise SystemExit("machine_t no longer starts with MACH_X86=0")
    members = [part.split("=")[0].strip() for part in body.split(",")]
    return [x for x in members if x]


def kernel_header_version() -> str:
    text = VERSION_H.read_text(encoding="ascii", errors="replace")
    parts = []
    for key in ("MAJOR", "PATCHLEVEL", "SUBLEVEL"):
        m = re.search(rf"#define LINUX_VERSION_{key} (\d+)", text)
        parts.append(m.group(1) if m else "?")
    return ".".join(parts)


def kernel_audit_arches() -> dict[str, int]:
    """AUDIT_ARCH_<NAME> -> value, evaluated from linux/audit.h and linux/elf-em.h."""
    consts: dict[str, int] = {}
    for line in ELF_EM_H.read_text(encoding="ascii", errors="replace").splitlines():
        m = re.match(r"\s*#\s*define\s+(EM_\w+)\s+(0x[0-9a-fA-F]+|\d+)\b", line)
        if m:
            consts[m.group(1)] = int(m.group(2), 0)
    text = KERNEL_AUDIT_H.read_text(encoding="ascii", errors="replace").replace("\\\n", " ")
    for m in re.finditer(r"#\s*define\s+(__AUDIT_ARCH_\w+)\s+(0x[0-9a-fA-F]+)", text):
        consts[m.group(1)] = int(m.group(2), 16)
    arches = {}
    for m in re.finditer(r"#\s*define\s+AUDIT_ARCH_(\w+)\s+\(([^)]*)\)", text):
        value = 0
        for term in (t.strip() for t in m.group(2).split("|")):
            if term not in consts:
                raise SystemExit(f"cannot evaluate AUDIT_ARCH_{m.group(1)}: {term}")
            value |= consts[term]
        arches[m.group(1)] = value
    return arches


def errno_header_aliases() -> dict[str, str]:
    """`#define EWOULDBLOCK EAGAIN` and the like: alias -> name."""
    aliases = {}
    for path in ERRNO_HEADERS:
        for line in path.read_text(encoding="ascii", errors="replace").splitlines():
            m = re.match(r"\s*#\s*define\s+(E[A-Z0-9]+)\s+(E[A-Z0-9]+)\b", line)
            if m:
                aliases[m.group(1)] = m.group(2)
    return aliases
