"""``check_targets``: no host outside a design's targets (its blast radius) is ever touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdd_build.design.inventory import load_inventory
from sdd_build.design.loader import load_design
from sdd_build.errors import GateError
from sdd_build.gates import check_targets
from sdd_build.workspace import open_workspace


def test_hosts_inside_the_targets_pass(design_path: Path) -> None:
    ws = open_workspace(design_path)
    assert check_targets(ws, ["r2", "r1"]) == ["r1", "r2"]


def test_host_outside_the_targets_is_refused(design_path: Path, example_repo: Path) -> None:
    (example_repo / "inventory/hosts.yaml").write_text(
        (example_repo / "inventory/hosts.yaml").read_text()
        + "edge1:\n  hostname: 127.0.0.1\n  data: {}\n"
    )
    ws = open_workspace(design_path)
    with pytest.raises(GateError) as info:
        check_targets(ws, ["r1", "edge1"])
    assert info.value.exit_code == 3
    message = str(info.value)
    assert "edge1 is outside the targets of design ospf-underlay (groups core)" in message
    # With a loaded design and the inventory, the groups are resolved the same way.
    loaded = load_design(design_path)
    inventory = load_inventory(example_repo / "inventory")
    assert check_targets(loaded, ["r3"], inventory=inventory) == ["r3"]
    with pytest.raises(GateError, match="edge1"):
        check_targets(loaded.model, ["edge1"], inventory=inventory)


def test_group_targets_need_the_inventory(design_path: Path) -> None:
    with pytest.raises(GateError, match="without the inventory"):
        check_targets(load_design(design_path), ["r1"])
