"""What the sink benchmarks share: the repository on ``sys.path``, the real
receivers of the sink tests (``engines``), and ``main``: the command line, a
scratch directory and the opening line of the report around a bench's ``run``."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import test_sinks_engines as engines

__all__ = ["engines", "main"]


def options(doc: str | None) -> argparse.Namespace:
    """``--events`` (default 20000) and ``--rounds`` (default 3)."""
    ap = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    return ap.parse_args()


@contextmanager
def scratch(prefix: str, events: int) -> Iterator[Path]:
    """A temporary directory, removed afterwards; prints the run's conditions."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    print(f"{events} events x 3 records, loopback, load average {os.getloadavg()[0]:.1f}")
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(doc: str | None, prefix: str, run: Callable[[Path, int, int], None]) -> None:
    """Parse the command line and call ``run(scratch directory, events, rounds)``."""
    args = options(doc)
    with scratch(prefix, args.events) as work:
        run(work, args.events, args.rounds)
