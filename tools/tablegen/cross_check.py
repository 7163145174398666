"""The cross-check: the committed gen_*.rs files against the live tools, entry by entry."""

from __future__ import annotations

import re

from .model import kind_of
from .sources import (
    MACHINE_VARIANTS,
    OUT_DIR,
    ask_libaudit,
    ausearch_version,
    header_range_markers,
    kernel_audit_arches,
    libaudit_machine_enum,
    run,
)


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
