"""The plan stage on the shipped example: order, per-host renders, Gate-2 criteria."""

from __future__ import annotations

from pathlib import Path

from sdd_build.plan.validate import validate

EXPECTED_LAYERS = [
    ["ospf-neighbors", "ospf-process", "vtysh-json"],
    ["ospf-interfaces"],
    ["ospf-config"],
    ["verify-ospf-neighbors", "verify-router-id"],
    ["verify-ospf-routes"],
    ["underlay"],
]


def test_example_is_valid_and_leaf_first(design_path: Path) -> None:
    report = validate(design_path)
    assert report.ok, report.problems
    assert report.plan is not None
    assert report.plan.layers == EXPECTED_LAYERS
    assert [s.component for s in report.plan.hosts["r3"]] == [
        "ospf-process",
        "ospf-interfaces",
        "ospf-config",
        "verify-ospf-neighbors",
        "verify-router-id",
        "verify-ospf-routes",
        "underlay",
    ]
    assert all(r.passed for r in report.offline)
    assert len(report.offline) == 5


def test_renders_use_inherited_host_data(design_path: Path) -> None:
    report = validate(design_path)
    assert report.plan is not None
    r2 = {s.component: s for s in report.plan.hosts["r2"]}
    config = r2["ospf-interfaces"].config
    assert config is not None
    # ospf_area and timers come from group 'core'; interfaces from the host itself.
    assert "interface eth2\n description core link to r3\n ip ospf area 0.0.0.0\n" in config
    assert " ip ospf dead-interval 4\n" in config
    assert r2["ospf-process"].config == (
        "router ospf\n ospf router-id 10.0.0.2\n log-adjacency-changes\nexit\n"
    )
    assert r2["verify-router-id"].commands == ("show ip ospf json",)


def test_component_targets_narrow_the_blast_radius(design_path: Path) -> None:
    text = design_path.read_text().replace(
        "    template: frr/ospf_process.j2\n",
        "    template: frr/ospf_process.j2\n    targets: {hosts: [r1]}\n",
    )
    design_path.write_text(text)
    report = validate(design_path)
    assert report.ok, report.problems
    assert report.workspace is not None
    assert report.workspace.component_hosts["ospf-process"] == ["r1"]
    assert report.workspace.component_hosts["ospf-config"] == ["r1", "r2", "r3"]
    assert "ospf-process" not in [s.component for s in report.plan.hosts["r2"]]  # type: ignore[union-attr]


def test_acceptance_exempt_satisfies_gate2(design_path: Path) -> None:
    text = design_path.read_text()
    text = text.replace(
        "  # --- parent workflow: the use case ---",
        "  - id: banner\n    kind: config_template\n    template: frr/ospf_process.j2\n"
        "    acceptance_exempt: cosmetic banner, verified by the drift check instead\n"
        "  # --- parent workflow: the use case ---",
    ).replace("steps: [ospf-config, verify", "steps: [banner, ospf-config, verify")
    design_path.write_text(text)
    assert validate(design_path).ok
    design_path.write_text(
        text.replace(
            "    acceptance_exempt: cosmetic banner, verified by the drift check instead\n", ""
        )
    )
    report = validate(design_path)
    assert not report.ok
    assert any("'banner' changes devices" in p.message for p in report.problems)
