"""Attacks on the gates that need no router to prove zero contact (issue "Trust I", items 5,
6, 8): every host of the inventory points at one TCP listener on loopback that counts
connections; a refusal must exit 3 with the count at 0. The positive control (an approved
design builds and does connect) lives in tests/integration/test_gate_zero_contact.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sdd_build.design.loader import load_design
from sdd_build.gates.waivers import add_waiver, verify_waivers
from tests.conftest import EXAMPLE, CliRun
from tests.integration.test_gate_zero_contact import Listener

D = f"{EXAMPLE}/solution-design.yaml"
S = f"{EXAMPLE}/customer-spec.md"


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture
def repo(example_repo: Path, listener: Listener) -> Path:
    hosts_file = example_repo / "inventory/hosts.yaml"
    hosts = yaml.safe_load(hosts_file.read_text())
    for entry in hosts.values():
        entry.update(hostname="127.0.0.1", port=listener.port, username="u", password="p-not-real")
    hosts_file.write_text(yaml.safe_dump(hosts))
    design = example_repo / D
    design.write_text(design.read_text().replace("timeout_s: 30\n", "timeout_s: 3\n"))
    return example_repo


def _approve(cli: CliRun, root: Path, by: str = "a.lead") -> None:
    for artifact, gate in ((S, "spec"), (D, "design")):
        res = cli("approve", root / artifact, "--gate", gate, "--by", by)
        assert res.exit_code == 0, res.output


def _refused(cli: CliRun, root: Path, listener: Listener, *needles: str) -> str:
    result = cli("build", root / D)
    assert result.exit_code == 3, result.output
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert listener.accepted == 0
    return str(result.stderr)


def _forge(
    root: Path, gate: str, artifact: str, files: dict[str, list[str]], **extra: object
) -> None:
    """An approval record written by hand with correct hashes (no approvers.yaml)."""

    def sha(rel: str) -> str:
        return hashlib.sha256((root / rel).read_bytes()).hexdigest()

    record = {
        "format": "sdd-build.approval/1",
        "gate": gate,
        "artifact": artifact,
        "sha256": sha(artifact),
        "approver": "mallory",
        "approved_at": "2026-01-01T00:00:00Z",
        "note": None,
        "tool": "sdd-build 0.1.0",
        "design": None,
        "requirements": [],
        "spec_approval": None,
        "files": {rel: {"sha256": sha(rel), "roles": roles} for rel, roles in files.items()},
        **extra,
    }
    out = root / EXAMPLE / "approvals" / f"{gate}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def test_hand_forged_unsigned_records_without_a_policy(
    repo: Path, listener: Listener, cli: CliRun
) -> None:
    """Copy a real approval's file list, write both records by hand: never in the chain."""
    _approve(cli, repo)
    real = json.loads((repo / EXAMPLE / "approvals/design.json").read_text())
    spec_real = json.loads((repo / EXAMPLE / "approvals/spec.json").read_text())
    design = repo / D
    design.write_text(design.read_text().replace("version: 1", "version: 2"))
    files = {rel: f["roles"] for rel, f in real["files"].items()}
    _forge(repo, "spec", S, {S: ["spec"]}, requirements=spec_real["requirements"])
    _forge(
        repo,
        "design",
        D,
        files,
        design={"id": "ospf-underlay", "version": 2, "author": "j.doe"},
        requirements=real["requirements"],
        spec_approval=real["spec_approval"],
    )
    _refused(cli, repo, listener, "not in the audit chain")


@pytest.mark.parametrize(
    "tamper",
    ["delete_log_and_head", "edit_middle_entry", "torn_last_line", "cut_last_entries"],
)
def test_broken_chain_refuses_every_acting_command(
    repo: Path, listener: Listener, cli: CliRun, tamper: str
) -> None:
    _approve(cli, repo)
    log = repo / "audit/audit.jsonl"
    head = repo / "audit/audit.head.json"
    lines = log.read_text().splitlines(keepends=True)
    if tamper == "delete_log_and_head":
        log.unlink()
        head.unlink()
    elif tamper == "edit_middle_entry":
        entry = json.loads(lines[0])
        entry["actor"] = "someone.else"
        lines[0] = json.dumps(entry) + "\n"
        log.write_text("".join(lines))
    elif tamper == "torn_last_line":
        log.write_text("".join(lines) + '{"seq": 99, "event": "bu')
    else:
        log.write_text("".join(lines[:-1]))
        head.unlink()
    _refused(cli, repo, listener)
    # and nothing that acts goes on over it
    assert cli("approve", repo / S, "--gate", "spec", "--by", "b.other").exit_code == 3
    waive = cli("waive", repo / D, "--check", "AC-1", "--by", "b.other", "--reason", "x" * 12)
    assert waive.exit_code == 3
    assert cli("discover", repo / S).exit_code == 3
    assert listener.accepted == 0


