"""Dump what libauparse's normalizer (python3-audit) makes of each event of a log.

Run with Debian's /usr/bin/python3 (the only one that imports ``auparse``):

    /usr/bin/python3 tests/data/normalize/make_golden.py LOG OUT.jsonl [--no-attrs]

One JSON line per event: ``{"sec", "milli", "serial", "kind", "session",
"subject": {"primary", "secondary", "kind", "attributes"}, "action", "result",
"object": {"primary", "secondary", "kind", "attributes"}, "how", "key"}``.
A located field is ``{"name", "value", "interpreted", "record", "field"}`` (the
record and field numbers are found by matching the record text and walking its
fields, since the bindings do not expose auparse_get_record_num/field_num), or
null when the normalizer has none. python3-audit has no getter for the second
object (``auparse_normalize_object_primary2``); ausearch's ``--extra-obj2``
csv column covers it.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

import auparse  # type: ignore[import-not-found]


def text(f: Callable[[], Any]) -> Any:
    try:
        return f()
    except UnicodeDecodeError as e:
        return e.object.decode("utf-8", "surrogateescape")
    except (LookupError, RuntimeError):
        return None


def record_texts(au: Any) -> list[str]:
    texts = []
    au.first_record()
    while True:
        texts.append(au.get_record_text())
        if not au.next_record():
            break
    return texts


def here(au: Any, texts: list[str]) -> dict[str, Any]:
    """The field under the cursor, with its record and field numbers."""
    name = text(au.get_field_name)
    value = text(au.get_field_str)
    interpreted = text(au.interpret_field)
    rec_text = au.get_record_text()
    # The numbers: the record whose text matches, then the position of this
    # (name, value) in it. Only used after everything else was read.
    return {
        "name": name,
        "value": value,
        "interpreted": interpreted,
        "_rec_text": rec_text,
    }


def locate(au: Any, f: dict[str, Any] | None, texts: list[str]) -> dict[str, Any] | None:
    if f is None:
        return None
    rec_text = f.pop("_rec_text")
    record = texts.index(rec_text)
    au.goto_record_num(record)
    au.first_field()
    field = 0
    while True:
        if text(au.get_field_name) == f["name"] and text(au.get_field_str) == f["value"]:
            break
        if not au.next_field():
            field = -1
            break
        field += 1
    f["record"] = record
    f["field"] = field
    return f


def seek(au: Any, getter: Callable[[], int], texts: list[str]) -> dict[str, Any] | None:
    try:
        rc = getter()
    except (RuntimeError, ValueError):
        # A location that no longer exists (seek error): nothing there.
        return None
    if rc != 1:
        return None
    return here(au, texts)


def attributes(
    au: Any, first: Callable[[], int], nxt: Callable[[], int], texts: list[str]
) -> list[Any]:
    out = []
    step = first
    while True:
        try:
            rc = step()
        except ValueError:
            # A location that no longer exists ends the walk, as in ausearch.
            break
        if rc != 1:
            break
        out.append(here(au, texts))
        step = nxt
    return out


def main() -> int:
    log, out_path = sys.argv[1], sys.argv[2]
    opt = auparse.NORM_OPT_NO_ATTRS if "--no-attrs" in sys.argv[3:] else auparse.NORM_OPT_ALL
    au = auparse.AuParser(auparse.AUSOURCE_FILE, log)
    with open(out_path, "w", encoding="utf-8") as out:
        while au.parse_next_event():
            ts = au.get_timestamp()
            texts = record_texts(au)
            au.first_record()
            try:
                au.aup_normalize(opt)
                failed = False
            except RuntimeError:
                failed = True
            ev: dict[str, Any] = {
                "sec": ts.sec,
                "milli": ts.milli,
                "serial": ts.serial,
                "failed": failed,
                "kind": text(au.aup_normalize_get_event_kind),
                "session": seek(au, au.aup_normalize_session, texts),
                "subject": {
                    "primary": seek(au, au.aup_normalize_subject_primary, texts),
                    "secondary": seek(au, au.aup_normalize_subject_secondary, texts),
                    "kind": text(au.aup_normalize_subject_kind),
                    "attributes": attributes(
                        au,
                        au.aup_normalize_subject_first_attribute,
                        au.aup_normalize_subject_next_attribute,
                        texts,
                    ),
                },
                "action": text(au.aup_normalize_get_action),
                "result": seek(au, au.aup_normalize_get_results, texts),
                "object": {
                    "primary": seek(au, au.aup_normalize_object_primary, texts),
                    "secondary": seek(au, au.aup_normalize_object_secondary, texts),
                    "kind": text(au.aup_normalize_object_kind),
                    "attributes": attributes(
                        au,
                        au.aup_normalize_object_first_attribute,
                        au.aup_normalize_object_next_attribute,
                        texts,
                    ),
                },
                "how": text(au.aup_normalize_how),
                "key": seek(au, au.aup_normalize_key, texts),
            }
            for part in (ev, ev["subject"], ev["object"]):
                for k, v in list(part.items()):
                    if isinstance(v, dict) and "_rec_text" in v:
                        part[k] = locate(au, v, texts)
                    elif isinstance(v, list):
                        part[k] = [locate(au, a, texts) for a in v]
            out.write(json.dumps(ev) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
