"""Check targets (``check_targets``) on fake devices: only their command templates run there,
after the layers they depend on (on every host), and nothing else touches them: no backup, no
configuration, no rollback, no reconciliation. The real thing (Linux hosts over Netmiko on the
FRR lab) is tests/lab/test_hosts_live.py."""

from __future__ import annotations

import json
from pathlib import Path

from sdd_build.execute.baseline import write_baseline
from sdd_build.execute.results import AsBuilt
from sdd_build.testing.fake import FakeNetwork
from tests.unit.execute import fakerepo
from tests.unit.execute.fakerepo import build

CHECK = """\
check_targets: {hosts: [h1]}
components:
  - id: reach
    kind: command_template
    targets: {hosts: [h1]}
    commands: ["ping r1"]
    parser: json
    depends_on: [verify-svc]
    acceptance:
      - id: AC-3
        covers: [REQ-1]
        expect: {query: "loss", eq: 0}
"""


def _repo(root: Path) -> Path:
    design = fakerepo.write_repo(root)
    text = design.read_text().replace("components:\n", CHECK, 1)
    design.write_text(text)
    inv = root / "inventory/hosts.yaml"
    inv.write_text(inv.read_text() + "h1:\n  hostname: 127.0.0.1\n  data: {n: 9}\n")
    return design


def _network(loss: int = 0, **scripts: dict[str, object]) -> FakeNetwork:
    net = fakerepo.network(**scripts)  # type: ignore[arg-type]
    net.add("h1", outputs={"ping r1": json.dumps({"loss": loss})})
    return net


def _statuses(record: AsBuilt, host: str) -> dict[str, str]:
    return {c.id: c.hosts[host].status for c in record.components if host in c.hosts}


def test_a_check_target_runs_its_checks_after_the_routers_and_is_never_changed(
    tmp_path: Path,
) -> None:
    net = _network()
    design = _repo(tmp_path)
    record, bdir = build(design, net)
    assert record.result == "as_designed", record.deviations
    assert _statuses(record, "h1") == {"reach": "built"}
    checks = next(c for c in record.components if c.id == "reach").hosts["h1"].checks
    assert [(c["check_id"], c["passed"], c["found"]) for c in checks] == [("AC-3", True, 0)]
    assert record.hosts["h1"]["role"] == "check"
    assert record.hosts["h1"]["reachable"] is True
    h1 = net["h1"]
    # read-only: its identity (the running config's hostname) and its command, nothing else
    assert set(h1.calls) <= {"get_config", "cli"}, h1.calls
    assert h1.commits == 0
    assert ("cli", "ping r1") in h1.log
    assert not (bdir / "evidence/h1/pre.cfg").exists()  # no backup of a check target
    assert "h1" not in json.dumps(
        [e for e in map(json.loads, (bdir / "journal.jsonl").read_text().splitlines())
         if e["event"] in ("host_backup", "commit_intent")]
    )  # fmt: skip
    plan = fakerepo.validated(design, net).plan
    assert plan is not None
    baseline = json.loads(write_baseline(bdir.parents[1], record, plan, bdir).read_text())
    assert sorted(baseline["hosts"]) == list(fakerepo.HOSTS)  # h1 holds no configuration
    # the check ran after every router's layer (the journal's order)
    events = [json.loads(line) for line in (bdir / "journal.jsonl").read_text().splitlines()]
    done = [(e["component"], e["host"]) for e in events if e["event"] == "component_result"]
    assert done.index(("reach", "h1")) > max(done.index(("verify-svc", h)) for h in fakerepo.HOSTS)


def test_a_failing_host_check_fails_the_build_and_rolls_no_router_back(tmp_path: Path) -> None:
    net = _network(loss=100)
    record, _ = build(_repo(tmp_path), net)
    assert record.result == "failed"
    failed = [d for d in record.deviations if d.class_ == "acceptance_failed"]
    assert [(d.host, d.check) for d in failed] == [("h1", "AC-3")]
    assert not [d for d in record.deviations if d.class_ in ("rolled_back", "rollback_failed")]
    for host in fakerepo.HOSTS:
        assert net[host].has("router demo / svc enable")  # the routers stay as built
    assert net["h1"].commits == 0


def test_a_host_check_is_blocked_when_a_router_it_depends_on_did_not_build(
    tmp_path: Path,
) -> None:
    net = _network(r2={"refuse": {r"svc area .*": "% Unknown command"}})
    record, _ = build(_repo(tmp_path), net)
    assert _statuses(record, "h1") == {"reach": "blocked"}
    assert "ping r1" not in [detail for _op, detail in net["h1"].log]


def test_a_check_target_that_answers_as_another_host_runs_no_check(tmp_path: Path) -> None:
    net = _network()
    net["h1"].set_config("hostname r1\n")  # the connection data points h1 at another device
    record, _ = build(_repo(tmp_path), net)
    wrong = [d for d in record.deviations if d.class_ == "identity_mismatch"]
    assert [d.host for d in wrong] == ["h1"]
    assert _statuses(record, "h1") == {"reach": "blocked"}
    assert "ping r1" not in [detail for _op, detail in net["h1"].log]


def test_a_dry_run_changes_nothing_on_a_check_target(tmp_path: Path) -> None:
    net = _network()
    record, _ = build(_repo(tmp_path), net, check=True)
    assert _statuses(record, "h1") == {"reach": "skipped"}
    assert net["h1"].commits == 0
