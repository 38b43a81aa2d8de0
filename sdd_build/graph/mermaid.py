"""Mermaid vocabulary shared by ``sdd-build graph`` and the as-built reports (no networkx)."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["SHAPES", "node_ids", "shape"]

#: node kind -> (opening, closing) bracket of its Mermaid shape
SHAPES: dict[str, tuple[str, str]] = {
    "config_template": ('["', '"]'),
    "command_template": ('(["', '"])'),
    "parser": ('[/"', '"/]'),
    "workflow": ('[["', '"]]'),
}


def shape(kind: str) -> tuple[str, str]:
    return SHAPES.get(kind, ('["', '"]'))


def node_ids(layers: Iterable[Iterable[str]]) -> dict[str, str]:
    """A Mermaid-safe id per node (component ids may hold '.' and '-'), unique: 'a-b' and
    'a_b' stay two nodes."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for layer in layers:
        for node in layer:
            mid = base = "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node)
            n = 1
            while mid in used:
                n += 1
                mid = f"{base}_{n}"
            used.add(mid)
            ids[node] = mid
    return ids
