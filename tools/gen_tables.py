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

This file is the command line; the work is in tools/tablegen/: sources.py (header
parsing, the tools asked), libaudit_helper.py (the libaudit questions), model.py
(the tables collected), render.py (the Rust output), cross_check.py.

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
    two exceptions the kernel itself makes (see ``kind_of`` in tablegen/model.py).
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
    are identical (ppc64, ppc, ppc64le) share one (see syscall_table_groups in
    tablegen/render.py).
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
import re
import sys
from collections.abc import Sequence

from tablegen.cross_check import cross_check
from tablegen.libaudit_helper import helper_main
from tablegen.model import collect
from tablegen.render import render_all
from tablegen.sources import OUT_DIR, ROOT


def without_versions(text: str) -> str:
    """A generated file without the versions of its sources (its header's
    "Versions of the sources:" lines)."""
    return re.sub(r"(// Versions of the sources:\n)(//   .*\n)*", r"\1", text)


def main(argv: Sequence[str]) -> int:
    if len(argv) == 2 and argv[0] == "--libaudit-helper":
        helper_main(argv[1])
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
            have = path.read_text(encoding="utf-8") if path.exists() else ""
            if have == text:
                continue
            if without_versions(have) == without_versions(text):
                # A machine with a newer point release of a source package
                # (linux-libc-dev, say) makes the same tables.
                print(f"note: {path.relative_to(ROOT)}: the same tables, other source versions")
                continue
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
