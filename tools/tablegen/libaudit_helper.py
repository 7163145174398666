"""The questions for libaudit, run as a script under the system interpreter (python3-audit)."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any


def _libaudit_path() -> str:
    with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
        for line in maps:
            path = line.split()[-1]
            if re.search(r"/libaudit\.so(\.\d+)*$", path):
                return path
    raise SystemExit("cannot locate libaudit.so in /proc/self/maps")


def helper_main(mode: str) -> None:
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


if __name__ == "__main__":
    helper_main(sys.argv[1])
