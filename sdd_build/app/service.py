"""The build as a service for the CLI (and the pytest plugin): gates, validation, the build,
the audit trail and recovery of an unfinished build, in that order and nothing else."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdd_build.design.inventory import load_inventory, overlay_connections, resolve_targets
from sdd_build.design.loader import Repository, find_root
from sdd_build.design.models import Targets
from sdd_build.errors import DesignError, RecordError, SddBuildError
from sdd_build.execute.baseline import BASELINE_FILE, load_baseline, qualifies, write_baseline
from sdd_build.execute.build import (
    Emitter,
    RunOptions,
    inventory_secrets,
    record_sha256,
    run_build,
)
from sdd_build.execute.locks import lock_hosts
from sdd_build.execute.results import AsBuilt
from sdd_build.plan.validate import validate
from sdd_build.workspace import Workspace, connections_for, lab_connections

# Discovery, drift, the day-2 delta and recovery are imported by the services that use them: a
# build does not load them.
if TYPE_CHECKING:
    from sdd_build.execute.discover import Feasibility
    from sdd_build.execute.drift import DriftReport
    from sdd_build.plan.day2 import DesignDelta

__all__ = [
    "build_service",
    "diff_service",
    "discover_service",
    "drift_service",
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
    agent: dict[str, Any] | None = None,
    root: Path | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    shard_by: str = "site",
    via: str = "auto",
) -> tuple[AsBuilt, Path]:
    from sdd_build.audit import AuditLog
    from sdd_build.gates import check_gate2, check_targets

    # Gate first: an unapproved or stale design never gets as far as a device, or a lab lookup.
    # From here on every input byte comes from the snapshot the gate verified.
    approved = check_gate2(design, root=root)
    connections = connections_for(lab, inventory)
    report = validate(approved.design.path, connections=connections, repo=approved.repo)
    if not report.ok:
        raise DesignError.from_problems(report.problems)
    assert report.workspace is not None
    ws = report.workspace
    check_targets(ws, ws.hosts)
    audit = AuditLog(ws.root)
    if recover_id is not None:
        from sdd_build.execute.recover import recover_build

        asbuilt, path = recover_build(
            report,
            recover_id,
            accept=accept,
            emit=emit,
            approvals=approved.approvals(),
            wait_lock_s=wait_lock_s,
            via=via,
        )
        audit.append(
            "build_recovered",
            design=ws.design.model.design,
            build_id=recover_id,
            result=asbuilt.result,
            accept=accept,
            record=ws.design.repo.display(path / "as-built.json"),
            as_built_sha256=record_sha256(path),
            hosts=[{"host": h, "state": s.get("state")} for h, s in asbuilt.hosts.items()],
        )
        _write_reports(path, emit)
        return asbuilt, path
    if accept:
        raise DesignError("--accept only goes with --recover <build-id>")
    opts = RunOptions(
        check=check,
        workers=workers,
        approvals=approved.approvals(),
        spec_approved_at=approved.spec_approval.record.approved_at,
        emit=emit or (lambda event, **data: None),
        waivers=_waivers(ws, audit, emit, approved.chain),
        wait_lock_s=wait_lock_s,
        agent=agent,
        executor=executor,
        scheduler=scheduler,
        shard_by=shard_by,
        path=via,
    )
    try:
        asbuilt, path = run_build(report, opts)
    except RecordError as exc:
        # the record is not on disk (e.g. a full disk): the audit trail still says so
        with contextlib.suppress(SddBuildError, OSError):
            audit.append(
                "build_unrecorded",
                design=ws.design.model.design,
                version=ws.design.model.version,
                error=str(exc.problems[0]),
            )
        raise
    # The chain grows per build, not per host: one entry binds the whole record (its sha256:
    # every host's status, check and deviation in it) with each component's status counts;
    # deviations, the exceptions an auditor looks for, are entries of their own. Every gated
    # command verifies the whole chain, so an entry per component per host made each build
    # pay for every host of every build before it.
    keys = ("id", "component", "host", "class", "reason")
    audit.append_many(
        [
            (
                "build",
                {
                    "build_id": asbuilt.build_id,
                    "version": ws.design.model.version,
                    "mode": asbuilt.mode,
                    "result": asbuilt.result,
                    "design_sha256": asbuilt.design["sha256"],
                    "record": ws.design.repo.display(path / "as-built.json"),
                    "as_built_sha256": record_sha256(path),
                    "hosts": len(asbuilt.hosts),
                    # ids as values, never keys: the log refuses a key that reads like a
                    # secret name, and a component may well be called 'secrets-config'
                    "components": [
                        {
                            "component": comp.id,
                            "statuses": _status_counts(rec.status for rec in comp.hosts.values()),
                        }
                        for comp in asbuilt.components
                    ],
                },
            )
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
        ],
        design=ws.design.model.design,
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
    design: Path,
    *,
    lab: Path | None = None,
    inventory: Path | None = None,
    root: Path | None = None,
    via: str = "auto",
) -> DriftReport:
    """Compare the devices now with the design's reconciled baseline (read-only)."""
    from sdd_build.audit import AuditLog
    from sdd_build.execute.drift import detect_drift

    connections = connections_for(lab, inventory)
    report = validate(design, root=root, connections=connections, offline=False)
    if not report.ok or report.workspace is None or report.plan is None:
        raise DesignError.from_problems(report.problems)
    ws = report.workspace
    baseline = load_baseline(ws.design.directory / BASELINE_FILE)
    # read-only, but not half-way through a build: that would report its half as drift
    hosts = [ws.inventory.inventory.hosts[h] for h in ws.hosts]
    with lock_hosts(hosts, "drift", design=ws.design.model.design, repository=ws.design.repo.root):
        drift = detect_drift(ws, report.plan, baseline, secrets=inventory_secrets(ws), via=via)
    AuditLog(ws.root).append(
        "drift",
        design=ws.design.model.design,
        drift_id=drift.data["drift_id"],
        deviations=len(drift.data["deviations"]),
    )
    return drift


def diff_service(
    design: Path,
    *,
    inventory: Path | None = None,
    baseline_path: Path | None = None,
    root: Path | None = None,
) -> tuple[DesignDelta, Path]:
    """What this design version changes relative to the reconciled baseline (no device)."""
    from sdd_build.plan.day2 import design_delta

    report = validate(design, root=root, connections=inventory)
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
    root: Path | None = None,
) -> tuple[Path, Path, Feasibility]:
    """Gate 1, then read-only discovery; writes feasibility.{json,md} beside the spec."""
    from sdd_build.audit import AuditLog
    from sdd_build.execute.discover import discover, write_feasibility
    from sdd_build.gates import check_gate1

    check_gate1(artifact, root=root)
    connections = connections_for(lab, inventory)
    if artifact.name.endswith((".yaml", ".yml")):
        report = validate(artifact, root=root, connections=connections, offline=False)
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
        repo = Repository((root or find_root(artifact.parent)).resolve())
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


def _waivers(
    ws: Workspace, audit: Any, emit: Emitter | None, chain: list[dict[str, Any]] | None
) -> list[Any]:
    """The verified waivers of this design version; every other entry of waivers.json is
    ignored out loud (warning, audit entry) and the failure it would cover stands. ``chain``:
    the audit chain Gate 2 verified moments ago (``None``: verified here)."""
    from sdd_build.gates.waivers import WAIVERS_FILE, verify_waivers

    good, ignored = verify_waivers(ws.design.directory, ws.design.model, ws.root, entries=chain)
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


def _status_counts(statuses: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(statuses).items()))
