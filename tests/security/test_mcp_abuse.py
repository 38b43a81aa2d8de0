"""Agents attacking the gates through ``sdd-build mcp`` (issue 12), through the SDK's own stdio
client against the server as a subprocess: drafts into governance paths, path tricks,
symlinks, oversized and malformed arguments; acting before the gates. Each is refused with a
tool error, nothing is written (every file's hash compared) and no device is contacted (a
counting listener is every host's SSH endpoint)."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from sdd_build.audit.log import verify_log
from tests.labkit import copy_repo, sdd
from tests.mcpkit import agent, text_of, tree

DESIGN = "designs/ospf-underlay/solution-design.yaml"
SPEC = "designs/ospf-underlay/customer-spec.md"
SUBS = ("templates", "parsers", "inventory", "designs/ospf-underlay")


class Listener:
    """Counts TCP connections on loopback (nothing answers: any contact is counted)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Listener, Path]:
    root = tmp_path / "repo"
    root.mkdir()
    copy_repo(root, SUBS)
    listener = Listener()
    conn = tmp_path / "conn"
    conn.mkdir()
    hosts = {
        h: {"hostname": "127.0.0.1", "port": listener.port, "username": "u", "password": "p"}
        for h in ("r1", "r2", "r3")
    }
    (conn / "hosts.yaml").write_text(json.dumps(hosts))
    return root, listener, conn


def _run(fn: Any) -> Any:
    return anyio.run(fn)


def test_tools_and_annotations(repo: tuple[Path, Listener, Path]) -> None:
    root, _, _ = repo

    async def go() -> dict[str, Any]:
        async with agent(root) as client:
            return {t.name: t.annotations for t in (await client.list_tools()).tools}

    tools = _run(go)
    for forbidden in ("approve", "waive", "policy", "keys", "audit_append", "rollback"):
        assert not any(forbidden == name or name.startswith(forbidden + "_") for name in tools)
    assert tools["build"].destructive_hint is True
    assert tools["build"].open_world_hint is True
    assert tools["build"].read_only_hint is False
    assert tools["drift"].read_only_hint is True
    assert tools["drift"].open_world_hint is True
    read_tools = ("use_cases", "read_artifact", "validate", "plan", "graph", "gates", "schema")
    for name in (*read_tools, "metrics", "diff", "audit_entries", "audit_verify"):
        ann = tools[name]
        assert ann.read_only_hint is True, name
        assert ann.open_world_hint is False, name
    assert tools["write_draft_file"].read_only_hint is False
    assert tools["request_approval"].destructive_hint is False


BAD_PATHS = [
    "designs/ospf-underlay/approvals/spec.json",
    "designs/ospf-underlay/approvals/design.json",
    "audit/audit.jsonl",
    "designs/ospf-underlay/builds/x/as-built.json",
    "designs/ospf-underlay/waivers.json",
    "approvers.yaml",
    "policy.yaml",
    "designs/ospf-underlay/policy.yaml",
    "designs/ospf-underlay/baseline.json",
    "designs/ospf-underlay/feasibility.json",
    "../outside.yaml",
    "templates/../../outside.j2",
    "designs/../approvals/spec.yaml",
    "/tmp/outside.yaml",
    "designs/ospf-underlay/link/evil.yaml",  # a symlinked folder
    "designs/ospf-underlay/linked.yaml",  # a symlinked file
    "templates/frr/.hidden.j2",
    ".git/config.yaml",
    "keys/agent.pem",
    "inventory/hosts.yaml",
    "designs/ospf-underlay/x.py",
    "templates/frr\\..\\x.j2",
    "templates/frr/a\x00.j2",
    "x" * 400,
]


