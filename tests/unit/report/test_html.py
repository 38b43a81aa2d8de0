"""report.html: self-contained, escaped, and — in headless Chromium — rendered, scripted,
silent on the console and off the network.

The browser is driven over the DevTools protocol on a pipe (``browser.py``): every console
message, uncaught exception and request of the page is an event we collect, so "no console
error" and "no network request" are assertions on events, not on grepped logs. Chromium also
runs with ``--host-resolver-rules="MAP * ~NOTFOUND"``, and its own stderr log is checked for
failed requests. Screenshots go to ``$SDD_REPORT_SCREENSHOTS`` when set (CI artifacts).
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sdd_build.execute.results import AsBuilt
from sdd_build.report import render, write_format
from tests.unit.report import browser
from tests.unit.report.conftest import fixture_record, rich_record

READY = "document.body && document.body.getAttribute('data-ready') === '1'"


def html_of(record: dict[str, Any], build_dir: Path | None = None) -> str:
    return render(AsBuilt.model_validate(record), "html", build_dir)


class _Refs(HTMLParser):
    """Every attribute that could make a browser fetch or navigate."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "src", "srcset", "action", "xlink:href", "data", "poster"):
                self.refs.append((tag, name, value or ""))


def refs_of(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("name", ["as_designed", "failed"])
def test_self_contained(name: str) -> None:
    html = html_of(fixture_record(name))
    assert "http://" not in html
    assert "https://" not in html
    parsed = refs_of(html)
    assert "link" not in parsed.tags
    assert "img" not in parsed.tags
    assert "iframe" not in parsed.tags
    for tag, attr, value in parsed.refs:
        assert (tag, attr) == ("a", "href"), value
        assert value.startswith(("evidence/", "#")), value
    assert "<script src" not in html
    assert "default-src 'none'" in html  # the CSP forbids every fetch, should anything slip
    assert "<svg" in html
    assert "xmlns" not in html


def test_hostile_values_are_escaped() -> None:
    html = html_of(rich_record())
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>twice</b>" not in html
    assert "&lt;b&gt;twice&lt;/b&gt;" in html
    # a URL in a reason is shown, but is no URL in the file
    assert "https://example.invalid" not in html
    assert "https:&#47;&#47;example.invalid/kb" in html


def test_evidence_links(rich_build: Path) -> None:
    html = html_of(rich_record(), rich_build)
    hrefs = [v for t, a, v in refs_of(html).refs if a == "href" and not v.startswith("#")]
    assert hrefs
    assert all(h.startswith("evidence/") for h in hrefs)
    assert "evidence/r2/ospf-process.rendered.cfg" in hrefs
    assert not any("private" in h or ".." in h or "link-to-private" in h for h in hrefs)


def test_graph_is_inline_svg() -> None:
    html = html_of(fixture_record("failed"))
    assert html.count('<g class="node"') == 9
    assert html.count('<path class="edge"') == 12
    assert (
        '<g class="node" tabindex="0" data-component="ospf-process" data-status="failed">' in html
    )


# -- in the browser ----------------------------------------------------------------------------


def _shots(tmp_path: Path) -> Path:
    out = os.environ.get("SDD_REPORT_SCREENSHOTS")
    path = Path(out) if out else tmp_path / "shots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _assert_quiet(b: browser.Browser, page: Path) -> None:
    b.sleep(0.3)  # late errors (timers) count too
    assert b.console_errors() == []
    assert b.requests() == [page.as_uri()], "the page asked for something besides itself"
    assert b.failed_requests() == []
    log = b.log()
    assert "net::ERR_" not in log
    assert "ERR_NAME_NOT_RESOLVED" not in log
    assert not re.search(r"CONSOLE\(\d+\)|Uncaught ", log), log[-2000:]


@pytest.mark.parametrize(
    ("fixture", "verdict", "deviations"),
    [("designed_build", "As designed", 0), ("failed_build", "Failed", 21)],
)
def test_renders_in_chromium(
    page: browser.Browser,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fixture: str,
    verdict: str,
    deviations: int,
) -> None:
    bdir: Path = request.getfixturevalue(fixture)
    html = write_format(bdir, "html")
    b = page
    b.open(html.as_uri(), ready=READY)
    assert b.eval("document.getElementById('result').textContent.trim()") == verdict
    text = b.eval("document.body.innerText")
    for n in range(1, deviations + 1):
        assert f"DEV-{n:03d}" in text
    if not deviations:
        assert "None: built as designed." in text
    # the SVG graph laid out: 9 boxes with a size, 12 edges
    boxes = b.eval(
        "Array.from(document.querySelectorAll('svg .node rect'))"
        ".map(r => [r.getBBox().width, r.getBBox().height])"
    )
    assert len(boxes) == 9
    assert all(w > 100 and h > 30 for w, h in boxes)
    assert b.eval("document.querySelectorAll('svg path.edge').length") == 12
    assert b.eval("getComputedStyle(document.getElementById('result')).display") != "none"
    shot = b.screenshot(_shots(tmp_path) / f"report-{bdir.name}.png")
    _assert_quiet(b, html)
    assert shot.stat().st_size > 20_000  # a page, not a blank


def test_tables_filter_in_chromium(page: browser.Browser, failed_build: Path) -> None:
    html = write_format(failed_build, "html")
    b = page

    def visible(table: str) -> int:
        return int(
            b.eval(
                f"Array.from(document.querySelectorAll('#{table} tbody tr'))"
                ".filter(r => r.offsetParent !== null).length"
            )
        )

    def set_filter(table: str, text: str | None = None, status: str | None = None) -> None:
        js = f"{{ const bar = document.querySelector('.filter[data-for=\"{table}\"]');"
        if text is not None:
            js += (
                f"bar.querySelector('input').value = {text!r};"
                "bar.querySelector('input').dispatchEvent(new Event('input'));"
            )
        if status is not None:
            js += (
                f"bar.querySelector('select').value = {status!r};"
                "bar.querySelector('select').dispatchEvent(new Event('change'));"
            )
        b.eval(js + " } true")

    b.open(html.as_uri(), ready=READY)
    assert visible("comp-table") == 21
    assert visible("dev-table") == 21
    set_filter("comp-table", status="failed")
    assert visible("comp-table") == 3
    set_filter("comp-table", text="r2")
    assert visible("comp-table") == 1
    assert "1 of 21 rows" in b.eval(
        "document.querySelector('.filter[data-for=\"comp-table\"] .shown').textContent"
    )
    set_filter("comp-table", text="", status="")
    assert visible("comp-table") == 21
    set_filter("dev-table", status="apply_failed")
    assert visible("dev-table") == 3
    set_filter("dev-table", text="DEV-005", status="")
    assert visible("dev-table") == 1
    set_filter("trace-table", status="blocked")
    assert visible("trace-table") == 9
    set_filter("trace-table", status="passed")
    assert visible("trace-table") == 0
    # a click on a box of the graph filters the components table to that component
    b.eval(
        "document.querySelector('svg .node[data-component=\"ospf-process\"]')"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true})); true"
    )
    assert visible("comp-table") == 3
    set_filter("comp-table", text="host:r1 component:ospf-config")
    assert visible("comp-table") == 1
    _assert_quiet(b, html)
