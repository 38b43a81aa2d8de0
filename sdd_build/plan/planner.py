"""The build plan: per host, per component, in build order, with rendered configs and commands.

Pure: it renders, it never touches a device. Render problems are collected, grouped per
component (the same undefined variable on 1,000 hosts is one problem with a count), and raised
together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sdd_build.design.models import CommandTemplate, ConfigTemplate
from sdd_build.errors import Problem, RenderError, SddBuildError
from sdd_build.plan.forked import two_halves
from sdd_build.workspace import Workspace

__all__ = ["BuildPlan", "HostStep", "build_plan"]


class HostStep(NamedTuple):
    """One component on one host (a named tuple: a million of them are built in a plan)."""

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

    def add(self, component: str, host: str, problem: Problem) -> None:
        if component not in self.first:
            self.first[component] = problem
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
    """Render every component for every one of its hosts. Raises ``RenderError`` (all problems).

    Hosts are rendered on two cores when that is safe and worth it (``plan.forked``); the
    result, problems included, is the same in the same order as on one.
    """
    model = ws.design.model
    by_id = {c.id: c for c in model.components}
    plan = BuildPlan(design_id=model.design, design_version=model.version, layers=ws.graph.layers)
    collector = _Collector()
    # Compile each template once, up front: a syntax error is one problem, not one per host.
    broken: set[str] = set()
    for cid in ws.graph.order:
        comp = by_id[cid]
        if isinstance(comp, ConfigTemplate):
            try:
                ws.templates.check(comp.template)
            except SddBuildError as exc:
                collector.add(cid, "", exc.problems[0])
                broken.add(cid)
    renderer = _HostRenderer(ws, broken)
    work = sum(len(ws.component_hosts.get(c, ())) for c in ws.graph.order)
    if work >= _FORK_AT:
        rendered = two_halves(renderer.hosts, ws.all_hosts)
    else:
        rendered = renderer.hosts(ws.all_hosts)
    for host, steps, failures in rendered:
        for cid, problem in failures:
            collector.add(cid, host, problem)
        plan.hosts[host] = steps
    problems = collector.problems()
    if problems:
        raise RenderError.from_problems(problems)
    return plan


#: below this many (component, host) pairs a fork costs more than it saves
_FORK_AT = 20_000


class _HostRenderer:
    """Renders the steps of hosts; pure, picklable results (see ``plan.forked``)."""

    def __init__(self, ws: Workspace, broken: set[str]) -> None:
        model = ws.design.model
        self.ws = ws
        # per component, what every one of its renders shares, built once (templates run in
        # the immutable sandbox): (kind code, kind, template or commands, layer, design, vars)
        design = {"id": model.design, "version": model.version}
        self.jobs: dict[str, tuple[int, str, Any, int, Any, Any]] = {}
        self.command_lines: dict[str, list[int | None]] = {}
        # what flat templates read from each component's vars and from design (see
        # TemplateLibrary.render): those objects are the same for every host
        self.known: dict[str, dict[int, str]] = {c.id: {} for c in model.components}
        self.design_known: dict[int, str] = {}
        for index, comp in enumerate(model.components):
            if comp.id in broken:
                continue
            layer = ws.graph.layer_of.get(comp.id, 0)
            comp_vars = getattr(comp, "vars", None)
            ctx_vars = {**model.vars, **comp_vars} if comp_vars else model.vars
            if isinstance(comp, ConfigTemplate):
                self.jobs[comp.id] = (_CONFIG, comp.kind, comp.template, layer, design, ctx_vars)
            elif isinstance(comp, CommandTemplate):
                commands = tuple(comp.commands)
                self.jobs[comp.id] = (_COMMANDS, comp.kind, commands, layer, design, ctx_vars)
                self.command_lines[comp.id] = [
                    ws.design.yaml.locate(("components", index, "commands", i))[0]
                    for i in range(len(commands))
                ]
            else:
                self.jobs[comp.id] = (_OTHER, comp.kind, None, layer, None, None)

    def hosts(
        self, hosts: Sequence[str]
    ) -> list[tuple[str, list[HostStep], list[tuple[str, Problem]]]]:
        return [self.host(h) for h in hosts]

    def host(self, host: str) -> tuple[str, list[HostStep], list[tuple[str, Problem]]]:
        ws = self.ws
        render = ws.templates.render
        render_string = ws.templates.render_string
        origin = ws.design.display
        ctx_host = ws.inventory.view(host).context()
        steps: list[HostStep] = []
        failures: list[tuple[str, Problem]] = []
        host_known: dict[int, str] = {}  # what flat templates read from this ctx_host
        for cid in ws.host_components(host):
            job = self.jobs.get(cid)
            if job is None:  # its template does not compile: said once, not per host
                continue
            code, kind, what, layer, design, ctx_vars = job
            known = {"host": host_known, "design": self.design_known, "vars": self.known[cid]}
            try:
                if code == _CONFIG:
                    ctx = {"host": ctx_host, "design": design, "vars": ctx_vars}
                    text = render(what, ctx, host=host, known=known)
                    steps.append(HostStep(cid, kind, layer, text))
                elif code == _COMMANDS:
                    ctx = {"host": ctx_host, "design": design, "vars": ctx_vars}
                    lines = self.command_lines[cid]
                    cmds = tuple(
                        render_string(
                            cmd,
                            ctx,
                            host=host,
                            origin=origin,
                            origin_line=lines[i],
                            known=known,
                        ).strip()
                        for i, cmd in enumerate(what)
                    )
                    steps.append(HostStep(cid, kind, layer, None, cmds))
                else:
                    steps.append(HostStep(cid, kind, layer))
            except SddBuildError as exc:
                failures.append((cid, exc.problems[0]))
        return host, steps, failures


_CONFIG, _COMMANDS, _OTHER = 0, 1, 2
