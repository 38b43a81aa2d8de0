"""The thin command-line shell: parse arguments, call the pipeline, print, exit.

Every command is a module-level click command in a ``*_cmds`` module of this package, named
in one table, ``COMMANDS``; ``main`` imports a command's module only when that command runs
(``sdd-build build`` never loads the report renderers, the MCP server or the lab commands).
Options shared by several commands are defined once in ``_options``, and all output goes
through ``_output``'s one pair of consoles. Errors of
the ``SddBuildError`` tree become one message per problem on stderr and the error's exit code;
usage errors exit 2 (click's own convention matches PRODUCT.md §4).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
from typing import Any

import click

from sdd_build.cli._output import print_error
from sdd_build.errors import EXIT_BAD_INPUT, SddBuildError
from sdd_build.secrets.sink import err, masked_excepthook, masked_output

__all__ = ["COMMANDS", "load_command", "main"]

# A command allocates far more objects than it frees (imports build pydantic's schemas and
# NAPALM/Netmiko's classes; a build keeps its records, evidence and sessions to the end), so
# with CPython's default thresholds (700, 10, 10) the collector ran ~255 times in a 30-router
# build: 0.17 s of CPU, most of it on the main thread before the first device is contacted.
# Collections still happen, ~15 times rarer (0.02 s); what they can free is little either way.
gc.set_threshold(10_000, 20, 20)

# Pydantic loads every installed distribution's ``pydantic`` entry point when the first model
# is built and lets it watch every validation: any package in the environment would see the
# approvals, designs and inventories (credentials included) each command validates. No plugin
# runs in sdd-build's process (set here, before any command module builds a model).
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"


class _Group(click.Group):
    """A click group that loads a command's module only when that command runs (click's lazy
    group), and turns our errors into a message and an exit code, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        return load_command(cmd_name, target) if target is not None else None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Every line printed — by a command, click's usage errors, a traceback — passes the
        # masker (sdd_build.secrets).
        sys.excepthook = masked_excepthook
        with masked_output():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SddBuildError as exc:
            print_error(exc)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err("interrupted\n")
            sys.exit(130)
        except OSError as exc:
            # A file we were pointed at is unreadable, a directory is not writable, ...
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            err(f"error: {where}{exc.strerror or exc}\n")
            sys.exit(EXIT_BAD_INPUT)
        finally:
            # Everything is written and flushed by now. Without this, the collector walks the
            # libraries' objects (napalm loads every driver it ships) once more while the
            # interpreter shuts down: 0.3 s of every command on this machine (bench/).
            gc.freeze()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sdd-build")
def main() -> None:
    """sdd-build: the governed build engine of Spec-Driven Development for network automation.

    Approved spec (Gate 1) and design (Gate 2) in, tested configuration and an as-built record out.
    """


def _quiet_libraries() -> None:
    """Libraries (paramiko, netmiko, napalm) log tracebacks of failed connections; without a
    handler Python would print them on stderr. A failed connection is a recorded deviation,
    never a traceback for the user."""
    logging.getLogger().addHandler(logging.NullHandler())
    for name in ("paramiko", "netmiko", "napalm", "nornir"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


_quiet_libraries()

#: Every top-level command and group of ``sdd-build``, in one place: name -> the module-level
#: click object (``module:attribute``) that ``main`` imports when the command runs (a group's
#: subcommands sit in its module). ``tests/unit/cli/test_commands.py`` checks each resolves,
#: once, to a module-level command of that name.
COMMANDS: dict[str, str] = {
    # the design, offline: no device
    "init": "design_cmds:init_cmd",
    "schema": "design_cmds:schema_cmd",
    "validate": "design_cmds:validate_cmd",
    "plan": "design_cmds:plan_cmd",
    "graph": "design_cmds:graph_cmd",
    "fixtures": "fixtures_cmds:fixtures",
    # governance
    "approve": "gov_cmds:approve_cmd",
    "gates": "gov_cmds:gates",
    "keys": "gov_cmds:keys",
    "audit": "gov_cmds:audit",
    "approvals": "agent_cmds:approvals",
    "policy": "agent_cmds:policy",
    "mcp": "agent_cmds:mcp_cmd",
    # the devices
    "discover": "build_cmds:discover_cmd",
    "build": "build_cmds:build_cmd",
    "rollback": "rollback_cmds:rollback_cmd",
    "report": "report_cmds:report_cmd",
    # day 2
    "drift": "day2_cmds:drift_cmd",
    "diff": "day2_cmds:diff_cmd",
    "waive": "day2_cmds:waive_cmd",
    "metrics": "day2_cmds:metrics_cmd",
    # labs
    "lab": "lab_cmds:lab",
}


def load_command(name: str, target: str) -> click.Command:
    """The click command ``target`` (``module:attribute`` of this package) names: its module is
    imported now, on first use."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    command = getattr(module, attribute)
    if not isinstance(command, click.Command) or command.name != name:
        raise TypeError(f"COMMANDS[{name!r}] = {target!r} is not the command {name!r}")
    return command
