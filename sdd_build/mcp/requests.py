"""Approval requests: an agent asks, a human decides. A request approves nothing.

A request is an ``approval_request`` entry of the audit chain (tamper-evident, no new file an
agent could forge): who asked (the agent's identity), the gate, the artifact and its exact
sha256 when asked, and a note. ``pending`` lists the requests no approval entry of the chain
answered yet (same gate, artifact and sha256); ``approve_request`` is the human's act: it
refuses when the artifact changed since the request, and otherwise runs the ordinary
``approve`` (approvers.yaml, signatures, four-eyes and the audit chain apply unchanged).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sdd_build.audit.log import AuditLog
from sdd_build.design.source import read_file
from sdd_build.errors import DesignError, GateError
from sdd_build.gates.approve import ApprovalResult, approve
from sdd_build.gates.chain import verified_chain
from sdd_build.mcp.confine import read_target

__all__ = ["approve_request", "pending", "request_approval"]

GATES = ("spec", "design")
MAX_NOTE = 2000


def _sha256(path: Path, shown: str) -> str:
    return hashlib.sha256(read_file(path, display=shown)).hexdigest()


def request_approval(
    root: Path,
    gate: str,
    artifact: str,
    note: str,
    *,
    agent: dict[str, Any],
    policy_refusal: list[str] | None = None,
) -> dict[str, Any]:
    """Record a pending request; returns it (``id`` is the audit entry's hash prefix)."""
    if gate not in GATES:
        raise DesignError(f"unknown gate {gate!r}; use one of {', '.join(GATES)}")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise DesignError(f"the note must be text of at most {MAX_NOTE} characters")
    path, shown = read_target(root, artifact)
    entry = AuditLog(root).append(
        "approval_request",
        actor=agent["actor"],
        gate=gate,
        artifact=shown,
        sha256=_sha256(path, shown),
        note=note,
        agent=agent,
        policy_refusal=policy_refusal,
    )
    return {"id": entry["hash"][:16], "gate": gate, "artifact": shown, "sha256": entry["sha256"]}


def pending(root: Path) -> list[dict[str, Any]]:
    """Requests not yet answered by an approval of the same content (oldest first)."""
    entries = verified_chain(root)
    approved = {
        (e.get("gate"), e.get("artifact"), e.get("sha256"))
        for e in entries
        if e.get("event") == "approval"
    }
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for e in entries:
        if e.get("event") != "approval_request":
            continue
        key = (e.get("gate"), e.get("artifact"), e.get("sha256"))
        if key in approved or key in seen:
            continue
        seen.add(key)
        out.append(
            {
                "id": str(e["hash"])[:16],
                "ts": e.get("ts"),
                "gate": e.get("gate"),
                "artifact": e.get("artifact"),
                "sha256": e.get("sha256"),
                "by": e.get("actor"),
                "note": e.get("note"),
                "policy_refusal": e.get("policy_refusal"),
            }
        )
    return out


def approve_request(
    root: Path, request_id: str, *, by: str, key: Path | None = None, note: str | None = None
) -> ApprovalResult:
    """A human approves the request ``request_id`` (a prefix of its id is enough)."""
    matches = [r for r in pending(root) if r["id"].startswith(request_id)] if request_id else []
    if len(matches) != 1:
        raise DesignError(
            f"no single pending request with id {request_id!r} ({len(matches)} match)",
            hint="list them with `sdd-build approvals pending`",
        )
    req = matches[0]
    path, shown = read_target(root, req["artifact"])
    now = _sha256(path, shown)
    if now != req["sha256"]:
        raise GateError(
            f"{shown} changed since the agent asked (requested sha256 {req['sha256'][:12]}, "
            f"now {now[:12]}); nothing approved",
            file=shown,
            hint="review the current content and let the agent ask again",
        )
    text = f"request {req['id']} by {req['by']}" + (f": {note}" if note else "")
    return approve(path, gate=req["gate"], by=by, key=key, note=text, root=root)
