"""Compile a design into its dependency graph and leaf-first layers.

Edges point from what must be built first to what needs it (``dependency -> dependent``):

* ``depends_on: [x]``     x -> component
* workflow ``steps: [x]`` x -> workflow (a parent is built after all of its children)
* command ``parser: p``   p -> command_template (implicit: a check cannot run without its parser)

Layers are the topological generations of that graph, so layer 0 holds the leaves.
Every structural problem is collected and reported together, located in the design file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from sdd_build.design.loader import LoadedDesign
from sdd_build.design.models import CommandTemplate, Workflow
from sdd_build.errors import GraphError, Problem

__all__ = ["CompiledGraph", "DiGraph", "compile_graph"]


class DiGraph:
    """The dependency graph: what every build reads of it (``nodes[id]`` attributes, ``edges``,
    ``predecessors``), kept in insertion order. Layers come from the standard library's
    ``graphlib``; networkx (a tenth of a second to import, on every command) is imported only
    to describe the cycles of a design that has some (:func:`_cycles`)."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self._succ: dict[str, dict[str, None]] = {}
        self._pred: dict[str, dict[str, None]] = {}

    def add_node(self, node: str, **attrs: Any) -> None:
        self.nodes.setdefault(node, {}).update(attrs)
        self._succ.setdefault(node, {})
        self._pred.setdefault(node, {})

    def add_edge(self, src: str, dst: str) -> None:
        self.add_node(src)
        self.add_node(dst)
        self._succ[src][dst] = None
        self._pred[dst][src] = None

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(u, v) for u, succ in self._succ.items() for v in succ]

    def predecessors(self, node: str) -> Iterator[str]:
        return iter(self._pred[node])

    def successors(self, node: str) -> Iterator[str]:
        return iter(self._succ[node])

    def __contains__(self, node: object) -> bool:
        return node in self.nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def reach(self, node: str, *, upstream: bool) -> set[str]:
        """Every node reachable from ``node`` (without it), along or against the edges."""
        step = self._pred if upstream else self._succ
        seen: set[str] = set()
        todo = list(step[node])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(step[n])
        return seen

    def generations(self) -> list[list[str]] | None:
        """Topological generations (sorted within each), or ``None`` when there is a cycle."""
        sorter = TopologicalSorter({n: list(self._pred[n]) for n in self.nodes})
        try:
            sorter.prepare()
        except CycleError:
            return None
        layers: list[list[str]] = []
        while sorter.is_active():
            ready = sorter.get_ready()
            layers.append(sorted(ready))
            sorter.done(*ready)
        return layers


@dataclass(frozen=True)
class CompiledGraph:
    graph: DiGraph
    layers: list[list[str]]
    layer_of: dict[str, int]
    order: list[str]  # one valid build order: layer by layer, ids sorted within a layer

    def dependents(self, component_id: str) -> set[str]:
        """Everything that (transitively) needs ``component_id``: blocked when it fails."""
        return self.graph.reach(component_id, upstream=False)

    def dependencies(self, component_id: str) -> set[str]:
        return self.graph.reach(component_id, upstream=True)


