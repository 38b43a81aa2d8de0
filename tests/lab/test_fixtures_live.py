"""`sdd-build fixtures record` against real FRR (issue 11 item 1): the design's show commands
run read-only on a private lab; the files written are what the router answers, the printed
design lines make a check test that `validate` runs offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import copy_repo, private_triangle, running, sdd, strip_volatile

pytestmark = pytest.mark.lab

DESIGN = "designs/ospf-underlay/solution-design.yaml"
FIX = "designs/ospf-underlay/fixtures"


@pytest.fixture(scope="module")
def fx_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    require_lab()
    root = tmp_path_factory.mktemp("fxrepo")
    copy_repo(root, ["templates", "parsers", "inventory", "designs/ospf-underlay"])
    topo = private_triangle(root, "fx")
    handle = lab.up(topo, wait=False, timeout=120)
    try:
        yield root, handle
    finally:
        lab.down(topo)


def test_record_writes_what_the_router_answers_and_changes_nothing(
    fx_lab: tuple[Path, LabHandle],
) -> None:
    root, handle = fx_lab
    r1 = handle.hosts["r1"]
    r1.vtysh("configure terminal", "router ospf", "ospf router-id 10.0.0.1")
    before = {n: strip_volatile(running(handle, n)) for n in ("r1", "r2")}

    res = sdd(root, "fixtures", "record", DESIGN, "--lab", "labs/triangle.clab.yml", "--host", "r1")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    # read-only: neither router's configuration moved
    assert {n: strip_volatile(running(handle, n)) for n in ("r1", "r2")} == before

    raw = (root / FIX / "verify-router-id/r1.0.txt").read_text()
    assert json.loads(raw)["routerId"] == "10.0.0.1"
    assert json.loads(raw)["routerId"] == json.loads(r1.vtysh("show ip ospf json"))["routerId"]
    parsed = json.loads((root / FIX / "verify-router-id/r1.0.parsed.json").read_text())
    assert parsed["routerId"] == "10.0.0.1"
    assert not list((root / FIX).glob("*/r2.*")), "--host r1 read r2"

    # the printed lines, pasted as the engineer would, make an offline check test that passes
    block = res.stdout.split("# component 'verify-router-id'", 1)[1].split("  # component", 1)[0]
    lines = block.splitlines()[1:]
    assert lines[0] == "    check_tests:"
    assert "expect: {AC-3: pass}" in block
    design = root / DESIGN
    text = design.read_text()
    anchor = (
        "    parser: vtysh-json\n    depends_on: [ospf-config]\n    acceptance:\n      - id: AC-3"
    )
    assert anchor in text
    design.write_text(
        text.replace(
            anchor, anchor.replace("    acceptance:\n", "\n".join(lines) + "\n    acceptance:\n")
        )
    )
    check = sdd(root, "validate", DESIGN, "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    results = [r for r in json.loads(check.stdout)["offline"] if r["kind"] == "check"]
    assert results
    assert all(r["passed"] for r in results)
