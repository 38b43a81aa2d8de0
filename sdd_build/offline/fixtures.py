"""Making fixtures: golden renders from the current templates, and recorded device outputs.

``golden_updates`` renders every render test of a design exactly as the offline layer does
(so an updated fixture passes ``validate`` byte for byte: no padding, no trailing spaces
added). ``recorded_fixtures`` turns outputs read from a lab into files: the raw output of
each command, the parsed data of command 0 (the parser's expectation) — and the design lines
that would use them, which the engineer pastes: the design file is theirs, never rewritten.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdd_build.checks import evaluate
from sdd_build.design.models import CommandTemplate, ConfigTemplate
from sdd_build.errors import DesignError, SddBuildError
from sdd_build.offline.check_tests import parse_outputs
from sdd_build.offline.runner import render_test
from sdd_build.workspace import Workspace, render_context

__all__ = ["FixtureFile", "golden_updates", "recorded_fixtures"]


@dataclass(frozen=True)
class FixtureFile:
    path: Path
    display: str
    text: str
    old: str | None  # None: a new file

    def diff(self) -> str:
        old = (self.old or "").splitlines(keepends=True)
        new = self.text.splitlines(keepends=True)
        lines = difflib.unified_diff(
            old, new, fromfile=self.display if self.old is not None else "/dev/null",
            tofile=self.display,
        )  # fmt: skip
        return "".join(x if x.endswith("\n") else x + "\n" for x in lines)


def _target(ws: Workspace, rel: str) -> tuple[Path, str]:
    path = ws.design.repo.confine(ws.design.directory, rel)
    if path is None:
        raise DesignError(f"fixture path '{rel}' escapes the repository", file=ws.design.display)
    return path, ws.design.repo.display(path)


def _old(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return ""


def golden_updates(ws: Workspace) -> list[FixtureFile]:
    """The golden files whose content differs from the current render (new ones included)."""
    changed: list[FixtureFile] = []
    for comp in ws.design.model.components:
        if not isinstance(comp, ConfigTemplate | CommandTemplate):
            continue
        for test in comp.tests:
            text = render_test(ws, comp, test)
            path, display = _target(ws, test.expect)
            old = _old(path)
            if old != text:
                changed.append(FixtureFile(path, display, text, old))
    return changed


def recorded_fixtures(
    ws: Workspace, outputs: dict[str, dict[str, list[str] | str]]
) -> tuple[list[FixtureFile], str, list[str]]:
    """Files for outputs read from a lab (``fixtures/<component>/<host>.<n>.txt`` raw,
    ``….0.parsed.json`` parsed), the YAML to paste into the design to use them, and notes
    (an output its parser refuses: kept raw, no expectation)."""
    files: list[FixtureFile] = []
    by_id = {c.id: c for c in ws.design.model.components}
    parser_tests: dict[str, list[str]] = {}
    check_tests: dict[str, list[str]] = {}
    notes: list[str] = []
    for host, comps in outputs.items():
        for cid, raws in comps.items():
            comp = by_id.get(cid)
            if not isinstance(comp, CommandTemplate) or isinstance(raws, str):
                continue
            rels = [f"fixtures/{cid}/{host}.{i}.txt" for i in range(len(raws))]
            for rel, raw in zip(rels, raws, strict=True):
                path, display = _target(ws, rel)
                files.append(FixtureFile(path, display, raw, _old(path)))
            try:
                data = parse_outputs(ws, comp, list(raws), origin=f"{host}: {comp.commands[0]}")
            except SddBuildError as exc:
                # the raw output is still worth keeping (a check test that must fail on it)
                first = str(exc).splitlines()[0]
                notes.append(f"{rels[0]}: the parser '{comp.parser}' refuses it: {first}")
                continue
            if comp.parser is not None:
                rel = f"fixtures/{cid}/{host}.0.parsed.json"
                path, display = _target(ws, rel)
                text = json.dumps(data[0], indent=2, sort_keys=True) + "\n"
                files.append(FixtureFile(path, display, text, _old(path)))
                parser_tests.setdefault(comp.parser, []).append(
                    f"      - {{input: {rels[0]}, expect: {rel}}}"
                )
            outcome = _outcomes(ws, comp, host, data)
            if outcome:
                check_tests.setdefault(cid, []).append(
                    f"      - host: {host}\n        outputs: [{', '.join(rels)}]\n"
                    f"        expect: {{{outcome}}}"
                )
    snippet = [f"  # component '{p}' (parser)\n    tests:\n" + "\n".join(t)
               for p, t in parser_tests.items()]  # fmt: skip
    snippet += [f"  # component '{c}' (as recorded now: edit pass/fail to what you expect)\n"
                f"    check_tests:\n" + "\n".join(t) for c, t in check_tests.items()]  # fmt: skip
    return files, "\n".join(snippet), notes


def _outcomes(ws: Workspace, comp: CommandTemplate, host: str, data: list[Any]) -> str:
    ctx = render_context(ws, host, comp.vars)
    parts = []
    for check in comp.acceptance:
        res = evaluate(
            check,
            data[min(check.command, len(data) - 1)],
            host=host,
            render_expected=lambda v: ws.templates.render_string(
                str(v), ctx, host=host, origin=ws.design.display
            ),
        )
        parts.append(f"{check.id}: {'pass' if res.passed else 'fail'}")
    return ", ".join(parts)
