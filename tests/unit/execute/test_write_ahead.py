"""Write-ahead journal and recovery from the devices' state (issue 10, item 4), on fake
devices: what the engine does when its own record cannot be written, and how ``--recover``
decides. The real disk-full case runs live in tests/lab/test_journal_live.py."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import RecordError
from sdd_build.execute import build as build_mod
from sdd_build.execute import journal as journal_mod
from sdd_build.execute.build import RunOptions, run_build
from sdd_build.execute.evidence import EvidenceStore
from sdd_build.execute.journal import Journal, find_unfinished, read_journal
from sdd_build.execute.recover import recover_build
from sdd_build.testing.fake import FakeNetwork, Fault
from tests.unit.execute import fakerepo
from tests.unit.execute.fakerepo import build, network, validated

BASE = {h: f"frr version 0.0-fake\nhostname {h}\n!\nend\n" for h in fakerepo.HOSTS}
APPROVALS = [{"gate": "design", "by": "ops.lead", "record_sha256": "ab" * 32}]


@pytest.fixture
def design(tmp_path: Path) -> Path:
    return fakerepo.write_repo(tmp_path)


def _full(*_: Any, **__: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# ----- the journal ----------------------------------------------------------------------------


def test_write_ahead_raises_and_best_effort_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path)
    journal.write_ahead("build_started", hosts=["r1"])
    real_write = os.write

    def half(fd: int, data: bytes) -> int:  # the disk fills in the middle of an entry
        return real_write(fd, data[: len(data) // 2])

    monkeypatch.setattr(journal_mod.os, "write", half)
    with pytest.raises(RecordError, match="No space left on device"):
        journal.write_ahead("commit_intent", host="r1", component="c")
    assert journal.write("deviation", id="DEV-001") is False
    monkeypatch.setattr(journal_mod.os, "write", real_write)
    assert journal.write("rollback_done", host="r1")
    journal.close()
    entries = read_journal(tmp_path)
    # torn half-lines are skipped, the gap is marked, nothing after it is lost
    assert entries[0]["event"] == "build_started"
    assert [e["event"] for e in entries][-2:] == ["journal_gap", "rollback_done"]
    assert entries[-2]["lost"] == 2
    assert not {"commit_intent", "deviation"} & {e["event"] for e in entries}


# ----- the build ------------------------------------------------------------------------------


def test_no_commit_without_its_journaled_intent(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Journal._append

    def refuse_svc_on_r2(self: Journal, event: str, data: dict[str, Any], *, sync: bool) -> None:
        if event == "commit_intent" and data == {"host": "r2", "component": "svc"}:
            _full()
        real(self, event, data, sync=sync)

    monkeypatch.setattr(Journal, "_append", refuse_svc_on_r2)
    net = network()
    record, _ = build(design, net)
    r2 = {c.id: c.hosts["r2"].status for c in record.components if "r2" in c.hosts}
    assert r2["svc"] == "failed"
    assert not net["r2"].has("router demo / svc enable")  # never pushed
    assert net["r2"].running() == BASE["r2"]  # and what was committed before is rolled back
    dev = next(d for d in record.deviations if d.class_ == "apply_failed")
    assert "journal could not be written" in dev.reason
    assert "nothing was pushed" in dev.reason
    assert net["r1"].has("router demo / svc enable")  # other hosts go on


def test_evidence_lost_after_a_commit_still_rolls_the_device_back(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk-full bug: the commit took effect, writing its diff failed, and the record said
    'nothing was committed; the device is unchanged' while the router kept the change."""
    real = EvidenceStore.write

    def full_after_svc(self: EvidenceStore, host: str, name: str, content: Any) -> str:
        if host == "r2" and name == "svc.diff":
            _full()
        return real(self, host, name, content)

    monkeypatch.setattr(EvidenceStore, "write", full_after_svc)
    net = network()
    record, _ = build(design, net)
    assert net["r2"].running() == BASE["r2"]
    rolled = [d for d in record.deviations if d.host == "r2" and d.class_ == "rolled_back"]
    assert len(rolled) == 1
    assert "read back" in rolled[0].reason
    assert record.result == "failed"


@pytest.mark.parametrize("nth", [1, 2])
def test_session_lost_after_a_commit_is_never_recorded_as_unchanged(design: Path, nth: int) -> None:
    net = network(r1={"faults": [Fault("commit_config", nth, "after")]})
    record, _ = build(design, net)
    assert net["r1"].running() != BASE["r1"]  # the commit took effect; the restore could not
    r1 = [d.class_ for d in record.deviations if d.host == "r1"]
    assert "rollback_failed" in r1
    assert "rolled_back" not in r1
    assert record.result == "failed"


