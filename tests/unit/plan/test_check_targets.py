"""``check_targets``: hosts that are only checked. The shipped example (designs/hosts-reach)
validates offline, and every way of configuring a check target is refused before anything
runs (exit 2, located in the design)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdd_build.plan.validate import validate
from tests.unit.execute import fakerepo

REPO = Path(__file__).resolve().parents[3]


def test_the_hosts_example_validates_offline_with_its_host_checks() -> None:
    report = validate(REPO / "designs/hosts-reach/solution-design.yaml")
    assert report.ok, [p.message for p in report.problems]
    ws, plan = report.workspace, report.plan
    assert ws is not None
    assert plan is not None
    assert ws.hosts == ["r1", "r2"]
    assert ws.check_hosts == ["h1", "h2"]
    assert [s.component for s in plan.hosts["h1"]] == ["host-reach", "host-route", "hosts-reach"]
    assert plan.hosts["h2"][0].commands == ("ping -c 3 -W 1 192.168.1.2",)
    assert all(s.config is None for s in plan.hosts["h1"])  # nothing is rendered to configure
    # the host checks' offline tests ran on recorded outputs of the lab's hosts
    checks = sorted((r.component, r.index) for r in report.offline if r.kind == "check")
    assert ("host-reach", 1) in checks
    assert ("host-route", 1) in checks
    assert all(r.passed for r in report.offline), [r for r in report.offline if not r.passed]


def _design(tmp_path: Path, head: str, component: str = "", platform: str = "") -> Path:
    design = fakerepo.write_repo(tmp_path)
    text = design.read_text().replace("components:\n", head + "components:\n" + component, 1)
    design.write_text(text)
    inv = tmp_path / "inventory/hosts.yaml"
    inv.write_text(inv.read_text() + f"h1:\n  hostname: 127.0.0.1\n{platform}  data: {{n: 9}}\n")
    return design


def _messages(design: Path) -> list[str]:
    report = validate(design)
    assert not report.ok
    return [p.message for p in report.problems]


def test_components_without_targets_never_act_on_check_targets(tmp_path: Path) -> None:
    report = validate(_design(tmp_path, "check_targets: {hosts: [h1]}\n"))
    assert report.ok, report.problems
    assert report.workspace is not None
    assert "h1" not in {h for hs in report.workspace.component_hosts.values() for h in hs}


def test_a_config_template_on_a_check_target_is_refused(tmp_path: Path) -> None:
    comp = (
        "  - id: on-h1\n    kind: config_template\n    template: fake/extra.j2\n"
        "    targets: {hosts: [h1]}\n    acceptance_exempt: a test of the refusal only\n"
    )
    found = _messages(_design(tmp_path, "check_targets: {hosts: [h1]}\n", comp))
    assert any("'on-h1' (config_template) targets hosts that are only checked" in m for m in found)


@pytest.mark.parametrize(
    ("head", "platform", "words"),
    [
        ("check_targets: {hosts: [r1]}\n", "", "both configured and only checked: r1"),
        ("check_targets: {hosts: [h9]}\n", "", "check target host 'h9' is not in the inventory"),
        ("", "  platform: linux\n", None),
    ],
)
def test_wrong_check_targets_are_refused(
    tmp_path: Path, head: str, platform: str, words: str | None
) -> None:
    design = _design(tmp_path, head, platform=platform)
    if words is None:  # a linux host in the design's targets: never configured
        text = design.read_text().replace(
            "targets: {groups: [core]}", "targets: {groups: [core], hosts: [h1]}"
        )
        design.write_text(text)
        words = (
            "target host 'h1' (platform 'linux') is never configured: list it under check_targets"
        )
    assert any(words in m for m in _messages(design)), _messages(design)
