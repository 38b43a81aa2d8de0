"""The build as a service for the CLI (and the pytest plugin): gates, validation, the build,
the audit trail and recovery of an unfinished build, in that order and nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from sdd_build.design.inventory import load_inventory, overlay_connections, resolve_targets
from sdd_build.design.loader import Repository, find_root
from sdd_build.design.models import Targets
from sdd_build.errors import DesignError
from sdd_build.execute.baseline import BASELINE_FILE, load_baseline, qualifies, write_baseline
from sdd_build.execute.build import (
    BuildOptions,
    Emitter,
    builds_dir,
    inventory_secrets,
    make_nornir,
    run_build,
)
from sdd_build.execute.device import open_session
from sdd_build.execute.discover import Feasibility, discover, write_feasibility
from sdd_build.execute.drift import DriftReport, detect_drift
from sdd_build.execute.identity import RecordedIdentities
from sdd_build.execute.journal import Journal, build_lock, read_journal, utcnow
from sdd_build.execute.locks import lock_hosts
from sdd_build.execute.private import read_backup
from sdd_build.execute.results import (
    AsBuilt,
    ComponentRecord,
    DeviationLog,
    HostRecord,
    Metrics,
)
from sdd_build.plan.day2 import DesignDelta, design_delta
from sdd_build.plan.validate import ValidationReport, validate
from sdd_build.plan.workspace import Workspace, connections_for, lab_connections

__all__ = [
    "build_service",
    "diff_service",
    "discover_service",
    "drift_service",
    "recover_build",
]


def build_service(
    design: Path,
    *,
    check: bool = False,
    lab: Path | None = None,
    inventory: Path | None = None,
    workers: int | None = None,
    emit: Emitter | None = None,
    recover_id: str | None = None,
    accept: bool = False,
    wait_lock_s: float = 0.0,
) -> tuple[AsBuilt, Path]:
    from sdd_build.audit import AuditLog
    from sdd_build.gates import check_gate2, check_targets

    # Gate first: an unapproved or stale design never gets as far as a device, or a lab lookup.
    # From here on every input byte comes from the snapshot the gate verified.
    approved = check_gate2(design)
    connections = connections_for(lab, inventory)
    report = validate(approved.design.path, connections=connections, repo=approved.repo)
    if not report.ok:
        raise DesignError.from_problems(report.problems)
    assert report.workspace is not None
    ws = report.workspace
    check_targets(ws, ws.hosts)
    audit = AuditLog(ws.root)
    if recover_id is not None:
        asbuilt, path = recover_build(
            report, recover_id, accept=accept, emit=emit, wait_lock_s=wait_lock_s
        )
        audit.append(
            "build_recovered",
            design=ws.design.model.design,
            build_id=recover_id,
            result=asbuilt.result,
            accept=accept,
        )
        return asbuilt, path
    if accept:
        raise DesignError("--accept only goes with --recover <build-id>")
    opts = BuildOptions(
        check=check,
        workers=workers,
        approvals=approved.approvals(),
        spec_approved_at=approved.spec_approval.record.approved_at,
        emit=emit or (lambda event, **data: None),
        waivers=_waivers(ws, audit, emit),
        wait_lock_s=wait_lock_s,
    )
    asbuilt, path = run_build(report, opts)
    audit.append(
        "build",
        design=ws.design.model.design,
        version=ws.design.model.version,
        build_id=asbuilt.build_id,
        mode=asbuilt.mode,
        result=asbuilt.result,
        design_sha256=asbuilt.design["sha256"],
    )
    # one write and one fsync for the whole result: per component per host, then deviations
    keys = ("id", "component", "host", "class", "reason")
    audit.append_many(
        [
            (
                "component_result",
                {
                    "build_id": asbuilt.build_id,
                    "component": comp.id,
                    "host": host,
                    "status": rec.status,
                },
            )
            for comp in asbuilt.components
            for host, rec in comp.hosts.items()
        ]
        + [
            (
                "deviation",
                {
                    "build_id": asbuilt.build_id,
                    **{k: v for k, v in dev.dump().items() if k in keys},
                },
            )
            for dev in asbuilt.deviations
        ]
    )
    if qualifies(asbuilt):
        assert report.plan is not None
        baseline = write_baseline(ws.design.directory, asbuilt, report.plan, path)
        audit.append(
            "baseline",
            design=ws.design.model.design,
            build_id=asbuilt.build_id,
            path=ws.design.repo.display(baseline),
        )
    _write_reports(path, emit)
    return asbuilt, path


def drift_service(
    design: Path, *, lab: Path | None = None, inventory: Path | None = None
) -> DriftReport:
    """Compare the devices now with the design's reconciled baseline (read-only)."""
    from sdd_build.audit import AuditLog

    connections = connections_for(lab, inventory)
    report = validate(design, connections=connections, offline=False)
    if not report.ok or report.workspace is None or report.plan is None:
        raise DesignError.from_problems(report.problems)
    ws = report.workspace
    baseline = load_baseline(ws.design.directory / BASELINE_FILE)
    drift = detect_drift(ws, report.plan, baseline, secrets=inventory_secrets(ws))
    AuditLog(ws.root).append(
        "drift",
        design=ws.design.model.design,
        drift_id=drift.data["drift_id"],
        deviations=len(drift.data["deviations"]),
    )
    return drift


