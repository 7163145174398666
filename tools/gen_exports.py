"""Write the parts of python/auditlink/__init__.py that repeat ``_MODULE_OF``.

``_MODULE_OF`` (public name -> the submodule it lives in) is the one list of the
package's names: the lazy ``__getattr__`` reads it at run time. Tools that read the
file as written need two copies of it, which this script writes from it:

- the ``if TYPE_CHECKING:`` imports (type checkers learn each name's type there,
  and that it is re-exported);
- the literal ``__all__`` (mypy, ruff and the documentation's griffe read
  ``__all__`` only when it is a literal list).

    python tools/gen_exports.py          # rewrite them
    python tools/gen_exports.py --check  # exit 1 if they are out of date
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "python" / "auditlink" / "__init__.py"


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's order (isort's ``order-by-type``): CONSTANTS, Classes, then the rest."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _module_of(tree: ast.Module) -> dict[str, str]:
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "_MODULE_OF":
            assert node.value is not None
            value = ast.literal_eval(node.value)
            assert isinstance(value, dict)
            return value
    raise SystemExit(f"{TARGET}: no `_MODULE_OF: dict[str, str] = {{...}}`")


def _imports(module_of: dict[str, str]) -> list[str]:
    """One ``from auditlink.X import N as N`` a name: the redundant alias marks an
    explicit re-export (PEP 484), which mypy --strict wants; ruff keeps such imports
    one a line."""
    rows = sorted((f"auditlink{module}", _isort_key(name)) for name, module in module_of.items())
    return [f"    from {module} import {name} as {name}" for module, (_, name) in rows]


def render(text: str) -> str:
    tree = ast.parse(text)
    module_of = _module_of(tree)
    lines = text.split("\n")
    replacements: list[tuple[int, int, list[str]]] = []
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            first = node.body[0].lineno - 1
            replacements.append((first, node.end_lineno or first, _imports(module_of)))
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            names = sorted(module_of, key=_isort_key)
            new = ["__all__ = ["] + [f'    "{n}",' for n in names] + ["]"]
            replacements.append((node.lineno - 1, node.end_lineno or node.lineno, new))
    if len(replacements) != 2:
        raise SystemExit(f"{TARGET}: expected one `if TYPE_CHECKING:` and one `__all__ = [...]`")
    for start, end, new in sorted(replacements, reverse=True):
        lines[start:end] = new
    return "\n".join(lines)


def main() -> int:
    text = TARGET.read_text()
    new = render(text)
    if new == text:
        return 0
    if "--check" not in sys.argv[1:]:
        TARGET.write_text(new)
        return 0
    print(f"{TARGET} is out of date: run python tools/gen_exports.py", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
