"""Check that the stub items users read have Arguments/Returns/Raises sections.

The stubs of the Rust extension (python/auditlink/_native/*.pyi) are the one
docstring source of every item a public module of ``auditlink`` re-exports from
``auditlink._native``. For each such function, class constructor and public method
this checks, from the stub's text:

- a docstring;
- ``Arguments:`` when it takes arguments (``self``/``cls`` aside; a class documents
  its constructor's arguments in the class docstring or in ``__new__``'s);
- ``Returns:`` when it returns something other than None;
- ``Raises:`` when it takes arguments (a bad argument raises something).

Properties, dunder methods and the native halves of classes documented on their
Python wrapper (their stub says "documented there") are not checked.

Usage: python tools/check_stub_docs.py  (exit 1 and one line per fault if any)
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUBS = ROOT / "python" / "auditlink" / "_native"


def public_native_names() -> set[str]:
    """Names of ``auditlink._native`` items that a public module re-exports."""
    import auditlink
    from auditlink import _native

    names: set[str] = set()
    modules = [auditlink] + [
        importlib.import_module(f"auditlink.{m.name}")
        for m in pkgutil.iter_modules(auditlink.__path__)
        if not m.name.startswith("_")
    ]
    for module in modules:
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if callable(obj) and getattr(_native, name, None) is obj:
                names.add(name)
    return names


def _arguments(fn: ast.FunctionDef) -> list[str]:
    a = fn.args
    every = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    names = [p.arg for p in every if p.arg not in ("self", "cls")]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return names


def _returns_value(fn: ast.FunctionDef) -> bool:
    r = fn.returns
    return not (r is None or (isinstance(r, ast.Constant) and r.value is None))


def _is_property(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list)


def _missing(doc: str, *, arguments: bool, returns: bool) -> list[str]:
    wanted = []
    if arguments:
        wanted += ["Arguments:", "Raises:"]
    if returns:
        wanted.append("Returns:")
    return [w for w in wanted if w not in doc]


def check_function(where: str, fn: ast.FunctionDef) -> list[str]:
    doc = ast.get_docstring(fn)
    if doc is None:
        return [f"{where}: no docstring"]
    missing = _missing(doc, arguments=bool(_arguments(fn)), returns=_returns_value(fn))
    return [f"{where}: no {', '.join(missing)} section"] if missing else []


def check_class(where: str, cls: ast.ClassDef) -> list[str]:
    doc = ast.get_docstring(cls) or ""
    if not doc:
        return [f"{where}: no docstring"]
    if "documented there" in doc:
        return []
    faults = []
    methods = [n for n in cls.body if isinstance(n, ast.FunctionDef)]
    for fn in methods:
        if fn.name in ("__new__", "__init__"):
            text = doc + (ast.get_docstring(fn) or "")
            missing = _missing(text, arguments=bool(_arguments(fn)), returns=False)
            if missing:
                faults.append(f"{where}({fn.name}): no {', '.join(missing)} section")
        elif not fn.name.startswith("_") and not _is_property(fn):
            faults += check_function(f"{where}.{fn.name}", fn)
    return faults


def main() -> int:
    wanted = public_native_names()
    faults: list[str] = []
    found: set[str] = set()
    for stub in sorted(STUBS.glob("*.pyi")):
        tree = ast.parse(stub.read_text(), str(stub))
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name not in wanted:
                continue
            found.add(node.name)
            where = f"{stub.relative_to(ROOT)}:{node.lineno} {node.name}"
            if isinstance(node, ast.ClassDef):
                faults += check_class(where, node)
            else:
                faults += check_function(where, node)
    faults += [f"{name}: re-exported but not found in any stub" for name in wanted - found]
    for fault in faults:
        print(fault)
    print(f"{len(found)} public stub items checked, {len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    raise SystemExit(main())
