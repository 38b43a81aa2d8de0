"""The command table of ``sdd-build``: every command listed once, every ``--help`` works, and
one pair of Rich consoles for the whole package."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sdd_build.cli import COMMANDS, main

PACKAGE = Path(__file__).resolve().parents[3] / "sdd_build"


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _paths(command, (*prefix, name))


ALL = list(_paths(main))


def test_the_table_lists_every_command_once() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert set(names) == set(main.commands)
    assert all(main.commands[c.name] is c for c in COMMANDS if c.name)


def test_commands_are_module_level_objects() -> None:
    """A command defined inside a function (a ``register()`` closure) cannot be imported,
    read or tested on its own."""
    for command in COMMANDS:
        module = command.callback.__module__ if command.callback else ""
        assert module.startswith("sdd_build.cli."), command.name
        qualname = command.callback.__qualname__ if command.callback else ""
        assert "<locals>" not in qualname, f"{command.name}: {qualname}"


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_every_command_has_working_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {' '.join(path)}")
    assert "Traceback" not in result.output


def test_rich_consoles_are_created_in_cli_output_only() -> None:
    """``cli._output.console`` / ``err_console`` are the package's only consoles: output
    goes through one pair (masked, same width rules), never a console of a module's own."""
    makers = {"Console", "console", "_MaskedConsole"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in makers:
                found.append(f"{rel}:{node.lineno}")
    # the masked console's factory (secrets/sink.py) and its two calls in cli/_output.py
    where = [f.split(":")[0] for f in found]
    assert sorted(where) == ["cli/_output.py", "cli/_output.py", "secrets/sink.py"], found


def test_a_wide_table_is_printed_whole_and_the_console_keeps_its_width(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``lab status``'s table on a non-tty (80 columns): printed 132 wide, not in ellipses."""
    from rich.table import Table

    from sdd_build.cli._output import console, print_wide

    before = console.width
    table = Table()
    for i in range(9):
        table.add_column(f"column-{i}", no_wrap=True)
    table.add_row(*(f"value-{i}-long" for i in range(9)))
    print_wide(table, 160)
    text = capsys.readouterr().out
    assert "…" not in text
    assert "value-8-long" in text
    assert console.width == before
