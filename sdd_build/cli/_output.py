"""Shared output helpers: Rich consoles for people, JSON for machines — all masked
(``sdd_build.secrets.sink``)."""

from __future__ import annotations

from typing import Any

from sdd_build.errors import SddBuildError
from sdd_build.secrets import sink
from sdd_build.secrets.sink import err, out_json

#: the package's one pair of consoles (people's output; stderr for progress and problems)
console = sink.console()
err_console = sink.console(stderr=True)


def print_error(exc: SddBuildError) -> None:
    """One line per problem, ``error: file:line:col: message``, then the hint."""
    # each problem once, in order (a problem met by two stages is still one problem)
    lines = [f"error: {line}\n" for line in dict.fromkeys(str(p) for p in exc.problems)]
    if exc.hint:
        lines.append(f"hint: {exc.hint}\n")
    err("".join(lines))


def print_wide(renderable: Any, min_width: int) -> None:
    """Print on ``console`` at least ``min_width`` columns wide: a wide table on a narrow or
    non-tty console would be cropped into ellipses."""
    auto = console._width  # None: follow the terminal (rich has no public way back to it)
    console.width = max(console.width, min_width)
    try:
        console.print(renderable)
    finally:
        console._width = auto


def print_json(data: Any) -> None:
    out_json(data)


def print_attention(console: Any, items: list[dict[str, Any]]) -> None:
    """Hosts left changed by a failed restore, in red: each line left, and the repair."""
    from rich.markup import escape

    for item in items:
        console.print(f"[bold red]ROLLBACK FAILED[/] [red]{escape(str(item.get('message')))}[/]")
        for row in item.get("left", []):
            console.print(f"[red]  left on the device:      {escape(str(row))}[/]")
        for row in item.get("missing", []):
            console.print(f"[red]  missing from the device: {escape(str(row))}[/]")
        console.print(f"[red]  repair: {escape(str(item.get('repair')))}[/]")
