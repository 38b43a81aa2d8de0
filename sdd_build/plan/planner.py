"""The build plan: per host, per component, in build order, with rendered configs and commands.

Pure: it renders, it never touches a device. Render problems are collected, grouped per
component (the same undefined variable on 1,000 hosts is one problem with a count), and raised
together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sdd_build.design.models import CommandTemplate, ConfigTemplate
from sdd_build.errors import Problem, RenderError, SddBuildError
from sdd_build.workspace import Workspace, render_context

__all__ = ["BuildPlan", "HostStep", "build_plan"]


@dataclass(frozen=True)
class HostStep:
    component: str
    kind: str
    layer: int
    config: str | None = None
    commands: tuple[str, ...] = ()


@dataclass
class BuildPlan:
    design_id: str
    design_version: int
    layers: list[list[str]]
    hosts: dict[str, list[HostStep]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``plan --json`` contract: ``layers`` (leaf-first) and ``hosts`` (build order)."""
        return {
            "design": {"id": self.design_id, "version": self.design_version},
            "layers": self.layers,
            "hosts": {h: [s.component for s in steps] for h, steps in self.hosts.items()},
            "rendered": {
                h: {
                    s.component: (s.config if s.config is not None else list(s.commands))
                    for s in steps
                    if s.config is not None or s.commands
                }
                for h, steps in self.hosts.items()
            },
        }


class _Collector:
    """Groups render problems per component: first occurrence verbatim, then a count."""

    def __init__(self) -> None:
        self.first: dict[str, Problem] = {}
        self.extra: dict[str, list[str]] = {}

    def add(self, component: str, host: str, exc: SddBuildError) -> None:
        if component not in self.first:
            self.first[component] = exc.problems[0]
            self.extra[component] = []
        else:
            self.extra[component].append(host)

    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        for comp, prob in self.first.items():
            out.append(prob)
            more = self.extra[comp]
            if more:
                shown = ", ".join(more[:5]) + (" ..." if len(more) > 5 else "")
                out.append(
                    Problem(
                        f"component '{comp}': {len(more)} more host(s) failed to render ({shown})",
                        prob.file,
                        prob.line,
                    )
                )
        return out


def build_plan(ws: Workspace) -> BuildPlan:
    """Render every component for every one of its hosts. Raises ``RenderError`` (all problems)."""
    model = ws.design.model
    by_id = {c.id: c for c in model.components}
    plan = BuildPlan(design_id=model.design, design_version=model.version, layers=ws.graph.layers)
    collector = _Collector()
    host_ctx = {h: ws.inventory.view(h).context() for h in ws.hosts}
    comp_vars: dict[str, dict[str, Any]] = {
        c.id: c.vars for c in model.components if isinstance(c, ConfigTemplate | CommandTemplate)
    }
    command_lines: dict[str, list[int | None]] = {}
    for cid in ws.graph.order:
        comp = by_id[cid]
        if isinstance(comp, CommandTemplate):
            index = model.components.index(comp)
            command_lines[cid] = [
                ws.design.yaml.locate(("components", index, "commands", i))[0]
                for i in range(len(comp.commands))
            ]
    # Compile each template once, up front: a syntax error is one problem, not one per host.
    broken: set[str] = set()
    for cid in ws.graph.order:
        comp = by_id[cid]
        if isinstance(comp, ConfigTemplate):
            try:
                ws.templates.check(comp.template)
            except SddBuildError as exc:
                collector.add(cid, "", exc)
                broken.add(cid)

    for host in ws.hosts:
        steps: list[HostStep] = []
        ctx_host = host_ctx[host]
        for cid in ws.host_components(host):
            comp = by_id[cid]
            layer = ws.graph.layer_of[cid]
            if cid in broken:
                continue
            try:
                if isinstance(comp, ConfigTemplate):
                    ctx = render_context(ws, host, comp_vars[cid], ctx_host)
                    text = ws.templates.render(comp.template, ctx, host=host)
                    steps.append(HostStep(cid, comp.kind, layer, config=text))
                elif isinstance(comp, CommandTemplate):
                    ctx = render_context(ws, host, comp_vars[cid], ctx_host)
                    cmds = tuple(
                        ws.templates.render_string(
                            cmd,
                            ctx,
                            host=host,
                            origin=ws.design.display,
                            origin_line=command_lines[cid][i],
                        ).strip()
                        for i, cmd in enumerate(comp.commands)
                    )
                    steps.append(HostStep(cid, comp.kind, layer, commands=cmds))
                else:
                    steps.append(HostStep(cid, comp.kind, layer))
            except SddBuildError as exc:
                collector.add(cid, host, exc)
        plan.hosts[host] = steps
    problems = collector.problems()
    if problems:
        raise RenderError.from_problems(problems)
    return plan
