"""``sdd-build lab ...`` — placeholder registration; the lab runtime fills this in."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    @main.group("lab")
    def lab() -> None:
        """Run containerlab topologies (FRR routers in network namespaces without containerlab)."""
