"""Governance commands: approve, audit verify, keys (filled in by the governance stage)."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    pass
