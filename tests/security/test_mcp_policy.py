"""Policy-level autonomy attacked through ``sdd-build mcp`` (issue 12, item 3): the shipped
pattern (``designs/ospf-cost/policy.example.yaml``) with a parameter out of bounds, a target
outside the pattern, a template edited after the policy was approved, an expired policy, an
agent the policy does not name. Each build is refused with the reasons and zero device contact
and becomes a pending request for a person. A conforming design is approved by the policy and
``check_gate2`` re-verifies the policy on every check (edited policy, forged block)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest

from sdd_build.errors import GateError
from sdd_build.gates import check_gate2
from sdd_build.gates.policy_approve import approve_by_policy
from tests.labkit import copy_repo, sdd
from tests.mcpkit import agent, text_of
from tests.security.test_mcp_abuse import Listener

DESIGN = "designs/ospf-cost/solution-design.yaml"
SPEC = "designs/ospf-cost/customer-spec.md"
SUBS = ("templates", "parsers", "inventory", "designs/ospf-cost")


def _setup(root: Path, *, expires: str = "2099-12-31", hosts: str = "[r1, r2, r3]") -> None:
    copy_repo(root, SUBS)
    text = (root / "designs/ospf-cost/policy.example.yaml").read_text()
    text = text.replace("expires: 2027-12-31", f"expires: {expires}")
    (root / "policy.yaml").write_text(text.replace("hosts: [r1, r2, r3]", f"hosts: {hosts}"))
    for args in (
        ("policy", "pin", "ospf-cost"),
        ("approve", SPEC, "--gate", "spec", "--by", "a.lead"),
        ("policy", "approve", "--by", "a.lead"),
    ):
        done = sdd(root, *args)
        assert done.returncode == 0, (args, done.stderr)


def _with_cost(root: Path, value: Any, hosts: str = "[r1, r2, r3]") -> str:
    text = (root / DESIGN).read_text()
    return text.replace("ospf_cost: 10", f"ospf_cost: {value}").replace(
        "hosts: [r1, r2, r3]", f"hosts: {hosts}"
    )


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Listener, Path]:
    root = tmp_path / "repo"
    root.mkdir()
    listener = Listener()
    conn = tmp_path / "conn"
    conn.mkdir()
    hosts = {
        h: {"hostname": "127.0.0.1", "port": listener.port, "username": "u", "password": "p"}
        for h in ("r1", "r2", "r3")
    }
    (conn / "hosts.yaml").write_text(json.dumps(hosts))
    return root, listener, conn


def _agent_builds(root: Path, conn: Path, name: str, content: str | None) -> tuple[bool, str]:
    async def go() -> tuple[bool, str]:
        async with agent(root, name, "--inventory", str(conn)) as client:
            if content is not None:
                drafted = await client.call_tool(
                    "write_draft_file", {"path": DESIGN, "content": content}
                )
                assert not drafted.is_error, text_of(drafted)
            result = await client.call_tool("build", {"design": DESIGN})
            return result.is_error, text_of(result)

    return anyio.run(go)


def _pending(root: Path) -> list[dict[str, Any]]:
    listed = sdd(root, "approvals", "pending", "--json")
    assert listed.returncode == 0, listed.stderr
    return list(json.loads(listed.stdout))


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("out_of_bounds", "parameter ospf_cost"),
        ("wrong_type", "parameter ospf_cost"),
        ("extra_parameter", "parameter vars"),
        ("target_outside", "outside pattern ospf-cost"),
        ("template_edited", "changed since the pattern pinned it"),
        ("agent_not_allowed", "agent rogue is not allowed"),
    ],
)
def test_non_conforming_is_refused_with_no_contact(
    repo: tuple[Path, Listener, Path], case: str, reason: str
) -> None:
    root, listener, conn = repo
    _setup(root, hosts="[r1, r2]" if case == "target_outside" else "[r1, r2, r3]")
    name, content = "builder", _with_cost(root, 20)
    if case == "out_of_bounds":
        content = _with_cost(root, 500)
    elif case == "wrong_type":
        content = _with_cost(root, '"cheap"')
    elif case == "extra_parameter":
        content = _with_cost(root, "20\n  area: 0")
    elif case == "template_edited":
        tpl = root / "templates/frr/ospf_cost.j2"
        tpl.write_text(tpl.read_text() + "ip ospf cost 999\n")
    elif case == "agent_not_allowed":
        name = "rogue"
    is_error, text = _agent_builds(root, conn, name, content)
    assert is_error, text
    assert "refused (exit 3)" in text
    assert reason in text, text
    assert listener.accepted == 0
    assert not (root / "designs/ospf-cost/approvals/design.json").exists()
    assert not (root / "designs/ospf-cost/builds").exists()
    pending = _pending(root)
    assert [(p["gate"], p["artifact"]) for p in pending] == [("design", DESIGN)]
    assert any(reason in r for r in pending[0]["policy_refusal"])


def test_expired_policy_is_refused(repo: tuple[Path, Listener, Path]) -> None:
    root, listener, conn = repo
    _setup(root, expires="2020-01-01")
    is_error, text = _agent_builds(root, conn, "builder", _with_cost(root, 20))
    assert is_error
    assert "expired on 2020-01-01" in text
    assert listener.accepted == 0
    assert not (root / "designs/ospf-cost/approvals/design.json").exists()


def test_unapproved_or_edited_policy_approves_nothing(repo: tuple[Path, Listener, Path]) -> None:
    root, listener, conn = repo
    _setup(root)
    # the agent cannot draft the policy (confinement); a person's edit needs a new approval
    policy = root / "policy.yaml"
    policy.write_text(policy.read_text().replace("maximum: 100", "maximum: 1000"))
    is_error, text = _agent_builds(root, conn, "builder", _with_cost(root, 500))
    assert is_error
    assert "never approved by a person" in text
    assert listener.accepted == 0


def test_policy_approval_is_reverified_at_every_gate_check(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    _setup(root)
    design = root / DESIGN
    design.write_text(_with_cost(root, 20))
    result = approve_by_policy(design, agent="builder", root=root)
    record = result.approval.record
    assert record.approver == "policy:lab-autonomy"
    assert record.policy is not None
    assert record.policy.parameters == {"ospf_cost": 20}
    assert record.policy.agent == "builder"
    approved = check_gate2(design)  # the existing gate accepts it: the policy covers it
    assert approved.approvals()[1]["policy"]["pattern"] == "ospf-cost"
    gates = sdd(root, "gates", "check", DESIGN, "--json")
    assert gates.returncode == 0, gates.stderr
    # a person edits the policy after it approved the design: Gate 2 no longer holds
    saved = (root / "policy.yaml").read_bytes()
    (root / "policy.yaml").write_text(saved.decode().replace("maximum: 100", "maximum: 99"))
    with pytest.raises(GateError, match="policy"):
        check_gate2(design)
    (root / "policy.yaml").write_bytes(saved)
    check_gate2(design)
    # the approval record's policy block forged (other parameters): signature-less records are
    # bound by the audit chain, and the block is re-checked against the design anyway
    path = root / "designs/ospf-cost/approvals/design.json"
    raw = json.loads(path.read_text())
    raw["policy"]["parameters"] = {"ospf_cost": 99}
    path.write_text(json.dumps(raw))
    with pytest.raises(GateError):
        check_gate2(design)
    shutil.rmtree(root / "designs/ospf-cost/approvals")
