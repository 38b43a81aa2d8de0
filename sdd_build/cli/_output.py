"""Shared output helpers: Rich consoles for people, JSON for machines."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from sdd_build.errors import SddBuildError

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(exc: SddBuildError) -> None:
    """One line per problem, ``error: file:line:col: message``, then the hint."""
    for problem in exc.problems:
        sys.stderr.write(f"error: {problem}\n")
    if exc.hint:
        sys.stderr.write(f"hint: {exc.hint}\n")
    sys.stderr.flush()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()
