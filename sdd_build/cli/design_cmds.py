"""Design commands: init, schema, validate, plan, graph."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    pass
