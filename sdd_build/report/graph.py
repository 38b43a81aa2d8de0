"""The design graph of a record, coloured by outcome: Mermaid (markdown) and an SVG layout (html).

Both work from the record's ``layers`` and ``edges`` only (leaves at the bottom, parents above,
as ``sdd-build graph`` draws it), never from the design file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sdd_build.graph.mermaid import node_ids, shape
from sdd_build.report.view import NO_HOSTS, STATUS_ORDER, ReportView

__all__ = ["COLOURS", "Layout", "layout", "mermaid"]

# status -> (fill, stroke, dashed)
COLOURS: dict[str, tuple[str, str, bool]] = {
    "built": ("#d4f7d4", "#2a7d2a", False),
    "failed": ("#f9d0d0", "#b22222", False),
    "rolled_back": ("#ffe4b5", "#cc7a00", False),
    "blocked": ("#e4e4e4", "#777777", False),
    "skipped": ("#f7f7f7", "#aaaaaa", True),
    NO_HOSTS: ("#ffffff", "#999999", True),
}
LEGEND: tuple[str, ...] = (*STATUS_ORDER, NO_HOSTS)


def _mermaid_label(value: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what would end or inject markup."""
    out = value.replace("#", "#35;")
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        out = out.replace(char, code)
    return re.sub(r"[\x00-\x1f\x7f`]", " ", out)


def mermaid(view: ReportView) -> str:
    """``flowchart BT`` with a subgraph per layer and a class per outcome."""
    ids = node_ids(view.layers)
    lines = ["flowchart BT"]
    for index, layer in enumerate(view.layers):
        lines.append(f'  subgraph L{index}["layer {index}"]')
        for node in layer:
            kind = view.kind(node)
            left, right = shape(kind)
            label = f"{_mermaid_label(node)}<br/>{_mermaid_label(kind)}"
            status = view.status.get(node, NO_HOSTS)
            if status != NO_HOSTS:
                label += f"<br/>{status}"
            lines.append(f"    {ids[node]}{left}{label}{right}")
        lines.append("  end")
    for dep, dependent in view.edges:
        lines.append(f"  {ids[dep]} --> {ids[dependent]}")
    for status in LEGEND:
        fill, stroke, dashed = COLOURS[status]
        style = f"fill:{fill},stroke:{stroke},color:#111111"
        if dashed:
            style += ",stroke-dasharray:4 3"
        lines.append(f"  classDef st_{status} {style}")
    by_status: dict[str, list[str]] = {}
    for node, mid in ids.items():
        by_status.setdefault(view.status.get(node, NO_HOSTS), []).append(mid)
    for status in LEGEND:
        if by_status.get(status):
            lines.append(f"  class {','.join(by_status[status])} st_{status}")
    return "\n".join(lines) + "\n"


# -- SVG layout ---------------------------------------------------------------------------------

BOX_W, BOX_H, GAP_X, ROW_H, MARGIN, LABEL_W = 196, 48, 44, 96, 16, 64


@dataclass(frozen=True, slots=True)
class Box:
    id: str
    kind: str
    status: str
    x: float
    y: float
    label: str  # the id, shortened to fit
    title: str  # tooltip: id, kind, status per host


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    path: str  # SVG path data


@dataclass(frozen=True, slots=True)
class Layout:
    width: float
    height: float
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    rows: tuple[tuple[int, float], ...]  # (layer, y of the row's centre) for the row labels
    box_w: float = BOX_W
    box_h: float = BOX_H


def _short(node: str, limit: int = 24) -> str:
    return node if len(node) <= limit else node[: limit - 1] + "…"


def _smooth(points: list[tuple[float, float]]) -> str:
    """SVG path through ``points``: vertical tangents at both ends, Catmull-Rom in between."""
    if len(points) == 2:
        (x1, y1), (x2, y2) = points
        bend = max(abs(y1 - y2) / 2, 20.0)
        return (
            f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 - bend:.1f} {x2:.1f},{y2 + bend:.1f} "
            f"{x2:.1f},{y2:.1f}"
        )
    ext = [(points[0][0], points[0][1] + 40), *points, (points[-1][0], points[-1][1] - 40)]
    out = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        out += f" C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {p2[0]:.1f},{p2[1]:.1f}"
    return out


