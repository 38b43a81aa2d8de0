"""Agents under governance: ``sdd-build mcp`` (the MCP server) and ``sdd-build approvals``
(a human lists the agents' approval requests and acts on one)."""

from __future__ import annotations

import re
from pathlib import Path

import click
from rich.table import Table

from sdd_build.cli._options import (
    by_option,
    inventory_option,
    json_option,
    key_option,
    lab_option,
    note_option,
    root_option,
)
from sdd_build.cli._output import console, print_json
from sdd_build.errors import DesignError

_AGENT = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def _root(root: Path | None) -> Path:
    from sdd_build.design.loader import find_root

    return (root or find_root(Path.cwd())).resolve()


@click.command("mcp")
@click.option(
    "--agent",
    "agent",
    required=True,
    metavar="NAME",
    help="The agent's name, recorded with every action it takes (audit, as-built).",
)
@root_option
@lab_option
@inventory_option
def mcp_cmd(agent: str, root: Path | None, lab: Path | None, inventory: Path | None) -> None:
    """Serve the Model Context Protocol over stdio for one repository.

    Agents read, draft (use case folders and the asset library only), ask for approvals
    and act behind the gates; no tool approves, waives, edits policy or touches the audit
    log or keys. Every call is audited with the agent's identity.
    """
    if not _AGENT.match(agent):
        raise DesignError("--agent: 1-64 letters, digits, '_', '.', '@' or '-'")
    import anyio

    from sdd_build.mcp.server import AgentConfig, create_server, serve_stdio

    server = create_server(AgentConfig(_root(root), agent, lab=lab, inventory=inventory))
    anyio.run(serve_stdio, server)


@click.group("approvals")
def approvals() -> None:
    """Approval requests agents made (`request_approval`): list them, approve one."""


@approvals.command("pending")
@root_option
@json_option("Machine output.")
def pending_cmd(root: Path | None, as_json: bool) -> None:
    """List the requests no approval answered yet (who asked, gate, artifact, sha256)."""
    from sdd_build.mcp.requests import pending

    rows = pending(_root(root))
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no pending approval requests")
        return
    table = Table(title="pending approval requests")
    for column in ("id", "gate", "artifact", "sha256", "by", "note"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["id"], r["gate"], r["artifact"], r["sha256"][:12], r["by"], r["note"] or "")
    console.print(table)


@approvals.command("approve")
@click.argument("request_id")
@by_option()
@key_option()
@note_option()
@root_option
def approvals_approve_cmd(
    request_id: str, by: str, key: Path | None, note: str | None, root: Path | None
) -> None:
    """Approve the pending request REQUEST_ID (refused if the artifact changed since)."""
    from sdd_build.mcp.requests import approve_request

    result = approve_request(_root(root), request_id, by=by, key=key, note=note)
    record = result.approval.record
    console.print(
        f"[green]approved[/] {record.artifact} ({record.gate}) by {record.approver}, "
        f"record {result.approval.display} (audit seq {result.audit_entry['seq']})"
    )


@click.group("policy")
def policy() -> None:
    """Policy-level autonomy: pre-approved patterns in policy.yaml (see README 'Agents')."""


@policy.command("pin")
@click.argument("pattern")
@root_option
def pin_cmd(pattern: str, root: Path | None) -> None:
    """Pin PATTERN to its design as it is now (structure, every referenced file's sha256)."""
    from sdd_build.gates.patterns import pin_pattern

    done = pin_pattern(_root(root), pattern)
    console.print(
        f"pinned pattern {done['pattern']}: structure {done['structure'][:12]}, "
        f"{done['pinned']} file(s); approve the policy again (sdd-build policy approve)"
    )


@policy.command("approve")
@by_option()
@key_option()
@root_option
def policy_approve_cmd(by: str, key: Path | None, root: Path | None) -> None:
    """Approve policy.yaml as it is now (approvers.yaml applies, like Gate 2)."""
    from sdd_build.gates.patterns import approve_policy
    from sdd_build.gates.policy import load_policy

    where = _root(root)
    entry = approve_policy(where, by=by, key_path=key, approvers=load_policy(where))
    console.print(
        f"[green]approved[/] policy {entry['policy']} v{entry['version']} "
        f"(sha256 {entry['sha256'][:12]}) by {by} (audit seq {entry['seq']})"
    )