def test_draft_abuse_refused_nothing_written(
    repo: tuple[Path, Listener, Path], tmp_path: Path
) -> None:
    root, _, _ = repo
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "designs/ospf-underlay/link").symlink_to(outside)
    (root / "designs/ospf-underlay/linked.yaml").symlink_to(outside / "target.yaml")
    before = tree(root)
    calls: list[dict[str, Any]] = [{"path": p, "content": "a: 1\n"} for p in BAD_PATHS]
    calls += [
        {"path": "templates/frr/big.j2", "content": "x" * (300 * 1024)},  # oversized
        {"path": "templates/frr/bad.j2", "content": "{% if %}"},  # not a template
        {"path": DESIGN, "content": "design: [unclosed\n"},  # malformed YAML
        {"path": DESIGN, "content": "design: x\nversion: nope\n"},  # fails the schema
        {"path": "templates/frr/x.j2", "content": 42},  # wrong type
        {"path": ["templates/frr/x.j2"], "content": "x"},  # wrong type
        {"path": "templates/frr/x.j2"},  # missing argument
        {"content": "x"},
    ]

    async def go() -> list[tuple[bool, str]]:
        out = []
        async with agent(root, "rogue") as client:
            for args in calls:
                result = await client.call_tool("write_draft_file", args)
                out.append((result.is_error, text_of(result)))
        return out

    results = _run(go)
    for args, (is_error, text) in zip(calls, results, strict=True):
        assert is_error, (args.get("path"), text)
        assert "Traceback" not in text
    assert tree(root) == before, "a refused draft wrote something"
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "outside.yaml").exists()
    assert not Path("/tmp/outside.yaml").exists()
    # each refusal is in the (still verifying) audit chain, with the agent's name
    assert verify_log(root).ok
    entries = [json.loads(line) for line in (root / "audit/audit.jsonl").read_text().splitlines()]
    refused = [e for e in entries if e["event"] == "mcp_call" and e["outcome"] == "refused"]
    # argument-validation errors are refused by the SDK before the tool runs (not audited)
    assert len(refused) >= len(BAD_PATHS) + 4
    assert {e["actor"] for e in refused} == {"agent:rogue"}
    assert all(e["agent"]["client"].get("name") for e in refused)


def test_acting_before_the_gates_contacts_nothing(repo: tuple[Path, Listener, Path]) -> None:
    root, listener, conn = repo

    async def go() -> list[tuple[bool, str]]:
        out = []
        async with agent(root, "builder", "--inventory", str(conn)) as client:
            for tool, args in (
                ("discover", {"artifact": SPEC}),
                ("discover", {"artifact": DESIGN}),
                ("build", {"design": DESIGN}),
                ("build", {"design": DESIGN, "check": True}),
            ):
                result = await client.call_tool(tool, args)
                out.append((result.is_error, text_of(result)))
        return out

    results = _run(go)
    assert all(is_error for is_error, _ in results)
    assert all("refused (exit 3)" in text and "Gate 1" in text for _, text in results)
    assert listener.accepted == 0
    assert not (root / "designs/ospf-underlay/builds").exists()
    assert not (root / "designs/ospf-underlay/feasibility.json").exists()


def test_request_is_not_an_approval_and_a_human_decides(repo: tuple[Path, Listener, Path]) -> None:
    root, listener, conn = repo
    spec_text = (root / SPEC).read_text()

    async def ask() -> list[Any]:
        async with agent(root, "spec-agent", "--inventory", str(conn)) as client:
            drafted = await client.call_tool(
                "write_draft_file", {"path": SPEC, "content": spec_text + "\n"}
            )
            asked = await client.call_tool(
                "request_approval", {"gate": "spec", "artifact": SPEC, "note": "please review"}
            )
            still = await client.call_tool("build", {"design": DESIGN, "check": True})
            return [drafted, asked, still]

    drafted, asked, still = _run(ask)
    assert not drafted.is_error, text_of(drafted)
    assert not asked.is_error, text_of(asked)
    assert still.is_error
    assert "Gate 1" in text_of(still)
    assert not (root / "designs/ospf-underlay/approvals").exists()  # a request approves nothing
    listed = sdd(root, "approvals", "pending", "--json")
    assert listed.returncode == 0, listed.stderr
    pending = json.loads(listed.stdout)
    assert [(p["gate"], p["artifact"], p["by"]) for p in pending] == [
        ("spec", SPEC, "agent:spec-agent")
    ]
    # the agent edits the spec after asking: the human's approval of that request is refused
    (root / SPEC).write_text(spec_text + "\n- REQ-X: sneaked in\n")
    stale = sdd(root, "approvals", "approve", pending[0]["id"], "--by", "alice")
    assert stale.returncode == 3
    assert "changed since the agent asked" in stale.stderr
    assert not (root / "designs/ospf-underlay/approvals").exists()
    (root / SPEC).write_text(spec_text + "\n")
    ok = sdd(root, "approvals", "approve", pending[0]["id"][:8], "--by", "alice")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(sdd(root, "approvals", "pending", "--json").stdout) == []
    gates = sdd(root, "gates", "check", DESIGN, "--json")
    assert json.loads(gates.stdout)["gates"]["spec"]["status"] == "approved"
    assert listener.accepted == 0
    assert os.path.getsize(root / "audit/audit.jsonl") > 0
    assert verify_log(root).ok
