#!/usr/bin/env python3
"""Generate the lookup tables of ``crate::audit::tables`` from local sources.

Usage (from the repository root; any Python >= 3.9, no third-party modules)::

    python3 tools/gen_tables.py               # (re)write rust/audit/tables/gen_*.rs
    python3 tools/gen_tables.py --check       # regenerate in memory, fail if the
                                              # committed files differ, then run
                                              # the cross-check below
    python3 tools/gen_tables.py --cross-check # only compare every entry of the
                                              # COMMITTED tables with the live tools

The generated Rust is committed: building and testing the crate never runs this
script. Re-run it (and commit the result) when one of the sources changes.

Where each table comes from
---------------------------
Message types (gen_message_types.rs)
  * Numbers and ``AUDIT_*`` names: every ``#define AUDIT_<NAME> <number>`` with
    a number in 1000..2999 in the kernel UAPI header ``/usr/include/linux/audit.h``
    (package linux-libc-dev) and in ``/usr/include/libaudit.h`` (libaudit-dev).
    The range markers ``AUDIT_FIRST_*`` / ``AUDIT_LAST_*`` / ``*_FIRST_MSG`` /
    ``*_LAST_MSG`` are bounds, not message types, and are left out.
  * Canonical name: what libaudit's ``audit_msg_type_to_name()`` returns (the
    table auparse and ausearch print in ``type=``), asked through python3-audit
    for every number 0..65535. A number libaudit has no name for (auparse prints
    ``UNKNOWN[n]``) keeps its header name; those are listed in the generated file.
    Header names that differ from the canonical one become aliases.
  * Kind: the ranges of the comment block at the top of linux/audit.h, with the
    two exceptions the kernel itself makes (see ``kind_of`` below).
Machines (gen_machines.rs)
  * The ``machine_t`` enum of libaudit.h, kept where libaudit 3.0.9 (as built
    by Debian) has a name for it: ``audit_machine_to_name()`` (canonical name),
    ``audit_machine_to_elf()`` (the AUDIT_ARCH_* value auditctl puts in rules).
  * Accepted names (``uname -m`` spellings such as i686, armv7l, armv8l): every
    identifier-like string in libaudit.so.1 that ``audit_name_to_machine()``
    accepts -- libaudit can only match names stored in its own string table.
Syscalls (gen_syscalls.rs)
  * ``ausyscall <machine> --dump`` (package auditd), i.e. libaudit's own
    per-machine tables, which auparse and auditctl use. Machines whose tables
    are identical (ppc64, ppc, ppc64le) share one (see syscall_table_groups).
errno (gen_errno.rs)
  * Names: libaudit's ``audit_errno_to_name()`` for 1..4095 (what auparse prints
    when it interprets ``exit``); aliases: the ``#define E<alias> E<name>``
    lines of /usr/include/asm-generic/errno{-base,}.h.
  * Descriptions: glibc ``strerror()`` in the C locale (auparse appends it in
    parentheses: ``EACCES(Permission denied)``).

python3-audit (the SWIG bindings of libaudit/auparse) only imports under the
system interpreter, so every libaudit question is asked in a subprocess of
``/usr/bin/python3`` (override with the AUDITLINK_SYSTEM_PYTHON variable); this
script itself may run in any interpreter, e.g. a venv.

The cross-check compares the committed tables, entry by entry, with routes the
generator does not use: ``audit_name_to_msg_type``, the list ``ausearch -m``
prints, ``audit_syscall_to_name``/``audit_name_to_syscall`` for every number and
name, ``audit_elf_to_machine`` for every AUDIT_ARCH_* of the kernel header, and
auparse's interpretation of synthetic SYSCALL records (``arch``, ``syscall``,
``exit`` fields). Known, explained differences are printed as notes; anything
else is a mismatch and makes the script exit with status 1.
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "rust" / "audit" / "tables"
SYSTEM_PYTHON = os.environ.get("AUDITLINK_SYSTEM_PYTHON", "/usr/bin/python3")

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

GENERATED = "// @generated by tools/gen_tables.py -- do not edit by hand; re-run the script.\n"
FILES = ("gen_message_types.rs", "gen_machines.rs", "gen_syscalls.rs", "gen_errno.rs")


# --------------------------------------------------------------------------
# Questions for libaudit, asked under the system interpreter.
# --------------------------------------------------------------------------


def _libaudit_path() -> str:
    with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
        for line in maps:
            path = line.split()[-1]
            if re.search(r"/libaudit\.so(\.\d+)*$", path):
                return path
    raise SystemExit("cannot locate libaudit.so in /proc/self/maps")


def _helper_main(mode: str) -> None:
    """Runs under /usr/bin/python3 (which has python3-audit); JSON in, JSON out."""
    import audit  # type: ignore[import-not-found]
    import auparse  # type: ignore[import-not-found]

    request = json.load(sys.stdin)
    out: dict[str, Any] = {}
    out["msg_names"] = {
        n: name for n in range(65536) if (name := audit.audit_msg_type_to_name(n)) is not None
    }
    out["machines"] = [
        [i, audit.audit_machine_to_name(i), audit.audit_machine_to_elf(i)] for i in range(64)
    ]
    if mode == "collect":
        # libaudit can only match a machine name stored in its own string table,
        # so probing every identifier-like string of the library finds them all.
        with open(_libaudit_path(), "rb") as f:
            blob = f.read()
        strings = sorted({m.decode() for m in re.findall(rb"[A-Za-z][A-Za-z0-9_]{1,31}", blob)})
        out["machine_names"] = {
            s: index for s in strings if (index := audit.audit_name_to_machine(s)) >= 0
        }
        out["errnos"] = {
            n: [name, os.strerror(n)]
            for n in range(1, 4096)
            if (name := audit.audit_errno_to_name(n)) is not None
        }
    elif mode == "verify":
        out["msg_by_name"] = {s: audit.audit_name_to_msg_type(s) for s in request["msg_names"]}
        out["name_to_machine"] = {
            s: audit.audit_name_to_machine(s) for s in request["machine_names"]
        }
        out["elf_to_machine"] = {str(e): audit.audit_elf_to_machine(e) for e in request["arches"]}
        out["syscall_names"] = {}
        out["syscall_numbers"] = {}
        for index, machine in request["machines"]:
            out["syscall_names"][machine] = {
                n: name
                for n in range(-1, 4096)
                if (name := audit.audit_syscall_to_name(n, index)) is not None
            }
            out["syscall_numbers"][machine] = {
                s: audit.audit_name_to_syscall(s, index) for s in request["syscall_names"][machine]
            }
        out["errno_names"] = {
            n: name
            for n in range(-4096, 4096)
            if (name := audit.audit_errno_to_name(n)) is not None
        }
        out["errno_by_name"] = {s: audit.audit_name_to_errno(s) for s in request["errno_names"]}
        # auparse's interpretation of synthetic SYSCALL records, one event each.
        text = "".join(
            f"type=SYSCALL msg=audit(1700000000.000:{i + 1}): arch={arch:x} syscall={nr} "
            f"success=no exit={exit_} a0=0 a1=0 a2=0 a3=0 items=0\n"
            for i, (arch, nr, exit_) in enumerate(request["records"])
        )
        parser = auparse.AuParser(auparse.AUSOURCE_BUFFER, text)
        interpreted = []
        while parser.parse_next_event():
            parser.first_record()
            row = []
            for name in ("arch", "syscall", "exit"):
                parser.find_field(name)
                row.append(parser.interpret_field())
            interpreted.append(row)
        out["interpreted"] = interpreted
    else:
        raise SystemExit(f"unknown helper mode {mode!r}")
    json.dump(out, sys.stdout)


def ask_libaudit(mode: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
    env = dict(os.environ, LC_ALL="C", LANG="C", LANGUAGE="")
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(Path(__file__).resolve()), "--libaudit-helper", mode],
        input=json.dumps(request or {}),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{SYSTEM_PYTHON} (python3-audit) failed:\n{proc.stderr.strip()}")
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


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


# --------------------------------------------------------------------------
# The data model.
# --------------------------------------------------------------------------


def kind_of(number: int) -> str:
    """Kind by the ranges of linux/audit.h, plus the kernel's own exceptions.

    1000-1099 commands/replies, 1100-1199 and 2100-2999 user-space messages,
    everything else records (kernel events; 1200-1299 are auditd's own records,
    which never travel over netlink). Two numbers in the command block are not
    commands: AUDIT_USER (1005) is a user message (kernel/audit.c
    audit_netlink_ok() accepts it with the user ranges), and AUDIT_LOGIN (1006)
    is an event the kernel emits when a loginuid is set (kernel/auditsc.c
    audit_log_set_loginuid()). Must agree with message_type_kind() in mod.rs.
    """
    if number == 1005:
        return "UserMessage"
    if number == 1006:
        return "KernelEvent"
    if 1000 <= number <= 1099:
        return "Control"
    if 1100 <= number <= 1199 or 2100 <= number <= 2999:
        return "UserMessage"
    return "KernelEvent"


@dataclass
class MessageType:
    number: int
    canonical: str
    aliases: list[str]
    libaudit_named: bool  # False: auparse prints UNKNOWN[number]

    @property
    def names(self) -> list[str]:
        return [self.canonical, *self.aliases]


@dataclass
class MachineInfo:
    variant: str  # Rust enum variant
    member: str  # libaudit machine_t member
    index: int  # its value
    name: str  # audit_machine_to_name
    arch: int  # audit_machine_to_elf
    names: list[str]  # every name audit_name_to_machine accepts, lower case


@dataclass
class Tables:
    versions: dict[str, str]
    libaudit_version: str
    message_types: list[MessageType] = field(default_factory=list)
    machines: list[MachineInfo] = field(default_factory=list)
    unsupported_machines: list[str] = field(default_factory=list)
    syscalls: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # by variant
    errnos: list[tuple[int, str, str]] = field(default_factory=list)
    errno_aliases: list[tuple[str, int]] = field(default_factory=list)


def collect() -> Tables:
    t = Tables(
        versions={
            "libaudit": package_version("libaudit1"),
            "auditd (ausyscall)": package_version("auditd"),
            "linux-libc-dev": package_version("linux-libc-dev"),
            "kernel headers": kernel_header_version(),
            "libc6": package_version("libc6"),
        },
        libaudit_version=ausearch_version(),
    )
    live = ask_libaudit("collect")

    libaudit_names = {int(k): v for k, v in live["msg_names"].items()}
    headers: dict[int, list[str]] = {}
    sources = [header_message_types(KERNEL_AUDIT_H), header_message_types(LIBAUDIT_H)]
    for pairs in [*sources, UPSTREAM_MESSAGE_TYPES]:
        for number, name in pairs:
            names = headers.setdefault(number, [])
            if name not in names:
                names.append(name)
    seen: dict[str, int] = {}
    for number in sorted(set(headers) | set(libaudit_names)):
        header_names = headers.get(number, [])
        canonical = libaudit_names.get(number) or header_names[0]
        entry = MessageType(
            number=number,
            canonical=canonical,
            aliases=[n for n in header_names if n != canonical],
            libaudit_named=number in libaudit_names,
        )
        for name in entry.names:
            if not name.isidentifier() or keyword.iskeyword(name):
                raise SystemExit(f"message type name {name!r} is not a Python identifier")
            if name in seen:
                raise SystemExit(f"name {name} used for {seen[name]} and {number}")
            seen[name] = number
        t.message_types.append(entry)

    live_machines = {i: (name, elf) for i, name, elf in live["machines"]}
    accepted: dict[int, list[str]] = {}
    for name, index in sorted(live["machine_names"].items()):
        accepted.setdefault(index, []).append(name.lower())
    for index, member in enumerate(libaudit_machine_enum()):
        if member not in MACHINE_VARIANTS:
            raise SystemExit(f"libaudit.h has a new machine {member}: add it to MACHINE_VARIANTS")
        variant = MACHINE_VARIANTS[member]
        name, elf = live_machines.get(index, (None, 0))
        if name is None or not elf:
            t.unsupported_machines.append(f"{variant} ({member})")
            continue
        names = sorted(set(accepted.get(index, [])) | {name})
        t.machines.append(MachineInfo(variant, member, index, name, elf, names))

    for m in t.machines:
        lines = run(["ausyscall", m.name, "--dump"]).splitlines()
        if not lines or lines[0].strip() != f"Using {m.name} syscall table:":
            raise SystemExit(f"ausyscall {m.name} --dump: unexpected output {lines[:1]!r}")
        entries = []
        for line in lines[1:]:
            mm = re.fullmatch(r"(\d+)\t([a-z0-9_]+)", line)
            if not mm:
                raise SystemExit(f"ausyscall {m.name} --dump: bad line {line!r}")
            entries.append((int(mm.group(1)), mm.group(2)))
        entries.sort()
        numbers = [n for n, _ in entries]
        names = [s for _, s in entries]
        if len(set(numbers)) != len(numbers) or len(set(names)) != len(names):
            raise SystemExit(f"ausyscall {m.name} --dump: duplicate numbers or names")
        if numbers and numbers[-1] > 0xFFFF:
            raise SystemExit(f"ausyscall {m.name} --dump: number too large for u16")
        t.syscalls[m.variant] = entries

    t.errnos = sorted((int(n), name, text) for n, (name, text) in live["errnos"].items())
    by_name = {name: number for number, name, _ in t.errnos}
    for alias, target in sorted(errno_header_aliases().items()):
        if target in by_name and alias not in by_name:
            t.errno_aliases.append((alias, by_name[target]))
    return t


# --------------------------------------------------------------------------
# Rust output.
# --------------------------------------------------------------------------


def rust_str(s: str) -> str:
    if not re.fullmatch(r"[ -~]*", s) or '"' in s or "\\" in s:
        raise SystemExit(f"unexpected character in {s!r}")
    return f'"{s}"'


def file_header(t: Tables, lines: Sequence[str]) -> str:
    out = [GENERATED, "//\n"]
    out.extend(f"// {line}\n" if line else "//\n" for line in lines)
    out.append("//\n// Versions of the sources:\n")
    out.extend(f"//   {k} {v}\n" for k, v in t.versions.items())
    return "".join(out)


def rust_doc(doc: str | Sequence[str]) -> str:
    lines = [doc] if isinstance(doc, str) else doc
    return "".join(f"/// {line}\n" if line else "///\n" for line in lines)


def rust_slice(doc: str | Sequence[str], declaration: str, rows: Iterable[str]) -> str:
    """``declaration = &[ rows ];`` with its doc comment, one row a line."""
    body = "".join(f"    {row},\n" for row in rows)
    return f"{rust_doc(doc)}{declaration} = &[\n{body}];\n"


def rust_match_fn(
    doc: str,
    signature: str,
    scrutinee: str,
    arms: Iterable[tuple[str, str]],
    otherwise: str | None = None,
) -> str:
    """A function that is one ``match``: ``pattern => value`` per arm."""
    body = "".join(f"        {pattern} => {value},\n" for pattern, value in arms)
    if otherwise is not None:
        body += f"        _ => {otherwise},\n"
    return f"{rust_doc(doc)}{signature} {{\n    match {scrutinee} {{\n{body}    }}\n}}\n"


def rust_file(header: str, items: Iterable[str]) -> str:
    """The header, then the items separated by blank lines."""
    return "\n".join([header, *items])


def render_message_types(t: Tables) -> str:
    unnamed = [m for m in t.message_types if not m.libaudit_named]
    header = file_header(
        t,
        [
            "Audit message types: the AUDIT_* numbers of /usr/include/linux/audit.h and",
            "/usr/include/libaudit.h (range markers AUDIT_FIRST_*/AUDIT_LAST_* left out),",
            "named as libaudit's audit_msg_type_to_name() names them (what auparse and",
            "ausearch print in `type=`). Sorted by number; for a number with several",
            "names the canonical one comes first, aliases after.",
            "",
            "Differences from libaudit's name table:",
            *[
                f"  {m.number} {m.canonical}: not in libaudit's table (ausearch prints "
                f"UNKNOWN[{m.number}]); header name kept."
                for m in unnamed
            ],
            *[
                f"  {m.number} {alias}: header name, alias of {m.canonical} (libaudit only "
                f"accepts {m.canonical})."
                for m in t.message_types
                for alias in m.aliases
            ],
        ],
    )
    return rust_file(
        header,
        [
            "use super::MessageKind::{self, Control, KernelEvent, UserMessage};\n"
            "use super::MessageTypeInfo;\n",
            rust_doc("The audit userspace release all tables come from (`ausearch -v`).")
            + f"pub const LIBAUDIT_VERSION: &str = {rust_str(t.libaudit_version)};\n",
            "const fn t(number: u16, name: &'static str, kind: MessageKind) -> MessageTypeInfo {\n"
            "    MessageTypeInfo { number, name, kind }\n}\n",
            rust_slice(
                "Every known message type, sorted by number (canonical name first).",
                "pub static MESSAGE_TYPES: &[MessageTypeInfo]",
                (
                    f"t({m.number}, {rust_str(name)}, {kind_of(m.number)})"
                    for m in t.message_types
                    for name in m.names
                ),
            ),
            rust_slice(
                [
                    "Numbers of MESSAGE_TYPES that libaudit has no name for (auparse and",
                    "ausearch print them as `UNKNOWN[n]`). Sorted.",
                ],
                "pub(super) static LIBAUDIT_UNNAMED: &[u16]",
                (str(m.number) for m in unnamed),
            ),
            render_message_type_constants(t),
            rust_slice(
                "Every name of MESSAGE_TYPES (canonical and aliases), sorted by name.",
                "pub(super) static MESSAGE_TYPES_BY_NAME: &[(&str, u16)]",
                (
                    f"({rust_str(name)}, {n})"
                    for name, n in sorted(
                        (name, m.number) for m in t.message_types for name in m.names
                    )
                ),
            ),
        ],
    )


def render_message_type_constants(t: Tables) -> str:
    """``pub mod msg``: one constant per name of MESSAGE_TYPES (canonical and aliases)
    and per range marker of the headers, so no other file retypes a number."""
    consts = [(m.number, name) for m in t.message_types for name in m.names]
    consts += header_range_markers()
    body = "".join(f"    pub const {name}: u16 = {number};\n" for number, name in consts)
    doc = rust_doc(
        [
            "Named message type numbers (`msg::SYSCALL`, `msg::ADD_RULE`): every name of",
            "MESSAGE_TYPES, then the headers' range markers (`FIRST_EVENT`, ...).",
        ]
    )
    return f"{doc}pub mod msg {{\n{body}}}\n"


def render_machines(t: Tables) -> str:
    header = file_header(
        t,
        [
            "Machine families: the machine_t enum of /usr/include/libaudit.h, where the",
            "installed libaudit has a name for it (audit_machine_to_name) and an",
            "AUDIT_ARCH_* value (audit_machine_to_elf). Accepted names: every string of",
            "libaudit.so.1 that audit_name_to_machine() accepts (case-insensitively).",
            "",
            "Left out (no name or arch in this libaudit build):",
            f"  {', '.join(t.unsupported_machines) or 'none'}.",
        ],
    )
    variants = "".join(
        f"    /// libaudit `{m.member}`: {m.name}, `AUDIT_ARCH` 0x{m.arch:08x}.\n    {m.variant},\n"
        for m in t.machines
    )
    return rust_file(
        header,
        [
            rust_doc(
                [
                    "A machine family (syscall table) libaudit knows.",
                    "",
                    "The variants follow libaudit's `machine_t` order.",
                ]
            )
            + "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n"
            f"pub enum Machine {{\n{variants}}}\n",
            rust_slice(
                "All machines, in libaudit's `machine_t` order.",
                "pub(super) static MACHINES: &[Machine]",
                (f"Machine::{m.variant}" for m in t.machines),
            ),
            rust_match_fn(
                "libaudit's name of each machine (audit_machine_to_name).",
                "pub(super) const fn machine_name(machine: Machine) -> &'static str",
                "machine",
                ((f"Machine::{m.variant}", rust_str(m.name)) for m in t.machines),
            ),
            rust_match_fn(
                "The AUDIT_ARCH_* value of each machine (audit_machine_to_elf).",
                "pub(super) const fn machine_audit_arch(machine: Machine) -> u32",
                "machine",
                ((f"Machine::{m.variant}", f"0x{m.arch:08x}") for m in t.machines),
            ),
            rust_match_fn(
                "The machine of an AUDIT_ARCH_* value (audit_elf_to_machine).",
                "pub(super) const fn machine_of_audit_arch(arch: u32) -> Option<Machine>",
                "arch",
                (
                    (f"0x{m.arch:08x}", f"Some(Machine::{m.variant})")
                    for m in sorted(t.machines, key=lambda m: m.arch)
                ),
                otherwise="None",
            ),
            rust_slice(
                "Every name audit_name_to_machine() accepts, lower case, sorted.",
                "pub(super) static MACHINE_NAMES: &[(&str, Machine)]",
                (
                    f"({rust_str(name)}, Machine::{variant})"
                    for name, variant in sorted(
                        (name, m.variant) for m in t.machines for name in m.names
                    )
                ),
            ),
        ],
    )


def syscall_table_groups(t: Tables) -> list[tuple[str, list[MachineInfo]]]:
    """Machines with identical syscall tables share one: ``(table name, machines)``
    in machine order. The table is named after the machine whose name starts the
    names of all the others (ppc for ppc64, ppc, ppc64le), else after them all."""
    groups: dict[tuple[tuple[int, str], ...], list[MachineInfo]] = {}
    for m in t.machines:
        groups.setdefault(tuple(t.syscalls[m.variant]), []).append(m)
    named = []
    for machines in groups.values():
        stem = next((m for m in machines if all(o.name.startswith(m.name) for o in machines)), None)
        name = stem.variant.upper() if stem else "_".join(m.variant.upper() for m in machines)
        named.append((name, machines))
    return named


def render_syscalls(t: Tables) -> str:
    groups = syscall_table_groups(t)
    table = {m.variant: name for name, machines in groups for m in machines}
    shared = [
        f"  {', '.join(m.name for m in machines)}: one table"
        for _, machines in groups
        if len(machines) > 1
    ]
    header = file_header(
        t,
        [
            "Syscall tables: `ausyscall <machine> --dump` for every machine of",
            "gen_machines.rs, i.e. libaudit's own per-machine tables (which auparse",
            "and auditctl use). Number of syscalls per machine:",
            *[f"  {m.name} {len(t.syscalls[m.variant])}" for m in t.machines],
            "Machines with identical tables share them:",
            *(shared or ["  none"]),
        ],
    )
    items = [
        "use super::Machine;\n",
        rust_doc("A syscall table sorted by number.")
        + "pub(super) type ByNumber = &'static [(u16, &'static str)];\n"
        + rust_doc("A syscall table sorted by name.")
        + "pub(super) type ByName = &'static [(&'static str, u16)];\n",
        rust_match_fn(
            "The tables of a machine.",
            "pub(super) const fn syscall_tables(machine: Machine) -> (ByNumber, ByName)",
            "machine",
            (
                (
                    f"Machine::{m.variant}",
                    f"({table[m.variant]}_BY_NUMBER, {table[m.variant]}_BY_NAME)",
                )
                for m in t.machines
            ),
        ),
    ]
    for name, machines in groups:
        entries = t.syscalls[machines[0].variant]
        names = ", ".join(m.name for m in machines)
        items.append(
            rust_slice(
                f"{names} ({len(entries)} syscalls), sorted by number.",
                f"static {name}_BY_NUMBER: &[(u16, &str)]",
                (f"({n}, {rust_str(s)})" for n, s in entries),
            )
        )
        items.append(
            rust_slice(
                f"{names}, sorted by name.",
                f"static {name}_BY_NAME: &[(&str, u16)]",
                (f"({rust_str(s)}, {n})" for s, n in sorted((s, n) for n, s in entries)),
            )
        )
    return rust_file(header, items)


def render_errno(t: Tables) -> str:
    known = {n for n, _, _ in t.errnos}
    highest = t.errnos[-1][0]
    missing = ", ".join(str(n) for n in range(1, highest + 1) if n not in known) or "none"
    header = file_header(
        t,
        [
            "errno names: libaudit's audit_errno_to_name() (what auparse prints when it",
            "interprets `exit`); descriptions: glibc strerror() in the C locale (auparse",
            "appends it: `EACCES(Permission denied)`); aliases: the `#define E<alias>",
            "E<name>` lines of /usr/include/asm-generic/errno{-base,}.h.",
            f"Numbers without a name below {highest}: {missing} (unused on Linux).",
        ],
    )
    return rust_file(
        header,
        [
            rust_slice(
                "(errno, name, strerror text), sorted by errno.",
                "pub(super) static ERRNOS: &[(i32, &str, &str)]",
                (f"({n}, {rust_str(name)}, {rust_str(text)})" for n, name, text in t.errnos),
            ),
            rust_slice(
                "Every errno name and alias, sorted by name.",
                "pub(super) static ERRNO_BY_NAME: &[(&str, i32)]",
                (
                    f"({rust_str(name)}, {n})"
                    for name, n in sorted([(name, n) for n, name, _ in t.errnos] + t.errno_aliases)
                ),
            ),
        ],
    )


def rustfmt(source: str) -> str:
    exe = shutil.which("rustfmt")
    if exe is None:
        raise SystemExit("rustfmt not found (install the Rust toolchain)")
    proc = subprocess.run(
        [exe, "--edition", "2021", "--emit", "stdout"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"rustfmt failed:\n{proc.stderr}")
    return proc.stdout


def render_all(t: Tables) -> dict[str, str]:
    renderers = (render_message_types, render_machines, render_syscalls, render_errno)
    return {name: rustfmt(render(t)) for name, render in zip(FILES, renderers)}


# --------------------------------------------------------------------------
# The cross-check: the COMMITTED files against the live tools.
# --------------------------------------------------------------------------


def _between(text: str, start: str, end: str) -> str:
    if start not in text:
        raise SystemExit(f"cannot find {start!r} in the generated file")
    return text.split(start, 1)[1].split(end, 1)[0]


class Committed:
    """The committed gen_*.rs files, read back (they are rustfmt'd; allow line breaks)."""

    def __init__(self) -> None:
        msg = (OUT_DIR / "gen_message_types.rs").read_text(encoding="utf-8")
        body = _between(msg, "pub static MESSAGE_TYPES", "];")
        self.message_types = [
            (int(n), s, k)
            for n, s, k in re.findall(r't\(\s*(\d+),\s*"([A-Z0-9_]+)",\s*(\w+),?\s*\)', body)
        ]
        self.libaudit_version = _between(msg, 'LIBAUDIT_VERSION: &str = "', '"')
        body = _between(msg, "MESSAGE_TYPES_BY_NAME", "];")
        self.message_types_by_name = [
            (s, int(n)) for s, n in re.findall(r'\(\s*"([A-Z0-9_]+)",\s*(\d+),?\s*\)', body)
        ]
        body = _between(msg, "LIBAUDIT_UNNAMED", "];")
        self.libaudit_unnamed = {int(n) for n in re.findall(r"\b(\d+)\b", body)}
        mach = (OUT_DIR / "gen_machines.rs").read_text(encoding="utf-8")
        self.machines = re.findall(r"Machine::(\w+)", _between(mach, "MACHINES: &[Machine]", "];"))
        body = _between(mach, "fn machine_name", "\n}")
        self.machine_name = dict(re.findall(r'Machine::(\w+) => "([^"]+)"', body))
        body = _between(mach, "fn machine_audit_arch", "\n}")
        self.machine_arch = {
            v: int(a, 16) for v, a in re.findall(r"Machine::(\w+) => (0x[0-9a-f]+)", body)
        }
        body = _between(mach, "MACHINE_NAMES", "];")
        self.machine_names = dict(re.findall(r'\(\s*"([^"]+)",\s*Machine::(\w+),?\s*\)', body))
        sysc = (OUT_DIR / "gen_syscalls.rs").read_text(encoding="utf-8")
        # Each machine's tables, by the names syscall_tables() gives (shared tables).
        body = _between(sysc, "fn syscall_tables", "\n}")
        self.syscall_tables = {
            v: (by_number, by_name)
            for v, by_number, by_name in re.findall(
                r"Machine::(\w+) => \(\s*(\w+),\s*(\w+),?\s*\)", body
            )
        }
        self.syscalls: dict[str, list[tuple[int, str]]] = {}
        self.syscalls_by_name: dict[str, list[tuple[str, int]]] = {}
        for variant in self.machines:
            by_number, by_name = self.syscall_tables.get(variant, ("?", "?"))
            body = _between(sysc, f"static {by_number}:", "];")
            self.syscalls[variant] = [
                (int(n), s) for n, s in re.findall(r'\(\s*(\d+),\s*"([a-z0-9_]+)",?\s*\)', body)
            ]
            body = _between(sysc, f"static {by_name}:", "];")
            self.syscalls_by_name[variant] = [
                (s, int(n)) for s, n in re.findall(r'\(\s*"([a-z0-9_]+)",\s*(\d+),?\s*\)', body)
            ]
        err = (OUT_DIR / "gen_errno.rs").read_text(encoding="utf-8")
        body = _between(err, "ERRNOS", "];")
        self.errnos = {
            int(n): (name, text)
            for n, name, text in re.findall(
                r'\(\s*(\d+),\s*"([A-Z0-9]+)",\s*"([^"]*)",?\s*\)', body
            )
        }
        body = _between(err, "ERRNO_BY_NAME", "];")
        self.errno_by_name = {
            a: int(n) for a, n in re.findall(r'\(\s*"([A-Z0-9]+)",\s*(\d+),?\s*\)', body)
        }


class Report:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.notes: list[str] = []

    def expect(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)


def cross_check() -> int:
    """Compare every committed entry with the live tools; return the mismatch count."""
    c = Committed()
    r = Report()
    index_of = {MACHINE_VARIANTS.get(m, m): i for i, m in enumerate(libaudit_machine_enum())}
    kernel_arches = kernel_audit_arches()
    arches = sorted(set(kernel_arches.values()) | set(c.machine_arch.values()) | {0, 0x12345})
    host_arch = c.machine_arch.get("X86_64", 0)
    records: list[tuple[int, int, int]] = []
    for v in c.machines:
        records.extend((c.machine_arch[v], nr, -1) for nr, _ in c.syscalls[v])
        records.append((c.machine_arch[v], 4000, -1))  # a number no table has
    records.extend((arch, 0, -1) for arch in arches)
    records.extend((host_arch, 0, -n) for n in range(1, 4200))

    names = sorted({s for _, s, _ in c.message_types})
    live = ask_libaudit(
        "verify",
        {
            "machines": [[index_of[v], c.machine_name[v]] for v in c.machines],
            "msg_names": names + [s.lower() for s in names],
            "machine_names": sorted(
                set(c.machine_names)
                | {s.upper() for s in c.machine_names}
                | {"b32", "b64", "riscv64", "ia64", "alpha"}
            ),
            "arches": arches,
            "syscall_names": {
                c.machine_name[v]: sorted(
                    {s for _, s in c.syscalls[v]}
                    | {s.upper() for _, s in c.syscalls[v]}
                    | {"no_such_syscall"}
                )
                for v in c.machines
            },
            "errno_names": sorted(
                set(c.errno_by_name) | {s.lower() for s in c.errno_by_name} | {"ENOTSUP", "EBOGUS"}
            ),
            "records": records,
        },
    )

    r.expect(
        ausearch_version() == c.libaudit_version,
        f"tables from libaudit {c.libaudit_version}, installed {ausearch_version()}",
    )

    # ---- message types
    live_names = {int(k): v for k, v in live["msg_names"].items()}
    canonical: dict[int, str] = {}
    for n, s, _ in c.message_types:
        canonical.setdefault(n, s)
    numbers = [n for n, _, _ in c.message_types]
    r.expect(numbers == sorted(numbers), "MESSAGE_TYPES is not sorted by number")
    r.expect(
        c.message_types_by_name == sorted((s, n) for n, s, _ in c.message_types),
        "MESSAGE_TYPES_BY_NAME is not MESSAGE_TYPES sorted by name",
    )
    for n, name in sorted(live_names.items()):
        r.expect(canonical.get(n) == name, f"type {n}: table {canonical.get(n)}, libaudit {name}")
    for n, name in sorted(canonical.items()):
        if n in live_names:
            r.expect(n not in c.libaudit_unnamed, f"type {n} {name} in LIBAUDIT_UNNAMED")
        elif n in c.libaudit_unnamed:
            r.notes.append(f"type {n} {name}: libaudit has no name (ausearch: UNKNOWN[{n}])")
        else:
            r.problems.append(f"type {n} {name}: libaudit has no name, LIBAUDIT_UNNAMED lacks it")
    for n, s, kind in c.message_types:
        r.expect(kind == kind_of(n), f"type {n} {s}: kind {kind}, expected {kind_of(n)}")
        if s == canonical[n] and n in live_names:
            for asked in (s, s.lower()):
                got = live["msg_by_name"][asked]
                r.expect(got == n, f"audit_name_to_msg_type({asked!r}) = {got}, table {n}")
        elif s != canonical[n]:
            got = live["msg_by_name"][s]
            r.notes.append(f"alias {s} of {n} {canonical[n]}: audit_name_to_msg_type gives {got}")
    listed = re.search(r"Valid message types are:(.*)", run(["ausearch", "-m", "NO_SUCH_TYPE"]))
    if listed is None:
        r.problems.append("could not read the list of message types from `ausearch -m`")
    else:
        by_ausearch = set(listed.group(1).split()) - {"ALL"}
        ours = {s for n, s in canonical.items() if n not in c.libaudit_unnamed}
        for s in sorted(by_ausearch ^ ours):
            r.problems.append(f"{s}: ausearch -m lists it {s in by_ausearch}, table {s in ours}")
    markers = ", ".join(f"{s}={n}" for n, s in header_range_markers())
    r.notes.append(f"range markers left out: {markers}")

    # ---- machines
    live_machines = {i: (name, elf) for i, name, elf in live["machines"]}
    ours_index = {index_of[v] for v in c.machines}
    for v in c.machines:
        name, elf = live_machines[index_of[v]]
        r.expect(name == c.machine_name[v], f"machine {v}: {c.machine_name[v]}, libaudit {name}")
        r.expect(
            elf == c.machine_arch[v], f"machine {v}: 0x{c.machine_arch[v]:x}, libaudit 0x{elf:x}"
        )
    for i, (name, _) in sorted(live_machines.items()):
        r.expect(name is None or i in ours_index, f"libaudit machine {i} {name} missing")
    for asked, got in sorted(live["name_to_machine"].items()):
        variant = c.machine_names.get(asked.lower())
        want = index_of[variant] if variant else -1
        r.expect(got == want, f"audit_name_to_machine({asked!r}) = {got}, table {variant}")
    arch_to_variant = {a: v for v, a in c.machine_arch.items()}
    for arch in arches:
        got = live["elf_to_machine"][str(arch)]
        variant = arch_to_variant.get(arch)
        want = index_of[variant] if variant else -1
        r.expect(got == want, f"audit_elf_to_machine(0x{arch:x}) = {got}, table {variant}")
    unmapped = sorted(k for k, a in kernel_arches.items() if a not in arch_to_variant)
    r.notes.append(f"kernel AUDIT_ARCH_* without a libaudit machine: {', '.join(unmapped)}")

    # ---- syscalls
    for v in c.machines:
        machine = c.machine_name[v]
        table = dict(c.syscalls[v])
        r.expect(
            [n for n, _ in c.syscalls[v]] == sorted(table), f"{machine}: not sorted or duplicated"
        )
        r.expect(
            c.syscalls_by_name[v] == sorted((s, n) for n, s in c.syscalls[v]),
            f"{machine}: the by-name table is not the by-number table sorted by name",
        )
        live_table = {int(k): s for k, s in live["syscall_names"][machine].items()}
        for n in sorted(set(table) | set(live_table)):
            r.expect(
                table.get(n) == live_table.get(n),
                f"{machine} {n}: table {table.get(n)}, audit_syscall_to_name {live_table.get(n)}",
            )
        by_name = {s: n for n, s in c.syscalls[v]}
        for asked, got in sorted(live["syscall_numbers"][machine].items()):
            want = by_name.get(asked.lower(), -1)
            r.expect(
                got == want, f"{machine} audit_name_to_syscall({asked!r}) = {got}, table {want}"
            )

    # ---- errno
    live_errnos = {int(k): s for k, s in live["errno_names"].items()}
    for n in sorted(set(c.errnos) | set(live_errnos)):
        ours = c.errnos.get(n, (None, None))[0]
        r.expect(
            ours == live_errnos.get(n), f"errno {n}: table {ours}, libaudit {live_errnos.get(n)}"
        )
    for n, (name, _) in sorted(c.errnos.items()):
        got = c.errno_by_name.get(name)
        r.expect(got == n, f"ERRNO_BY_NAME has {name} = {got}, ERRNOS {n}")
    for asked, got in sorted(live["errno_by_name"].items()):
        want = c.errno_by_name.get(asked.upper(), 0)
        r.expect(got == want, f"audit_name_to_errno({asked!r}) = {got}, table {want}")

    # ---- auparse's interpretation of the synthetic records
    interpreted = live["interpreted"]
    r.expect(len(interpreted) == len(records), f"auparse: {len(interpreted)} of {len(records)}")
    for (arch, nr, exit_), (arch_text, nr_text, exit_text) in zip(records, interpreted):
        variant = arch_to_variant.get(arch)
        want_arch = c.machine_name[variant] if variant else f"unknown-elf-type({arch:x})"
        r.expect(
            arch_text == want_arch, f"auparse arch={arch:x}: {arch_text!r}, table {want_arch!r}"
        )
        if variant:
            want_nr = dict(c.syscalls[variant]).get(nr) or f"unknown-syscall({nr})"
            r.expect(
                nr_text == want_nr,
                f"auparse {variant} syscall={nr}: {nr_text!r}, table {want_nr!r}",
            )
        errno_name, errno_text = c.errnos.get(-exit_, ("(null)", f"Unknown error {-exit_}"))
        want_exit = f"{errno_name}({errno_text})"
        r.expect(
            exit_text == want_exit, f"auparse exit={exit_}: {exit_text!r}, table {want_exit!r}"
        )
    r.notes.append(
        "auparse interprets an errno libaudit cannot name as '(null)(Unknown error N)' "
        "(a NULL printed by printf; checked for 1..4199)"
    )

    for line in r.notes:
        print("note:", line)
    for line in r.problems:
        print("MISMATCH:", line)
    per_machine = "/".join(f"{c.machine_name[v]} {len(c.syscalls[v])}" for v in c.machines)
    print(
        f"cross-check: {len(c.message_types)} message type entries ({len(canonical)} numbers), "
        f"{len(c.machines)} machines, syscalls {per_machine}, {len(c.errnos)} errnos "
        f"(+{len(c.errno_by_name) - len(c.errnos)} aliases), {len(records)} auparse records: "
        f"{len(r.problems)} mismatches"
    )
    return len(r.problems)


def main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "--libaudit-helper":
        _helper_main(argv[1])
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--check",
        action="store_true",
        help="fail if the committed files are not what the generator makes; then cross-check",
    )
    group.add_argument(
        "--cross-check",
        action="store_true",
        help="only compare the committed tables with the live tools",
    )
    args = parser.parse_args(argv)

    if args.cross_check:
        return 1 if cross_check() else 0

    files = render_all(collect())
    if args.check:
        stale = []
        for name, text in files.items():
            path = OUT_DIR / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
                print(f"STALE: {path.relative_to(ROOT)} is not what the generator makes")
        if not stale:
            print(f"generated files are current: {', '.join(files)}")
        mismatches = cross_check()
        return 1 if stale or mismatches else 0

    for name, text in files.items():
        (OUT_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {(OUT_DIR / name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
