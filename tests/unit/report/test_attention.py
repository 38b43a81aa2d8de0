"""A host left changed by a failed restore comes first in every format, with its lines."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from sdd_build.execute.results import AsBuilt, attention
from sdd_build.report import render
from tests.unit.report.conftest import fixture_record

LEFT = "bfd / profile core / receive-interval 200"


def _record() -> dict[str, Any]:
    record = fixture_record("failed")
    hosts = {h: {**s, "state": "restored"} for h, s in record["hosts"].items()}
    hosts["r2"] = {**hosts["r2"], "state": "changed", "left": [LEFT], "missing": []}
    record["hosts"] = hosts
    record["attention"] = attention(record["build_id"], hosts)
    return record


def test_attention_lists_only_hosts_left_changed() -> None:
    items = attention(
        "B1", {"r1": {"state": "restored"}, "r2": {"state": "changed", "left": [LEFT]}}
    )
    assert [i["host"] for i in items] == ["r2"]
    assert items[0]["repair"] == "sdd-build rollback B1 --host r2"
    assert items[0]["left"] == [LEFT]
    unknown = attention("B1", {"r3": {"state": "changed", "read_back": False}})
    assert "state is unknown" in unknown[0]["message"]


def test_json_puts_attention_first() -> None:
    data = AsBuilt.model_validate(_record()).dump()
    assert next(iter(data)) == "attention"
    assert data["attention"][0]["left"] == [LEFT]
    # and the record without anything to say has an empty list, still first
    assert next(iter(AsBuilt.model_validate(fixture_record("as_designed")).dump())) == "attention"


def test_markdown_html_and_junit_show_it_before_anything_else() -> None:
    record = AsBuilt.model_validate(_record())
    md = render(record, "md", None)
    head = md.split("\n## ", 1)[0]
    assert "> [!CAUTION]" in head
    assert "ROLLBACK FAILED" in head
    assert LEFT in head
    html = render(record, "html", None)
    assert html.index('id="attention"') < html.index('id="deviations"')
    assert LEFT in html
    root = ET.fromstring(render(record, "junit", None))
    first = root.find("testsuite")
    assert first is not None
    assert first.get("name") == "attention"
    failure = first.find("testcase/failure")
    assert failure is not None
    assert LEFT in (failure.text or "")
    assert int(root.get("failures", "0")) >= 1


def test_no_attention_no_section() -> None:
    record = AsBuilt.model_validate(fixture_record("as_designed"))
    assert "[!CAUTION]" not in render(record, "md", None)
    assert 'id="attention"' not in render(record, "html", None)
    assert json.loads(json.dumps(record.dump()))["attention"] == []