def test_four_eyes_compares_identities_case_folded(
    repo: Path, listener: Listener, cli: CliRun, tmp_path: Path
) -> None:
    """Author 'J.Doe' approving as 'j.doe' with their own listed key: refused."""
    keys = {}
    for who in ("lead", "jdoe"):
        out = cli("keys", "generate", "--out", tmp_path / f"{who}.key")
        keys[who] = out.stdout.strip().splitlines()[-1]
    design = repo / D
    design.write_text(design.read_text().replace("author: j.doe", "author: J.Doe"))
    (repo / "approvers.yaml").write_text(
        "require_signatures: true\nfour_eyes: true\napprovers:\n"
        f"  - {{name: a.lead, public_key: '{keys['lead']}', gates: [spec, design]}}\n"
        f"  - {{name: j.doe, public_key: '{keys['jdoe']}', gates: [spec, design]}}\n"
    )
    spec = cli(
        "approve", repo / S, "--gate", "spec", "--by", "a.lead", "--key", tmp_path / "lead.key"
    )
    assert spec.exit_code == 0, spec.output
    for name in ("j.doe", "J.DOE", "J.Doe"):
        res = cli(
            "approve", repo / D, "--gate", "design", "--by", name, "--key", tmp_path / "jdoe.key"
        )
        assert res.exit_code == 3, res.output
        assert "four-eyes" in res.stderr
    # a name listed twice in different case is one person: approvers.yaml is refused
    (repo / "approvers.yaml").write_text(
        "approvers:\n  - {name: a.lead, gates: [spec]}\n  - {name: A.Lead, gates: [design]}\n"
    )
    assert cli("build", repo / D).exit_code == 2
    assert listener.accepted == 0


def test_waivers_are_verified_like_approvals(repo: Path, cli: CliRun, tmp_path: Path) -> None:
    _approve(cli, repo)
    design = repo / D
    model = load_design(design).model
    good = add_waiver(design, check="AC-1", by="ops.lead", reason="tracked in CHG-1234 for now")
    waivers = repo / EXAMPLE / "waivers.json"
    entries = json.loads(waivers.read_text())
    forged_other_design = {**entries[0], "design": "core-bgp", "design_version": 99}
    edited = {**entries[0], "check": "AC-2"}  # recorded for AC-1, edited to AC-2
    unrecorded = {**entries[0], "by": "mallory", "reason": "never went through sdd-build"}
    waivers.write_text(json.dumps([entries[0], forged_other_design, edited, unrecorded]))
    ok, ignored = verify_waivers(design.parent, model, repo)
    assert ok == [good]
    assert [i.index for i in ignored] == [1, 2, 3]
    assert all("not in the audit chain" in i.reason for i in ignored)
    # recorded properly, but for another version of the design: still ignored
    design.write_text(design.read_text().replace("version: 1", "version: 2"))
    ok, ignored = verify_waivers(design.parent, load_design(design).model, repo)
    assert ok == []
    assert any("v1, this is ospf-underlay v2" in i.reason for i in ignored)
    # a policy added later: the waiver's author is no design approver, so it no longer counts
    design.write_text(design.read_text().replace("version: 2", "version: 1"))
    (repo / "approvers.yaml").write_text("approvers:\n  - {name: a.lead, gates: [spec, design]}\n")
    ok, ignored = verify_waivers(design.parent, model, repo)
    assert ok == []
    assert any("ops.lead is not listed" in i.reason for i in ignored)


def test_signed_waiver_required_and_verified(repo: Path, cli: CliRun, tmp_path: Path) -> None:
    keys = {}
    for who in ("lead", "ops"):
        out = cli("keys", "generate", "--out", tmp_path / f"{who}.key")
        keys[who] = out.stdout.strip().splitlines()[-1]
    (repo / "approvers.yaml").write_text(
        "require_signatures: true\nfour_eyes: true\napprovers:\n"
        f"  - {{name: a.lead, public_key: '{keys['lead']}', gates: [spec, design]}}\n"
        f"  - {{name: ops.lead, public_key: '{keys['ops']}', gates: [design]}}\n"
    )
    for artifact, gate in ((S, "spec"), (D, "design")):
        res = cli(
            "approve",
            repo / artifact,
            "--gate",
            gate,
            "--by",
            "a.lead",
            "--key",
            tmp_path / "lead.key",
        )
        assert res.exit_code == 0, res.output
    unsigned = cli("waive", repo / D, "--check", "AC-1", "--by", "ops.lead", "--reason", "x" * 12)
    assert unsigned.exit_code == 3
    signed = cli(
        "waive",
        repo / D,
        "--check",
        "AC-1",
        "--by",
        "ops.lead",
        "--reason",
        "y" * 12,
        "--key",
        tmp_path / "ops.key",
    )
    assert signed.exit_code == 0, signed.output
    design = repo / D
    model = load_design(design).model
    assert len(verify_waivers(design.parent, model, repo)[0]) == 1
    # re-signing the entry as someone else's key (and fixing the chain is impossible)
    waivers = repo / EXAMPLE / "waivers.json"
    entries = json.loads(waivers.read_text())
    entries[0]["by"] = "a.lead"
    waivers.write_text(json.dumps(entries))
    ok, ignored = verify_waivers(design.parent, model, repo)
    assert ok == []
    assert ignored


def test_inventory_option_never_adds_hosts_or_data(repo: Path, cli: CliRun, tmp_path: Path) -> None:
    """plan with --inventory carrying a 4th host in the target group and extra data: the plan
    is the design inventory's (what is validated is what is built)."""
    conn = tmp_path / "conn"
    conn.mkdir()
    hosts = yaml.safe_load((repo / "inventory/hosts.yaml").read_text())
    hosts["r4"] = {**hosts["r1"], "groups": ["core"]}
    hosts["r2"]["data"]["interfaces"].append(
        {"name": "eth9", "address": "10.9.9.0/31", "peer": "x"}
    )
    (conn / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (conn / "groups.yaml").write_text("core: {}\n")
    res = cli("plan", repo / D, "--inventory", conn, "--json")
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    assert sorted(plan["hosts"]) == ["r1", "r2", "r3"]
    assert "eth9" not in res.stdout
