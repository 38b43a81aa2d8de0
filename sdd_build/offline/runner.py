"""The offline layer: golden renders and parser fixtures, run leaf-first, no device.

A mismatch is a located problem (the design line of the test) with a unified diff.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdd_build.design.models import CommandTemplate, ConfigTemplate, Parser, RenderTest
from sdd_build.design.yamlpos import YamlLoadError, load_yaml
from sdd_build.errors import OfflineTestError, Problem, SddBuildError
from sdd_build.limits import json_loads
from sdd_build.parse import parse
from sdd_build.workspace import Workspace, render_context

__all__ = [
    "OfflineResult",
    "fixture_path",
    "fixture_text",
    "parser_template_path",
    "render_test",
    "run_offline",
]

MAX_DIFF_LINES = 60


@dataclass(frozen=True)
class OfflineResult:
    component: str
    index: int
    kind: str  # "render" | "parse" | "check"
    passed: bool
    fixture: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "test": self.index,
            "kind": self.kind,
            "passed": self.passed,
            "fixture": self.fixture,
            "detail": self.detail,
        }


def _diff(expected: str, actual: str, exp_name: str) -> str:
    lines = list(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"{exp_name} (expected)",
            tofile="rendered (actual)",
        )
    )
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more diff lines\n"]
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines).rstrip("\n")


def parser_template_path(ws: Workspace, comp: Parser) -> Path | None:
    if comp.template is None:
        return None
    return ws.design.repo.confine(ws.design.repo.parsers, comp.template)


def fixture_path(ws: Workspace, rel: str) -> Path:
    path = ws.design.repo.confine(ws.design.directory, rel)
    if path is None or not ws.design.repo.is_file(path):
        raise FileNotFoundError(rel)
    return path


def fixture_text(ws: Workspace, path: Path) -> str:
    """A fixture's text through the repository's source (the approved snapshot in a build)."""
    display = ws.design.repo.display(path)
    raw = ws.design.repo.read_bytes(path)
    if b"\x00" in raw:
        raise OfflineTestError("binary file (contains NUL bytes), expected text", file=display)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OfflineTestError("not UTF-8 text; save the fixture as UTF-8", file=display) from None


def render_test(ws: Workspace, comp: ConfigTemplate | CommandTemplate, test: RenderTest) -> str:
    if test.host is not None:
        if test.host not in ws.inventory.inventory.hosts:
            raise OfflineTestError(f"render test host '{test.host}' is not in the inventory")
        host = test.host
        host_ctx = ws.inventory.view(host).context()
    else:
        assert test.host_vars is not None
        path = fixture_path(ws, test.host_vars)
        try:
            data = (
                load_yaml(
                    path, display=ws.design.repo.display(path), source=ws.design.repo.source
                ).data
                or {}
            )
        except YamlLoadError as exc:
            raise OfflineTestError.from_problems([exc.problem]) from None
        if not isinstance(data, dict):
            raise OfflineTestError("host_vars must be a YAML mapping", file=str(test.host_vars))
        host = str(data.get("name", Path(test.host_vars).stem))
        # A host_vars fixture is either the host's data or a full host view with 'data'.
        host_ctx = (
            {"name": host, "hostname": None, "platform": None, "groups": [], **data}
            if "data" in data
            else {"name": host, "hostname": None, "platform": None, "groups": [], "data": data}
        )
    ctx = render_context(ws, host, comp.vars, host_ctx)
    if isinstance(comp, ConfigTemplate):
        return ws.templates.render(comp.template, ctx, host=host)
    return "".join(
        ws.templates.render_string(c, ctx, host=host, origin=ws.design.display).strip() + "\n"
        for c in comp.commands
    )


def run_offline(ws: Workspace) -> tuple[list[OfflineResult], list[Problem]]:
    """Run every component's offline tests in build order (leaf-first)."""
    results: list[OfflineResult] = []
    problems: list[Problem] = []
    model = ws.design.model
    by_id = {c.id: c for c in model.components}
    index_of = {c.id: i for i, c in enumerate(model.components)}  # not list.index: O(n) __eq__
    for cid in ws.graph.order:
        comp = by_id[cid]
        index = index_of[cid]
        if isinstance(comp, ConfigTemplate | CommandTemplate):
            for t, test in enumerate(comp.tests):
                where = ("components", index, "tests", t)
                try:
                    actual = render_test(ws, comp, test)
                    expected = fixture_text(ws, fixture_path(ws, test.expect))
                except FileNotFoundError as exc:
                    problems.append(ws.design.problem(where, f"fixture file not found: {exc}"))
                    continue
                except SddBuildError as exc:
                    problems.extend(exc.problems)
                    results.append(OfflineResult(cid, t, "render", False, test.expect, str(exc)))
                    continue
                ok = actual == expected
                detail = "" if ok else _diff(expected, actual, test.expect)
                results.append(OfflineResult(cid, t, "render", ok, test.expect, detail))
                if not ok:
                    problems.append(
                        ws.design.problem(
                            where,
                            f"golden render of '{cid}' differs from {test.expect}:\n{detail}",
                        )
                    )
        elif isinstance(comp, Parser):
            template = parser_template_path(ws, comp)
            for t, ptest in enumerate(comp.tests):
                where = ("components", index, "tests", t)
                try:
                    raw_path = fixture_path(ws, ptest.input)
                    exp_path = fixture_path(ws, ptest.expect)
                except FileNotFoundError as exc:
                    problems.append(ws.design.problem(where, f"fixture file not found: {exc}"))
                    continue
                try:
                    got = parse(
                        comp.engine,
                        fixture_text(ws, raw_path),
                        template=template,
                        platform=comp.platform,
                        command=comp.command,
                        origin=ptest.input,
                        display_template=f"parsers/{comp.template}" if comp.template else None,
                        source=ws.design.repo.source,
                    )
                except SddBuildError as exc:
                    problems.extend(exc.problems)
                    results.append(OfflineResult(cid, t, "parse", False, ptest.input, str(exc)))
                    continue
                try:
                    want = json_loads(fixture_text(ws, exp_path))
                except SddBuildError as exc:
                    problems.extend(exc.problems)
                    continue
                except json.JSONDecodeError as exc:
                    problems.append(
                        Problem(
                            f"expected-output fixture is not JSON: {exc.msg}",
                            ws.design.repo.display(exp_path),
                            exc.lineno,
                            exc.colno,
                        )
                    )
                    continue
                ok = got == want
                detail = (
                    ""
                    if ok
                    else _diff(
                        json.dumps(want, indent=2, sort_keys=True) + "\n",
                        json.dumps(got, indent=2, sort_keys=True) + "\n",
                        ptest.expect,
                    )
                )
                results.append(OfflineResult(cid, t, "parse", ok, ptest.input, detail))
                if not ok:
                    problems.append(
                        ws.design.problem(
                            where,
                            f"parser '{cid}' output for {ptest.input} differs from "
                            f"{ptest.expect}:\n{detail}",
                        )
                    )
    return results, problems
