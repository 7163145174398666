"""The command line as data, read from the argparse parsers that ``--help`` prints.

``auditlink.__main__.build_parser()`` is the one source: the man pages
(tools/gen_man.py) and the CLI reference of the documentation site
(tools/mkdocs_hooks.py) both walk it through :func:`commands`, so a subcommand
another module registers shows up in both without a change here.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Option:
    """One argument: its flags (or metavar, for a positional) and help text."""

    names: str
    help: str


@dataclass
class Command:
    """One parser: ``auditlink`` itself or a subcommand (nested ones too)."""

    path: tuple[str, ...]
    summary: str
    description: str
    usage: str
    positionals: list[Option] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    subcommands: list[Command] = field(default_factory=list)

    @property
    def name(self) -> str:
        """``auditlink`` or ``auditlink-status`` (the man page name)."""
        return "-".join(self.path)

    @property
    def words(self) -> str:
        """``auditlink status`` (as typed)."""
        return " ".join(self.path)


def _help(action: argparse.Action, prog: str) -> str:
    text = action.help or ""
    if "%" in text:
        params = dict(vars(action), prog=prog)
        for name in list(params):
            if hasattr(params[name], "__name__"):
                params[name] = params[name].__name__
        if params.get("choices") is not None:
            params["choices"] = ", ".join(str(c) for c in params["choices"])
        text = text % params
    return " ".join(text.split())


def _names(action: argparse.Action) -> str:
    if not action.option_strings:
        return action.metavar if isinstance(action.metavar, str) else action.dest
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    metavar = action.metavar or action.dest.upper()
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return ", ".join(f"{flag} {metavar}" for flag in action.option_strings)


def _usage(parser: argparse.ArgumentParser) -> str:
    # A fixed width, so the generated pages do not depend on the terminal.
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        usage = parser.format_usage()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return usage.removeprefix("usage: ").rstrip()


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...], summary: str) -> Command:
    cmd = Command(
        path=path,
        summary=summary,
        description=(parser.description or summary).strip(),
        usage=_usage(parser),
    )
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:  # aliases
                    continue
                seen.add(id(sub))
                cmd.subcommands.append(_walk(sub, (*path, name), " ".join(helps[name].split())))
            continue
        if action.help == argparse.SUPPRESS:
            continue
        target = cmd.options if action.option_strings else cmd.positionals
        target.append(Option(_names(action), _help(action, parser.prog)))
    return cmd


def root() -> Command:
    """The ``auditlink`` command with every subcommand registered at import time."""
    from auditlink.__main__ import build_parser

    parser = build_parser()
    return _walk(parser, ("auditlink",), (parser.description or "").strip())


def commands(top: Command | None = None) -> Iterator[Command]:
    """``top`` and every command below it, depth first."""
    top = top or root()
    yield top
    for sub in top.subcommands:
        yield from commands(sub)
