"""placeholder"""
from __future__ import annotations
import argparse
from typing import Any
def add_top_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    pass
