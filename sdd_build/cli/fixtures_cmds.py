"""``sdd-build fixtures update|record``: bootstrap a use case's fixtures in two commands.

* ``update <design> [--yes]``: golden renders from the current templates; the diff is shown
  and written after a confirmation (``--yes`` without a terminal). Exit 0; 2 when not confirmed.
* ``record <design> --lab <topology> [--host H]``: runs the design's show commands on the lab
  (read-only), writes raw outputs and parsed expectations under ``fixtures/<component>/``, and
  prints the design lines that use them (parser ``tests`` and ``check_tests``): the design file
  is the engineer's, never rewritten. Exit 1 when a host could not be read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sdd_build.cli._options import design_argument, hosts_option, lab_option, root_option
from sdd_build.cli._output import console, err_console
from sdd_build.errors import EXIT_BAD_INPUT, DesignError
from sdd_build.secrets.sink import write_text

if TYPE_CHECKING:
    from sdd_build.offline.fixtures import FixtureFile

__all__ = ["fixtures"]


@click.group("fixtures")
def fixtures() -> None:
    """Make fixtures: golden renders (update) and recorded device outputs (record)."""


def _write(shown: list[FixtureFile], yes: bool, *, show_new: bool = True) -> None:
    for f in shown:
        if f.old is None and not show_new:
            console.print(f"new {f.display}", markup=False, highlight=False)
        else:
            console.print(f.diff().rstrip("\n"), markup=False, highlight=False)
    if not yes:
        if not sys.stdin.isatty():
            err_console.print(
                f"error: {len(shown)} fixture file(s) not written: confirm with --yes "
                "(no terminal to ask)",
                markup=False,
                highlight=False,
            )
            sys.exit(EXIT_BAD_INPUT)
        if not click.confirm(f"write {len(shown)} fixture file(s)?", default=False):
            err_console.print("nothing written", markup=False)
            sys.exit(EXIT_BAD_INPUT)
    for f in shown:
        f.path.parent.mkdir(parents=True, exist_ok=True)
        write_text(f.path, f.text)
        console.print(f"wrote {f.display}", markup=False, highlight=False)


@fixtures.command("update")
@design_argument
@root_option
@click.option("--yes", is_flag=True, help="Write without asking.")
def update_cmd(design: Path, root: Path | None, yes: bool) -> None:
    """Golden render files from the current templates (the diff shown, then written)."""
    from sdd_build.offline.fixtures import golden_updates
    from sdd_build.workspace import open_workspace

    ws = open_workspace(design, root=root)
    changed = golden_updates(ws)
    if not changed:
        console.print("golden files up to date", markup=False)
        return
    _write(changed, yes)


@fixtures.command("record")
@design_argument
@lab_option
@root_option
@hosts_option("only")
@click.option("--yes", is_flag=True, help="Overwrite changed fixture files without asking.")
def record_cmd(
    design: Path, lab: Path | None, root: Path | None, only: tuple[str, ...], yes: bool
) -> None:
    """Run the design's show commands on a lab (read-only) and write them as fixtures."""
    from sdd_build.execute.record import record_outputs
    from sdd_build.offline.fixtures import recorded_fixtures
    from sdd_build.plan.planner import build_plan
    from sdd_build.workspace import connections_for, open_workspace

    if lab is None:
        raise DesignError(
            "fixtures record reads a lab: give --lab <topology>",
            hint="bring one up: sdd-build lab up <topology> --wait",
        )
    ws = open_workspace(design, root=root, connections=connections_for(lab, None))
    unknown = [h for h in only if h not in ws.all_hosts]
    if unknown:
        raise DesignError(
            f"host '{unknown[0]}' is not a target of this design",
            hint=f"targets: {', '.join(ws.all_hosts)}",
        )
    plan = build_plan(ws)
    outputs = record_outputs(ws, plan, list(only) or list(ws.all_hosts))
    failed = {h: e[""] for h, e in outputs.items() if "" in e}
    for host, error in failed.items():
        err_console.print(f"error: {host}: not read: {error}", markup=False, highlight=False)
    files, snippet, notes = recorded_fixtures(ws, outputs)
    for note in notes:
        err_console.print(f"note: {note}", markup=False, highlight=False)
    new_or_same = all(f.old is None or f.old == f.text for f in files)
    changed = [f for f in files if f.old != f.text]
    if changed:
        _write(changed, yes or new_or_same, show_new=False)
    console.print(
        f"{len(files)} fixture file(s) for {len(outputs) - len(failed)} host(s); to use "
        f"them, add to {ws.design.display}:",
        markup=False,
        highlight=False,
    )
    console.print(snippet, markup=False, highlight=False)
    if failed:
        sys.exit(1)
