"""What the MCP tools return: the CLI's services, as masked JSON-able data.

Each function is synchronous (the server runs it in a worker thread) and calls the same
service, gate check or loader the CLI command calls; nothing here weakens a gate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sdd_build.audit.log import verify_log
from sdd_build.design.source import read_file
from sdd_build.errors import AgentRefusal, DesignError, GateError, SddBuildError
from sdd_build.execute.build import Emitter
from sdd_build.limits import json_loads
from sdd_build.mcp.confine import MAX_DRAFT_BYTES, read_target
from sdd_build.secrets import mask, mask_data

__all__ = [
    "audit_entries",
    "audit_verify",
    "build",
    "diff",
    "discover",
    "drift",
    "gates",
    "graph",
    "metrics",
    "plan",
    "read_artifact",
    "schema",
    "use_cases",
    "validate",
]


def _latest_build(use_case: Path) -> dict[str, Any] | None:
    for path in sorted((use_case / "builds").glob("*/as-built.json"), reverse=True):
        try:
            data = json_loads(read_file(path))
        except (OSError, ValueError, SddBuildError):
            continue
        return {
            "build_id": data.get("build_id"),
            "mode": data.get("mode"),
            "result": data.get("result"),
            "agent": data.get("agent"),
        }
    return None


def use_cases(root: Path) -> dict[str, Any]:
    from sdd_build.gates import gate_status

    out: list[dict[str, Any]] = []
    designs = root / "designs"
    for folder in sorted(p for p in designs.iterdir() if p.is_dir()) if designs.is_dir() else []:
        design = folder / "solution-design.yaml"
        entry: dict[str, Any] = {
            "use_case": f"designs/{folder.name}",
            "design": f"designs/{folder.name}/solution-design.yaml" if design.is_file() else None,
            "feasibility": (folder / "feasibility.json").is_file(),
            "baseline": (folder / "baseline.json").is_file(),
            "last_build": _latest_build(folder),
        }
        if design.is_file():
            try:
                report = gate_status(design, root=root)
                entry["gate1"] = report.gate1.status
                entry["gate2"] = report.gate2.status
            except SddBuildError as exc:
                entry["gates_error"] = str(exc.problems[0]) if exc.problems else str(exc)
        out.append(entry)
    return {"repository": str(root), "use_cases": mask_data(out)}


def metrics(root: Path) -> dict[str, Any]:
    """``sdd-build metrics designs/``: per use case, its latest build's SDD metrics."""
    rows: list[dict[str, Any]] = []
    designs = root / "designs"
    for folder in sorted(p for p in designs.iterdir() if p.is_dir()) if designs.is_dir() else []:
        row: dict[str, Any] = {"use_case": folder.name, "builds": 0, "latest": None}
        for path in sorted((folder / "builds").glob("*/as-built.json")):
            try:
                data = json_loads(read_file(path))
            except (OSError, ValueError, SddBuildError):
                continue
            if data.get("mode") != "build":
                continue
            row["builds"] += 1
            row.update(
                latest=data.get("build_id"),
                result=data.get("result"),
                deviations=len(data.get("deviations") or []),
                **(data.get("metrics") or {}),
            )
        rows.append(row)
    return {"use_cases": mask_data(rows)}


