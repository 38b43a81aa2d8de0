"""junit.xml as CI systems read it: valid against the Jenkins JUnit schema, counts right."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from sdd_build.execute.results import AsBuilt
from sdd_build.report import render
from tests.unit.report.conftest import XSD, fixture_record, rich_record


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def junit_of(record: dict[str, Any]) -> str:
    return render(AsBuilt.model_validate(record), "junit")


def counts(el: ET.Element) -> tuple[int, ...]:
    return tuple(int(el.get(k, "-1")) for k in ("tests", "failures", "errors", "skipped"))


def check_counts(root: ET.Element) -> None:
    """Every suite's counts are its test cases'; <testsuites> adds the suites up."""
    totals = [0, 0, 0, 0]
    total_ms = 0
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        own = (
            len(cases),
            sum(1 for c in cases if c.find("failure") is not None),
            sum(1 for c in cases if c.find("error") is not None),
            sum(1 for c in cases if c.find("skipped") is not None),
        )
        assert counts(suite) == own, suite.get("name")
        ms = sum(round(float(c.get("time", "0")) * 1000) for c in cases)
        assert round(float(suite.get("time", "0")) * 1000) == ms
        total_ms += ms
        for i in range(4):
            totals[i] += own[i]
    assert counts(root)[:3] == tuple(totals[:3])
    assert round(float(root.get("time", "0")) * 1000) == total_ms


# Per layer: (tests, failures, errors, skipped) — worked out by hand from the records.
EXPECTED = {
    "failed": {
        "layer 0": (6, 3, 0, 0),  # apply: ospf-interfaces x3 passed, ospf-process x3 refused
        "layer 1": (0, 0, 0, 0),  # a workflow: no test case
        "layer 2": (6, 0, 0, 6),  # AC-1, AC-3 x3 hosts: blocked
        "layer 3": (3, 0, 0, 3),  # AC-2 x3: blocked
        "layer 4": (0, 0, 0, 0),
    },
    "as_designed": {
        "layer 0": (6, 0, 0, 0),
        "layer 1": (0, 0, 0, 0),
        "layer 2": (6, 0, 0, 0),
        "layer 3": (3, 0, 0, 0),
        "layer 4": (0, 0, 0, 0),
    },
}


@pytest.mark.parametrize("name", ["as_designed", "failed"])
def test_fixture_validates_and_counts_are_right(name: str, schema: xmlschema.XMLSchema) -> None:
    xml = junit_of(fixture_record(name))
    schema.validate(xml)
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    suites = {s.get("name"): counts(s) for s in root.findall("testsuite")}
    assert suites == EXPECTED[name]
    check_counts(root)
    assert int(root.get("tests", "0")) == 15


def test_failed_build_cases() -> None:
    root = ET.fromstring(junit_of(fixture_record("failed")))
    case = root.find(".//testcase[@classname='ospf-process.r2'][@name='apply']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    # the device's words, and the rollback noted
    assert "% Command incomplete: ip ospf cost" in failure.get("message", "")
    assert "rolled back (DEV-006)" in failure.get("message", "")
    blocked = root.find(".//testcase[@classname='verify-router-id.r1'][@name='AC-3']")
    assert blocked is not None
    skipped = blocked.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "blocked: host rolled back after 'ospf-process' failed"


def test_every_outcome(schema: xmlschema.XMLSchema) -> None:
    xml = junit_of(rich_record())
    schema.validate(xml)
    root = ET.fromstring(xml)
    check_counts(root)

    def case(classname: str, name: str) -> ET.Element:
        found = root.find(f".//testcase[@classname='{classname}'][@name='{name}']")
        assert found is not None, (classname, name)
        return found

    failure = case("verify-router-id.r2", "AC-3").find("failure")
    assert failure is not None
    assert failure.text
    assert "expected: 10.0.0.1" in failure.text
    assert "found: 10.9.9.9" in failure.text
    assert failure.get("type") == "acceptance_failed"
    waived = case("verify-router-id.r3", "AC-3").find("skipped")
    assert waived is not None
    assert waived.get("message", "").startswith("waived by c.lee")
    error = case("verify-router-id.r1", "AC-9").find("error")
    assert error is not None
    assert error.get("message", "").startswith("not evaluated")
    rolled = case("ospf-process.r3", "apply").find("skipped")
    assert rolled is not None
    assert rolled.get("message", "").startswith("rolled back")
    refused = case("ospf-process.r2", "apply").find("failure")
    assert refused is not None
    assert 'ip ospf cost <b>"x"</b>' in refused.get("message", "")
    passed = case("verify-router-id.r1", "AC-3")
    assert list(passed.iter())[1:]
    assert passed.find("failure") is None
    assert passed.find("skipped") is None
    out = passed.find("system-out")
    assert out is not None
    assert "evidence/r1/verify-router-id.0.raw.txt" in (out.text or "")


def test_control_characters_do_not_break_the_xml(schema: xmlschema.XMLSchema) -> None:
    rec = fixture_record("failed")
    for comp in rec["components"]:
        if comp["id"] == "ospf-process":
            comp["hosts"]["r1"]["reason"] = "refused \x1b[31mred\x1b[0m \x00 line"
    xml = junit_of(rec)
    schema.validate(xml)
    assert "\x1b" not in xml
    assert "\x00" not in xml


def test_written_next_to_the_record(failed_build: Path, schema: xmlschema.XMLSchema) -> None:
    from sdd_build.report import write_format

    path = write_format(failed_build, "junit")
    assert path.name == "junit.xml"
    schema.validate(str(path))
