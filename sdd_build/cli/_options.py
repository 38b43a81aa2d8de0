"""Options shared by the commands that read a design, its inventory and, optionally, a lab."""

from __future__ import annotations

from pathlib import Path

import click

design_argument = click.argument(
    "design", type=click.Path(path_type=Path, dir_okay=False), metavar="DESIGN"
)
inventory_option = click.option(
    "--inventory",
    "inventory",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="A Nornir SimpleInventory folder with connection data (address, port, credentials) for "
    "the design's hosts; which hosts exist and their data always come from the design's own "
    "inventory (bound by the approval).",
)
lab_option = click.option(
    "--lab",
    "lab",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="A running lab topology (*.clab.yml): its inventory says how to reach the hosts; "
    "design data still comes from the design's inventory.",
)
root_option = click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=None,
    help="Repository root (default: the nearest ancestor holding sdd-build.toml; else the "
    "nearest holding .git, templates/, parsers/ or inventory/ that is not a use-case folder).",
)
wait_lock_option = click.option(
    "--wait-lock",
    "wait_lock",
    type=click.FloatRange(0, 86400),
    default=0.0,
    metavar="SECONDS",
    help="When another build holds a target device: wait up to SECONDS for it (default: "
    "refuse at once, exit 3).",
)
