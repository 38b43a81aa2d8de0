"""Gate 2 approved by a policy pattern (:mod:`sdd_build.gates.patterns`), for an agent.

The same steps as a person's design approval (the design read once and validated, Gate 1
current, every referenced file bound by its sha256, the audit entry first), with the policy in
place of the person: the design must conform to a pattern of the approved, unexpired
``policy.yaml`` for this agent, else ``GateError`` (exit 3) with every reason and nothing
written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sdd_build.errors import DesignError, GateError, Problem
from sdd_build.gates.approve import ApprovalResult, base_record, commit_approval, utc_now
from sdd_build.gates.check import GateContext, gate_error, spec_gate_status
from sdd_build.gates.patterns import POLICY_FILE, design_conformance
from sdd_build.gates.references import design_references, repo_relative

__all__ = ["approve_by_policy"]


def approve_by_policy(design: Path, *, agent: str, root: Path | None = None) -> ApprovalResult:
    from sdd_build.design.loader import load_design
    from sdd_build.plan.validate import validate

    on_disk = load_design(design, root=root)
    ctx = GateContext(on_disk.repo)
    ctx.capture(design_references(on_disk).paths)
    ctx.capture([repo_relative(on_disk.repo, on_disk.path) or ""])
    snapshot = ctx.snapshot()
    report = validate(on_disk.path, repo=on_disk.repo.with_source(snapshot))
    if not report.ok or report.workspace is None:
        raise DesignError.from_problems(report.problems)
    ws = report.workspace
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
    refs = design_references(loaded)
    files: dict[str, dict[str, Any]] = {}
    for rel in sorted(refs.paths):
        sha = snapshot.hashes.get(rel)
        if sha is None:
            raise DesignError("referenced file not found (or it changed meanwhile)", file=rel)
        files[rel] = {"sha256": sha, "roles": sorted(refs.roles[rel])}
    design_rel = repo_relative(loaded.repo, loaded.path)
    assert design_rel is not None
    spec_rec = gate1.approval.record
    record = base_record(
        "design",
        design_rel,
        files[design_rel]["sha256"],
        by=f"policy:{policy.policy}",
        note=f"pattern {pattern.id} instantiated by agent {agent}",
        now=utc_now(),
    )
    record["files"] = files
    record["design"] = {
        "id": loaded.model.design,
        "version": loaded.model.version,
        "author": loaded.model.author,
    }
    record["requirements"] = ws.spec.ids()
    record["spec_approval"] = {
        "artifact": spec_rec.artifact,
        "sha256": spec_rec.sha256,
        "approver": spec_rec.approver,
        "approved_at": spec_rec.approved_at,
        "record_sha256": gate1.approval.record_sha256,
    }
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
