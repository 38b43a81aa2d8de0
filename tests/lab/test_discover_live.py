"""``discover`` reports per host the FRR version, running daemons and capabilities, and flags what
the design needs that a host lacks (issue 11 item 7), read-only, on a private triangle where only
r1 runs bfdd and the design puts ``bfd`` lines on every router.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import copy_repo, private_triangle, running, sdd

pytestmark = pytest.mark.lab

DESIGN = "designs/ospf-underlay/solution-design.yaml"
SPEC = "designs/ospf-underlay/customer-spec.md"
TOPO = "labs/triangle.clab.yml"


@pytest.fixture(scope="module")
def bfd_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    require_lab()
    root = tmp_path_factory.mktemp("discover")
    copy_repo(root, ["templates", "parsers", "inventory", "designs/ospf-underlay"])
    topo = private_triangle(root, prefix="dsc")
    text = topo.read_text()
    # only r1 runs bfdd (a node's labels override its group's)
    r1 = 'labels: {sdd.asn: "65001", sdd.loopback: 10.0.0.1/32}'
    assert r1 in text
    topo.write_text(text.replace(r1, r1[:-1] + ', sdd.daemons: "bgpd,ospfd,staticd,bfdd"}'))
    # the design now needs bfdd on every router: BFD on the OSPF core links
    tpl = root / "templates/frr/ospf_interfaces.j2"
    tpl.write_text(
        tpl.read_text().replace(
            " ip ospf network point-to-point\n", " ip ospf network point-to-point\n ip ospf bfd\n"
        )
    )
    handle = lab.up(topo, wait=True, timeout=120)
    try:
        yield root, handle
    finally:
        lab.down(topo)


def test_discover_reports_daemons_and_flags_a_missing_bfdd(
    bfd_lab: tuple[Path, LabHandle],
) -> None:
    root, handle = bfd_lab
    before = {n: running(handle, n) for n in ("r1", "r2", "r3")}
    assert sdd(root, "approve", SPEC, "--gate", "spec", "--by", "a.lead").returncode == 0
    proc = sdd(root, "discover", DESIGN, "--lab", TOPO)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # a finding is a failed feasibility
    feas = json.loads((root / "designs/ospf-underlay/feasibility.json").read_text())
    hosts = feas["hosts"]
    for name in ("r1", "r2", "r3"):
        assert hosts[name]["frr_version"].startswith("8."), hosts[name]
        assert {"zebra", "ospfd", "bgpd", "staticd"} <= set(hosts[name]["daemons"])
        assert "ospf" in hosts[name]["capabilities"]
        assert set(hosts[name]["needs"]) == {"ospfd", "bfdd"}
    assert "bfdd" in hosts["r1"]["daemons"]
    assert "bfd" in hosts["r1"]["capabilities"]
    assert hosts["r1"]["findings"] == []
    for name in ("r2", "r3"):
        assert "bfdd" not in hosts[name]["daemons"]
        [finding] = hosts[name]["findings"]
        assert "needs bfdd" in finding, finding
        assert "ip ospf bfd" in finding, finding
    assert "r2:" in proc.stderr
    assert "feasibility" in proc.stderr
    assert "needs bfdd" in proc.stderr
    md = (root / "designs/ospf-underlay/feasibility.md").read_text()
    assert "## Feasibility findings" in md
    assert "- r3: the design needs bfdd" in md
    # read-only: nothing changed on any router
    assert {n: running(handle, n) for n in before} == before
