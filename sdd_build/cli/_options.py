"""Arguments and options shared by several commands, each defined once.

A command whose wording differs passes its own ``help``; the name, type and default stay
the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

#: what ``click.option`` returns: applied to a command function, it adds the option
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

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
path_option = click.option(
    "--path",
    "via",
    type=click.Choice(["auto", "napalm", "netmiko"]),
    default="auto",
    show_default=True,
    help="How hosts are configured: NAPALM where the platform has a driver and Netmiko "
    "otherwise (auto), or one path forced for every host.",
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


def by_option(help: str = "Who approves.") -> Decorator:
    """``--by NAME``: the person who approves (or waives); required."""
    return click.option("--by", "by", required=True, metavar="NAME", help=help)


def key_option(help: str = "Ed25519 private key (PEM) to sign the approval with.") -> Decorator:
    """``--key PATH``: an Ed25519 private key file to sign with."""
    return click.option(
        "--key", type=click.Path(path_type=Path, dir_okay=False), default=None, help=help
    )


def note_option(help: str = "Free text kept in the record.") -> Decorator:
    """``--note TEXT``: free text kept in an approval record."""
    return click.option("--note", default=None, help=help)


def json_option(help: str | None = None) -> Decorator:
    """``--json``: machine output (the command's parameter ``as_json``)."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def hosts_option(name: str = "hosts", help: str = "Only this host (repeatable).") -> Decorator:
    """``--host H`` (repeatable): restrict a command to some of the design's hosts."""
    return click.option("--host", name, multiple=True, help=help)