def read_artifact(root: Path, rel: str) -> dict[str, Any]:
    path, shown = read_target(root, rel)
    data = read_file(path, display=shown, max_bytes=MAX_DRAFT_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AgentRefusal(f"read refused: {shown} is not UTF-8 text") from None
    return {"path": shown, "content": mask(text)}


def audit_entries(root: Path, last: int) -> dict[str, Any]:
    from sdd_build.gates.chain import verified_chain

    if not 1 <= last <= 500:
        raise DesignError("last must be between 1 and 500")
    entries = verified_chain(root)
    return {"total": len(entries), "entries": mask_data(entries[-last:])}


def audit_verify(root: Path) -> dict[str, Any]:
    report = verify_log(root, records=True)
    return dict(mask_data(report.to_json()))


def schema() -> dict[str, Any]:
    from sdd_build.design.models import Design

    return Design.model_json_schema()


def _connections(lab: Path | None, inventory: Path | None) -> Any:
    from sdd_build.workspace import connections_for

    return connections_for(lab, inventory)


def validate(design: Path, lab: Path | None, inventory: Path | None) -> dict[str, Any]:
    from sdd_build.plan.validate import validate as run

    report = run(design, connections=_connections(lab, inventory))
    return dict(mask_data(report.to_json()))


def plan(design: Path, lab: Path | None, inventory: Path | None) -> dict[str, Any]:
    from sdd_build.plan.validate import validate as run

    report = run(design, connections=_connections(lab, inventory))
    if not report.ok or report.plan is None:
        raise DesignError.from_problems(report.problems)
    return dict(mask_data(report.plan.to_json()))


def graph(design: Path) -> dict[str, Any]:
    from sdd_build.design.loader import load_design
    from sdd_build.graph.compile import compile_graph

    loaded = load_design(design)
    compiled = compile_graph(loaded)
    return {
        "nodes": [
            {"id": n, "kind": compiled.graph.nodes[n]["kind"], "layer": compiled.layer_of[n]}
            for n in compiled.order
        ],
        "edges": [[u, v] for u, v in sorted(compiled.graph.edges)],
        "layers": compiled.layers,
    }


def diff(design: Path, inventory: Path | None) -> dict[str, Any]:
    from sdd_build.app.service import diff_service

    delta, baseline = diff_service(design, inventory=inventory)
    return dict(
        mask_data(
            {
                "baseline": str(baseline),
                "added": delta.added,
                "removed": delta.removed,
                "changed": delta.changed,
                "unchanged": delta.unchanged,
                "hosts_added": delta.hosts_added,
                "hosts_removed": delta.hosts_removed,
                "host_diffs": delta.host_diffs,
            }
        )
    )


def gates(design: Path) -> dict[str, Any]:
    from sdd_build.gates import gate_status

    return dict(mask_data(gate_status(design).to_json()))


def discover(artifact: Path, lab: Path | None, inventory: Path | None) -> dict[str, Any]:
    from sdd_build.app.service import discover_service

    json_path, md_path, feas = discover_service(artifact, lab=lab, inventory=inventory)
    return dict(
        mask_data(
            {
                "feasibility": str(json_path),
                "report": str(md_path),
                "hosts": {h: bool(e.get("reachable")) for h, e in feas.hosts.items()},
            }
        )
    )


def build(
    design: Path,
    lab: Path | None,
    inventory: Path | None,
    *,
    check: bool,
    emit: Emitter,
    agent: dict[str, Any],
    via: str = "auto",
) -> dict[str, Any]:
    from sdd_build.app.service import build_service
    from sdd_build.audit.log import AuditLog

    _approve_by_policy(design, agent)
    asbuilt, path = build_service(
        design, check=check, lab=lab, inventory=inventory, emit=emit, agent=agent, via=via
    )
    approvers = [
        {"gate": a.get("gate"), "approver": a.get("approver"), "sha256": a.get("sha256")}
        for a in asbuilt.approvals
    ]
    AuditLog(_root_of(design)).append(
        "agent_build",
        actor=agent["actor"],
        design=asbuilt.design.get("id"),
        build_id=asbuilt.build_id,
        mode=asbuilt.mode,
        result=asbuilt.result,
        agent=agent,
        approvals=approvers,
    )
    return dict(
        mask_data(
            {
                "build_id": asbuilt.build_id,
                "mode": asbuilt.mode,
                "result": asbuilt.result,
                "record": str(path),
                "hosts": {h: s.get("state") for h, s in asbuilt.hosts.items()},
                "deviations": [d.dump() for d in asbuilt.deviations],
                "approvals": approvers,
                "agent": agent,
            }
        )
    )


def _approve_by_policy(design: Path, agent: dict[str, Any]) -> None:
    """Stage 3: a design whose Gate 2 is missing or stale is approved by ``policy.yaml`` when
    it conforms to a pattern for this agent; when it does not, the refusal (with every reason)
    becomes a pending request for a person, and the build is refused (exit 3)."""
    from sdd_build.gates import gate_status
    from sdd_build.gates.patterns import POLICY_FILE
    from sdd_build.gates.policy_approve import approve_by_policy
    from sdd_build.gates.references import repo_relative
    from sdd_build.mcp.requests import request_approval

    root = _root_of(design)
    if not (root / POLICY_FILE).is_file():
        return
    report = gate_status(design, root=root)
    if not report.gate1.ok or report.gate2.status not in ("missing", "stale"):
        return  # Gate 1 first; a forged or invalid record is never papered over
    try:
        approve_by_policy(design, agent=agent["name"], root=root)
    except GateError as exc:
        reasons = [p.message for p in exc.problems] or [str(exc)]
        rel = report.display
        if report.design is not None:
            rel = repo_relative(report.design.repo, report.design.path) or rel
        asked = request_approval(
            root,
            "design",
            rel,
            "refused by policy: " + "; ".join(reasons)[:1500],
            agent=agent,
            policy_refusal=reasons,
        )
        raise GateError(
            "not approved by policy: " + "; ".join(reasons),
            hint=f"a pending approval request {asked['id']} was recorded for a person",
        ) from None


def _root_of(design: Path) -> Path:
    from sdd_build.design.loader import find_root

    return find_root(design.resolve().parent)


def drift(design: Path, lab: Path | None, inventory: Path | None) -> dict[str, Any]:
    from sdd_build.app.service import drift_service

    report = drift_service(design, lab=lab, inventory=inventory)
    return dict(mask_data({"path": str(report.path), "drifted": report.drifted, **report.data}))
