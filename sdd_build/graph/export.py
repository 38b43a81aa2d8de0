"""Render the compiled graph as Mermaid or Graphviz dot (for people and reports)."""

from __future__ import annotations

import re

from sdd_build.design.loader import LoadedDesign
from sdd_build.graph.compile import CompiledGraph

__all__ = ["to_dot", "to_mermaid"]

_SHAPES = {
    "config_template": ('["', '"]'),
    "command_template": ('(["', '"])'),
    "parser": ('[/"', '"/]'),
    "workflow": ('[["', '"]]'),
}


def _mid(node: str) -> str:
    """A Mermaid-safe node id (ids may contain '.' and '-')."""
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node)


def to_mermaid(
    loaded: LoadedDesign, compiled: CompiledGraph, status: dict[str, str] | None = None
) -> str:
    """``flowchart BT``: leaves at the bottom, parents above; optional status colouring."""
    lines = ["flowchart BT"]
    for index, layer in enumerate(compiled.layers):
        lines.append(f'  subgraph L{index}["layer {index}"]')
        for node in layer:
            kind = compiled.graph.nodes[node]["kind"]
            left, right = _SHAPES.get(kind, ('["', '"]'))
            lines.append(f"    {_mid(node)}{left}{node}<br/><small>{kind}</small>{right}")
        lines.append("  end")
    for u, v in sorted(compiled.graph.edges):
        lines.append(f"  {_mid(u)} --> {_mid(v)}")
    if status:
        colours = {
            "built": "fill:#d4f7d4,stroke:#2a7d2a",
            "failed": "fill:#f9d0d0,stroke:#b22222",
            "blocked": "fill:#eeeeee,stroke:#888888",
            "rolled_back": "fill:#ffe4b5,stroke:#cc7a00",
            "skipped": "fill:#f5f5f5,stroke:#aaaaaa",
        }
        for name, style in colours.items():
            lines.append(f"  classDef {name} {style}")
        for node, st in sorted(status.items()):
            if st in colours:
                lines.append(f"  class {_mid(node)} {st}")
    return "\n".join(lines) + "\n"


def to_dot(loaded: LoadedDesign, compiled: CompiledGraph) -> str:
    shapes = {
        "config_template": "box",
        "command_template": "ellipse",
        "parser": "parallelogram",
        "workflow": "box3d",
    }
    lines = [
        f'digraph "{loaded.model.design}" {{',
        "  rankdir=BT;",
        '  node [fontname="Helvetica"];',
    ]
    for index, layer in enumerate(compiled.layers):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label="layer {index}"; style=dashed;')
        for node in layer:
            kind = compiled.graph.nodes[node]["kind"]
            lines.append(f'    "{node}" [shape={shapes.get(kind, "box")}, tooltip="{kind}"];')
        lines.append("  }")
    for u, v in sorted(compiled.graph.edges):
        lines.append(f'  "{u}" -> "{v}";')
    lines.append("}")
    return "\n".join(lines) + "\n"
