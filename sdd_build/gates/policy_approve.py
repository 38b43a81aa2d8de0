"""Gate 2 approved by a policy pattern (:mod:`sdd_build.gates.patterns`), for an agent.

The same steps as a person's design approval (the design read once and validated, Gate 1
current, every referenced file bound by its sha256, the audit entry first), with the policy in
place of the person: the design must conform to a pattern of the approved, unexpired
``policy.yaml`` for this agent, else ``GateError`` (exit 3) with every reason and nothing
written.
"""

from __future__ import annotations

from pathlib import Path

from sdd_build.errors import GateError, Problem
from sdd_build.gates.approve import (
    ApprovalResult,
    commit_approval,
    design_record,
    validated_once,
)
from sdd_build.gates.check import gate_error, spec_gate_status
from sdd_build.gates.patterns import POLICY_FILE, design_conformance

__all__ = ["approve_by_policy"]


def approve_by_policy(design: Path, *, agent: str, root: Path | None = None) -> ApprovalResult:
    ctx, snapshot, ws = validated_once(design, root=root)
    loaded = ws.design
    spec_path = loaded.repo.confine(loaded.directory, loaded.model.spec)
    assert spec_path is not None
    gate1 = spec_gate_status(ctx, spec_path, loaded.directory)
    if not gate1.ok or gate1.approval is None:
        raise gate_error(gate1.findings, hint="a person approves the spec first (Gate 1)")
    policy, digest, pattern, entry, reasons = design_conformance(ctx, loaded, agent=agent)
    if reasons or policy is None or digest is None or pattern is None or entry is None:
        raise GateError(
            f"not approved by policy: {reasons[0] if reasons else 'no policy'}",
            problems=[Problem(r, POLICY_FILE) for r in reasons],
            hint="ask a person instead (request_approval)",
        )
    record = design_record(
        ws,
        snapshot,
        gate1.approval,
        by=f"policy:{policy.policy}",
        note=f"pattern {pattern.id} instantiated by agent {agent}",
    )
    record["policy"] = {
        "id": policy.policy,
        "sha256": digest,
        "approval_hash": entry["hash"],
        "pattern": pattern.id,
        "agent": agent,
        "parameters": dict(loaded.model.vars or {}),
    }
    return commit_approval(
        ctx, loaded.directory, "design", record, None, design_id=loaded.model.design
    )
