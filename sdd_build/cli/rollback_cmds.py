"""``sdd-build rollback <build-id>``: retry a failed restore, verified, recorded."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from sdd_build.cli._options import (
    hosts_option,
    inventory_option,
    json_option,
    lab_option,
    path_option,
    root_option,
    wait_lock_option,
)
from sdd_build.cli._output import err_console, print_attention
from sdd_build.errors import EXIT_DEVIATIONS, EXIT_OK
from sdd_build.secrets.sink import out_json


def _progress(event: str, **data: Any) -> None:
    if event == "rollback_started":
        err_console.print(f"rollback of build {data['build_id']}: {', '.join(data['hosts'])}")
    elif event == "rollback_host":
        style = "green" if data["verified"] else "red"
        err_console.print(f"  {data['host']}: [{style}]{escape(data['summary'])}[/]")
    elif event in ("nothing", "warning"):
        err_console.print(escape(data["message"]))


@click.command("rollback")
@click.argument("build_id", metavar="BUILD_ID")
@hosts_option()
@lab_option
@inventory_option
@path_option
@wait_lock_option
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(1, 3600),
    default=30.0,
    help="Seconds for every device operation (default 30).",
)
@root_option
@json_option("Print the result as JSON on stdout.")
def rollback_cmd(
    build_id: str,
    hosts: tuple[str, ...],
    lab: Path | None,
    inventory: Path | None,
    via: str,
    wait_lock: float,
    timeout_s: float,
    root: Path | None,
    as_json: bool,
) -> None:
    """Restore the hosts of a finished build to their pre-build config, verified.

    By default the hosts the record leaves changed (a failed restore); --host picks
    hosts, also ones the build changed as designed. Each host counts as restored only
    when its running config, read back, equals its backup. The result goes into the
    build's as-built record (reports re-rendered) and the audit log. Exit 0 when every
    host equals its backup, 1 if not.
    """
    from sdd_build.app.rollback import rollback_service
    from sdd_build.workspace import lab_connections

    result = rollback_service(
        build_id,
        hosts=list(hosts),
        connections=lab_connections(lab),
        inventory=inventory,
        wait_lock_s=wait_lock,
        timeout_s=timeout_s,
        root=root,
        emit=None if as_json else _progress,
        via=via,
    )
    if as_json:
        out = {
            "build_id": result.record.build_id,
            "ok": result.ok,
            "hosts": {h: o.dump() for h, o in sorted(result.outcomes.items())},
            "attention": result.record.attention,
        }
        out_json(out)
    else:
        print_attention(err_console, result.record.attention)
        err_console.print(f"record: {result.build_dir / 'as-built.json'}")
    sys.exit(EXIT_OK if result.ok else EXIT_DEVIATIONS)
