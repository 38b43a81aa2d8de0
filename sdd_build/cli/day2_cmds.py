"""Day-2 commands: waive, drift, diff (with --amend-spec), metrics."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from sdd_build.cli._options import (
    by_option,
    inventory_option,
    json_option,
    key_option,
    lab_option,
    path_option,
    root_option,
)
from sdd_build.cli._output import console, err_console
from sdd_build.errors import EXIT_DEVIATIONS, DesignError
from sdd_build.execute.policy import amends_spec, is_open
from sdd_build.limits import json_loads
from sdd_build.secrets.sink import append_text, dumps_json, out


def _latest_record(use_case: Path) -> dict[str, Any] | None:
    records = sorted((use_case / "builds").glob("*/as-built.json"))
    for path in reversed(records):
        data = json_loads(path.read_text(encoding="utf-8"))
        if data.get("mode") == "build":
            return dict(data)
    return None


def _builds(use_case: Path) -> int:
    """How many builds a use case has had: a dry run (``build --check``) is not a build."""
    count = 0
    for path in (use_case / "builds").glob("*/as-built.json"):
        try:
            mode = json_loads(path.read_text(encoding="utf-8")).get("mode")
        except (OSError, ValueError):
            mode = None
        count += mode != "check"
    return count


def append_amendments(spec: Path, record: dict[str, Any], design: str, version: int) -> list[str]:
    """Append a dated '## Amendments' entry for requirements whose checks were waived or
    failed in ``record`` (the classes that amend the spec: ``execute.policy``). Additive:
    nothing approved is rewritten. Returns the lines added."""
    covers = {a["id"]: a.get("covers", []) for a in record.get("acceptance", [])}
    lines: list[str] = []
    for dev in record.get("deviations", []):
        if not amends_spec(dev["class"]):
            continue
        check = dev.get("check")
        verb = "failed" if is_open(dev["class"]) else "waived"
        where = f"on {dev.get('host')}: {dev.get('reason')}"
        if not check:  # a record written before deviations carried their check
            lines.append(f"- (check not recorded): {dev['class']} {where}")
            continue
        for req in covers.get(check) or ["(no requirement)"]:
            lines.append(f"- {req}: check {check} {verb} {where}")
    if not lines:
        return []
    text = spec.read_text(encoding="utf-8")
    today = datetime.now(UTC).date().isoformat()
    block = []
    if "\n## Amendments" not in text:
        block += ["", "## Amendments", ""]
    block += [
        "",
        f"### {today} — scope after build {record['build_id']} (design {design} v{version})",
        "",
        *sorted(set(lines)),
        "",
    ]
    append_text(spec, ("" if text.endswith("\n") else "\n") + "\n".join(block))
    return sorted(set(lines))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@click.command("waive")
@click.argument("design", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", "check", required=True, help="Acceptance check id, e.g. AC-2.")
@click.option("--host", default=None, help="Only on this host (default: every host).")
@by_option("Who decides (an approver).")
@click.option("--reason", required=True, help="Why (at least 10 characters).")
@click.option(
    "--expires",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day the waiver applies (YYYY-MM-DD).",
)
@key_option(
    "Sign the waiver with this Ed25519 private key (required where approvers.yaml "
    "requires signatures)."
)
@root_option
def waive_cmd(
    design: Path,
    check: str,
    host: str | None,
    by: str,
    reason: str,
    expires: datetime | None,
    key: Path | None,
    root: Path | None,
) -> None:
    """Record an approved, audited waiver of one acceptance check."""
    from sdd_build.gates.waivers import add_waiver

    until: date | None = expires.date() if expires else None
    waiver = add_waiver(
        design,
        check=check,
        by=by,
        reason=reason,
        host=host,
        expires=until,
        key=key,
        root=root,
    )
    where = f"on {waiver.host}" if waiver.host else "on every host"
    err_console.print(
        f"waived {waiver.check} {where} by {waiver.by}"
        + (f" until {waiver.expires}" if waiver.expires else "")
    )


@click.command("drift")
@click.argument("design", type=click.Path(path_type=Path, dir_okay=False))
@lab_option
@inventory_option
@path_option
@root_option
@json_option()
def drift_cmd(
    design: Path,
    lab: Path | None,
    inventory: Path | None,
    via: str,
    root: Path | None,
    as_json: bool,
) -> None:
    """Compare the devices now with the reconciled baseline; exit 1 on drift."""
    from sdd_build.app.service import drift_service

    report = drift_service(design, lab=lab, inventory=inventory, root=root, via=via)
    if as_json:
        out(dumps_json(report.data, indent=2) + "\n")
    else:
        devs = report.data["deviations"]
        if not devs:
            err_console.print(
                f"[green]no drift[/] on {', '.join(report.data['hosts'])} "
                f"(baseline build {report.data['baseline']['build_id']})"
            )
        table = Table(title=f"drift {report.data['drift_id']}")
        for col in ("id", "host", "class", "expected", "actual", "reason"):
            table.add_column(col, overflow="fold")
        for d in devs:
            table.add_row(
                d["id"],
                d["host"],
                d["class"],
                str(d["expected"] or ""),
                str(d["actual"] or ""),
                d["reason"],
            )
        if devs:
            err_console.print(table)
        err_console.print(f"record: {report.path}")
    if report.drifted:
        sys.exit(EXIT_DEVIATIONS)


@click.command("diff")
@click.argument("design", type=click.Path(path_type=Path, dir_okay=False))
@inventory_option
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Baseline file (default: the use case's, or its 'extends').",
)
@click.option(
    "--amend-spec",
    is_flag=True,
    help="Append dated amendments (waived/failed requirements) to the spec.",
)
@root_option
@json_option()
def diff_cmd(
    design: Path,
    inventory: Path | None,
    baseline_path: Path | None,
    amend_spec: bool,
    root: Path | None,
    as_json: bool,
) -> None:
    """Day-2: what this design version changes relative to the reconciled baseline."""
    _diff(design, inventory, baseline_path, amend_spec, as_json, root)


@click.command("metrics")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@json_option()
def metrics_cmd(directory: Path, as_json: bool) -> None:
    """SDD metrics per use case: deviation, reuse, reconciliation, time to value."""
    rows: list[dict[str, Any]] = []
    for use_case in sorted(p for p in directory.iterdir() if p.is_dir()):
        record = _latest_record(use_case)
        builds = _builds(use_case)
        if record is None:
            rows.append({"use_case": use_case.name, "builds": builds, "latest": None})
            continue
        rows.append(
            {
                "use_case": use_case.name,
                "builds": builds,
                "latest": record["build_id"],
                "design": record["design"],
                "result": record["result"],
                "deviations": len(record["deviations"]),
                **record["metrics"],
            }
        )
    if as_json:
        out(dumps_json({"use_cases": rows}, indent=2) + "\n")
        return
    table = Table(title=f"SDD metrics: {directory}")
    for col in (
        "use case",
        "builds",
        "latest result",
        "deviation rate",
        "reuse rate",
        "reconciliation",
        "time to value",
    ):
        table.add_column(col, justify="right" if col != "use case" else "left")
    for r in rows:
        if r["latest"] is None:
            table.add_row(r["use_case"], str(r["builds"]), "-", "-", "-", "-", "-")
            continue
        ttv = r.get("time_to_value_s")
        table.add_row(
            r["use_case"],
            str(r["builds"]),
            r["result"],
            f"{r['deviation_rate']:.0%}",
            f"{r['reuse_rate']:.0%}",
            f"{r['reconciliation']:.0%}",
            _duration(ttv),
        )
    console.print(table)


def _diff(
    design: Path,
    inventory: Path | None,
    baseline_path: Path | None,
    amend_spec: bool,
    as_json: bool,
    root: Path | None = None,
) -> None:
    from sdd_build.app.service import diff_service
    from sdd_build.gates import gate_status

    delta, base = diff_service(design, inventory=inventory, baseline_path=baseline_path, root=root)
    gates = gate_status(design, root=root)
    if as_json:
        out(
            dumps_json(
                {**delta.as_dict(), "baseline_file": str(base), "gates": gates.to_json()}, indent=2
            )
            + "\n"
        )
    else:
        b = delta.baseline_design
        console.print(f"design vs baseline {b.get('id')} v{b.get('version')} ({base})")
        for label, items in (
            ("added", delta.added),
            ("changed", delta.changed),
            ("removed", delta.removed),
        ):
            console.print(f"  {label:8} {', '.join(items) or '-'}")
        for host, text in delta.host_diffs.items():
            console.rule(host)
            console.print(text.rstrip("\n"), markup=False)
        if delta.empty:
            console.print("no change relative to the baseline")
    if amend_spec:
        use_case = design.parent
        source = use_case if _latest_record(use_case) else base.parent
        record = _latest_record(source)
        if record is None:
            raise DesignError(f"no build record in {source}/builds to amend the spec from")
        from sdd_build.design.loader import load_design

        loaded = load_design(design, root=root)
        spec = loaded.repo.confine(loaded.directory, loaded.model.spec)
        assert spec is not None
        added = append_amendments(spec, record, loaded.model.design, loaded.model.version)
        err_console.print(
            f"appended {len(added)} amendment(s) to {spec}"
            if added
            else "nothing waived or failed: the spec needs no amendment"
        )
        if added:
            err_console.print(
                "the spec changed: approve it again (Gate 1) before the next design approval"
            )
