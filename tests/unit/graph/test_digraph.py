"""The build's own DiGraph agrees with networkx on what a build reads: layers (topological
generations), ancestors and descendants, edges, and it finds every cycle networkx finds."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from sdd_build.graph.compile import DiGraph


def random_pair(seed: int, cyclic: bool) -> tuple[DiGraph, nx.DiGraph]:
    rnd = random.Random(seed)
    names = [f"c{i}" for i in range(rnd.randint(1, 40))]
    rnd.shuffle(names)
    ours, theirs = DiGraph(), nx.DiGraph()
    for n in names:
        ours.add_node(n, kind="k")
        theirs.add_node(n, kind="k")
    for _ in range(rnd.randint(0, 80)):
        a, b = rnd.sample(names, 2) if len(names) > 1 else (names[0], names[0])
        if a == b:
            continue
        if not cyclic and names.index(a) > names.index(b):
            a, b = b, a  # edges only forward in the shuffled order: acyclic
        ours.add_edge(a, b)
        theirs.add_edge(a, b)
    return ours, theirs


@pytest.mark.parametrize("seed", range(60))
def test_layers_and_reach_equal_networkx(seed: int) -> None:
    ours, theirs = random_pair(seed, cyclic=False)
    assert ours.generations() == [sorted(g) for g in nx.topological_generations(theirs)]
    assert sorted(ours.edges) == sorted(theirs.edges)
    assert ours.nodes == dict(theirs.nodes(data=True))
    for n in theirs:
        assert ours.reach(n, upstream=True) == nx.ancestors(theirs, n)
        assert ours.reach(n, upstream=False) == nx.descendants(theirs, n)
        assert sorted(ours.predecessors(n)) == sorted(theirs.predecessors(n))


@pytest.mark.parametrize("seed", range(60))
def test_a_cycle_is_found_whenever_networkx_finds_one(seed: int) -> None:
    ours, theirs = random_pair(seed, cyclic=True)
    assert (ours.generations() is None) == (not nx.is_directed_acyclic_graph(theirs))