def layout(view: ReportView) -> Layout:
    """Layers as rows (layer 0 at the bottom), each row ordered by its dependencies' places."""
    n_rows = max(len(view.layers), 1)
    order: dict[str, float] = {}
    rows: list[list[str]] = []
    deps: dict[str, list[str]] = {}
    for dep, dependent in view.edges:
        deps.setdefault(dependent, []).append(dep)
    for layer in view.layers:

        def key(node: str) -> tuple[float, str]:
            placed = [order[d] for d in deps.get(node, []) if d in order]
            return (sum(placed) / len(placed) if placed else float("inf"), node)

        row = sorted(layer, key=key) if rows else list(layer)
        for index, node in enumerate(row):
            order[node] = index - (len(row) - 1) / 2  # centred positions, comparable across rows
        rows.append(row)
    widest = max((len(r) for r in rows), default=1) or 1
    width = MARGIN * 2 + LABEL_W + widest * BOX_W + (widest - 1) * GAP_X
    height = MARGIN * 2 + (n_rows - 1) * ROW_H + BOX_H
    boxes: dict[str, Box] = {}
    row_marks: list[tuple[int, float]] = []
    for index, row in enumerate(rows):
        y = MARGIN + (n_rows - 1 - index) * ROW_H
        row_w = len(row) * BOX_W + max(len(row) - 1, 0) * GAP_X
        x0 = MARGIN + LABEL_W + (widest * BOX_W + (widest - 1) * GAP_X - row_w) / 2
        row_marks.append((index, y + BOX_H / 2))
        for pos, node in enumerate(row):
            comp = view.by_id.get(node)
            per_host = (
                ", ".join(f"{h}: {r.status}" for h, r in sorted(comp.hosts.items()))
                if (comp and comp.hosts)
                else "runs on no device"
            )
            status = view.status.get(node, NO_HOSTS)
            boxes[node] = Box(
                id=node,
                kind=view.kind(node),
                status=status,
                x=x0 + pos * (BOX_W + GAP_X),
                y=y,
                label=_short(node),
                title=f"{node} ({view.kind(node)}): {per_host}",
            )
    row_of = {node: index for index, row in enumerate(rows) for node in row}
    edges: list[Edge] = []
    for dep, dependent in view.edges:
        a, b = boxes.get(dep), boxes.get(dependent)
        if a is None or b is None:
            continue
        start = (a.x + BOX_W / 2, a.y)  # top of the dependency
        end = (b.x + BOX_W / 2, b.y + BOX_H + 2)  # bottom of the dependent (arrow head)
        points = [start]
        # An edge spanning layers passes the rows between through a gap, never over a box.
        low, high = sorted((row_of[dep], row_of[dependent]))
        for between in (
            range(high - 1, low, -1) if row_of[dep] > row_of[dependent] else range(low + 1, high)
        ):
            boxes_in = [boxes[n] for n in rows[between]]
            top = MARGIN + (n_rows - 1 - between) * ROW_H
            frac = (between - row_of[dep]) / (row_of[dependent] - row_of[dep])
            ideal = start[0] + (end[0] - start[0]) * frac
            gaps = [boxes_in[0].x - GAP_X / 2] + [bx.x + BOX_W + GAP_X / 2 for bx in boxes_in]
            x = min(gaps, key=lambda g: abs(g - ideal)) if boxes_in else ideal
            points.append((x, top + BOX_H / 2))
        points.append(end)
        edges.append(Edge(dep, dependent, _smooth(points)))
    return Layout(
        width=width,
        height=height,
        boxes=tuple(boxes.values()),
        edges=tuple(edges),
        rows=tuple(row_marks),
    )
