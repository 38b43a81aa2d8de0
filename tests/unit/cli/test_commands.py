"""The command table of ``sdd-build``: every command listed once, loaded only when it runs,
every ``--help`` works, and one pair of Rich consoles for the whole package."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sdd_build.cli import COMMANDS, load_command, main

PACKAGE = Path(__file__).resolve().parents[3] / "sdd_build"
COMMAND_MODULES = sorted(p.stem for p in (PACKAGE / "cli").glob("*_cmds.py"))


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, (*prefix, name)
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _paths(command, (*prefix, name))


ALL = list(_paths(main))


def _top_level_commands() -> dict[int, str]:
    """Every click command object at module level of a ``*_cmds`` module that is not a
    subcommand of one of their groups: what the table must list, by identity."""
    found: dict[int, str] = {}
    subcommands: set[int] = set()
    for stem in COMMAND_MODULES:
        module = importlib.import_module(f"sdd_build.cli.{stem}")
        for attribute, value in vars(module).items():
            if isinstance(value, click.Command):
                found[id(value)] = f"{stem}:{attribute}"
                if isinstance(value, click.Group):
                    subcommands.update(id(c) for c in value.commands.values())
    return {key: where for key, where in found.items() if key not in subcommands}


def test_the_table_lists_every_command_once() -> None:
    loaded = {name: load_command(name, target) for name, target in COMMANDS.items()}
    assert sorted(COMMANDS) == main.list_commands(click.Context(main))
    # one name per command object, one entry per module-level command: none forgotten
    assert len({id(c) for c in loaded.values()}) == len(loaded)
    assert len(set(COMMANDS.values())) == len(COMMANDS)
    missing = set(_top_level_commands()) - {id(c) for c in loaded.values()}
    assert not missing, sorted(_top_level_commands()[m] for m in missing)
    for name, command in loaded.items():
        assert command.name == name
        assert main.get_command(click.Context(main), name) is command
    assert main.get_command(click.Context(main), "no-such-command") is None


def test_a_wrong_table_entry_is_refused() -> None:
    with pytest.raises(TypeError, match="is not the command 'plan'"):
        load_command("plan", "design_cmds:validate_cmd")


def test_commands_are_module_level_objects() -> None:
    """A command defined inside a function (a ``register()`` closure) cannot be imported,
    read or tested on its own."""
    for name, target in COMMANDS.items():
        stem, _, attribute = target.partition(":")
        command = load_command(name, target)
        assert getattr(importlib.import_module(f"sdd_build.cli.{stem}"), attribute) is command
        module = command.callback.__module__ if command.callback else ""
        assert module == f"sdd_build.cli.{stem}", name
        qualname = command.callback.__qualname__ if command.callback else ""
        assert "<locals>" not in qualname, f"{name}: {qualname}"


def _imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_a_command_module_is_imported_only_when_its_command_runs() -> None:
    commands = {f"sdd_build.cli.{stem}" for stem in COMMAND_MODULES}
    assert not _imported_after("import sdd_build.cli") & commands
    after = _imported_after(
        "from click.testing import CliRunner\nfrom sdd_build.cli import main\n"
        "assert CliRunner().invoke(main, ['build', '--help']).exit_code == 0"
    )
    assert after & commands == {"sdd_build.cli.build_cmds"}


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
