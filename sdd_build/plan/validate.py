"""``sdd-build validate``: everything that can be known about a design without a device.

Schema, references (files confined to the repository, reuse hashes), the graph, renders for
every target host, the offline layer, and the Gate-2 criteria:

* every spec requirement is covered by at least one acceptance check;
* every ``covers`` names a requirement of the spec;
* every component that changes a device (``config_template``) is verified by a dependent
  command template with acceptance checks, or carries a reasoned ``acceptance_exempt``;
* every reused asset's pinned sha256 matches the bytes on disk.

All problems are collected and returned together, sorted by file and line.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdd_build.checks import validate_check
from sdd_build.design.loader import Repository
from sdd_build.design.models import (
    CommandTemplate,
    ConfigTemplate,
    Parser,
    ParserTest,
    RenderTest,
    Reuse,
)
from sdd_build.errors import Problem, SddBuildError
from sdd_build.offline.check_tests import run_check_tests
from sdd_build.offline.runner import OfflineResult, run_offline
from sdd_build.parse import check_template
from sdd_build.plan.planner import BuildPlan, build_plan
from sdd_build.platforms import lookup
from sdd_build.workspace import Workspace, open_workspace, render_context

__all__ = ["ValidationReport", "validate"]


@dataclass
class ValidationReport:
    ok: bool
    problems: list[Problem]
    workspace: Workspace | None = None
    plan: BuildPlan | None = None
    offline: list[OfflineResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: worth a look, not wrong (a check's query null on every recorded output)
    warnings: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [
                {"file": p.file, "line": p.line, "column": p.column, "message": p.message}
                for p in self.problems
            ],
            "offline": [r.as_dict() for r in self.offline],
            "warnings": [
                {"file": p.file, "line": p.line, "column": p.column, "message": p.message}
                for p in self.warnings
            ],
            "hosts": len(self.workspace.hosts) if self.workspace else 0,
            "components": len(self.workspace.graph.order) if self.workspace else 0,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, p.column or 0))


def validate(
    design_path: Path,
    *,
    root: Path | None = None,
    offline: bool = True,
    connections: Path | None = None,
    repo: Repository | None = None,
) -> ValidationReport:
    """Everything knowable without a device. ``repo`` carries the source every file is read
    from: the disk, or (in a build) the snapshot the gate check verified. ``connections`` is
    connection data only (a lab's inventory or ``--inventory``); design data is the design's."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        ws = open_workspace(design_path, root=root, connections=connections, repo=repo)
    except SddBuildError as exc:
        return ValidationReport(ok=False, problems=_sorted(exc.problems))
    timings["load"] = time.perf_counter() - t0

    t = time.perf_counter()
    problems = _references(ws)
    broken_refs = bool(problems)
    problems += _requirement_coverage(ws)
    problems += _check_inputs(ws)
    problems += _driver_options(ws)
    timings["references"] = time.perf_counter() - t

    plan: BuildPlan | None = None
    if not broken_refs:
        t = time.perf_counter()
        try:
            plan = build_plan(ws)
        except SddBuildError as exc:
            problems += exc.problems
        problems += _expected_values(ws)
        timings["render"] = time.perf_counter() - t

    results: list[OfflineResult] = []
    warnings: list[Problem] = []
    if offline and not broken_refs:
        t = time.perf_counter()
        results, offline_problems = run_offline(ws)
        # a golden render of a template that already failed to render says it again: once
        said = {(p.file, p.line) for p in problems if p.file and p.line}
        problems += [p for p in offline_problems if (p.file, p.line) not in said]
        checked, check_problems, warnings = run_check_tests(ws)
        results += checked
        problems += check_problems
        timings["offline"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return ValidationReport(
        ok=not problems,
        problems=_sorted(problems),
        workspace=ws,
        plan=plan,
        offline=results,
        timings=timings,
        warnings=warnings,
    )


def _reuse(ws: Workspace, reuse: Reuse, where: tuple[str | int, ...], used: Path) -> list[Problem]:
    repo = ws.design.repo
    asset = repo.confine(repo.root, reuse.asset)
    if asset is None:
        return [
            ws.design.problem(
                (*where, "asset"), f"reuse asset '{reuse.asset}' escapes the repository"
            )
        ]
    if not repo.is_file(asset):
        return [ws.design.problem((*where, "asset"), f"reused asset not found: {reuse.asset}")]
    problems = []
    if asset != used:
        problems.append(
            ws.design.problem(
                (*where, "asset"),
                f"reuse names '{reuse.asset}' but the component uses '{repo.display(used)}'",
            )
        )
    try:
        actual = hashlib.sha256(repo.read_bytes(asset)).hexdigest()
    except (FileNotFoundError, SddBuildError) as exc:
        return [ws.design.problem((*where, "asset"), f"reused asset cannot be read: {exc}")]
    if actual != reuse.sha256:
        problems.append(
            ws.design.problem(
                (*where, "sha256"),
                f"reused asset {reuse.asset} changed since the design pinned it: pinned "
                f"sha256 {reuse.sha256[:12]}..., now {actual[:12]}...; review the change and "
                "pin the new hash (a new design version)",
            )
        )
    return problems


def _existing(
    ws: Workspace, where: tuple[str | int, ...], base: Path, rel: str, what: str, missing: str
) -> tuple[Path | None, list[Problem]]:
    """``base/rel`` if it is a file inside the repository; otherwise the located problem."""
    path = ws.design.repo.confine(base, rel)
    if path is None:
        return None, [ws.design.problem(where, f"{what} '{rel}' escapes the repository")]
    if not ws.design.repo.is_file(path):
        if path.exists() and not path.is_file() and not path.is_dir():
            missing = f"{what} '{rel}' is not a regular file (a FIFO or device); refused"
        return None, [ws.design.problem(where, missing)]
    return path, []


def _references(ws: Workspace) -> list[Problem]:
    """Every referenced file exists inside the repository; parser templates compile; hashes."""
    problems: list[Problem] = []
    repo = ws.design.repo
    for index, comp in enumerate(ws.design.model.components):
        base: tuple[str | int, ...] = ("components", index)
        if isinstance(comp, ConfigTemplate):
            path, found = _existing(
                ws,
                (*base, "template"),
                repo.templates,
                comp.template,
                "template path",
                f"template not found: templates/{comp.template} (component '{comp.id}'; "
                f"looked in {repo.templates}: pass --root if that is not the repository's)",
            )
            problems += found
            if path is not None and comp.reuse is not None:
                problems += _reuse(ws, comp.reuse, (*base, "reuse"), path)
        elif isinstance(comp, Parser) and comp.template is not None:
            path, found = _existing(
                ws,
                (*base, "template"),
                repo.parsers,
                comp.template,
                "parser template path",
                f"parser template not found: parsers/{comp.template} (component '{comp.id}'; "
                f"looked in {repo.parsers}: pass --root if that is not the repository's)",
            )
            problems += found
            if path is not None:
                try:
                    check_template(
                        comp.engine, path, display=repo.display(path), source=repo.source
                    )
                except SddBuildError as exc:
                    problems += exc.problems
                if comp.reuse is not None:
                    problems += _reuse(ws, comp.reuse, (*base, "reuse"), path)
        if isinstance(comp, ConfigTemplate | CommandTemplate | Parser):
            tests: list[RenderTest | ParserTest] = list(comp.tests)
            for t, test in enumerate(tests):
                for key, rel in _fixture_refs(test):
                    problems += _existing(
                        ws,
                        (*base, "tests", t, key),
                        ws.design.directory,
                        rel,
                        "fixture path",
                        f"fixture file not found: {rel} (relative to the design)",
                    )[1]
    return problems


def _fixture_refs(test: RenderTest | ParserTest) -> list[tuple[str, str]]:
    """The (key, path) pairs of the fixture files an offline test reads."""
    if isinstance(test, ParserTest):
        return [("input", test.input), ("expect", test.expect)]
    refs = [("expect", test.expect)]
    if test.host_vars is not None:
        refs.append(("host_vars", test.host_vars))
    return refs


def _requirement_coverage(ws: Workspace) -> list[Problem]:
    problems: list[Problem] = []
    model = ws.design.model
    spec_ids = set(ws.spec.ids())
    covered: set[str] = set()
    verified: set[str] = set()
    seen_checks: dict[str, str] = {}
    for index, comp in enumerate(model.components):
        if not isinstance(comp, CommandTemplate):
            continue
        if comp.acceptance:
            verified |= ws.graph.dependencies(comp.id)
        for c, check in enumerate(comp.acceptance):
            where = ("components", index, "acceptance", c)
            if check.id in seen_checks:
                problems.append(
                    ws.design.problem(
                        (*where, "id"),
                        f"duplicate acceptance check id '{check.id}' "
                        f"(also in component '{seen_checks[check.id]}')",
                    )
                )
            seen_checks[check.id] = comp.id
            line = ws.design.yaml.locate((*where, "expect", "query"))[0]
            try:
                validate_check(check, origin=ws.design.display, line=line)
            except SddBuildError as exc:
                problems += exc.problems
            if check.command >= len(comp.commands):
                problems.append(
                    ws.design.problem(
                        (*where, "command"),
                        f"check '{check.id}' reads command #{check.command}, but "
                        f"'{comp.id}' has {len(comp.commands)} command(s)",
                    )
                )
            for r, req in enumerate(check.covers):
                if req not in spec_ids:
                    problems.append(
                        ws.design.problem(
                            (*where, "covers", r),
                            f"check '{check.id}' covers {req}, which is not a "
                            f"requirement of {ws.spec.file}",
                        )
                    )
                covered.add(req)
    for requirement in ws.spec.requirements:
        if requirement.id not in covered:
            problems.append(
                Problem(
                    f"{requirement.id} is not covered by any acceptance check; add a check "
                    f"with 'covers: [{requirement.id}]' to the design",
                    ws.spec.file,
                    requirement.line,
                )
            )
    for index, comp in enumerate(model.components):
        if (
            isinstance(comp, ConfigTemplate)
            and comp.id not in verified
            and not comp.acceptance_exempt
        ):
            problems.append(
                ws.design.problem(
                    ("components", index, "id"),
                    f"'{comp.id}' changes devices but no command_template with acceptance checks "
                    "depends on it; add a verifying check or a reasoned 'acceptance_exempt'",
                )
            )
    return problems


def _expected_values(ws: Workspace) -> list[Problem]:
    """Templated expected values render for every host the check runs on."""
    problems: list[Problem] = []
    for index, comp in enumerate(ws.design.model.components):
        if not isinstance(comp, CommandTemplate):
            continue
        for c, check in enumerate(comp.acceptance):
            expected = check.expect.expected
            if not (isinstance(expected, str) and "{{" in expected):
                continue
            line = ws.design.yaml.locate(("components", index, "acceptance", c, "expect"))[0]
            for host in ws.component_hosts.get(comp.id, []):
                try:
                    ws.templates.render_string(
                        expected,
                        render_context(ws, host, comp.vars),
                        host=host,
                        origin=ws.design.display,
                        origin_line=line,
                    )
                except SddBuildError as exc:
                    problems += exc.problems
                    break
    return problems


def _driver_options(ws: Workspace) -> list[Problem]:
    """What a target host's NAPALM driver would refuse in its ``optional_args`` (a misspelt
    ``ssh_client``, say), found here, before any device is contacted, instead of at connect
    time on every host. Located at the host's entry in ``hosts.yaml`` (at the key itself when
    the host sets it; defaults and groups are merged in first, as Nornir merges them)."""
    problems: list[Problem] = []
    inventory = ws.inventory
    hosts_file = inventory.files.get("hosts.yaml")
    for name in ws.all_hosts:
        host = inventory.inventory.hosts.get(name)
        row = lookup(host.platform) if host is not None else None
        if host is None or row is None or row.check_options is None or row.connection != "napalm":
            continue
        extras = host.get_connection_parameters("napalm").extras or {}
        optional = extras.get("optional_args") or {}
        where: tuple[str, ...] = (name, "connection_options", "napalm", "extras", "optional_args")
        if not isinstance(optional, Mapping):
            found = [("", "optional_args must be a mapping of option names to values")]
        else:
            found = row.check_options(optional)
        for key, message in found:
            text = f"host {name}: {message}"
            path = (*where, key) if key else where
            problems.append(
                hosts_file.problem(path, text)
                if hosts_file is not None
                else Problem(text, inventory.display)
            )
    return problems


def _check_inputs(ws: Workspace) -> list[Problem]:
    """Each check reads a command that exists; a structured query reads parsed output (the
    parser applies to command 0 only: any other output, or one with no parser, is raw text,
    on which JMESPath other than '@' finds null on the device)."""
    problems: list[Problem] = []
    for index, comp in enumerate(ws.design.model.components):
        if not isinstance(comp, CommandTemplate):
            continue
        for c, check in enumerate(comp.acceptance):
            where = ("components", index, "acceptance", c)
            if check.command >= len(comp.commands):
                problems.append(
                    ws.design.problem(
                        (*where, "command"),
                        f"check '{check.id}' reads command {check.command}, but '{comp.id}' has "
                        f"{len(comp.commands)} command(s) (numbered from 0)",
                    )
                )
            elif (check.command != 0 or comp.parser is None) and check.expect.query != "@":
                why = (
                    f"'{comp.id}' has no parser"
                    if comp.parser is None
                    else f"the parser '{comp.parser}' applies to command 0 only"
                )
                problems.append(
                    ws.design.problem(
                        (*where, "expect", "query"),
                        f"check '{check.id}' queries '{check.expect.query}' on the raw text of "
                        f"command {check.command} ({why}): query '@' with matches/contains, or "
                        "move the command into a command_template of its own with a parser",
                    )
                )
    return problems
