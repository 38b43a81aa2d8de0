"""Offline check tests: a command_template's acceptance checks run on recorded outputs.

Each ``check_tests`` entry names a host, the raw output of every command (fixtures, as
``sdd-build fixtures record`` writes them) and the outcome (``pass`` / ``fail``) each named
check must have. The outputs are parsed as on the device (the component's parser on command 0,
the others stay raw text) and every check is evaluated with the host's data, so a wrong query
is found before the device. A check whose query finds null on every fixture it has is a
warning: the path is most likely not what the device returns.
"""

from __future__ import annotations

from typing import Any

from sdd_build.checks import evaluate
from sdd_build.design.models import CheckTest, CommandTemplate, Parser
from sdd_build.errors import Problem, SddBuildError
from sdd_build.offline.runner import OfflineResult, fixture_path, fixture_text, parser_template_path
from sdd_build.parse import parse
from sdd_build.workspace import Workspace, render_context

__all__ = ["parse_outputs", "run_check_tests"]


def parse_outputs(ws: Workspace, comp: CommandTemplate, raws: list[str], origin: str) -> list[Any]:
    """The data each check of ``comp`` sees: command 0 through the parser, the others raw."""
    parser = next(
        (c for c in ws.design.model.components if c.id == comp.parser and isinstance(c, Parser)),
        None,
    )
    data: list[Any] = list(raws)
    if parser is not None and raws:
        data[0] = parse(
            parser.engine,
            raws[0],
            template=parser_template_path(ws, parser),
            platform=parser.platform,
            command=parser.command,
            origin=origin,
            source=ws.design.repo.source,
        )
    return data


def run_check_tests(ws: Workspace) -> tuple[list[OfflineResult], list[Problem], list[Problem]]:
    """Run every ``check_tests`` entry: results, problems (exit 2), warnings (null queries)."""
    results: list[OfflineResult] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for index, comp in enumerate(ws.design.model.components):
        if not isinstance(comp, CommandTemplate) or not comp.check_tests:
            continue
        found: dict[str, list[Any]] = {c.id: [] for c in comp.acceptance}
        for t, test in enumerate(comp.check_tests):
            where = ("components", index, "check_tests", t)
            label = f"{comp.id} check test {t} ({test.host})"
            failed = _problems_of(ws, comp, test, where)
            if failed:
                problems += failed
                results.append(OfflineResult(comp.id, t, "check", False, test.outputs[0]))
                continue
            try:
                raws = [fixture_text(ws, fixture_path(ws, rel)) for rel in test.outputs]
                data = parse_outputs(ws, comp, raws, origin=test.outputs[0])
                ctx = render_context(ws, test.host, comp.vars)

                def render(value: Any, host: str = test.host, ctx: Any = ctx) -> Any:
                    return ws.templates.render_string(
                        str(value), ctx, host=host, origin=ws.design.display
                    )

                outcomes = {}
                for check in comp.acceptance:
                    res = evaluate(
                        check, data[check.command], host=test.host, render_expected=render
                    )
                    found[check.id].append(res.found)
                    outcomes[check.id] = ("pass" if res.passed else "fail", res.reason)
            except FileNotFoundError as exc:
                problems.append(ws.design.problem(where, f"fixture file not found: {exc}"))
                continue
            except SddBuildError as exc:
                problems += exc.problems
                results.append(OfflineResult(comp.id, t, "check", False, test.outputs[0], str(exc)))
                continue
            wrong = [
                f"{cid} was expected to {want} but did {'pass' if got == 'pass' else 'fail'}: "
                f"{outcomes[cid][1]}"
                for cid, want in test.expect.items()
                if (got := outcomes[cid][0]) != want
            ]
            results.append(
                OfflineResult(comp.id, t, "check", not wrong, test.outputs[0], "; ".join(wrong))
            )
            problems += [ws.design.problem((*where, "expect"), f"{label}: {w}") for w in wrong]
        for c, check in enumerate(comp.acceptance):
            values = found[check.id]
            if values and all(v is None for v in values):
                warnings.append(
                    ws.design.problem(
                        ("components", index, "acceptance", c, "expect", "query"),
                        f"check '{check.id}': query '{check.expect.query}' finds null on every "
                        f"recorded output ({len(values)}); is the path what the device returns?",
                    )
                )
    return results, problems, warnings


def _problems_of(
    ws: Workspace, comp: CommandTemplate, test: CheckTest, where: tuple[str | int, ...]
) -> list[Problem]:
    """What makes a check test unrunnable: an unknown host or check, outputs miscounted."""
    out = []
    if test.host not in ws.inventory.inventory.hosts:
        out.append(
            ws.design.problem((*where, "host"), f"host '{test.host}' is not in the inventory")
        )
    if len(test.outputs) != len(comp.commands):
        out.append(
            ws.design.problem(
                (*where, "outputs"),
                f"{len(test.outputs)} output(s) for {len(comp.commands)} command(s): one "
                "recorded output per command, in order",
            )
        )
    known = {c.id for c in comp.acceptance}
    for cid in test.expect:
        if cid not in known:
            out.append(
                ws.design.problem((*where, "expect"), f"'{cid}' is not a check of '{comp.id}'")
            )
    return out
