"""A build verifies the audit chain once (at Gate 2) and looks its waivers up in that chain:
a waiver recorded in the chain is honoured, one written by hand into waivers.json is not."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sdd_build.app import service
from sdd_build.audit import AuditLog, verify_log
from sdd_build.cli import main
from sdd_build.gates import approve, chain
from sdd_build.gates.waivers import WAIVERS_FILE, add_waiver
from sdd_build.testing.fake import attach
from tests.unit.execute import fakerepo


@pytest.fixture
def design(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _approved(tmp_path, monkeypatch)


def _approved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **edits: str) -> Path:
    """The fake use case, approved, its devices attached (r3's service down); ``edits``:
    old=new replacements in the design text before approval."""
    path = fakerepo.write_repo(tmp_path)
    text = path.read_text()
    for old, new in edits.items():
        text = text.replace(old, new)
    path.write_text(text)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "approvers.yaml").write_text(
        "approvers:\n  - {name: a.smith, gates: [spec]}\n  - {name: b.jones, gates: [design]}\n"
        "  - {name: ops.lead, gates: [design]}\n"
    )
    approve(path.parent / "spec.md", gate="spec", by="a.smith")
    approve(path, gate="design", by="b.jones")
    net = fakerepo.network(r3={"outputs": {"show svc json": json.dumps({"state": "down"})}})
    real = service.validate

    def validate(*args: Any, **kwargs: Any) -> Any:
        report = real(*args, **kwargs)
        attach(report.workspace, net)
        return report

    monkeypatch.setattr(service, "validate", validate)
    return path


def _verifications(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = chain.verify_log

    def counted(root: Path) -> Any:
        calls.append(root)
        return real(root)

    monkeypatch.setattr(chain, "verify_log", counted)
    return calls


def test_the_chain_is_verified_once_and_its_waiver_honoured(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_waiver(design, check="AC-1", by="ops.lead", reason="service arrives next week", host="r3")
    calls = _verifications(monkeypatch)
    asbuilt, _ = service.build_service(design, root=design.parents[2])
    assert len(calls) == 1
    assert [(d.class_, d.host, d.check) for d in asbuilt.deviations] == [("waived", "r3", "AC-1")]


def test_a_waiver_outside_the_chain_is_ignored_and_the_check_fails(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_waiver(design, check="AC-1", by="ops.lead", reason="service arrives next week", host="r3")
    forged = json.loads((design.parent / WAIVERS_FILE).read_text())
    forged[0]["reason"] = "changed by hand after it was recorded"
    (design.parent / WAIVERS_FILE).write_text(json.dumps(forged))
    calls = _verifications(monkeypatch)
    asbuilt, _ = service.build_service(design, root=design.parents[2])
    assert len(calls) == 1
    classes = {d.class_ for d in asbuilt.deviations}
    assert "waived" not in classes
    assert "acceptance_failed" in classes


def _entries(root: Path) -> list[dict[str, Any]]:
    lines = (root / "audit" / "audit.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_build_adds_one_chain_entry_binding_its_record_not_one_per_host(
    design: Path,
) -> None:
    """Every gated command verifies the whole chain: a build that logged an entry per
    component per host (100 routers, 2 components: 200 entries) made each later command pay
    for every host of every earlier build. One entry binds the record by its sha256; the
    deviations (r3's check fails here) stay entries of their own."""
    root = design.parents[2]
    before = len(_entries(root))
    asbuilt, bdir = service.build_service(design, root=root)
    new = _entries(root)[before:]
    assert asbuilt.deviations
    assert [e["event"] for e in new] == ["build"] + ["deviation"] * len(asbuilt.deviations)
    assert {e["host"] for e in new[1:]} == {"r3"}
    entry = new[0]
    record = hashlib.sha256((bdir / "as-built.json").read_bytes()).hexdigest()
    assert entry["as_built_sha256"] == record
    assert entry["hosts"] == 3
    statuses = {c.id: sorted(r.status for r in c.hosts.values()) for c in asbuilt.components}
    assert statuses["svc"] == ["built", "built", "rolled_back"]  # r3 rolled back
    assert [row["component"] for row in entry["components"]] == list(statuses)
    for row in entry["components"]:
        counted = sorted(s for s, n in row["statuses"].items() for _ in range(n))
        assert counted == statuses[row["component"]]
    assert entry["design"] == "demo"
    assert entry["result"] == asbuilt.result
    assert entry["record"] == f"designs/demo/builds/{bdir.name}/as-built.json"


def test_audit_verify_holds_each_record_to_the_bytes_the_chain_binds(design: Path) -> None:
    """An auditor's check, not a gate's: a record edited after its build fails `audit verify`
    (exit 3, the record named) while builds go on (the chain itself is intact)."""
    root = design.parents[2]
    _, first = service.build_service(design, root=root)
    _, second = service.build_service(design, root=root)
    report = verify_log(root, records=True)
    assert (report.ok, report.records_checked, report.records_missing) == (True, 2, 0)
    record = first / "as-built.json"
    edited = json.loads(record.read_text())
    edited["result"] = "as_designed"  # r3's failure talked away after the fact
    record.write_text(json.dumps(edited, indent=2))
    report = verify_log(root, records=True)
    [problem] = report.problems
    assert f"designs/demo/builds/{first.name}/as-built.json changed after it was logged" in (
        problem.message
    )
    assert verify_log(root).ok  # the gates verify the chain alone: building goes on
    result = CliRunner().invoke(main, ["audit", "verify", str(root)])
    assert result.exit_code == 3
    assert f"builds/{first.name}/as-built.json changed after it was logged" in result.output
    shutil.rmtree(first)  # build folders cleaned up: counted, not a problem
    shutil.rmtree(second)
    report = verify_log(root, records=True)
    assert (report.ok, report.records_checked, report.records_missing) == (True, 0, 2)


def test_a_chain_entry_naming_a_record_outside_the_repository_is_a_problem(
    tmp_path: Path,
) -> None:
    (tmp_path / "outside.json").write_text("{}")
    root = tmp_path / "repo"
    root.mkdir()
    AuditLog(root).append("build", record="../outside.json", as_built_sha256="0" * 64)
    [problem] = verify_log(root, records=True).problems
    assert "outside the repository" in problem.message


def test_the_last_entry_binding_a_record_is_the_one_it_is_held_to(tmp_path: Path) -> None:
    """A rollback or a recovery rewrites a record and logs it again: the later entry wins."""
    record = tmp_path / "designs/d/builds/b1/as-built.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"result": "as_designed"}')
    now = hashlib.sha256(record.read_bytes()).hexdigest()
    ref = "designs/d/builds/b1/as-built.json"
    log = AuditLog(tmp_path)
    log.append("build", record=ref, as_built_sha256="1" * 64)
    log.append("rollback", record=ref, as_built_sha256=now)
    assert verify_log(tmp_path, records=True).ok
    log.append("rollback", record=ref, as_built_sha256="2" * 64)
    [problem] = verify_log(tmp_path, records=True).problems
    assert problem.seq == 3


def test_a_component_named_like_a_secret_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log refuses data keys that read like secret names (``secrets-config``): component
    ids are values in the build entry, so such a component builds and is logged."""
    design = _approved(
        tmp_path,
        monkeypatch,
        **{"- id: extra\n": "- id: secrets-extra\n", "[extra]": "[secrets-extra]"},
    )
    asbuilt, _ = service.build_service(design, root=tmp_path)
    [entry] = [e for e in _entries(tmp_path) if e["event"] == "build"]
    assert "secrets-extra" in [row["component"] for row in entry["components"]]
    assert entry["as_built_sha256"]
    assert asbuilt.result
