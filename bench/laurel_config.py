"""laurel's configuration as the benchmarks run it: the log on its plugin stdin,
its JSON lines to one never-rotated file, no state file. Each bench appends the
sections it compares (translation, enrichments, labels)."""

from __future__ import annotations

# ``{dir}``: laurel's working directory; ``{out}``: its JSON lines file.
LAUREL_BASE = """\
directory = "{dir}"
input = "stdin"
[auditlog]
file = "{out}"
size = 100000000000
generations = 1
[state]
file = ""
"""
