"""The agent flow of issue 12 on real FRR routers, driven through ``sdd-build mcp`` with the
SDK's stdio client: draft a spec, ``discover`` refused before Gate 1, a human approves the
agent's request (CLI), ``discover``, draft the design, ``validate``, ``build`` refused before
Gate 2 (zero contact through a counting proxy), request, a human approves, ``build`` with
progress notifications, the as-built read back through the tools; the routers run the design
(vtysh) and the audit chain names the agent."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from sdd_build import lab
from sdd_build.audit.log import verify_log
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import CountingProxy, copy_repo, lab_inventory_through, private_triangle, sdd
from tests.mcpkit import agent, text_of

pytestmark = pytest.mark.lab

DESIGN = "designs/ospf-underlay/solution-design.yaml"
SPEC = "designs/ospf-underlay/customer-spec.md"
SUBS = ("templates", "parsers", "inventory", "designs/ospf-underlay")
NODES = ("r1", "r2", "r3")


@pytest.fixture(scope="module")
def lab_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle, Path]]:
    require_lab()
    os.environ["SDD_LAB_PROVIDER"] = "netns"
    root = tmp_path_factory.mktemp("mcplive")
    copy_repo(root, SUBS)
    topo = private_triangle(root, prefix="mc")
    handle = lab.up(topo, wait=False, timeout=60)
    try:
        yield root, handle, topo
    finally:
        lab.down(topo)


def _approve_pending(root: Path, gate: str) -> None:
    listed = sdd(root, "approvals", "pending", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [r for r in json.loads(listed.stdout) if r["gate"] == gate]
    assert len(rows) == 1, rows
    assert rows[0]["by"] == "agent:builder"
    done = sdd(root, "approvals", "approve", rows[0]["id"], "--by", "a.lead")
    assert done.returncode == 0, done.stderr


def test_agent_flow_under_the_gates(lab_repo: tuple[Path, LabHandle, Path]) -> None:
    root, handle, topo = lab_repo
    proxies = {n: CountingProxy(handle.hosts[n].port) for n in NODES}
    try:
        counted = lab_inventory_through(
            handle, root.parent / "mcp-conn", {n: p.port for n, p in proxies.items()}
        )
        spec_text = (root / SPEC).read_text()
        design_text = (root / DESIGN).read_text()
        progress: list[str] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append(message or "")

        async def step(client: Any, tool: str, args: dict[str, Any], **kw: Any) -> Any:
            return await client.call_tool(tool, args, **kw)

        async def phase1() -> list[Any]:
            async with agent(root, "builder", "--inventory", str(counted)) as c:
                return [
                    await step(c, "write_draft_file", {"path": SPEC, "content": spec_text}),
                    await step(c, "discover", {"artifact": SPEC}),
                    await step(
                        c, "request_approval", {"gate": "spec", "artifact": SPEC, "note": "x"}
                    ),
                ]

        drafted, refused, asked = anyio.run(phase1)
        assert not drafted.is_error, text_of(drafted)
        assert refused.is_error, text_of(refused)
        assert "Gate 1" in text_of(refused)
        assert not asked.is_error, text_of(asked)
        assert sum(p.accepted for p in proxies.values()) == 0
        _approve_pending(root, "spec")

        async def phase2() -> list[Any]:
            async with agent(root, "builder", "--inventory", str(counted)) as c:
                return [
                    await step(c, "discover", {"artifact": SPEC}),
                    await step(c, "write_draft_file", {"path": DESIGN, "content": design_text}),
                    await step(c, "validate", {"design": DESIGN}),
                    await step(c, "build", {"design": DESIGN}),
                    await step(
                        c, "request_approval", {"gate": "design", "artifact": DESIGN, "note": "y"}
                    ),
                ]

        contacts = sum(p.accepted for p in proxies.values())
        found, drafted, valid, refused, asked = anyio.run(phase2)
        assert not found.is_error, text_of(found)
        assert (root / "designs/ospf-underlay/feasibility.json").is_file()
        assert not drafted.is_error, text_of(drafted)
        assert not valid.is_error, text_of(valid)
        assert valid.structured_content["ok"] is True
        assert refused.is_error, text_of(refused)
        assert "Gate 2" in text_of(refused)
        assert not asked.is_error, text_of(asked)
        after_discover = sum(p.accepted for p in proxies.values())
        assert after_discover > contacts  # discovery read the routers
        assert not (root / "designs/ospf-underlay/builds").exists()
        _approve_pending(root, "design")

        async def phase3() -> list[Any]:
            async with agent(root, "builder", "--lab", str(topo)) as c:
                built = await c.call_tool(
                    "build", {"design": DESIGN}, progress_callback=on_progress
                )
                record = built.structured_content or {}
                rel = f"designs/ospf-underlay/builds/{record.get('build_id')}/as-built.json"
                read = await step(c, "read_artifact", {"path": rel})
                cases = await step(c, "use_cases", {})
                numbers = await step(c, "metrics", {})
                return [built, read, cases, numbers]

        built, read, cases, numbers = anyio.run(phase3)
        assert not built.is_error, text_of(built)
        summary = built.structured_content
        assert summary["result"] == "as_designed", summary
        assert summary["agent"]["name"] == "builder"
        assert {a["approver"] for a in summary["approvals"]} == {"a.lead"}
        assert progress, "no progress notifications"
        asbuilt = json.loads(read.structured_content["content"])
        assert asbuilt["build_id"] == summary["build_id"]
        assert asbuilt["agent"]["name"] == "builder"  # who built, under whose approvals
        assert asbuilt["agent"]["client"]["name"]
        assert {a["approver"] for a in asbuilt["approvals"]} == {"a.lead"}
        ospf = next(c for c in cases.structured_content["use_cases"] if "ospf" in c["use_case"])
        assert ospf["gate2"] == "approved"
        assert ospf["last_build"]["result"] == "as_designed"
        rows = {r["use_case"]: r for r in numbers.structured_content["use_cases"]}
        assert rows["ospf-underlay"]["builds"] == 1
        assert rows["ospf-underlay"]["deviation_rate"] == 0
        for node in NODES:
            assert " ip ospf network point-to-point" in handle.hosts[node].vtysh(
                "show running-config"
            )
        entries = [json.loads(x) for x in (root / "audit/audit.jsonl").read_text().splitlines()]
        assert verify_log(root).ok
        built_by = [e for e in entries if e["event"] == "agent_build"]
        assert [e["actor"] for e in built_by] == ["agent:builder"]
        assert all(e["actor"] == "agent:builder" for e in entries if e["event"] == "mcp_call")
    finally:
        for proxy in proxies.values():
            proxy.close()


COST_DESIGN = "designs/ospf-cost/solution-design.yaml"


def test_agent_builds_a_policy_pattern_with_no_human(
    lab_repo: tuple[Path, LabHandle, Path],
) -> None:
    """Stage 3 on the routers: a person pins and approves the shipped policy once; the agent
    sets the OSPF cost (a parameter within bounds) and builds with no human in the loop.
    Needs OSPF running: the flow above built the underlay on this module's lab."""
    root, handle, topo = lab_repo
    copy_repo(root, ["designs/ospf-cost", "templates"])
    if "ip ospf network point-to-point" not in handle.hosts["r1"].vtysh("show running-config"):
        pytest.skip("the underlay flow above did not build OSPF on this lab")
    (root / "policy.yaml").write_text(
        (root / "designs/ospf-cost/policy.example.yaml")
        .read_text()
        .replace("expires: 2027-12-31", "expires: 2099-12-31")
    )
    for args in (
        ("policy", "pin", "ospf-cost"),
        ("approve", "designs/ospf-cost/customer-spec.md", "--gate", "spec", "--by", "a.lead"),
        ("policy", "approve", "--by", "a.lead"),
    ):
        done = sdd(root, *args)
        assert done.returncode == 0, (args, done.stderr)
    content = (root / COST_DESIGN).read_text().replace("ospf_cost: 10", "ospf_cost: 23")

    async def go() -> Any:
        async with agent(root, "builder", "--lab", str(topo)) as c:
            drafted = await c.call_tool(
                "write_draft_file", {"path": COST_DESIGN, "content": content}
            )
            assert not drafted.is_error, text_of(drafted)
            return await c.call_tool("build", {"design": COST_DESIGN})

    built = anyio.run(go)
    assert not built.is_error, text_of(built)
    summary = built.structured_content
    assert summary["result"] == "as_designed", summary
    record = json.loads(
        (root / f"designs/ospf-cost/builds/{summary['build_id']}/as-built.json").read_text()
    )
    design_approval = next(a for a in record["approvals"] if a["gate"] == "design")
    assert design_approval["approver"] == "policy:lab-autonomy"
    assert design_approval["policy"]["parameters"] == {"ospf_cost": 23}
    assert design_approval["policy"]["agent"] == "builder"
    assert record["agent"]["name"] == "builder"
    for node in NODES:
        assert " ip ospf cost 23" in handle.hosts[node].vtysh("show running-config")
    assert json.loads(sdd(root, "approvals", "pending", "--json").stdout) == []
