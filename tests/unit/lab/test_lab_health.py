"""Declared convergence: what labels ask for, and how FRR's dry-run lines are read."""

from __future__ import annotations

from sdd_build.lab import load_topology
from sdd_build.lab.health import expectations, validate_expectations
from sdd_build.lab.netns.checks import DRYRUN_LINE

from .conftest import LABS, WriteTopo


def test_expectations_from_inherited_labels() -> None:
    topo = load_topology(LABS / "triangle-converged.clab.yml")
    assert expectations(topo, "r1") == [
        ("ospf-full", "2"),
        ("bgp-established", "2"),
        ("routes", "10.0.0.2/32"),
        ("routes", "10.0.0.3/32"),
    ]
    assert expectations(load_topology(LABS / "triangle.clab.yml"), "r1") == []
    hosts = load_topology(LABS / "hosts.clab.yml")
    assert expectations(hosts, "h1") == [("ping", "192.168.1.1")]


def test_non_numeric_counts_are_reported(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: e
        topology:
          nodes:
            r1: {kind: frr, labels: {sdd.expect.ospf-full: two}}
        """
    )
    assert validate_expectations(load_topology(path)) == [
        "node 'r1': sdd.expect.ospf-full 'two' is not a number"
    ]


def test_dryrun_line_format() -> None:
    m = DRYRUN_LINE.match("line 6: % Unknown command[25]:  bogus line")
    assert m is not None
    assert (m.group(1), m.group(2).strip(), m.group(3)) == ("6", "% Unknown command", "bogus line")
