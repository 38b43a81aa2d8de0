"""``approve``: records bound to content, refused for invalid artifacts and before Gate 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdd_build.audit import verify_log
from sdd_build.errors import DesignError, GateError
from sdd_build.gates import PolicyError, approve, check_gate1, check_gate2
from sdd_build.gates.models import Approval
from tests.conftest import EXAMPLE
from tests.unit.gates.conftest import edit, record, spec_of

DESIGN = f"{EXAMPLE}/solution-design.yaml"
SPEC = f"{EXAMPLE}/customer-spec.md"


def test_spec_then_design_binds_every_referenced_file(
    design_path: Path, example_repo: Path
) -> None:
    spec = approve(spec_of(design_path), gate="spec", by="a.smith", note="CAB-1")
    assert spec.approval.display == f"{EXAMPLE}/approvals/spec.json"
    assert spec.approval.record.requirements == ["REQ-1", "REQ-2", "REQ-3"]
    assert list(spec.approval.record.files) == [SPEC]

    result = approve(design_path, gate="design", by="b.jones")
    rec = result.approval.record
    assert rec.artifact == DESIGN
    assert rec.design is not None
    assert (rec.design.id, rec.design.version, rec.design.author) == ("ospf-underlay", 1, "j.doe")
    assert rec.spec_approval is not None
    assert rec.spec_approval.approver == "a.smith"
    roles = {path: f.roles for path, f in rec.files.items()}
    assert roles[DESIGN] == ["design"]
    assert roles[SPEC] == ["spec"]
    assert roles["templates/frr/ospf_interfaces.j2"] == ["template"]
    assert roles["templates/frr/ospf_process.j2"] == ["template"]
    assert roles["parsers/frr/show_ip_ospf_neighbor.textfsm"] == ["parser", "reuse"]
    assert roles[f"{EXAMPLE}/fixtures/r1.ospf_interfaces.cfg"] == ["fixture"]
    assert roles[f"{EXAMPLE}/fixtures/edge-host.yaml"] == ["fixture"]
    assert roles[f"{EXAMPLE}/fixtures/show_ip_ospf_neighbor.r1.txt"] == ["fixture"]
    for name in ("hosts.yaml", "groups.yaml", "defaults.yaml"):
        assert roles[f"inventory/{name}"] == ["inventory"]
    # Every bound hash is the file's real sha256.
    import hashlib

    for path, bound in rec.files.items():
        assert hashlib.sha256((example_repo / path).read_bytes()).hexdigest() == bound.sha256

    build = check_gate2(design_path)
    assert build.design_sha256 == rec.sha256
    assert [a["gate"] for a in build.approvals()] == ["spec", "design"]
    assert build.approvals()[1]["approver"] == "b.jones"
    assert build.approvals()[0]["note"] == "CAB-1"

    # The records are plain, documented JSON, and each approval left an audit entry.
    raw = json.loads((design_path.parent / "approvals" / "design.json").read_text())
    Approval.model_validate(raw)
    assert raw["approved_at"].endswith("Z")
    log = verify_log(example_repo)
    assert log.ok
    assert log.entries == 2
    assert result.audit_entry["event"] == "approval"
    assert result.audit_entry["actor"] == "b.jones"
    assert result.audit_entry["design"] == "ospf-underlay"
    assert result.audit_entry["record_sha256"] == result.approval.record_sha256


def test_design_before_spec_is_refused_by_gate1(design_path: Path) -> None:
    with pytest.raises(GateError) as info:
        approve(design_path, gate="design", by="b.jones")
    assert info.value.exit_code == 3
    assert "spec is not approved (Gate 1)" in str(info.value)
    assert not (design_path.parent / "approvals" / "design.json").exists()


def test_design_after_spec_changed_is_refused(design_path: Path) -> None:
    approve(spec_of(design_path), gate="spec", by="a.smith")
    edit(spec_of(design_path), "## Out of scope", "## Out of scope\n\nAlso IPv6.")
    with pytest.raises(GateError) as info:
        approve(design_path, gate="design", by="b.jones")
    assert f"{SPEC}: changed since the spec was approved" in str(info.value)


def test_invalid_design_is_not_approved(design_path: Path, example_repo: Path) -> None:
    approve(spec_of(design_path), gate="spec", by="a.smith")
    edit(design_path, "template: frr/ospf_process.j2", "template: frr/nope.j2")
    with pytest.raises(DesignError) as info:
        approve(design_path, gate="design", by="b.jones")
    assert info.value.exit_code == 2
    assert "template not found: templates/frr/nope.j2" in str(info.value)
    assert info.value.problems[0].file == DESIGN


def test_spec_without_requirements_is_not_approved(design_path: Path) -> None:
    spec_of(design_path).write_text("# A spec\n\nNo requirements yet.\n")
    with pytest.raises(DesignError) as info:
        approve(spec_of(design_path), gate="spec", by="a.smith")
    assert info.value.exit_code == 2
    assert "no requirements found" in str(info.value)


def test_spec_is_found_from_its_design_once_approved(design_path: Path) -> None:
    result = approve(spec_of(design_path), gate="spec", by="a.smith")
    assert result.approval.record.artifact == SPEC
    assert check_gate1(design_path).record.approver == "a.smith"
    assert check_gate1(spec_of(design_path)).record.approver == "a.smith"


def test_check_gate1_refuses_unapproved_and_changed_spec(design_path: Path) -> None:
    with pytest.raises(GateError, match="not approved"):
        check_gate1(design_path)
    approve(spec_of(design_path), gate="spec", by="a.smith")
    edit(spec_of(design_path), "REQ-3: Every", "REQ-3: Each")
    with pytest.raises(GateError) as info:
        check_gate1(spec_of(design_path))
    assert info.value.problems[0].file == SPEC
    assert "approved sha256" in str(info.value)


def test_reapproval_keeps_history(approved: Path) -> None:
    approved.write_text(approved.read_text() + "# reviewed by the CAB\n")
    with pytest.raises(GateError):
        check_gate2(approved)
    approve(approved, gate="design", by="b.jones", note="second look")
    assert check_gate2(approved).design_approval.record.note == "second look"
    history = sorted((approved.parent / "approvals" / "history").glob("design-*.json"))
    assert len(history) == 2
    first, second = (json.loads(p.read_text()) for p in history)
    assert first["sha256"] != second["sha256"]
    assert second == record(approved, "design")


def test_bad_approver_name_and_note(design_path: Path) -> None:
    with pytest.raises(PolicyError):
        approve(spec_of(design_path), gate="spec", by="a smith\nx")
    with pytest.raises(PolicyError):
        approve(spec_of(design_path), gate="spec", by="a.smith", note="x" * 5000)


def test_missing_artifact(tmp_path: Path) -> None:
    with pytest.raises(DesignError, match="file not found"):
        approve(tmp_path / "nope.md", gate="spec", by="a.smith")


def test_dynamic_include_cannot_be_bound(design_path: Path, example_repo: Path) -> None:
    approve(spec_of(design_path), gate="spec", by="a.smith")
    tpl = example_repo / "templates/frr/ospf_process.j2"
    tpl.write_text(
        "{% if host.data.get('extra_template') %}{% include host.data.extra_template %}"
        "{% endif %}\n" + tpl.read_text()
    )
    with pytest.raises(DesignError) as info:
        approve(design_path, gate="design", by="b.jones")
    assert info.value.exit_code == 2
    problem = info.value.problems[0]
    assert problem.file == "templates/frr/ospf_process.j2"
    assert problem.line == 1
    assert "computed at render time" in problem.message
