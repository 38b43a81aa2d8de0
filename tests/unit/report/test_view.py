"""What the formats show, derived from the record: outcomes, cases, evidence links."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import SddBuildError
from sdd_build.execute.results import AsBuilt
from sdd_build.report import load_record
from sdd_build.report.view import ReportView, safe_evidence_path
from tests.unit.report.conftest import XSD, MakeBuild, fixture_record, rich_record


def view_of(record: dict[str, Any], build_dir: Path | None = None) -> ReportView:
    return ReportView(AsBuilt.model_validate(record), build_dir)


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("evidence/r1/pre.cfg", "evidence/r1/pre.cfg"),
        ("evidence/./r1//pre.cfg", "evidence/r1/pre.cfg"),
        ("private/r1/backup.cfg", None),
        ("evidence/../private/r1/backup.cfg", None),
        ("evidence/r1/../../private/x", None),
        ("evidence/private/x", None),
        ("/etc/passwd", None),
        ("evidence\\r1\\pre.cfg", None),
        ("javascript:alert(1)", None),
        ("evidence/javascript:alert(1)", None),
        ("evidence", None),
        ("", None),
    ],
)
def test_only_relative_paths_under_evidence_are_linked(path: str, safe: str | None) -> None:
    assert safe_evidence_path(path) == safe


def test_a_symlink_out_of_evidence_is_not_linked(rich_build: Path) -> None:
    assert (rich_build / "evidence/r2/link-to-private.cfg").is_symlink()
    assert safe_evidence_path("evidence/r2/link-to-private.cfg", rich_build) is None
    assert safe_evidence_path("evidence/r2/ospf-process.rendered.cfg", rich_build)


def test_a_host_folder_linked_out_of_evidence_is_not_linked(rich_build: Path) -> None:
    """The view checks each folder once for all its files: a folder that is a symlink out
    of evidence/ refuses every file in it, a file that is one refuses itself only."""
    outside = rich_build / "private" / "elsewhere"
    outside.mkdir(parents=True)
    (outside / "x.cfg").write_text("x\n")
    (rich_build / "evidence" / "r9").symlink_to(outside)
    (rich_build / "evidence" / "r1").mkdir(exist_ok=True)
    (rich_build / "evidence" / "r1" / "ok.cfg").write_text("ok\n")
    (rich_build / "evidence" / "r1" / "out.cfg").symlink_to(outside / "x.cfg")
    (rich_build / "evidence" / "r1" / "in.cfg").symlink_to(rich_build / "evidence/r1/ok.cfg")
    folders: dict[str, str] = {}
    for _ in range(2):  # the second time from the cache of folders
        assert safe_evidence_path("evidence/r9/x.cfg", rich_build, folders) is None
        assert safe_evidence_path("evidence/r1/out.cfg", rich_build, folders) is None
        assert safe_evidence_path("evidence/r1/ok.cfg", rich_build, folders)
        assert safe_evidence_path("evidence/r1/in.cfg", rich_build, folders)
        assert safe_evidence_path("evidence/r1/missing.cfg", rich_build, folders)
    refs = view_of(rich_record(), rich_build).evidence(
        ["evidence/r9/x.cfg", "evidence/r1/ok.cfg", "evidence/r1/missing.cfg"]
    )
    assert [(r.path, r.exists) for r in refs] == [
        ("evidence/r1/ok.cfg", True),
        ("evidence/r1/missing.cfg", False),
    ]


def test_worst_status_colours_the_component() -> None:
    view = view_of(fixture_record("failed"))
    assert view.status["ospf-process"] == "failed"
    assert view.status["ospf-interfaces"] == "built"
    assert view.status["underlay"] == "blocked"
    assert view.status["vtysh-json"] == "offline"  # a parser runs on no device
    rich = view_of(rich_record())
    assert rich.status["ospf-process"] == "failed"  # failed beats rolled_back and skipped
    assert rich.hosts == ["r1", "r2", "r3", "r4"]


def test_cases_of_the_failed_build() -> None:
    view = view_of(fixture_record("failed"))
    apply = [c for c in view.cases if c.kind == "apply"]
    checks = [c for c in view.cases if c.kind == "check"]
    assert len(apply) == 6
    assert len(checks) == 9
    failed = [c for c in apply if c.outcome == "failed"]
    assert {c.host for c in failed} == {"r1", "r2", "r3"}
    assert all("% Command incomplete: ip ospf cost" in c.message for c in failed)
    assert all(any(n.startswith("rolled back (DEV-") for n in c.notes) for c in failed)
    assert {c.outcome for c in checks} == {"blocked"}
    assert all(c.message == "host rolled back after 'ospf-process' failed" for c in checks)


def test_cases_of_the_rich_record() -> None:
    view = view_of(rich_record())
    by = {(c.name, c.component, c.host): c for c in view.cases}
    assert by[("apply", "ospf-process", "r2")].outcome == "failed"
    assert by[("apply", "ospf-process", "r3")].outcome == "skipped"
    assert by[("apply", "ospf-process", "r3")].message.startswith("rolled back")
    assert by[("apply", "ospf-process", "r4")].outcome == "skipped"
    assert by[("AC-3", "verify-router-id", "r1")].outcome == "passed"
    assert by[("AC-3", "verify-router-id", "r2")].outcome == "failed"
    waived = by[("AC-3", "verify-router-id", "r3")]
    assert waived.outcome == "waived"
    assert "waived by c.lee: lab quirk" in waived.message
    assert by[("AC-3", "verify-router-id", "r4")].outcome == "blocked"
    assert by[("AC-9", "verify-router-id", "r1")].outcome == "error"  # built, no result
    # AC-2's component ran on r1-r3 only (it may narrow its targets): no case for r4
    assert ("AC-2", "verify-ospf-routes", "r4") not in by


def test_traceability_rows() -> None:
    rows = view_of(rich_record()).trace()
    uncovered = [r for r in rows if r.acceptance is None]
    assert [r.requirement["id"] for r in uncovered if r.requirement] == ["REQ-4"]
    orphan = [r for r in rows if r.requirement is None]
    assert [r.acceptance["id"] for r in orphan if r.acceptance] == ["AC-9"]
    req3 = next(r for r in rows if r.requirement and r.requirement["id"] == "REQ-3")
    assert {c.host: c.outcome for c in req3.cases} == {
        "r1": "passed",
        "r2": "failed",
        "r3": "waived",
        "r4": "blocked",
    }
    assert req3.cases[0].evidence[0].path == "evidence/r1/verify-router-id.0.raw.txt"


# -- loading --------------------------------------------------------------------------------


def test_load_record_reads_the_contract(failed_build: Path) -> None:
    assert load_record(failed_build).result == "failed"


def test_not_a_build_folder(tmp_path: Path) -> None:
    with pytest.raises(SddBuildError, match="no such directory"):
        load_record(tmp_path / "nope")
    with pytest.raises(SddBuildError, match=r"no as-built\.json") as exc:
        load_record(tmp_path)
    assert exc.value.exit_code == 2


def test_unfinished_build_is_named(tmp_path: Path) -> None:
    (tmp_path / "journal.jsonl").write_text("{}\n")
    with pytest.raises(SddBuildError, match="never finished"):
        load_record(tmp_path)


def test_malformed_json_is_located(tmp_path: Path) -> None:
    (tmp_path / "as-built.json").write_text('{\n  "build_id": "x",\n  oops\n}\n')
    with pytest.raises(SddBuildError) as exc:
        load_record(tmp_path)
    problem = exc.value.problems[0]
    assert (problem.line, problem.column) == (3, 3)
    assert "malformed JSON" in problem.message


def test_record_outside_the_contract(tmp_path: Path) -> None:
    rec = fixture_record("failed")
    rec["result"] = "mostly_fine"
    del rec["metrics"]
    (tmp_path / "as-built.json").write_text(json.dumps(rec))
    with pytest.raises(SddBuildError) as exc:
        load_record(tmp_path)
    messages = [p.message for p in exc.value.problems]
    assert any(m.startswith("malformed record: result:") for m in messages)
    assert any(m.startswith("malformed record: metrics:") for m in messages)
    (tmp_path / "as-built.json").write_text("[1, 2]")
    with pytest.raises(SddBuildError, match="top level must be an object"):
        load_record(tmp_path)
    (tmp_path / "as-built.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(SddBuildError, match="not UTF-8"):
        load_record(tmp_path)


def test_a_record_without_graph_still_reports(make_build: MakeBuild) -> None:
    """Records from before ``layers``/``edges`` existed: components go in by their layer."""
    import xmlschema

    from sdd_build.report import write_all

    rec = fixture_record("failed")
    rec["layers"], rec["edges"], rec["requirements"], rec["acceptance"] = [], [], [], []
    view = view_of(rec)
    assert [len(layer) for layer in view.layers] == [4, 1, 2, 1, 1]
    bdir = make_build(rec)
    paths = write_all(bdir)
    assert len(paths) == 3
    xmlschema.XMLSchema(str(XSD)).validate(str(bdir / "junit.xml"))
    assert "The record carries no requirement" in (bdir / "as-built.md").read_text()
