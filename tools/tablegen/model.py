"""The data model of the tables and its collection from the sources."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from .sources import (
    KERNEL_AUDIT_H,
    LIBAUDIT_H,
    MACHINE_VARIANTS,
    UPSTREAM_MESSAGE_TYPES,
    ask_libaudit,
    ausearch_version,
    errno_header_aliases,
    header_message_types,
    kernel_header_version,
    libaudit_machine_enum,
    package_version,
    run,
)


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
