"""Design commands: init, schema, validate, plan, graph."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.table import Table

from sdd_build.cli._options import (
    design_argument,
    inventory_option,
    json_option,
    lab_option,
    root_option,
)
from sdd_build.cli._output import console, err_console, print_error, print_json
from sdd_build.design.models import Design
from sdd_build.errors import EXIT_BAD_INPUT, DesignError, SddBuildError
from sdd_build.secrets.sink import out, secrets_shown

if TYPE_CHECKING:
    from sdd_build.plan.validate import ValidationReport


def _report_problems(report: ValidationReport) -> None:
    exc = SddBuildError.from_problems(report.problems)
    print_error(exc)


@click.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of solution-design.yaml (for editors' YAML language servers)."""
    schema = Design.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    print_json(schema)


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--author", default="engineer", show_default=True, help="Design author.")
@click.option(
    "--group",
    "groups",
    multiple=True,
    default=("core",),
    show_default=True,
    help="Target group (repeat for several).",
)
def init_cmd(directory: Path, author: str, groups: tuple[str, ...]) -> None:
    """Scaffold a use case: customer-spec.md and a solution-design.yaml skeleton."""
    from sdd_build.scaffold import scaffold

    created = scaffold(directory, author=author, groups=groups)
    for path in created:
        console.print(f"created {path}")
    console.print(
        f"next: edit the spec and design, then "
        f"`sdd-build validate {directory}/solution-design.yaml`"
    )


@click.command("validate")
@design_argument
@inventory_option
@lab_option
@root_option
@json_option("Machine output: ok, problems.")
@click.option("--no-offline", is_flag=True, help="Skip the offline test layer.")
def validate_cmd(
    design: Path,
    inventory: Path | None,
    lab: Path | None,
    root: Path | None,
    as_json: bool,
    no_offline: bool,
) -> None:
    """Schema, references, graph, renders, offline layer and Gate-2 criteria; no device."""
    from sdd_build.plan.validate import validate
    from sdd_build.workspace import connections_for

    report = validate(
        design,
        root=root,
        offline=not no_offline,
        connections=connections_for(lab, inventory),
    )
    if as_json:
        print_json(report.to_json())
        sys.exit(0 if report.ok else EXIT_BAD_INPUT)
    for warning in report.warnings:
        err_console.print(f"[yellow]warning[/]: {escape(str(warning))}", highlight=False)
    if not report.ok:
        _report_problems(report)
        console.print(f"[red]invalid[/]: {len(report.problems)} problem(s)", highlight=False)
        sys.exit(EXIT_BAD_INPUT)
    ws = report.workspace
    assert ws is not None
    passed = sum(r.passed for r in report.offline)
    console.print(
        f"[green]valid[/]: {ws.design.display} (design {ws.design.model.design} "
        f"v{ws.design.model.version}), {len(ws.graph.order)} components in "
        f"{len(ws.graph.layers)} layers, {len(ws.hosts)} target hosts, "
        + (f"{len(ws.check_hosts)} check targets, " if ws.check_hosts else "")
        + f"{len(ws.spec.requirements)} requirements covered, offline tests {passed}/"
        f"{len(report.offline)} passed ({report.timings.get('total', 0):.2f}s)"
    )


@click.command("plan")
@design_argument
@inventory_option
@lab_option
@root_option
@json_option("Machine output: layers, hosts.")
@click.option("--host", "only_host", default=None, help="Show the rendered config of one host.")
@click.option("--no-configs", is_flag=True, help="Only the order, not the rendered configs.")
@click.option("--diff", is_flag=True, help="Device diff (needs a device; see `build --check`).")
@click.option(
    "--show-secrets",
    is_flag=True,
    help="Print the rendered configs' secrets on stdout (masked by default; files never).",
)
def plan_cmd(
    design: Path,
    inventory: Path | None,
    lab: Path | None,
    root: Path | None,
    as_json: bool,
    only_host: str | None,
    no_configs: bool,
    diff: bool,
    show_secrets: bool,
) -> None:
    """Build order (layers, leaf-first) and per-host rendered config; changes nothing."""
    with secrets_shown() if show_secrets else contextlib.nullcontext():
        _plan(design, inventory, lab, root, as_json, only_host, no_configs, diff)
    if show_secrets:
        err_console.print("[yellow]warning[/]: secrets shown on stdout (--show-secrets)")


