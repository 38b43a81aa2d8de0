"""Render the compiled graph as Mermaid or Graphviz dot (for people and reports)."""

from __future__ import annotations

from sdd_build.design.loader import LoadedDesign
from sdd_build.graph.compile import CompiledGraph
from sdd_build.graph.mermaid import node_ids, shape

__all__ = ["to_dot", "to_mermaid"]


def to_mermaid(loaded: LoadedDesign, compiled: CompiledGraph) -> str:
    """``flowchart BT``: leaves at the bottom, parents above."""
    ids = node_ids(compiled.layers)
    lines = ["flowchart BT"]
    for index, layer in enumerate(compiled.layers):
        lines.append(f'  subgraph L{index}["layer {index}"]')
        for node in layer:
            kind = compiled.graph.nodes[node]["kind"]
            left, right = shape(kind)
            lines.append(f"    {ids[node]}{left}{node}<br/><small>{kind}</small>{right}")
        lines.append("  end")
    for u, v in sorted(compiled.graph.edges):
        lines.append(f"  {ids[u]} --> {ids[v]}")
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