def diff_service(
    design: Path, *, inventory: Path | None = None, baseline_path: Path | None = None
) -> tuple[DesignDelta, Path]:
    """What this design version changes relative to the reconciled baseline (no device)."""
    report = validate(design, connections=inventory)
    if not report.ok or report.workspace is None or report.plan is None:
        raise DesignError.from_problems(report.problems)
    ws = report.workspace
    path = baseline_path or _baseline_for(ws)
    return design_delta(load_baseline(path), report.plan), path


def _baseline_for(ws: Workspace) -> Path:
    own = ws.design.directory / BASELINE_FILE
    if own.is_file() or ws.design.model.extends is None:
        return own
    base_dir = ws.design.repo.confine(ws.design.directory, ws.design.model.extends)
    if base_dir is None:
        raise DesignError(
            f"'extends: {ws.design.model.extends}' escapes the repository", file=ws.design.display
        )
    return base_dir / BASELINE_FILE


def discover_service(
    artifact: Path,
    *,
    lab: Path | None = None,
    inventory: Path | None = None,
    groups: list[str] | None = None,
    hosts: list[str] | None = None,
    wait_lock_s: float = 0.0,
) -> tuple[Path, Path, Feasibility]:
    """Gate 1, then read-only discovery; writes feasibility.{json,md} beside the spec."""
    from sdd_build.audit import AuditLog
    from sdd_build.gates import check_gate1

    check_gate1(artifact)
    connections = connections_for(lab, inventory)
    if artifact.name.endswith((".yaml", ".yml")):
        report = validate(artifact, connections=connections, offline=False)
        if not report.ok or report.workspace is None:
            raise DesignError.from_problems(report.problems)
        ws = report.workspace
        feas = discover(
            ws.inventory,
            ws.hosts,
            ws.design.repo,
            report.plan,
            source=ws.design.display,
            timeout_s=ws.design.model.build.timeout_s,
            design=ws.design.model.design,
            wait_lock_s=wait_lock_s,
        )
        directory, repo = ws.design.directory, ws.design.repo
    else:
        # No design yet: the hosts to look at come from the repository's inventory (or the one
        # given); a lab only says how to reach them. Read-only either way.
        repo = Repository(find_root(artifact.parent).resolve())
        inv_dir = inventory or repo.root / "inventory"
        inv = load_inventory(inv_dir, display=repo.display(inv_dir))
        connections = lab_connections(lab)
        if connections is not None:
            inv = overlay_connections(inv, load_inventory(connections, machine_written=True))
        selected, bad_groups, bad_hosts = (
            resolve_targets(inv, Targets(groups=groups or [], hosts=hosts or []))
            if (groups or hosts)
            else (sorted(inv.inventory.hosts), [], [])
        )
        if bad_groups or bad_hosts:
            raise DesignError(
                f"not in the inventory: {', '.join(bad_groups + bad_hosts)}", file=inv.display
            )
        feas = discover(
            inv, selected, repo, None, source=repo.display(artifact), wait_lock_s=wait_lock_s
        )
        directory = artifact.parent
    json_path, md_path = write_feasibility(directory, feas)
    AuditLog(repo.root).append(
        "discovery",
        source=feas.source,
        hosts=sorted(feas.hosts),
        unreachable=sorted(h for h, e in feas.hosts.items() if not e.get("reachable")),
    )
    return json_path, md_path, feas


def _waivers(ws: Workspace, audit: Any, emit: Emitter | None) -> list[Any]:
    """The verified waivers of this design version; every other entry of waivers.json is
    ignored out loud (warning, audit entry) and the failure it would cover stands."""
    from sdd_build.gates.waivers import WAIVERS_FILE, verify_waivers

    good, ignored = verify_waivers(ws.design.directory, ws.design.model, ws.root)
    shown = ws.design.repo.display(ws.design.directory / WAIVERS_FILE)
    for item in ignored:
        if emit is not None:
            emit("warning", message=item.message(shown))
        audit.append(
            "waiver_ignored",
            design=ws.design.model.design,
            index=item.index,
            check=item.check,
            by=item.by,
            why=item.reason,
        )
    return good


def _write_reports(path: Path, emit: Emitter | None) -> None:
    """Render the human formats of the record. The machine record (as-built.json), the journal,
    the audit trail and the baseline are already written: a failure here loses none of them,
    so it is reported, not raised."""
    from sdd_build.report import write_all

    try:
        write_all(path)
    except Exception as exc:
        message = (
            f"the report formats could not be written ({type(exc).__name__}: {exc}); "
            f"the record is intact: run `sdd-build report {path}`"
        )
        if emit is not None:
            emit("warning", message=message)