def _plan(
    design: Path,
    inventory: Path | None,
    lab: Path | None,
    root: Path | None,
    as_json: bool,
    only_host: str | None,
    no_configs: bool,
    diff: bool,
) -> None:
    if diff:
        raise DesignError(
            "plan --diff needs the governed build's device access, which this version "
            "does not have yet",
            hint="use `sdd-build plan` for the rendered configs",
        )
    from sdd_build.plan.validate import validate
    from sdd_build.workspace import connections_for

    report = validate(design, root=root, connections=connections_for(lab, inventory))
    if not report.ok or report.plan is None or report.workspace is None:
        _report_problems(report)
        sys.exit(EXIT_BAD_INPUT)
    plan, ws = report.plan, report.workspace
    if only_host is not None and only_host not in plan.hosts:
        raise DesignError(
            f"host '{only_host}' is not a target of this design",
            hint=f"targets: {', '.join(plan.hosts) or 'none'}",
        )
    if as_json:
        data = plan.to_json()
        if only_host:
            data["hosts"] = {only_host: data["hosts"][only_host]}
            data["rendered"] = {only_host: data["rendered"][only_host]}
        print_json(data)
        return
    table = Table(title=f"build plan: {plan.design_id} v{plan.design_version} (leaf-first)")
    table.add_column("layer", justify="right")
    table.add_column("component", overflow="fold")
    table.add_column("kind")
    table.add_column("depends on", overflow="fold")
    table.add_column("hosts", justify="right")
    by_id = {c.id: c for c in ws.design.model.components}
    for i, layer in enumerate(plan.layers):
        for cid in layer:
            deps = sorted(ws.graph.graph.predecessors(cid))
            table.add_row(
                str(i),
                cid,
                by_id[cid].kind,
                ", ".join(deps) or "-",
                str(len(ws.component_hosts.get(cid, []))),
            )
    console.print(table)
    if no_configs:
        return
    hosts = [only_host] if only_host else list(plan.hosts)
    shown = hosts if only_host or len(hosts) <= 10 else hosts[:3]
    for host in shown:
        console.rule(f"[bold]{host}[/]")
        for step in plan.hosts[host]:
            if step.config is not None:
                console.print(f"[cyan]# {step.component}[/] (layer {step.layer})")
                # plain lines: copied into a golden file, they must match byte for byte
                # (a Syntax block pads every line with spaces to the terminal's width)
                console.print(
                    step.config.rstrip("\n"), markup=False, highlight=False, soft_wrap=True
                )
            elif step.commands:
                console.print(f"[cyan]# {step.component}[/] (layer {step.layer}, commands)")
                for cmd in step.commands:
                    console.print(f"  {cmd}")
    if len(shown) < len(hosts):
        console.print(f"... {len(hosts) - len(shown)} more hosts: use --host NAME or --json")


@click.command("graph")
@design_argument
@root_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "json"]),
    default="mermaid",
    show_default=True,
)
def graph_cmd(design: Path, root: Path | None, fmt: str) -> None:
    """The dependency graph (Mermaid, Graphviz dot or JSON)."""
    from sdd_build.design.loader import load_design
    from sdd_build.graph.compile import compile_graph
    from sdd_build.graph.export import to_dot, to_mermaid

    loaded = load_design(design, root=root)
    compiled = compile_graph(loaded)
    if fmt == "mermaid":
        out(to_mermaid(loaded, compiled))
    elif fmt == "dot":
        out(to_dot(loaded, compiled))
    else:
        print_json(
            {
                "nodes": [
                    {
                        "id": n,
                        "kind": compiled.graph.nodes[n]["kind"],
                        "layer": compiled.layer_of[n],
                    }
                    for n in compiled.order
                ],
                "edges": [[u, v] for u, v in sorted(compiled.graph.edges)],
                "layers": compiled.layers,
            }
        )