def compile_graph(loaded: LoadedDesign) -> CompiledGraph:
    """Build the DiGraph; raises ``GraphError`` listing every problem found."""
    design = loaded.model
    problems: list[Problem] = []
    graph = DiGraph()
    first_index: dict[str, int] = {}

    for index, comp in enumerate(design.components):
        if comp.id in first_index:
            problems.append(
                loaded.problem(
                    ("components", index, "id"),
                    f"duplicate component id '{comp.id}' "
                    f"(first defined at components[{first_index[comp.id]}])",
                )
            )
            continue
        first_index[comp.id] = index
        graph.add_node(comp.id, kind=comp.kind)

    kinds = {comp.id: comp.kind for comp in design.components}

    def edge(src: str, dst: str, path: tuple[str | int, ...], relation: str) -> None:
        if src == dst:
            problems.append(loaded.problem(path, f"component '{dst}' {relation} itself"))
        elif src not in kinds:
            problems.append(
                loaded.problem(path, f"component '{dst}' {relation} unknown component '{src}'")
            )
        else:
            graph.add_edge(src, dst)

    for index, comp in enumerate(design.components):
        if first_index.get(comp.id) != index:
            continue
        for j, dep in enumerate(comp.depends_on):
            edge(dep, comp.id, ("components", index, "depends_on", j), "depends on")
        if isinstance(comp, Workflow):
            for j, step in enumerate(comp.steps):
                edge(step, comp.id, ("components", index, "steps", j), "has as a step")
        if isinstance(comp, CommandTemplate) and comp.parser is not None:
            path = ("components", index, "parser")
            if comp.parser in kinds and kinds[comp.parser] != "parser":
                problems.append(
                    loaded.problem(
                        path,
                        f"component '{comp.id}' uses '{comp.parser}' as its parser, "
                        f"but '{comp.parser}' is a {kinds[comp.parser]}",
                    )
                )
            else:
                edge(comp.parser, comp.id, path, "uses as its parser")

    problems.extend(_workflow_contracts(loaded, kinds))

    generations = graph.generations()
    if generations is None:
        for cycle in _cycles(graph):
            shown = " -> ".join([*cycle, cycle[0]])
            start = loaded.component_path(cycle[0])
            problems.append(loaded.problem(start, f"dependency cycle: {shown}"))

    if not problems:
        problems.extend(_unreachable(loaded, graph))

    if problems:
        raise GraphError.from_problems(problems)

    assert generations is not None  # a cycle is a problem, raised above
    layers = generations
    layer_of = {node: i for i, layer in enumerate(layers) for node in layer}
    order = [node for layer in layers for node in layer]
    return CompiledGraph(graph=graph, layers=layers, layer_of=layer_of, order=order)


def _cycles(dag: DiGraph) -> list[list[str]]:
    """One cycle per strongly connected component, as a path (deterministic)."""
    import networkx as nx  # only a design with a cycle pays its import

    graph = nx.DiGraph()
    for node, attrs in dag.nodes.items():
        graph.add_node(node, **attrs)
    graph.add_edges_from(dag.edges)  # the same adjacency order: the same cycle found
    found: list[list[str]] = []
    for scc in sorted(nx.strongly_connected_components(graph), key=sorted):
        if len(scc) < 2:
            continue
        sub = graph.subgraph(scc)
        start = min(scc)
        cycle_edges = nx.find_cycle(sub, source=start)
        found.append([u for u, _ in cycle_edges])
    return found


def _workflow_contracts(loaded: LoadedDesign, kinds: Mapping[str, str]) -> list[Problem]:
    """A parent workflow must declare what its children need from outside it.

    If step S of workflow W depends on D, then D must be a step of W or in W's depends_on;
    parsers are exempt (pure, offline, no device). Otherwise W could be scheduled or reused
    somewhere its children's needs are not met, and nobody reading W would know.
    """
    problems: list[Problem] = []
    by_id = {c.id: c for c in loaded.model.components}
    for index, comp in enumerate(loaded.model.components):
        if not isinstance(comp, Workflow):
            continue
        provided = set(comp.steps) | set(comp.depends_on)
        for step in comp.steps:
            child = by_id.get(step)
            if child is None:
                continue
            for dep in child.depends_on:
                if dep in provided or kinds.get(dep) in (None, "parser") or dep == comp.id:
                    continue
                problems.append(
                    loaded.problem(
                        ("components", index, "steps"),
                        f"workflow '{comp.id}': its step '{step}' depends on '{dep}', which is "
                        f"neither a step of '{comp.id}' nor in its depends_on; declare it",
                    )
                )
    return problems


def _unreachable(loaded: LoadedDesign, graph: DiGraph) -> list[Problem]:
    """With workflows present, the root workflows define the build; anything they do not
    reach (through steps, dependencies or parsers) would never be built."""
    workflows = [c for c in loaded.model.components if isinstance(c, Workflow)]
    if not workflows:
        return []
    as_step: dict[str, list[str]] = defaultdict(list)
    for wf in workflows:
        for step in wf.steps:
            as_step[step].append(wf.id)
    roots = [wf.id for wf in workflows if wf.id not in as_step]
    reachable: set[str] = set(roots)
    for root in roots:
        reachable |= graph.reach(root, upstream=True)
    problems = []
    for index, comp in enumerate(loaded.model.components):
        if comp.id in reachable:
            continue
        problems.append(
            loaded.problem(
                ("components", index, "id"),
                f"component '{comp.id}' is unreachable: no root workflow "
                f"({', '.join(sorted(roots)) or 'none'}) reaches it; add it to a workflow's "
                "steps or remove it",
            )
        )
    return problems
