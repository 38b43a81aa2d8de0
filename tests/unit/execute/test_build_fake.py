"""The build's own logic on fake devices (``sdd_build.testing.fake``): rollback, blocking of
dependents, waivers, result classification and metrics, in milliseconds.

What a real router does (refuses, elides, rewrites) is tested live in ``tests/lab``; here the
fake is scripted to behave in a given way and the tests assert what the ENGINE makes of it:
the record, the journal, and the state it leaves the (fake) device in.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdd_build.execute.baseline import qualifies
from sdd_build.execute.journal import read_journal
from sdd_build.execute.results import AsBuilt
from sdd_build.gates.waivers import Waiver
from tests.unit.execute import fakerepo
from tests.unit.execute.fakerepo import build, network

BASE = {h: f"frr version 0.0-fake\nhostname {h}\n!\nend\n" for h in fakerepo.HOSTS}


@pytest.fixture
def design(tmp_path: Path) -> Path:
    return fakerepo.write_repo(tmp_path)


def statuses(record: AsBuilt, host: str) -> dict[str, str]:
    return {c.id: c.hosts[host].status for c in record.components if host in c.hosts}


def classes(record: AsBuilt, host: str | None = None) -> list[str]:
    return [d.class_ for d in record.deviations if host is None or d.host == host]


def test_as_designed_on_every_host(design: Path) -> None:
    net = network()
    record, bdir = build(design, net)
    assert record.result == "as_designed"
    assert record.deviations == []
    assert qualifies(record)
    for host in fakerepo.HOSTS:
        assert set(statuses(record, host).values()) == {"built"}
        assert net[host].has("router demo / svc enable")
        assert net[host].sessions == 1  # one session per host for the whole build
    assert record.metrics.deviation_rate == 0.0
    assert record.metrics.reconciliation == 1.0
    events = [e["event"] for e in read_journal(bdir)]
    assert events[0] == "build_started"
    assert events[-1] == "build_finished"


def test_refused_line_rolls_the_host_back_and_blocks_its_dependents(design: Path) -> None:
    net = network(r2={"refuse": {r"svc area .*": "% Unknown command"}})
    record, _ = build(design, net)
    assert record.result == "failed"
    r2 = statuses(record, "r2")
    assert r2["svc"] == "failed"
    assert r2["verify-svc"] == "blocked"
    # committed before the failure, then restored: rolled back, verified
    assert r2["base"] == "rolled_back"
    assert r2["extra"] == "rolled_back"
    assert r2["verify-extra"] == "blocked"
    assert net["r2"].running() == BASE["r2"]
    assert classes(record, "r2")[:2] == ["apply_failed", "rolled_back"]
    assert set(classes(record, "r2")[2:]) == {"blocked"}
    # the other hosts go on
    for host in ("r1", "r3"):
        assert set(statuses(record, host).values()) == {"built"}
        assert classes(record, host) == []
    assert not qualifies(record)
    # 3 of the 15 (component, host) pairs deviate: svc, verify-svc, verify-extra on r2
    assert record.metrics.deviation_rate == 0.2
    assert record.metrics.reconciliation == round(13 / 15, 4)  # the 2 blocked have no evidence


def test_rollback_never_keeps_independent_branches_going(design: Path) -> None:
    design.write_text(design.read_text().replace("rollback: on_failure", "rollback: never"))
    net = network(r2={"refuse": {r"svc area .*": "% Unknown command"}})
    record, _ = build(design, net)
    r2 = statuses(record, "r2")
    assert r2 == {
        "base": "built",
        "extra": "built",
        "svc": "failed",
        "verify-extra": "built",
        "verify-svc": "blocked",
    }
    assert net["r2"].has("router demo / base-id 2")
    assert "rolled_back" not in classes(record)
    assert record.result == "failed"


def test_failed_check_carries_its_id_and_rolls_back(design: Path) -> None:
    net = network(r3={"outputs": {"show svc json": json.dumps({"state": "down"})}})
    record, _ = build(design, net)
    failed = [d for d in record.deviations if d.class_ == "acceptance_failed"]
    assert [(d.host, d.component, d.check) for d in failed] == [("r3", "verify-svc", "AC-1")]
    assert statuses(record, "r3")["verify-svc"] == "failed"
    # the terminal's failure line is this reason: it names the check (issue 11 item 8)
    verify = next(c for c in record.components if c.id == "verify-svc")
    assert verify.hosts["r3"].reason.startswith("1 acceptance check(s) failed: AC-1: expected")
    assert statuses(record, "r3")["svc"] == "rolled_back"
    assert net["r3"].running() == BASE["r3"]
    assert record.result == "failed"
    assert not qualifies(record)


def test_waived_check_is_recorded_not_rolled_back(design: Path) -> None:
    waiver = Waiver(
        check="AC-1",
        host="r3",
        by="ops.lead",
        reason="service arrives next week",
        granted_at="2026-01-01T00:00:00Z",
        design="demo",
        design_version=1,
    )
    net = network(r3={"outputs": {"show svc json": json.dumps({"state": "down"})}})
    record, _ = build(design, net, waivers=[waiver])
    assert [(d.class_, d.host, d.check) for d in record.deviations] == [("waived", "r3", "AC-1")]
    assert set(statuses(record, "r3").values()) == {"built"}
    assert net["r3"].has("router demo / svc enable")
    assert record.result == "with_deviations"
    assert qualifies(record)  # waived: recorded, approved, not open
    assert record.metrics.deviation_rate == 0.0


def test_a_restore_that_leaves_lines_is_rollback_failed_never_rolled_back(design: Path) -> None:
    """The device keeps a line no replace removes (FRR 8.4's BFD receive-interval): the
    engine must read the device back and say so."""
    net = network(
        r1={
            "sticky": [r"svc area .*"],
            "outputs": {"show svc json": json.dumps({"state": "down"})},
        }
    )
    record, _ = build(design, net)
    assert net["r1"].has("router demo / svc area 0")  # the device did not come back
    assert "rolled_back" not in classes(record, "r1")
    assert "rollback_failed" in classes(record, "r1")
    assert record.result == "failed"
    assert not qualifies(record)


def test_unreachable_host_blocks_only_itself(design: Path) -> None:
    net = network(r3={"unreachable": True})
    record, _ = build(design, net)
    assert classes(record, "r3")[0] == "unreachable"
    assert set(statuses(record, "r3").values()) == {"blocked"}
    assert set(statuses(record, "r1").values()) == {"built"}
    assert record.result == "failed"
    assert record.hosts["r3"]["reachable"] is False


def test_dry_run_is_checked_and_changes_nothing(design: Path) -> None:
    net = network()
    record, _ = build(design, net, check=True)
    assert record.result == "checked"
    assert record.mode == "check"
    for host in fakerepo.HOSTS:
        assert net[host].running() == BASE[host]
        assert net[host].commits == 0
    assert not qualifies(record)
