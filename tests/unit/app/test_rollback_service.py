"""``sdd-build rollback`` on fake devices: the record, the gates, the exit decision.

The device behaviour it relies on (FRR's refusals, the strategies that work) is tested live in
tests/lab/test_rollback_live.py; here a fake keeps a 'sticky' line (no replace removes it) so
that the engine's bookkeeping around a failed and a repaired restore is pinned.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sdd_build.app import rollback as rollback_mod
from sdd_build.app.rollback import rollback_service
from sdd_build.audit import verify_log
from sdd_build.design.inventory import LoadedInventory
from sdd_build.errors import DesignError, GateError
from sdd_build.execute.journal import read_journal
from sdd_build.testing.fake import FakeNetwork, attach
from tests.unit.execute import fakerepo
from tests.unit.execute.fakerepo import build, network

STUCK = "router demo / svc area 0"


@pytest.fixture
def design(tmp_path: Path) -> Path:
    return fakerepo.write_repo(tmp_path)


def _failed_restore(design: Path) -> tuple[FakeNetwork, Path]:
    """A build whose restore of r1 leaves 'svc area 0' behind (rollback_failed)."""
    net = network(
        r1={"sticky": [r"svc area .*"], "outputs": {"show svc json": '{"state": "down"}'}}
    )
    record, bdir = build(design, net)
    assert record.hosts["r1"]["state"] == "changed"
    assert net["r1"].has(STUCK)
    return net, bdir


def _through(monkeypatch: pytest.MonkeyPatch, net: FakeNetwork) -> None:
    """The rollback's inventory talks to the fake devices."""
    real = rollback_mod._inventory

    def fake(root: Path, inventory: Path | None, connections: Path | None) -> LoadedInventory:
        inv = real(root, inventory, connections)
        attach(SimpleNamespace(inventory=inv), net)
        return inv

    monkeypatch.setattr(rollback_mod, "_inventory", fake)


