"""placeholder"""
from __future__ import annotations
import argparse
from typing import Any
def add_report_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    pass
