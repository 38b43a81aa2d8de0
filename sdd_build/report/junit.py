"""``junit.xml``: the build as CI systems read test results.

One ``<testsuite name="layer N">`` per layer of the design graph; in it a ``<testcase>`` per
config component per host (``name="apply"``: a device refusing the config is a ``<failure>``
in the device's words) and per acceptance check per host (``name="<check id>"``), both with
``classname="<component>.<host>"``. A failed check is a ``<failure>`` with expected / found /
reason; a check that could not be evaluated is an ``<error>``; blocked, skipped, rolled-back
and waived cases are ``<skipped message="...">``. Counts are on every suite and on
``<testsuites>``; ``skipped`` only on suites, as the Jenkins schema (``junit-10.xsd``) has it.
A host left changed by a failed restore comes first: ``<testsuite name="attention">`` with a
failing ``rollback_failed[<host>]`` case listing the lines left.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from sdd_build.report.view import Case, ReportView, text

__all__ = ["render_junit"]

# XML 1.0 forbids most control characters; device output may carry them (escape codes).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(value: str) -> str:
    return _XML_BAD.sub("\ufffd", value)


def _ms(seconds: float) -> int:
    return max(round(seconds * 1000), 0)


def _t(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _case(parent: ET.Element, case: Case) -> tuple[int, int, int, int]:
    """Append one ``<testcase>``; returns (failures, errors, skipped, time in ms)."""
    ms = _ms(case.duration_s)
    el = ET.SubElement(
        parent,
        "testcase",
        {"name": _x(case.name), "classname": _x(f"{case.component}.{case.host}"), "time": _t(ms)},
    )
    failures = errors = skipped = 0
    message = _x(case.message)
    rolled_back = [n for n in case.notes if n.startswith(("rolled back", "rollback failed"))]
    if rolled_back and case.outcome in ("failed", "error"):
        message += _x("; " + "; ".join(rolled_back))
    if case.outcome == "failed":
        kind = {"apply": "apply_failed", "reconcile": "reconcile"}.get(
            case.kind, "acceptance_failed"
        )
        child = ET.SubElement(el, "failure", {"message": message, "type": kind})
        child.text = _x(case.detail)
        failures = 1
    elif case.outcome == "error":
        child = ET.SubElement(el, "error", {"message": message, "type": "not_evaluated"})
        child.text = _x(case.detail)
        errors = 1
    elif case.outcome in ("blocked", "skipped", "waived"):
        if case.outcome == "waived":
            message = message if message.startswith("waived") else f"waived: {message}"
        elif not message.startswith(("blocked", "skipped", "rolled back")):
            message = f"{case.outcome}: {message}"
        child = ET.SubElement(el, "skipped", {"message": message, "type": case.outcome})
        notes = [] if case.outcome == "waived" else list(case.notes)
        child.text = _x("\n".join([message, *notes]))
        skipped = 1
    out = []
    if case.evidence:
        out.append("evidence: " + ", ".join(ref.path for ref in case.evidence))
    if case.outcome == "passed":
        out += list(case.notes)  # otherwise they are in the failure / skipped text
    if out:
        ET.SubElement(el, "system-out").text = _x("\n".join(out))
    return failures, errors, skipped, ms


def _attention_suite(root: ET.Element, items: list[dict[str, Any]], started: str) -> None:
    """First of all: a failing case per host left changed (``rollback_failed``)."""
    n = str(len(items))
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": "attention", "tests": n, "failures": n, "errors": "0", "skipped": "0",
         "time": "0.000", "timestamp": _x(started)},
    )  # fmt: skip
    for item in items:
        host = str(item.get("host"))
        case = ET.SubElement(
            suite, "testcase", {"classname": "rollback", "name": _x(f"rollback_failed[{host}]")}
        )
        rows = [f"left on the device: {r}" for r in item.get("left", [])]
        rows += [f"missing from the device: {r}" for r in item.get("missing", [])]
        failure = ET.SubElement(
            case,
            "failure",
            {"message": _x(text(item.get("message"))), "type": "rollback_failed"},
        )
        failure.text = _x(text("\n".join([*rows, f"repair: {item.get('repair')}"])))


def render_junit(view: ReportView) -> str:
    rec = view.record
    root = ET.Element("testsuites", {"name": _x(f"sdd-build {rec.build_id}")})
    totals = [0, 0, 0, 0, 0]  # tests, failures, errors, skipped, ms
    props = {
        "build_id": rec.build_id,
        "mode": rec.mode,
        "result": rec.result,
        "design.id": str(rec.design.get("id")),
        "design.version": str(rec.design.get("version")),
        "design.sha256": str(rec.design.get("sha256")),
        "spec.sha256": str(rec.spec.get("sha256")),
    }
    if rec.attention:
        _attention_suite(root, rec.attention, rec.started)
        totals[0] += len(rec.attention)
        totals[1] += len(rec.attention)
    suites = [(f"layer {index}", layer) for index, layer in enumerate(view.layers)]
    if any(case.kind == "reconcile" for case in view.cases):
        suites.append(("reconciliation", []))  # what changed on a host outside any component
    for index, (suite_name, layer) in enumerate(suites):
        suite = ET.SubElement(root, "testsuite", {"name": suite_name})
        properties = ET.SubElement(suite, "properties")
        for name, value in props.items():
            ET.SubElement(properties, "property", {"name": name, "value": _x(value)})
        ET.SubElement(properties, "property", {"name": "components", "value": _x(" ".join(layer))})
        counts = [0, 0, 0, 0, 0]
        for case in view.cases:
            if case.layer != index:
                continue
            f, e, s, ms = _case(suite, case)
            for i, v in enumerate((1, f, e, s, ms)):
                counts[i] += v
        suite.attrib.update(
            {
                "tests": str(counts[0]),
                "failures": str(counts[1]),
                "errors": str(counts[2]),
                "skipped": str(counts[3]),
                "time": _t(counts[4]),
                "timestamp": _x(rec.started),
            }
        )
        for i in range(5):
            totals[i] += counts[i]
    root.attrib.update(
        {
            "tests": str(totals[0]),
            "failures": str(totals[1]),
            "errors": str(totals[2]),
            "time": _t(totals[4]),
        }
    )
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
