"""laurel's ``[translate]`` section (universal, user-db, drop-raw) in auditlink's
enriched JSON, and the same log through laurel itself where it is built: the
interpretation keys written and the raw ones dropped agree with laurel's for every
setting (docs/enrich.md lists the one difference)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from auditlink import Enricher

from .test_enrich import NO_PROC

LAUREL = Path(os.environ.get("AUDITLINK_CACHE", "/var/cache/auditlink-enrich")) / "laurel"
IDS = ("auid", "uid", "gid", "euid", "suid", "fsuid", "egid", "sgid", "fsgid")
# A RAW-format log (no auditd ENRICHED part: laurel would pass that through).
LOG = "".join(
    f"type=SYSCALL msg=audit(1700000000.{n:03d}:{n}): arch=c000003e syscall={nr} "
    f"success=no exit=-2 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid={900 + n} auid={auid} "
    "uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 "
    f'comm="cat" exe="/usr/bin/cat" key=(null)\n'
    f"type=EOE msg=audit(1700000000.{n:03d}:{n}): \n"
    for n, nr, auid in ((1, 2, 4294967295), (2, 257, 0), (3, 59, 65534))
)
SETTINGS = [
    (False, False, False),
    (True, True, False),
    (True, True, True),
    (True, False, False),
    (False, True, False),
    (False, True, True),
]


def translate(universal: bool, userdb: bool, drop_raw: bool) -> dict[str, Any]:
    return {"universal": universal, "user-db": userdb, "drop-raw": drop_raw}


def auditlink_syscalls(conf: dict[str, Any]) -> list[dict[str, Any]]:
    e = Enricher({**NO_PROC, "translate": conf}, logs=True)
    kept, _ = e.enrich_log(LOG.encode())
    more, _ = e.finish_log()
    return [json.loads(x)["SYSCALL"] for x in (kept + more).splitlines()]


def test_defaults_carry_every_interpretation_and_raw_value() -> None:
    default = auditlink_syscalls({})
    assert default == auditlink_syscalls(translate(True, True, False))
    s = default[0]
    assert (s["arch"], s["ARCH"], s["syscall"], s["SYSCALL"]) == ("c000003e", "x86_64", 2, "open")
    assert (s["auid"], s["AUID"], s["uid"], s["UID"]) == (4294967295, "unset", 0, "root")


@pytest.mark.parametrize("setting", SETTINGS)
def test_translate_keys(setting: tuple[bool, bool, bool]) -> None:
    universal, userdb, drop_raw = setting
    for s in auditlink_syscalls(translate(*setting)):
        assert ("ARCH" in s, "SYSCALL" in s, "EXIT" in s) == (universal,) * 3
        assert all((k.upper() in s) == userdb for k in IDS)
        assert ("arch" in s, "syscall" in s) == (not (universal and drop_raw),) * 2
        assert all((k in s) == (not (userdb and drop_raw)) for k in IDS)
        assert "exit" in s and "pid" in s and "comm" in s


def laurel_binary() -> str:
    for cand in (os.environ.get("AUDITLINK_LAUREL"), str(LAUREL / "bin" / "laurel")):
        if cand and os.access(cand, os.X_OK):
            return cand
    pytest.skip(f"laurel is not built ({LAUREL}; tests/test_enrich_laurel.py builds it)")


def laurel_syscalls(laurel: str, tmp_path: Path, conf: dict[str, Any]) -> list[dict[str, Any]]:
    out = tmp_path / "laurel.jsonl"
    out.unlink(missing_ok=True)
    cfg = tmp_path / "laurel.toml"
    toml = "\n".join(f"{k} = {str(v).lower()}" for k, v in conf.items())
    cfg.write_text(
        f'directory = "{tmp_path}"\ninput = "stdin"\n[auditlog]\nfile = "{out}"\n'
        f'[state]\nfile = ""\n[translate]\n{toml}\n'
    )
    subprocess.run([laurel, "-c", str(cfg)], input=LOG.encode(), check=True, timeout=60)
    return [json.loads(x)["SYSCALL"] for x in out.read_text().splitlines()]


TRANSLATED = ("ARCH", "SYSCALL", *(k.upper() for k in IDS))
RAW = ("arch", "syscall", *IDS)


@pytest.mark.parametrize("setting", SETTINGS)
def test_translate_as_laurel(tmp_path: Path, setting: tuple[bool, bool, bool]) -> None:
    """The same keys (of arch, syscall and the ids, raw and translated) with the same
    translations as laurel 0.8.2 on the same log; EXIT and the other interpretations
    laurel does not make are not compared."""
    theirs = laurel_syscalls(laurel_binary(), tmp_path, translate(*setting))
    mine = auditlink_syscalls(translate(*setting))
    assert len(mine) == len(theirs) == 3
    for a, b in zip(mine, theirs):
        assert sorted(k for k in a if k in RAW) == sorted(k for k in b if k in RAW)
        assert {k: a[k] for k in TRANSLATED if k in a} == {k: b[k] for k in TRANSLATED if k in b}
