"""ausearch's ``--checkpoint`` file: where the previous run stopped (the log
file's device and inode, the last event looked at), read and written in
ausearch 3.0.9's format (``src/ausearch-checkpt.c``) so either tool can
resume the other's run. Deciding which events are new runs in Rust."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

__all__ = ["Checkpoint"]

if TYPE_CHECKING:
    #: A previous run's last event: (node, sec, milli, serial, first record type).
    LastEvent = tuple[bytes | None, int, int, int, int]


def _strtoul(text: str, base: int) -> int:
    """C ``strtoul``: leading digits in ``base`` (0: C prefixes), 0 if none."""
    t = text.strip()
    if base == 0:
        if t[:2].lower() == "0x":
            base, t = 16, t[2:]
        elif t[:1] == "0" and len(t) > 1:
            base, t = 8, t[1:]
        else:
            base = 10
    elif base == 16 and t[:2].lower() == "0x":
        t = t[2:]
    digits = "0123456789abcdef"[:base]
    n = 0
    for c in t.lower():
        if c not in digits:
            break
        n = n * base + digits.index(c)
    return n


class Checkpoint:
    """A loaded checkpoint (or none yet, when the file does not exist)."""

    def __init__(
        self, dev: int, ino: int, last: LastEvent | None, time_only: bool, present: bool
    ) -> None:
        self.dev, self.ino, self.last = dev, ino, last
        self.time_only, self.present = time_only, present

    @classmethod
    def load(cls, path: str, *, time_only: bool = False) -> Checkpoint | None:
        """Read ``path``; a missing file is an empty checkpoint. Returns None
        (after ausearch's message on stderr) when the file is unusable."""
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return cls(0, 0, None, time_only, False)
        except OSError as e:
            print(f"Cannot open checkpoint file - {path}: {e.strerror}", file=sys.stderr)
            return None
        dev = ino = 0
        last: LastEvent | None = None
        for line in lines:
            if line.startswith("dev="):
                dev = _strtoul(line[4:], 16)
            elif line.startswith("inode="):
                ino = _strtoul(line[6:], 0)
            elif line.startswith("output="):
                last = cls._event(line)
                if last is None:
                    return None
            else:
                print(f"Unknown checkpoint line - [{line}]", file=sys.stderr)
                return None
        if dev == 0 or ino == 0:
            print(f"Missing dev/inode lines from checkpoint file {path}", file=sys.stderr)
            return None
        return cls(dev, ino, last, time_only, True)

    @staticmethod
    def _event(line: str) -> LastEvent | None:
        node, _, rest = line[7:].partition(" ")
        try:
            stamp, kind = rest.split()
            sec_milli, serial = stamp.split(":")
            sec, milli = sec_milli.split(".")
            return (
                None if node == "-" else os.fsencode(node),
                int(sec),
                int(milli),
                int(serial),
                int(kind, 16),
            )
        except ValueError:
            print(f"Malformed output/event checkpoint line after node - [{line}]", file=sys.stderr)
            return None

    @property
    def resume(self) -> tuple[str | None, int, int, int, int, bool] | None:
        """The previous run's last event for :func:`_native.search_write`."""
        if not self.present or self.last is None:
            return None
        node, sec, milli, serial, kind = self.last
        return (
            None if node is None else os.fsdecode(node),
            sec,
            milli,
            serial,
            kind,
            self.time_only,
        )

    def files(self, paths: Sequence[str]) -> list[str] | None:
        """The rotated logs (oldest first) from the checkpointed one on; None
        when it is gone (ausearch then exits 10). ``-ts checkpoint`` reads all."""
        if not self.present or self.time_only:
            return list(paths)
        for i in range(len(paths) - 1, -1, -1):
            st = os.stat(paths[i])
            if (st.st_dev, st.st_ino) == (self.dev, self.ino):
                return list(paths[i:])
        return None

    def report_corrupted(self, at: tuple[int, int, int] | None) -> None:
        """ausearch's message when a much newer event came first."""
        if at is None or self.last is None:
            return
        _, sec, milli, serial, _ = self.last
        print(
            "Corrupted checkpoint file. Inode match, but newer complete event "
            f"({at[0]}.{at[1]:03}:{at[2]}) found before loaded checkpoint "
            f"{sec}.{milli:03}:{serial}",
            file=sys.stderr,
        )

    @staticmethod
    def save(path: str, log: str | None, last: LastEvent | None) -> bool:
        """Write the checkpoint after a run over ``log`` (the last file read)."""
        try:
            st = os.stat(log) if log is not None else None
        except OSError as e:
            print(
                f"Cannot stat audit file for checkpoint details - {log}: {e.strerror}",
                file=sys.stderr,
            )
            return False
        node, sec, milli, serial, kind = last or (None, 0, 0, 0, 0)
        text = "dev=0x{:X}\ninode={}\noutput={} {}.{:03}:{} 0x{:X}\n".format(
            (st.st_dev if st else 0) & 0xFFFFFFFF,
            (st.st_ino if st else 0) & 0xFFFFFFFF,
            "-" if node is None else os.fsdecode(node),
            sec,
            milli,
            serial,
            kind,
        )
        try:
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
        except OSError as e:
            print(
                f"Cannot open checkpoint file - {path}: {os.strerror(e.errno or errno.EIO)}",
                file=sys.stderr,
            )
            return False
        return True
