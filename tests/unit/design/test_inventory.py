from __future__ import annotations

import re
from pathlib import Path

import pytest

from sdd_build.design.inventory import load_inventory, resolve_targets
from sdd_build.design.models import Targets
from sdd_build.errors import InventoryError


def _inv(tmp_path: Path, hosts: str, groups: str = "", defaults: str = "") -> Path:
    (tmp_path / "hosts.yaml").write_text(hosts)
    if groups:
        (tmp_path / "groups.yaml").write_text(groups)
    if defaults:
        (tmp_path / "defaults.yaml").write_text(defaults)
    return tmp_path


def test_inheritance_matches_nornir(tmp_path: Path) -> None:
    inv = load_inventory(
        _inv(
            tmp_path,
            "h1: {groups: [leaf], data: {a: host}}\nh2: {data: {}}\n",
            "leaf: {groups: [dc], data: {a: leaf, b: leaf}}\ndc: {data: {c: dc}}\n",
            "data: {a: d, b: d, c: d, z: d}\nplatform: frr\n",
        )
    )
    view = inv.view("h1")
    assert dict(view.data) == {"a": "host", "b": "leaf", "c": "dc", "z": "d"}
    assert view.groups == ("leaf", "dc")
    assert view.platform == "frr"
    hosts, bad_g, bad_h = resolve_targets(inv, Targets(groups=["dc"], hosts=["h2", "nope"]))
    assert (hosts, bad_g, bad_h) == (["h1", "h2"], [], ["nope"])


def test_unknown_group_and_key_are_located(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as err:
        load_inventory(_inv(tmp_path, "h1:\n  groups: [ghost]\n  colour: red\n"), display="inv")
    text = str(err.value)
    assert "inv/hosts.yaml:2:12: unknown group 'ghost'" in text
    assert "inv/hosts.yaml:3:3: unknown key 'colour'" in text


def test_missing_hosts_file(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=r"no hosts\.yaml"):
        load_inventory(tmp_path)


def test_group_cycle_is_an_error_not_a_recursion(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match=re.escape("group cycle: a -> b -> a")):
        load_inventory(
            _inv(tmp_path, "h1: {groups: [a]}\n", "a: {groups: [b]}\nb: {groups: [a]}\n")
        )
