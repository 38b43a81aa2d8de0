"""Day-2 pieces without a device: waivers, baseline eligibility, diff, spec amendments."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from sdd_build.cli.day2_cmds import append_amendments
from sdd_build.design.loader import load_design
from sdd_build.errors import DesignError, GateError
from sdd_build.execute.baseline import qualifies
from sdd_build.execute.results import AsBuilt, Deviation, Metrics
from sdd_build.gates.waivers import add_waiver, load_waivers, verify_waivers
from sdd_build.plan.day2 import design_delta
from sdd_build.plan.validate import validate
from tests.conftest import EXAMPLE, CliRun

D = f"{EXAMPLE}/solution-design.yaml"


def _record(*classes: str, mode: str = "build") -> AsBuilt:
    return AsBuilt(
        build_id="b",
        mode=mode,
        design={},
        spec={},
        started="t",
        result="as_designed",
        deviations=[
            Deviation.model_validate(
                {"id": f"DEV-{i}", "component": "c", "host": "r1", "class": c, "reason": "r"}
            )
            for i, c in enumerate(classes)
        ],
        metrics=Metrics(deviation_rate=0, reuse_rate=0, reconciliation=1, time_to_value_s=None),
    )


def test_baseline_only_from_as_designed_or_waived_builds() -> None:
    assert qualifies(_record())
    assert qualifies(_record("waived"))
    assert not qualifies(_record("waived", "acceptance_failed"))
    assert not qualifies(_record(mode="check"))


def test_waiver_lifecycle(example_repo: Path, cli: CliRun) -> None:
    design = example_repo / D
    w = add_waiver(
        design,
        check="AC-2",
        by="ops.lead",
        reason="r3 loopback arrives next week",
        host="r3",
        expires=date.today() + timedelta(days=7),
    )
    assert w.covers("AC-2", "r3")
    assert not w.covers("AC-2", "r1")
    model = load_design(design).model
    assert verify_waivers(design.parent, model, example_repo)[0] == [w]
    good, ignored = verify_waivers(
        design.parent, model, example_repo, today=date.today() + timedelta(days=8)
    )
    assert good == []
    assert "expired" in ignored[0].reason
    with pytest.raises(DesignError, match="no acceptance check 'AC-9'"):
        add_waiver(design, check="AC-9", by="ops.lead", reason="no such check at all")
    with pytest.raises(DesignError, match="in the past"):
        add_waiver(
            design,
            check="AC-1",
            by="ops.lead",
            reason="expired already, sorry",
            expires=date(2020, 1, 1),
        )
    (example_repo / "approvers.yaml").write_text(
        "four_eyes: true\napprovers:\n  - {name: ops.lead, gates: [design]}\n"
        "  - {name: j.doe, gates: [design]}\n"
    )
    with pytest.raises(GateError, match="four-eyes"):
        add_waiver(design, check="AC-1", by="j.doe", reason="the author waives own check")
    with pytest.raises(GateError, match=r"someone is not listed in approvers\.yaml"):
        add_waiver(design, check="AC-1", by="someone", reason="not listed in approvers")
    res = cli(
        "waive", design, "--check", "AC-1", "--by", "ops.lead", "--reason", "tracked in CHG-1234"
    )
    assert res.exit_code == 0, res.output
    assert len(load_waivers(design.parent)) == 2
    audit = (example_repo / "audit/audit.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["event"] == "waiver" for line in audit) == 2


def test_diff_against_a_baseline(design_path: Path) -> None:
    report = validate(design_path)
    assert report.plan is not None
    baseline = {
        "build_id": "b1",
        "design": {"id": "ospf-underlay", "version": 1},
        "hosts": {
            h: {
                "components": {
                    s.component: {"kind": s.kind, "config": s.config, "commands": list(s.commands)}
                    for s in steps
                }
            }
            for h, steps in report.plan.hosts.items()
        },
    }
    assert design_delta(baseline, report.plan).empty
    template = design_path.parents[2] / "templates/frr/ospf_process.j2"
    template.write_text(
        template.read_text().replace("log-adjacency-changes", "log-adjacency-changes detail")
    )
    golden = design_path.parent / "fixtures/r2.ospf_process.cfg"
    golden.write_text(
        golden.read_text().replace("log-adjacency-changes", "log-adjacency-changes detail")
    )
    new = validate(design_path)
    assert new.plan is not None
    delta = design_delta(baseline, new.plan)
    assert delta.changed == ["ospf-process"]
    assert delta.added == []
    assert "+ log-adjacency-changes detail" in delta.host_diffs["r1"]
    assert "- log-adjacency-changes" in delta.host_diffs["r1"]


def test_amend_spec_is_additive(design_path: Path) -> None:
    spec = design_path.parent / "customer-spec.md"
    before = spec.read_text()
    record = {
        "build_id": "b7",
        "acceptance": [{"id": "AC-2", "covers": ["REQ-2"]}],
        "deviations": [
            {
                "class": "waived",
                "check": "AC-2",
                "host": "r3",
                "reason": "AC-2 failed and is waived by ops.lead: next week",
            }
        ],
    }
    added = append_amendments(spec, record, "ospf-underlay", 2)
    assert added == [
        "- REQ-2: check AC-2 waived on r3: AC-2 failed and is waived by ops.lead: next week"
    ]
    after = spec.read_text()
    assert after.startswith(before)
    assert "## Amendments" in after
    append_amendments(spec, record, "ospf-underlay", 3)
    assert spec.read_text().count("## Amendments") == 1


def test_amend_spec_names_the_failed_check_from_the_deviation(design_path: Path) -> None:
    """The check id comes from the deviation's ``check``, not from its reason's first word
    (which wrote "(no requirement): check expected failed on r3")."""
    spec = design_path.parent / "customer-spec.md"
    record = {
        "build_id": "b8",
        "acceptance": [{"id": "AC-3", "covers": ["REQ-1", "REQ-3"]}],
        "deviations": [
            {
                "class": "acceptance_failed",
                "check": "AC-3",
                "host": "r3",
                "reason": "expected '10.0.0.3', found '10.99.99.99'",
            },
            {"class": "rejected_line", "check": None, "host": "r1", "reason": "line missing"},
            {"class": "acceptance_failed", "host": "r2", "reason": "expected x, found y"},
        ],
    }
    added = append_amendments(spec, record, "ospf-underlay", 2)
    assert added == [
        "- (check not recorded): acceptance_failed on r2: expected x, found y",
        "- REQ-1: check AC-3 failed on r3: expected '10.0.0.3', found '10.99.99.99'",
        "- REQ-3: check AC-3 failed on r3: expected '10.0.0.3', found '10.99.99.99'",
    ]


def test_baseline_follows_the_policy_table() -> None:
    assert qualifies(_record("default_elided", "waived"))
    assert not qualifies(_record("rollback_failed"))
    assert not qualifies(_record("rejected_line"))