def test_a_build_that_cannot_start_its_journal_contacts_no_device(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Journal, "_append", lambda self, event, data, sync: _full())
    net = network()
    with pytest.raises(RecordError, match="no device was contacted"):
        build(design, net)
    assert all(net[h].sessions == 0 for h in fakerepo.HOSTS)
    assert find_unfinished(design.parent / "builds") == []


# ----- recovery -------------------------------------------------------------------------------


def _interrupted(design: Path, net: FakeNetwork, monkeypatch: pytest.MonkeyPatch) -> str:
    """A build that configured every host, then could not write its record."""
    with monkeypatch.context() as m:
        m.setattr(build_mod, "write_record", _full)
        with pytest.raises(RecordError, match="stays unfinished") as err:
            run_build(validated(design, net), RunOptions(approvals=APPROVALS))
    assert "--recover" in str(err.value)
    [unfinished] = find_unfinished(design.parent / "builds")
    return unfinished.name


def test_recover_restores_from_device_state_and_keeps_approvals_and_checks(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    build_id = _interrupted(design, net, monkeypatch)
    assert all(net[h].has("router demo / svc enable") for h in fakerepo.HOSTS)
    record, bdir = recover_build(validated(design, net), build_id, accept=False)
    for host in fakerepo.HOSTS:
        assert net[host].running() == BASE[host]
        assert record.hosts[host]["state"] == "restored"
    assert record.mode == "recover"
    assert record.result == "failed"
    assert record.approvals == APPROVALS
    verify = next(c for c in record.components if c.id == "verify-svc")
    assert [c["check_id"] for c in verify.hosts["r1"].checks] == ["AC-1"]
    assert verify.hosts["r1"].checks[0]["passed"] is True
    svc = next(c for c in record.components if c.id == "svc")
    assert svc.hosts["r1"].status == "rolled_back"
    assert sorted(d.host for d in record.deviations if d.class_ == "rolled_back") == [
        "r1",
        "r2",
        "r3",
    ]
    assert find_unfinished(design.parent / "builds") == []
    saved = json.loads((bdir / "as-built.json").read_text())
    assert saved["approvals"] == APPROVALS


def test_recover_does_not_trust_a_journal_that_lost_its_intents(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    build_id = _interrupted(design, net, monkeypatch)
    journal = design.parent / "builds" / build_id / "journal.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text(
        "\n".join(
            line
            for line in lines
            if '"commit_intent"' not in line and '"component_result"' not in line
        )
        + "\n"
    )
    record, _ = recover_build(validated(design, net), build_id, accept=False)
    for host in fakerepo.HOSTS:
        assert net[host].running() == BASE[host]
        assert record.hosts[host]["state"] == "restored"


def test_recover_with_accept_records_the_state_as_it_is(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    build_id = _interrupted(design, net, monkeypatch)
    record, _ = recover_build(validated(design, net), build_id, accept=True)
    assert net["r1"].has("router demo / svc enable")
    changed = [d for d in record.deviations if d.class_ == "unexpected_change"]
    assert sorted(d.host for d in changed) == ["r1", "r2", "r3"]
    assert "+ svc enable" in changed[0].actual
    assert find_unfinished(design.parent / "builds") == []


def test_recover_leaves_the_build_unfinished_while_a_changed_host_is_unreachable(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    build_id = _interrupted(design, net, monkeypatch)
    net["r3"].unreachable = True
    record, _ = recover_build(validated(design, net), build_id, accept=False)
    assert record.hosts["r3"]["state"] == "undecided"
    assert [d.class_ for d in record.deviations if d.host == "r3"] == ["unreachable"]
    assert net["r1"].running() == BASE["r1"]
    assert [p.name for p in find_unfinished(design.parent / "builds")] == [build_id]
    net["r3"].unreachable = False
    again, _ = recover_build(validated(design, net), build_id, accept=False)
    assert again.hosts["r3"]["state"] == "restored"
    assert net["r3"].running() == BASE["r3"]
    assert find_unfinished(design.parent / "builds") == []


def test_recover_on_a_still_full_disk_restores_and_stays_unfinished(
    design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    build_id = _interrupted(design, net, monkeypatch)
    monkeypatch.setattr("sdd_build.execute.recover.write_record", _full)
    with pytest.raises(RecordError, match="stays unfinished") as err:
        recover_build(validated(design, net), build_id, accept=False)
    assert "r1: restored" in str(err.value)
    assert all(net[h].running() == BASE[h] for h in fakerepo.HOSTS)
    assert [p.name for p in find_unfinished(design.parent / "builds")] == [build_id]
