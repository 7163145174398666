"""mkdocs hooks (mkdocs.yml ``hooks:``): pages made at build time, never committed.

- ``reference/cli.md``: the CLI reference, from the argparse parsers that print
  ``--help`` (tools/cli_model.py), so it lists whatever subcommands exist.
- ``changelog.md``: CHANGELOG.md from the repository root.
- Every ``docs/*.md`` page the nav of mkdocs.yml does not name is added under
  "Areas", so a page another area adds is built (and checked) without an edit here.
- The docstrings use Sphinx roles (``:class:`~auditlink.AuditError```), which
  Markdown shows literally; the role prefix is dropped from the rendered HTML.

The hook functions take mkdocs objects; they are typed loosely so mypy needs no
mkdocs stubs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_model import Command, commands

ROOT = Path(__file__).resolve().parent.parent
CLI_PAGE = "reference/cli.md"
CHANGELOG_PAGE = "changelog.md"


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def cli_markdown() -> str:
    """The CLI reference page."""
    lines = [
        "# Command line reference",
        "",
        "Generated from the argparse parsers of `python -m auditlink` (the same text",
        "`--help` prints and the man pages carry). Every command is also installed as",
        "the `auditlink` console script.",
        "",
    ]
    for cmd in commands():
        lines += _command_section(cmd)
    return "\n".join(lines) + "\n"


def _command_section(cmd: Command) -> list[str]:
    level = "#" * min(len(cmd.path) + 1, 4)
    lines = [f"{level} `{cmd.words}`", "", cmd.description, "", "```", cmd.usage, "```", ""]
    for title, opts in (("Argument", cmd.positionals), ("Option", cmd.options)):
        if opts:
            lines += [f"| {title} | Meaning |", "|---|---|"]
            lines += [f"| `{_table_cell(o.names)}` | {_table_cell(o.help)} |" for o in opts]
            lines.append("")
    if cmd.subcommands:
        lines += ["| Command | Meaning |", "|---|---|"]
        lines += [
            f"| [`{s.words}`](#{s.name.lower()}) | {_table_cell(s.summary)} |"
            for s in cmd.subcommands
        ]
        lines.append("")
    return lines


def _nav_pages(nav: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(nav, str):
        found.add(nav)
    elif isinstance(nav, list):
        for item in nav:
            found |= _nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            found |= _nav_pages(value)
    return found


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    listed = _nav_pages(config["nav"])
    extra = sorted(
        p.name for p in docs.glob("*.md") if p.name not in listed and p.name != "index.md"
    )
    if extra:
        config["nav"].append({"Areas": extra})
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for path, text in (
        (CLI_PAGE, cli_markdown()),
        # Links in CHANGELOG.md are relative to the repository root; the site root is docs/.
        (CHANGELOG_PAGE, (ROOT / "CHANGELOG.md").read_text().replace("](docs/", "](")),
    ):
        files.append(File.generated(config, path, content=text))
    return files


_ROLES = "class|meth|func|attr|mod|data|exc|obj|const"
# :class:`~a.b.C` shows as C (Sphinx's meaning of ~), :class:`a.b.C` as a.b.C.
_SHORT_ROLE = re.compile(rf":(?:{_ROLES}):<code>~(?:[\w.]*\.)?([\w()]+)</code>")
_ROLE = re.compile(rf":(?:{_ROLES}):(<code>)")


def on_page_content(html: str, **kwargs: Any) -> str:
    return _ROLE.sub(r"\1", _SHORT_ROLE.sub(r"<code>\1</code>", html))
