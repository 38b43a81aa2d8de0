"""as-built.md as an auditor reads it, and its Mermaid block checked line by line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sdd_build.execute.results import AsBuilt
from sdd_build.report import render, write_format
from sdd_build.report.graph import mermaid
from sdd_build.report.view import ReportView
from tests.unit.report.conftest import fixture_record, rich_record

MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.S | re.M)


def md_of(record: dict[str, Any], build_dir: Path | None = None) -> str:
    return render(AsBuilt.model_validate(record), "md", build_dir)


def mermaid_block(md: str) -> str:
    blocks = MERMAID_BLOCK.findall(md)
    assert len(blocks) == 1, "exactly one mermaid block"
    return str(blocks[0])


# -- a strict grammar for the flowchart we generate ------------------------------------------

_ID = r"n_[A-Za-z0-9_]+"
_LABEL = r'[^"`\n]*'
_NODE = re.compile(
    rf'^    (?P<id>{_ID})(?:\["{_LABEL}"\]|\(\["{_LABEL}"\]\)|\[/"{_LABEL}"/\]|\[\["{_LABEL}"\]\])$'
)
_SUBGRAPH = re.compile(r'^  subgraph (?P<id>L\d+)\["layer \d+"\]$')
_EDGE = re.compile(rf"^  (?P<a>{_ID}) --> (?P<b>{_ID})$")
_CLASSDEF = re.compile(
    r"^  classDef (?P<name>st_[a-z_]+) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#[0-9a-f]{6}"
    r"(?:,stroke-dasharray:\d+ \d+)?$"
)
_CLASS = re.compile(rf"^  class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>st_[a-z_]+)$")


def check_flowchart(src: str) -> dict[str, str]:
    """Every line must be one of the forms above; ids declared once, edges and classes only
    between declared nodes, every node in exactly one class. Returns node id -> class."""
    lines = src.rstrip("\n").split("\n")
    assert lines[0] == "flowchart BT"
    nodes: set[str] = set()
    classdefs: set[str] = set()
    classes: dict[str, str] = {}
    depth = 0
    for n, line in enumerate(lines[1:], start=2):
        if m := _SUBGRAPH.match(line):
            assert depth == 0, f"line {n}: nested subgraph"
            depth = 1
        elif line == "  end":
            assert depth == 1, f"line {n}: end without subgraph"
            depth = 0
        elif m := _NODE.match(line):
            assert depth == 1, f"line {n}: node outside its layer"
            assert m["id"] not in nodes, f"line {n}: {m['id']} declared twice"
            nodes.add(m["id"])
        elif m := _EDGE.match(line):
            assert {m["a"], m["b"]} <= nodes, f"line {n}: edge to an undeclared node"
        elif m := _CLASSDEF.match(line):
            classdefs.add(m["name"])
        elif m := _CLASS.match(line):
            assert m["name"] in classdefs, f"line {n}: class {m['name']} not defined"
            for nid in m["ids"].split(","):
                assert nid in nodes, f"line {n}: {nid} not declared"
                assert nid not in classes, f"line {n}: {nid} in two classes"
                classes[nid] = m["name"]
        else:
            raise AssertionError(f"line {n} is not valid in our flowchart: {line!r}")
    assert depth == 0
    assert set(classes) == nodes
    return classes


@pytest.mark.parametrize("name", ["as_designed", "failed"])
def test_mermaid_block_is_well_formed(name: str) -> None:
    record = fixture_record(name)
    src = mermaid_block(md_of(record))
    classes = check_flowchart(src)
    assert len(classes) == len(record["components"])
    assert src.count(" --> ") == len(record["edges"])
    if name == "failed":
        assert classes["n_ospf_process"] == "st_failed"
        assert classes["n_ospf_config"] == "st_blocked"
        assert classes["n_ospf_interfaces"] == "st_built"
    else:
        assert set(classes.values()) == {"st_built", "st_offline"}


def hostile_record() -> dict[str, Any]:
    """Component ids with quotes, markup and '#', and two ids equal once sanitised."""
    rec = fixture_record("failed")
    for comp in rec["components"]:
        if comp["id"] == "ospf-process":
            comp["id"] = 'ospf"process<b>#1'
        if comp["id"] == "ospf-interfaces":
            comp["id"] = "ospf_interfaces"  # collides with 'ospf-interfaces' once sanitised
    rec["components"].append(dict(rec["components"][0], id="ospf-interfaces", hosts={}))
    rec["layers"][0] = [
        "ospf-interfaces",
        "ospf_interfaces",
        "ospf-neighbors",
        'ospf"process<b>#1',
        "vtysh-json",
    ]
    rec["edges"] = [
        [('ospf"process<b>#1' if a == "ospf-process" else a), b] for a, b in rec["edges"]
    ]
    return rec


def test_mermaid_survives_hostile_ids() -> None:
    src = mermaid(ReportView(AsBuilt.model_validate(hostile_record())))
    classes = check_flowchart(src)
    assert len(classes) == 10
    assert "ospf#quot;process#lt;b#gt;#35;1" in src


def test_summary_approvals_and_hashes() -> None:
    md = md_of(rich_record())
    assert md.startswith("# As-built record 20261121T120234Z-276b: ospf-underlay v1 — FAILED\n")
    assert "| Result | **FAILED** (`failed`) |" in md
    assert "| Design sha256 | `" in md
    assert "| Spec sha256 | `" in md
    assert "| Acceptance | 7/15 passed, 1 failed, 3 error, 1 waived, 3 blocked |" in md
    approvals = md.split("## Approvals", 1)[1].split("## ", 1)[0]
    assert "| spec | a.smith | 2026-11-20T09:00:00.000000Z |" in approvals
    assert f"`{'a' * 64}`" in approvals
    assert f"`{'d' * 64}`" in approvals
    assert "signed, `SHA256:abcdEFGH1234`" in approvals
    assert "unsigned" in approvals
    # a pipe or markup in a value never breaks the table
    assert "CAB-42 \\| reviewed &lt;b&gt;twice&lt;/b&gt;" in approvals


def test_no_approvals_is_said() -> None:
    assert "No approval is recorded for this build" in md_of(fixture_record("failed"))


def test_components_hosts_and_deviations(failed_build: Path) -> None:
    md = md_of(fixture_record("failed"), failed_build)
    assert "| 0 | `ospf-process` | config_template | no | failed | failed | failed | failed |" in md
    assert "| r1 | yes | 1 | 0 | 5 | 0 | 1 | host rolled back after 'ospf-process' failed |" in md
    assert "### Host r3" in md
    for n in range(1, 22):
        assert f"| `DEV-{n:03d}` |" in md
    # evidence links are relative, into evidence/, and the files exist next to the record
    links = re.findall(r"\]\(([^)]+)\)", md)
    assert links
    for target in links:
        assert target.startswith("evidence/"), target
        assert (failed_build / target).is_file(), target
    assert "(missing)" not in md
    assert "#### DEV-001: apply_failed, ospf-process on r3" in md
    assert "```text\nrouter ospf\n ospf router-id 10.0.0.3\n" in md


def test_missing_evidence_is_marked(tmp_path: Path) -> None:
    md = md_of(fixture_record("failed"), tmp_path)
    assert "[r3/pre.cfg](evidence/r3/pre.cfg) (missing)" in md


def test_traceability_matrix() -> None:
    md = md_of(rich_record())
    trace = md.split("## Traceability", 1)[1]
    assert (
        "| `REQ-3` | `AC-3` | `verify-router-id` | r2 | failed: routerId == 10.0.0.1: found "
        "10.9.9.9 | [r2/verify-router-id.0.raw.txt](evidence/r2/verify-router-id.0.raw.txt) |"
    ) in trace
    assert "| r3 | waived by c.lee: lab quirk (expires 2026-12-31); the check:" in trace
    assert "| r4 | blocked: host unreachable | - |" in trace
    assert "| **no acceptance check** | - | - | uncovered | - |" in trace
    assert "(covers no requirement) | `AC-9` covers nothing" in trace
    assert "&lt;script&gt;" in trace
    assert "<script>" not in md


def test_fences_hold_backticks() -> None:
    rec = fixture_record("failed")
    rec["deviations"][0]["expected"] = "a\n```\nnot the end\n"
    md = md_of(rec)
    assert "````text\na\n```\nnot the end\n````" in md


def test_write_format_leaves_the_record_alone(failed_build: Path) -> None:
    before = (failed_build / "as-built.json").read_bytes()
    path = write_format(failed_build, "md")
    assert path == failed_build / "as-built.md"
    assert (failed_build / "as-built.json").read_bytes() == before
    assert not list(failed_build.glob(".as-built.md.*")), "no temporary file left behind"
