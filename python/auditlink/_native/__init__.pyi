"""Type stubs for the Rust extension module (private: use the ``auditlink`` package).

Each submodule stub describes what one file of rust/bindings/ registers; the
extension registers the same names on ``auditlink._native`` itself, so
``auditlink._native.X`` and ``auditlink._native.<area>.X`` are the same object.
"""

# In a stub a star import re-exports the public names of the submodule.
# ruff: noqa: F403
from auditlink._native.client import *
from auditlink._native.daemon import *
from auditlink._native.enrich import *
from auditlink._native.normalize import *
from auditlink._native.records import *
from auditlink._native.rules import *
from auditlink._native.search import *
from auditlink._native.sinks import *

__version__: str

def message_types() -> list[tuple[int, str, str]]:
    """The message type table: ``(number, name, kind)``, kind in control/user/kernel."""
