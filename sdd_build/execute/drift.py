"""Drift: the devices now versus the reconciled baseline — config lines and acceptance checks.

Read-only. Each difference is a deviation (class ``unexpected_change`` for config lines,
``acceptance_failed`` for a check that no longer holds, ``unreachable`` for a host that does not
answer), written to ``<use-case>/drift/<timestamp>/drift.json`` with the evidence beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from sdd_build.design.models import CommandTemplate
from sdd_build.execute.build import evaluate_outputs, make_nornir, new_build_id
from sdd_build.execute.device import open_session
from sdd_build.execute.evidence import EvidenceStore
from sdd_build.execute.journal import utcnow
from sdd_build.execute.reconcile import config_paths, show_path
from sdd_build.execute.results import DeviationLog
from sdd_build.plan.planner import BuildPlan
from sdd_build.secrets.sink import write_json
from sdd_build.workspace import Workspace, render_context

__all__ = ["DriftReport", "detect_drift"]


class DriftReport:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @property
    def drifted(self) -> bool:
        return bool(self.data["deviations"])


def detect_drift(
    ws: Workspace,
    plan: BuildPlan,
    baseline: dict[str, Any],
    *,
    secrets: list[str],
    via: str = "auto",
) -> DriftReport:
    run_id = new_build_id()
    out_dir = ws.design.directory / "drift" / run_id
    store = EvidenceStore(out_dir, secrets=secrets)
    deviations = DeviationLog("DRIFT")
    same_design = baseline.get("design", {}).get("sha256") == ws.design.repo.sha256(ws.design.path)
    by_id = {c.id: c for c in ws.design.model.components}

    def deviate(
        cls: str,
        host: str,
        reason: str,
        component: str | None = None,
        expected: Any = None,
        actual: Any = None,
        evidence: list[str] | None = None,
    ) -> None:
        deviations.add(cls, component, host, reason, expected, actual, evidence)

    def probe(task: Task) -> Result:
        host = task.host.name
        base = baseline["hosts"][host]
        try:
            session = open_session(task, ws.design.model.build.timeout_s, via)
            now = session.running_config()
        except Exception as exc:
            deviate("unreachable", host, f"cannot reach or read the device: {type(exc).__name__}")
            return Result(host=task.host, failed=True)
        ref = store.write(host, "running.cfg", now)
        masked_now = store.mask(now)
        before = set(config_paths(base["running"], session.platform))
        after = set(config_paths(masked_now, session.platform))
        for path in sorted(before - after):
            deviate(
                "unexpected_change",
                host,
                "line removed or changed since the baseline",
                expected=show_path(path),
                actual=None,
                evidence=[ref],
            )
        for path in sorted(after - before):
            deviate(
                "unexpected_change",
                host,
                "line added since the baseline",
                expected=None,
                actual=show_path(path),
                evidence=[ref],
            )
        if same_design:
            steps = {s.component: s for s in plan.hosts.get(host, [])}
            for cid, step in steps.items():
                comp = by_id[cid]
                if not isinstance(comp, CommandTemplate) or not comp.acceptance:
                    continue
                outputs = session.commands(list(step.commands))
                parser = by_id.get(comp.parser) if comp.parser else None
                results, evidence = evaluate_outputs(
                    ws,
                    store,
                    comp,
                    host,
                    step.commands,
                    outputs,
                    parser,
                    render_context(ws, host, comp.vars),
                )
                for r in results:
                    if not r["passed"]:
                        deviate(
                            "acceptance_failed",
                            host,
                            f"{r['check_id']}: {r['reason']}",
                            component=cid,
                            expected=r["expected"],
                            actual=r["found"],
                            evidence=evidence,
                        )
        return Result(host=task.host, result="probed")

    hosts = [h for h in ws.hosts if h in baseline.get("hosts", {})]
    nr = make_nornir(ws.inventory, hosts, ws.design.model.build.workers)
    try:
        nr.run(task=probe, name="drift", on_failed=True)
    finally:
        nr.close_connections(on_failed=True)
    data = {
        "drift_id": run_id,
        "checked": utcnow(),
        "design": {"id": ws.design.model.design, "version": ws.design.model.version},
        "baseline": {"build_id": baseline.get("build_id"), "finished": baseline.get("finished")},
        "checks_rerun": same_design,
        "hosts": hosts,
        "deviations": [
            d.dump() for d in sorted(deviations.items, key=lambda d: (d.host or "", d.id))
        ],
    }
    path = out_dir / "drift.json"
    write_json(path, data)
    return DriftReport(path, data)
