"""``as-built.md``: the auditor's reading of a build record.

Summary, approvals and their hashes, the design graph coloured by outcome (Mermaid), the
components per host, the deviations with links to their evidence, and the traceability matrix
requirement → acceptance check → result per host → evidence.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from sdd_build.report.graph import mermaid
from sdd_build.report.view import (
    STATUS_ORDER,
    Case,
    EvidenceRef,
    ReportView,
    text,
)

__all__ = ["render_markdown"]

_RESULT_WORDS = {
    "as_designed": "AS DESIGNED",
    "with_deviations": "WITH DEVIATIONS",
    "failed": "FAILED",
    "checked": "CHECKED (dry run, nothing changed)",
}


def cell(value: Any) -> str:
    """Inline text safe in a table cell: no markup, no pipes, no line breaks."""
    out = text(value)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = out.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    out = re.sub(r"([*\[\]])", r"\\\1", out)
    return " ".join(out.split())


def code(value: Any) -> str:
    """Inline code (hashes, ids): backticks only when the value has none of its own."""
    out = " ".join(text(value).split()).replace("|", "\\|")
    if not out:
        return "-"
    return f"`{out}`" if "`" not in out else cell(value)


def link(ref: EvidenceRef) -> str:
    target = quote(ref.path, safe="/._-@")
    label = cell(ref.label)
    missing = " (missing)" if ref.exists is False else ""
    return f"[{label}]({target}){missing}"


def links(refs: tuple[EvidenceRef, ...]) -> str:
    return ", ".join(link(r) for r in refs) or "-"


def fence(body: str, lang: str = "text") -> list[str]:
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return [f"{ticks}{lang}", body.rstrip("\n"), ticks]


def _summary(view: ReportView) -> list[str]:
    rec = view.record
    m = rec.metrics
    checks = view.outcome_counts("check")
    dev_counts = view.deviation_counts()
    devs = ", ".join(f"{cls} {n}" for cls, n in sorted(dev_counts.items())) or "none"
    check_line = f"{checks.get('passed', 0)}/{sum(checks.values())} passed" + "".join(
        f", {checks[o]} {o}"
        for o in ("failed", "error", "waived", "blocked", "skipped")
        if checks.get(o)
    )
    ttv = "-" if m.time_to_value_s is None else f"{m.time_to_value_s:.3f} s"
    return [
        "| | |",
        "|---|---|",
        f"| Result | **{_RESULT_WORDS.get(rec.result, cell(rec.result))}** (`{rec.result}`) |",
        f"| Build | {code(rec.build_id)}, mode `{rec.mode}` |",
        f"| Design | {code(rec.design.get('id'))} version {cell(rec.design.get('version'))}"
        f" — {code(rec.design.get('path'))} |",
        f"| Design sha256 | {code(rec.design.get('sha256'))} |",
        f"| Spec | {code(rec.spec.get('path'))} |",
        f"| Spec sha256 | {code(rec.spec.get('sha256'))} |",
        f"| Started | {cell(rec.started)} |",
        f"| Finished | {cell(rec.finished) or '-'} |",
        f"| Hosts | {', '.join(cell(h) for h in view.hosts) or '-'} |",
        f"| Acceptance | {check_line} |",
        f"| Deviations | {len(rec.deviations)} ({devs}) |",
        "",
        "### Metrics",
        "",
        "| metric | value |",
        "|---|---|",
        f"| deviation rate | {m.deviation_rate:g} |",
        f"| reuse rate | {m.reuse_rate:.0%} |",
        f"| reconciliation (components with evidence) | {m.reconciliation:.0%} |",
        f"| time to value (spec approval → build end) | {ttv} |",
        f"| governance time | {m.governance_s:.3f} s |",
        f"| device time (summed over hosts) | {m.device_s:.3f} s |",
        f"| wall time | {m.wall_s:.3f} s |",
    ]


def _approvals(view: ReportView) -> list[str]:
    approvals = view.record.approvals
    if not approvals:
        return ["No approval is recorded for this build (an ungoverned or check run)."]
    lines = [
        "| gate | approver | approved at | artifact | artifact sha256 | signature"
        " | approval record | record sha256 | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for a in approvals:
        sig = f"signed, {code(a.get('fingerprint'))}" if a.get("signed") else "unsigned"
        lines.append(
            f"| {cell(a.get('gate'))} | {cell(a.get('approver'))} | {cell(a.get('approved_at'))}"
            f" | {code(a.get('artifact'))} | {code(a.get('sha256'))} | {sig}"
            f" | {code(a.get('record'))} | {code(a.get('record_sha256'))}"
            f" | {cell(a.get('note')) or '-'} |"
        )
    agent = view.record.agent
    if agent:
        client = agent.get("client") or {}
        lines += [
            "",
            f"Built by agent {code(agent.get('name'))} through `sdd-build mcp` (client "
            f"{cell(client.get('name')) or '?'} {cell(client.get('version')) or ''}), under the "
            "approvals above.",
        ]
    return lines


def _graph(view: ReportView) -> list[str]:
    return [
        *fence(mermaid(view), "mermaid"),
        "",
        "Colour = the worst status of the component on any host "
        f"({' > '.join(STATUS_ORDER)}); white = runs on no device (parsers).",
    ]


def _components(view: ReportView) -> list[str]:
    hosts = view.hosts
    lines = [
        "| layer | component | kind | reuse | outcome | "
        + " | ".join(cell(h) for h in hosts)
        + (" |" if hosts else ""),
        "|---|---|---|---|---|" + "---|" * len(hosts),
    ]
    for index, layer in enumerate(view.layers):
        for node in layer:
            comp = view.by_id.get(node)
            cells = []
            for h in hosts:
                rec = comp.hosts.get(h) if comp else None
                cells.append(rec.status if rec else "-")
            reuse = "yes" if comp is not None and comp.reuse else "no"
            lines.append(
                f"| {index} | {code(node)} | {cell(view.kind(node))} | {reuse}"
                f" | {view.status.get(node, '-')} | " + " | ".join(cells) + (" |" if hosts else "")
            )
    return lines


def _hosts(view: ReportView) -> list[str]:
    rec = view.record
    lines = [
        "| host | reachable | " + " | ".join(STATUS_ORDER) + " | stopped |",
        "|---|---|" + "---|" * len(STATUS_ORDER) + "---|",
    ]
    for h in view.hosts:
        info = rec.hosts.get(h, {})
        counts = view.status_counts(h)
        reachable = info.get("reachable")
        lines.append(
            f"| {cell(h)} | {'-' if reachable is None else ('yes' if reachable else 'no')} | "
            + " | ".join(str(counts.get(s, 0)) for s in STATUS_ORDER)
            + f" | {cell(info.get('stopped')) or '-'} |"
        )
    for h in view.hosts:
        lines += [
            "",
            f"### Host {cell(h)}",
            "",
            "| layer | component | status | changed | checks | time (s) | reason | evidence |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for index, layer in enumerate(view.layers):
            for node in layer:
                comp = view.by_id.get(node)
                hrec = comp.hosts.get(h) if comp else None
                if hrec is None:
                    continue
                passed = sum(1 for c in hrec.checks if c.get("passed") is True)
                checks = f"{passed}/{len(hrec.checks)}" if hrec.checks else "-"
                lines.append(
                    f"| {index} | {code(node)} | {hrec.status} | {'yes' if hrec.changed else 'no'}"
                    f" | {checks} | {hrec.duration_s:.3f} | {cell(hrec.reason) or '-'}"
                    f" | {links(view.evidence(hrec.evidence))} |"
                )
    return lines


def _deviations(view: ReportView) -> list[str]:
    devs = view.record.deviations
    if not devs:
        return ["None: built as designed."]
    lines = [
        "| id | class | component | host | check / line | reason | evidence |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in devs:
        lines.append(
            f"| {code(d.id)} | `{d.class_}` | {code(d.component) if d.component else '-'}"
            f" | {cell(d.host) or '-'} | {code(d.subject) if d.subject else '-'}"
            f" | {cell(d.reason)} | {links(view.evidence(d.evidence))} |"
        )
    detailed = [d for d in devs if d.expected is not None or d.actual is not None]
    for d in detailed:
        lines += [
            "",
            f"#### {cell(d.id)}: {d.class_}, {cell(d.component) or '-'} on {cell(d.host) or '-'}",
            "",
            cell(d.reason),
        ]
        for name, value in (("expected", d.expected), ("actual", d.actual)):
            lines += ["", f"{name}:", "", *fence(text(value) or "(nothing)")]
        if d.evidence:
            lines += ["", f"evidence: {links(view.evidence(d.evidence))}"]
    return lines


def _case_cell(case: Case) -> str:
    if case.outcome == "passed" or not case.message:
        return case.outcome
    if case.message.startswith(case.outcome):
        return cell(case.message)
    return f"{case.outcome}: {cell(case.message)}"


def _trace(view: ReportView) -> list[str]:
    rows = view.trace()
    if not rows:
        return ["The record carries no requirement and no acceptance check."]
    lines = [
        "| requirement | acceptance check | component | host | result | evidence |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.requirement is not None:
            req = f"{code(row.requirement.get('id'))} {cell(row.requirement.get('text'))}" + (
                f" (spec line {row.requirement['line']})" if row.requirement.get("line") else ""
            )
        else:
            req = "(covers no requirement)"
        if row.acceptance is None:
            lines.append(f"| {req} | **no acceptance check** | - | - | uncovered | - |")
            continue
        acc = row.acceptance
        desc = cell(acc.get("description"))
        check = code(acc.get("id")) + (f" {desc}" if desc else "")
        if not row.cases:
            lines.append(f"| {req} | {check} | {code(acc.get('component'))} | - | no result | - |")
            continue
        short_req = code(row.requirement.get("id")) if row.requirement is not None else req
        for n, case in enumerate(row.cases):
            first = n == 0
            lines.append(
                f"| {req if first else short_req} | {check if first else code(acc.get('id'))}"
                f" | {code(case.component)} | {cell(case.host)} | {_case_cell(case)}"
                f" | {links(case.evidence)} |"
            )
    return lines


def _attention(view: ReportView) -> list[str]:
    """Hosts left changed (``rollback_failed``), first: a CAUTION alert (red where Markdown
    renders alerts), each line left with its stanza path, and the repair command."""
    out: list[str] = []
    for item in view.record.attention:
        out += ["", "> [!CAUTION]", f"> **ROLLBACK FAILED — {cell(item.get('message'))}**"]
        rows = [("left on the device", r) for r in item.get("left", [])]
        rows += [("missing from the device", r) for r in item.get("missing", [])]
        out += [f"> - {where}: {code(row)}" for where, row in rows]
        out.append(f"> - repair: {code(item.get('repair'))}")
    return out


def render_markdown(view: ReportView) -> str:
    rec = view.record
    title = (
        f"# As-built record {cell(rec.build_id)}: {cell(rec.design.get('id'))}"
        f" v{cell(rec.design.get('version'))} — {_RESULT_WORDS.get(rec.result, rec.result)}"
    )
    sections: list[tuple[str, list[str]]] = [
        ("Summary", _summary(view)),
        ("Approvals", _approvals(view)),
        ("Design graph by outcome", _graph(view)),
        ("Components", _components(view)),
        ("Hosts", _hosts(view)),
        ("Deviations", _deviations(view)),
        ("Traceability: requirement → acceptance check → result → evidence", _trace(view)),
    ]
    lines = [title, *_attention(view)]
    lines += [
        "",
        "Generated from `as-built.json`. The record is additive: the approved spec and design"
        " are referenced by their sha256 and never modified; evidence links point into"
        " `evidence/`.",
    ]
    for name, body in sections:
        lines += ["", f"## {name}", "", *body]
    return "\n".join(lines) + "\n"