def recover_build(
    report: ValidationReport,
    build_id: str,
    *,
    accept: bool,
    emit: Emitter | None = None,
    wait_lock_s: float = 0.0,
) -> tuple[AsBuilt, Path]:
    """Close a build that was killed: roll the touched hosts back to their backups, or with
    ``accept`` record their state as it is; either way a deviation per touched host."""
    ws = report.workspace
    assert ws is not None
    bdir = builds_dir(ws) / build_id
    entries = read_journal(bdir)
    if not entries:
        raise DesignError(f"no build '{build_id}' with a journal in {builds_dir(ws)}")
    if any(e.get("event") == "build_finished" for e in entries):
        raise DesignError(f"build '{build_id}' finished; there is nothing to recover")
    touched: dict[str, list[str]] = {}
    for e in entries:
        if e.get("event") in ("apply_started", "apply_committed"):
            comps = touched.setdefault(e["host"], [])
            if e["component"] not in comps:
                comps.append(e["component"])
        if e.get("event") == "rollback_done":
            touched.pop(e["host"], None)
    model = ws.design.model
    journal = Journal(bdir)
    deviations = DeviationLog()
    records: dict[str, dict[str, HostRecord]] = {}

    def deviate(cls: str, host: str, reason: str) -> None:
        expected = "pre-build config" if cls == "rolled_back" else None
        dev = deviations.add(cls, None, host, reason, expected=expected)
        journal.write("deviation", **dev.dump())

    identities = RecordedIdentities.load(ws.design.directory)
    contacted = [] if accept else [ws.inventory.inventory.hosts[h] for h in sorted(touched)]
    with (
        build_lock(builds_dir(ws), model.design, wait_lock_s),
        lock_hosts(
            contacted,
            "recover",
            design=model.design,
            build_id=build_id,
            repository=ws.design.repo.root,
            wait_s=wait_lock_s,
        ),
    ):
        journal.write("recover_started", accept=accept, hosts=sorted(touched))
        if accept:
            for host, comps in touched.items():
                for cid in comps:
                    records.setdefault(cid, {})[host] = HostRecord(
                        status="built", reason="state accepted after an interrupted build"
                    )
                deviate(
                    "unexpected_change",
                    host,
                    f"build interrupted after touching {', '.join(comps)}; state accepted "
                    "as is by --accept",
                )
        elif touched:
            nr = make_nornir(ws.inventory, sorted(touched), len(touched))

            def restore(task: Task) -> Result:
                host = task.host.name
                backup = read_backup(ws.design.repo.root, build_id, host)
                if backup is None:
                    deviate(
                        "rollback_failed",
                        host,
                        "no pre-build backup in this machine's private state directory; "
                        "cannot roll back",
                    )
                    return Result(host=task.host, failed=True)
                session = open_session(task, model.build.timeout_s)
                refused = identities.verify(task.host, session.driver, session.running_config())
                if refused is not None:  # never restore one host's backup onto another
                    deviations.add(
                        "identity_mismatch",
                        None,
                        host,
                        refused.reason,
                        expected=refused.expected,
                        actual=refused.found,
                    )
                    return Result(host=task.host, failed=True)
                error = session.restore(backup)
                for cid in touched[host]:
                    records.setdefault(cid, {})[host] = HostRecord(
                        status="rolled_back" if error is None else "failed",
                        reason="recovered: rolled back to the pre-build config"
                        if error is None
                        else f"recovery rollback failed: {error}",
                    )
                deviate(
                    "rolled_back" if error is None else "rollback_failed",
                    host,
                    "interrupted build recovered: rolled back to the pre-build config"
                    if error is None
                    else f"recovery rollback FAILED: {error}",
                )
                journal.write("rollback_done" if error is None else "rollback_failed", host=host)
                return Result(host=task.host, result="restored")

            try:
                nr.run(task=restore, name="recover", on_failed=True)
            finally:
                nr.close_connections(on_failed=True)
        started = next((e["ts"] for e in entries if e.get("event") == "build_started"), utcnow())
        component_records = [
            ComponentRecord(
                id=cid,
                kind=ws.design.model.component(cid).kind,
                layer=ws.graph.layer_of[cid],
                hosts=records.get(cid, {}),
            )
            for cid in ws.graph.order
        ]
        asbuilt = AsBuilt(
            build_id=build_id,
            mode="recover",
            design={
                "id": model.design,
                "version": model.version,
                "sha256": ws.design.repo.sha256(ws.design.path),
                "path": ws.design.display,
            },
            spec={"sha256": None, "path": ws.spec.file},
            started=started,
            finished=utcnow(),
            result="failed",
            hosts={h: {"touched": h in touched} for h in sorted(set(ws.hosts) | set(touched))},
            layers=ws.graph.layers,
            components=component_records,
            deviations=deviations.items,
            metrics=Metrics(
                deviation_rate=1.0 if deviations.items else 0.0,
                reuse_rate=0.0,
                reconciliation=0.0,
                time_to_value_s=None,
            ),
        )
        (bdir / "as-built.json").write_text(
            json.dumps(asbuilt.dump(), indent=2) + "\n", encoding="utf-8"
        )
        journal.write("build_finished", result="failed", recovered=True, accept=accept)
        journal.close()
    if emit:
        emit("build_finished", build_id=build_id, result="failed", path=str(bdir))
    return asbuilt, bdir
