"""The checks a reader's browser makes, and proof that the harness would see a failure.

* ``as-built.md``'s Mermaid block rendered by the real Mermaid library (the npm package's
  ``dist/mermaid.min.js``, see ``assets.py``) in headless Chromium, as GitHub renders it:
  it must parse, draw a node per component and an edge per graph edge, and colour by outcome.
* A negative control for the harness: a page that logs an error, throws, and asks the
  network for something must show up in ``console_errors`` / ``requests`` /
  ``failed_requests`` — otherwise "no console error, no request" on report.html proves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from sdd_build.execute.results import AsBuilt
from sdd_build.report import render
from tests.unit.report import assets, browser
from tests.unit.report.conftest import fixture_record, rich_record
from tests.unit.report.test_markdown import hostile_record, mermaid_block

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>mermaid check</title></head>
<body><div id="out"></div><pre id="err"></pre>
<script src="mermaid.min.js"></script>
<script>
const src = __SOURCE__;
mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
mermaid.parse(src)
  .then(() => mermaid.render("graph", src))
  .then((r) => {
    document.getElementById("out").innerHTML = r.svg;
    document.body.setAttribute("data-done", "ok");
  })
  .catch((e) => {
    document.getElementById("err").textContent = String((e && e.message) || e);
    document.body.setAttribute("data-done", "error");
  });
</script></body></html>
"""


@pytest.fixture(scope="session")
def mermaid_js() -> Path:
    try:
        return assets.mermaid_js()
    except assets.AssetError as exc:
        reason = f"Mermaid library unavailable ({exc}); run `python -m tests.unit.report.assets`"
        if os.environ.get("SDD_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def render_mermaid(b: browser.Browser, mermaid_js: Path, src: str, where: Path) -> dict[str, Any]:
    where.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(mermaid_js, where / "mermaid.min.js")
    page = where / "page.html"
    page.write_text(PAGE.replace("__SOURCE__", json.dumps(src).replace("</", "<\\/")))
    b.open(page.as_uri(), ready="document.body.getAttribute('data-done')")
    result = {
        "done": b.eval("document.body.getAttribute('data-done')"),
        "error": b.eval("document.getElementById('err').textContent"),
        "nodes": b.eval(
            "Object.fromEntries(Array.from(document.querySelectorAll('#out svg g.node'))"
            ".map(n => [n.id.replace(/^graph-flowchart-|^flowchart-|-\\d+$/g, ''),"
            " n.getAttribute('class')]))"
        ),
        "edges": b.eval("document.querySelectorAll('#out svg path.flowchart-link').length"),
        "clusters": b.eval("document.querySelectorAll('#out svg g.cluster').length"),
        "console": b.console_errors(),
    }
    b.screenshot(where / "mermaid.png")
    return result


@pytest.mark.parametrize("name", ["as_designed", "failed", "rich", "hostile"])
def test_mermaid_block_renders(
    page: browser.Browser, mermaid_js: Path, tmp_path: Path, name: str
) -> None:
    makers = {"rich": rich_record, "hostile": hostile_record}
    record = makers[name]() if name in makers else fixture_record(name)
    src = mermaid_block(render(AsBuilt.model_validate(record), "md"))
    out = render_mermaid(page, mermaid_js, src, tmp_path / name)
    assert out["done"] == "ok", out["error"]
    assert out["console"] == []
    assert len(out["nodes"]) == len(record["components"])
    assert out["edges"] == len(record["edges"])
    assert out["clusters"] == len(record["layers"])
    classes = {k: v.split() for k, v in out["nodes"].items()}
    if name == "failed":
        assert "st_failed" in classes["n_ospf_process"]
        assert "st_blocked" in classes["n_underlay"]
        assert "st_built" in classes["n_ospf_interfaces"]


def test_mermaid_rejects_a_broken_block(
    page: browser.Browser, mermaid_js: Path, tmp_path: Path
) -> None:
    """The same page reports a syntax error: a passing render above means something."""
    out = render_mermaid(page, mermaid_js, 'flowchart BT\n  a["x" --> b\n', tmp_path)
    assert out["done"] == "error"
    assert out["error"]


def test_harness_sees_console_errors_and_requests(page: browser.Browser, tmp_path: Path) -> None:
    noisy = tmp_path / "noisy.html"
    noisy.write_text(
        "<!DOCTYPE html><html><body><p>noisy</p>"
        '<img src="https://example.invalid/pixel.png">'
        "<script>console.error('boom'); setTimeout(() => { throw new Error('bad'); }, 0);"
        "document.body.setAttribute('data-ready', '1');</script></body></html>"
    )
    b = page
    b.open(noisy.as_uri(), ready="document.body.getAttribute('data-ready') === '1'")
    b.sleep(0.5)
    errors = b.console_errors()
    assert any("boom" in e for e in errors), errors
    assert any("bad" in e for e in errors), errors
    assert "https://example.invalid/pixel.png" in b.requests()
    assert b.failed_requests(), "the name must not resolve"
