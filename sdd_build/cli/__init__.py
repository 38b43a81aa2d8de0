"""The thin command-line shell: parse arguments, call the pipeline, print, exit.

Every command is a module-level click command in a ``*_cmds`` module of this package, added
to ``main`` from one table, ``COMMANDS``; options shared by several commands are defined once
in ``_options``, and all output goes through ``_output``'s one pair of consoles. Errors of
the ``SddBuildError`` tree become one message per problem on stderr and the error's exit code;
usage errors exit 2 (click's own convention matches PRODUCT.md §4).
"""

from __future__ import annotations

import gc
import logging
import sys
from typing import Any

import click

from sdd_build.cli._output import print_error
from sdd_build.errors import EXIT_BAD_INPUT, SddBuildError
from sdd_build.secrets.sink import err, masked_excepthook, masked_output

__all__ = ["COMMANDS", "main"]


class _Group(click.Group):
    """A click group that turns our errors into a message and an exit code, never a traceback."""

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

# The command modules import ``main``'s package (``_options``, ``_output``): imported here,
# after ``main`` exists.
from sdd_build.cli import (  # noqa: E402
    agent_cmds,
    build_cmds,
    day2_cmds,
    design_cmds,
    fixtures_cmds,
    gov_cmds,
    lab_cmds,
    report_cmds,
    rollback_cmds,
)

#: Every top-level command and group of ``sdd-build``, in one place (a group's subcommands
#: sit in its module). ``tests/unit/cli/test_commands.py`` checks each is listed once.
COMMANDS: tuple[click.Command, ...] = (
    # the design, offline: no device
    design_cmds.init_cmd,
    design_cmds.schema_cmd,
    design_cmds.validate_cmd,
    design_cmds.plan_cmd,
    design_cmds.graph_cmd,
    fixtures_cmds.fixtures,
    # governance
    gov_cmds.approve_cmd,
    gov_cmds.gates,
    gov_cmds.keys,
    gov_cmds.audit,
    agent_cmds.approvals,
    agent_cmds.policy,
    agent_cmds.mcp_cmd,
    # the devices
    build_cmds.discover_cmd,
    build_cmds.build_cmd,
    rollback_cmds.rollback_cmd,
    report_cmds.report_cmd,
    # day 2
    day2_cmds.drift_cmd,
    day2_cmds.diff_cmd,
    day2_cmds.waive_cmd,
    day2_cmds.metrics_cmd,
    # labs
    lab_cmds.lab,
)

for _command in COMMANDS:
    main.add_command(_command)
