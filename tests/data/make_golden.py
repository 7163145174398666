"""Dump what libauparse (python3-audit) makes of an audit log, as JSON lines.

Run with Debian's /usr/bin/python3 (the only one that imports ``auparse``):

    /usr/bin/python3 tests/data/make_golden.py LOG OUT.jsonl

One line per record, in auparse's order:
``{"sec", "milli", "serial", "node", "type", "fields": [[name, raw, interpretation], ...]}``.
Strings auparse hands back undecodable are written with "\\udcXX" escapes.
"""

from __future__ import annotations

import json
import sys
from typing import Callable

import auparse  # type: ignore[import-not-found]


def text(f: Callable[[], str]) -> str | None:
    try:
        return f()
    except UnicodeDecodeError as e:
        return e.object.decode("utf-8", "surrogateescape")
    except LookupError:
        return None


def main() -> int:
    log, out_path = sys.argv[1], sys.argv[2]
    au = auparse.AuParser(auparse.AUSOURCE_FILE, log)
    with open(out_path, "w", encoding="utf-8") as out:
        while au.parse_next_event():
            ts = au.get_timestamp()
            while True:
                fields = []
                au.first_field()
                while True:
                    fields.append(
                        [
                            text(au.get_field_name),
                            text(au.get_field_str),
                            text(au.interpret_field),
                        ]
                    )
                    if not au.next_field():
                        break
                rec = {
                    "sec": ts.sec,
                    "milli": ts.milli,
                    "serial": ts.serial,
                    "node": ts.host,
                    "type": text(au.get_type_name) or f"UNKNOWN[{au.get_type()}]",
                    "type_num": au.get_type(),
                    "fields": fields,
                }
                out.write(json.dumps(rec) + "\n")
                if not au.next_record():
                    break
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