def _record(bdir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((bdir / "as-built.json").read_text())
    return data


def test_the_build_record_says_what_is_left_and_how_to_repair(design: Path) -> None:
    _net, bdir = _failed_restore(design)
    record = _record(bdir)
    assert next(iter(record)) == "attention"
    [item] = record["attention"]
    assert item["host"] == "r1"
    assert item["repair"] == f"sdd-build rollback {bdir.name} --host r1"
    assert any("svc area 0" in row for row in item["left"])
    assert record["hosts"]["r1"]["committed"]  # which components may be on it


def test_a_repaired_restore_updates_the_record(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net, bdir = _failed_restore(design)
    _through(monkeypatch, net)
    net["r1"].sticky = []  # whatever kept the line is gone now
    result = rollback_service(bdir.name, root=design.parents[2])
    assert result.ok
    assert not net["r1"].has(STUCK)
    assert list(result.outcomes) == ["r1"]  # only the host left changed
    record = _record(bdir)
    assert record["hosts"]["r1"]["state"] == "restored"
    assert record["attention"] == []
    assert record["rollbacks"][-1]["hosts"]["r1"]["verified"] is True
    assert record["deviations"][-1]["class"] == "rolled_back"
    assert record["deviations"][-1]["host"] == "r1"
    statuses = {c["id"]: c["hosts"]["r1"]["status"] for c in record["components"] if c["hosts"]}
    assert statuses["svc"] == "rolled_back"
    assert "ROLLBACK FAILED" not in (bdir / "as-built.md").read_text()
    events = [e["event"] for e in read_journal(bdir)]
    assert events[-2:] == ["rollback_retry_started", "rollback_done"]
    audit = "".join(p.read_text() for p in (design.parents[2] / "audit").rglob("*.jsonl"))
    assert '"event":"rollback"' in audit.replace(" ", "")
    # the rollback's entry binds the record it rewrote: `audit verify` holds it to those bytes
    report = verify_log(design.parents[2], records=True)
    assert (report.ok, report.records_checked) == (True, 1)


def test_a_restore_that_still_fails_stays_changed(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net, bdir = _failed_restore(design)
    _through(monkeypatch, net)
    result = rollback_service(bdir.name, hosts=["r1"], root=design.parents[2])
    assert not result.ok
    record = _record(bdir)
    assert record["hosts"]["r1"]["state"] == "changed"
    assert any("svc area 0" in row for row in record["attention"][0]["left"])
    assert record["deviations"][-1]["class"] == "rollback_failed"
    assert "ROLLBACK FAILED" in (bdir / "as-built.md").read_text()  # reports re-rendered
    assert 'id="attention"' in (bdir / "report.html").read_text()


def test_a_later_build_on_the_host_refuses_without_contact(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net, bdir = _failed_restore(design)
    _through(monkeypatch, net)
    net["r1"].sticky = []
    later = network()
    for host in fakerepo.HOSTS:
        later[host].config = list(net[host].config)
    build(design, later)  # a second build committed on r1 after the failed one
    sessions = net["r1"].sessions
    with pytest.raises(GateError, match="a later build changed r1"):
        rollback_service(bdir.name, root=design.parents[2])
    assert net["r1"].sessions == sessions  # no device contact


def test_bad_input_is_refused_before_any_contact(
    design: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    net, bdir = _failed_restore(design)
    _through(monkeypatch, net)
    root = design.parents[2]
    sessions = net["r1"].sessions
    with pytest.raises(DesignError, match="no build"):
        rollback_service("20990101T000000Z-ffff", root=root)
    with pytest.raises(DesignError, match="not a host of build"):
        rollback_service(bdir.name, hosts=["r9"], root=root)
    monkeypatch.setenv("SDD_STATE_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(DesignError, match="no pre-build backup of r1"):
        rollback_service(bdir.name, root=root)
    assert net["r1"].sessions == sessions


def test_an_unfinished_build_goes_to_recover(design: Path) -> None:
    _net, bdir = _failed_restore(design)
    journal = bdir / "journal.jsonl"
    lines = [ln for ln in journal.read_text().splitlines() if '"build_finished"' not in ln]
    journal.write_text("\n".join(lines) + "\n")
    with pytest.raises(DesignError, match="did not finish"):
        rollback_service(bdir.name, root=design.parents[2])


def test_a_locked_host_refuses_with_exit_3_and_no_contact(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sdd_build.errors import HostLockedError
    from sdd_build.execute.locks import lock_hosts

    net, bdir = _failed_restore(design)
    _through(monkeypatch, net)
    root = design.parents[2]
    inv = rollback_mod._inventory(root, None, None)
    sessions = net["r1"].sessions
    journal_before = (bdir / "journal.jsonl").read_text()
    held = lock_hosts([inv.inventory.hosts["r1"]], "build", design="other", build_id="B-OTHER")
    with held, pytest.raises(HostLockedError, match="B-OTHER") as refused:
        rollback_service(bdir.name, root=root)
    assert refused.value.exit_code == 3
    assert net["r1"].sessions == sessions
    assert (bdir / "journal.jsonl").read_text() == journal_before


def test_a_device_another_repository_changed_since_refuses_without_contact(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The device ledger (beside the locks, machine-wide): another build, of any repository,
    changed r1 after this build's backups were taken: restoring them would undo it."""
    from sdd_build.execute.locks import lock_hosts

    net, bdir = _failed_restore(design)
    _through(monkeypatch, net)
    root = design.parents[2]
    inv = rollback_mod._inventory(root, None, None)
    other = lock_hosts(
        [inv.inventory.hosts["r1"]], "build", design="core-bgp", build_id="B-ELSEWHERE"
    )
    with other as devices:
        devices.changing("r1")  # settled when the body ends
    sessions = net["r1"].sessions
    with pytest.raises(GateError, match="B-ELSEWHERE") as refused:
        rollback_service(bdir.name, root=root)
    assert refused.value.exit_code == 3
    assert net["r1"].sessions == sessions
