"""The thin command-line shell: parse arguments, call the pipeline, print, exit.

Every command lives in a module of this package and registers itself on ``main``. Errors of
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

__all__ = ["main"]


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


def _register() -> None:
    from sdd_build.cli import (
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

    design_cmds.register(main)
    agent_cmds.register(main)
    agent_cmds.register_policy(main)
    fixtures_cmds.register(main)
    build_cmds.register(main)
    day2_cmds.register(main)
    gov_cmds.register(main)
    lab_cmds.register(main)
    report_cmds.register(main)
    rollback_cmds.register(main)


_quiet_libraries()
_register()
