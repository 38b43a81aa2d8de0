"""``report.html``: one self-contained page (inline CSS, JS and SVG; no URL to anywhere).

Rendered with a Jinja2 template shipped in the package, autoescaped; a Content-Security-Policy
of ``default-src 'none'`` keeps the page from fetching anything even if a value slipped through.
Every ``://`` in shown text becomes ``:&#47;&#47;`` so no URL appears in the file at all.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup, escape

from sdd_build.report.graph import COLOURS, LEGEND, layout
from sdd_build.report.view import OUTCOMES, STATUS_ORDER, ReportView, text

__all__ = ["render_html"]


def _t(value: Any) -> Markup:
    """Escaped display text; ``://`` defused so the file names no URL."""
    return Markup(str(escape(text(value))).replace("://", ":&#47;&#47;"))


def _bytecode_cache() -> BytecodeCache | None:
    """Jinja2's compiled templates kept between runs (compiling the page's templates costs
    ~0.1 s a build): its per-user cache folder, which Jinja2 makes mode 0700 and refuses when
    another user owns it or can write to it (then no cache: the templates are compiled)."""
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("sdd_build.report", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["t"] = _t
    return env


def render_html(view: ReportView) -> str:
    rec = view.record
    rows = []
    for index, layer in enumerate(view.layers):
        for node in layer:
            comp = view.by_id.get(node)
            for host, hrec in sorted(comp.hosts.items()) if comp else []:
                passed = sum(1 for c in hrec.checks if c.get("passed") is True)
                rows.append(
                    {
                        "layer": index,
                        "component": node,
                        "kind": view.kind(node),
                        "host": host,
                        "rec": hrec,
                        "checks": f"{passed}/{len(hrec.checks)}" if hrec.checks else "",
                        "evidence": view.evidence(hrec.evidence),
                    }
                )
    graph = layout(view)
    checks = view.outcome_counts("check")
    dev_classes = sorted(Counter(d.class_ for d in rec.deviations).items())
    context = {
        "rec": rec,
        "view": view,
        "rows": rows,
        "graph": graph,
        "colours": COLOURS,
        "legend": LEGEND,
        "statuses": STATUS_ORDER,
        "outcomes": OUTCOMES,
        "checks": checks,
        "checks_total": sum(checks.values()),
        "dev_classes": dev_classes,
        "deviations": [(d, view.evidence(d.evidence)) for d in rec.deviations],
        "trace": view.trace(),
        "result_words": {
            "as_designed": "As designed",
            "with_deviations": "With deviations",
            "failed": "Failed",
            "checked": "Checked (dry run, nothing changed)",
        },
    }
    return _env().get_template("report.html.j2").render(context)
