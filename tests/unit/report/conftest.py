"""Build folders for the report tests: the two records recorded on FRR routers, and a
synthetic record that exercises every outcome the formats must show."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.report import browser

FIXTURES = Path(__file__).parent / "fixtures"
XSD = Path(__file__).parent / "junit.xsd"

# A value that looks like a credential; planted where a report must never look.
PLANTED_SECRET = "Pl4nted-S3cret-7f3a9c"

MakeBuild = Callable[..., Path]


def fixture_record(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"as-built.{name}.json").read_text())
    return data


@pytest.fixture
def make_build(tmp_path: Path) -> MakeBuild:
    """A build folder ``builds/<id>/`` holding ``record`` as as-built.json (and evidence)."""

    def make(record: dict[str, Any], evidence: Path | None = None, name: str = "b") -> Path:
        bdir = tmp_path / "builds" / name
        bdir.mkdir(parents=True)
        (bdir / "as-built.json").write_text(json.dumps(record, indent=2) + "\n")
        if evidence is not None:
            shutil.copytree(evidence, bdir / "evidence")
        return bdir

    return make


@pytest.fixture
def failed_build(make_build: MakeBuild) -> Path:
    return make_build(fixture_record("failed"), FIXTURES / "failed-evidence", name="failed")


@pytest.fixture
def designed_build(make_build: MakeBuild) -> Path:
    return make_build(fixture_record("as_designed"), name="as_designed")


def _host(status: str, **kw: Any) -> dict[str, Any]:
    rec = {
        "status": status,
        "changed": False,
        "checks": [],
        "evidence": [],
        "attempts": 1,
        "reason": None,
        "duration_s": 0.25,
    }
    rec.update(kw)
    return rec


def _check(check_id: str, host: str, passed: bool, **kw: Any) -> dict[str, Any]:
    res = {
        "check_id": check_id,
        "host": host,
        "passed": passed,
        "op": "eq",
        "query": "routerId",
        "expected": "10.0.0.1",
        "found": "10.0.0.1" if passed else "10.9.9.9",
        "reason": f"routerId == 10.0.0.1: found {'10.0.0.1' if passed else '10.9.9.9'}",
        "input_ref": f"evidence/{host}/verify-router-id.0.raw.txt",
        "input_excerpt": "{}",
    }
    res.update(kw)
    return res


def rich_record() -> dict[str, Any]:
    """Every outcome once: built/failed/blocked/skipped/rolled_back hosts, passed, failed,
    waived and not-evaluated checks, an uncovered requirement, a check covering none,
    approvals (one signed), hostile text, and evidence paths a report must not link."""
    rec = copy.deepcopy(fixture_record("as_designed"))
    rec["result"] = "failed"
    rec["hosts"]["r4"] = {"reachable": False, "stopped": "unreachable: timed out"}
    rec["approvals"] = [
        {
            "gate": "spec",
            "artifact": "designs/ospf-underlay/customer-spec.md",
            "sha256": "a" * 64,
            "approver": "a.smith",
            "approved_at": "2026-11-20T09:00:00.000000Z",
            "note": "CAB-42 | reviewed <b>twice</b>",
            "signed": True,
            "fingerprint": "SHA256:abcdEFGH1234",
            "record": "designs/ospf-underlay/approvals/spec.json",
            "record_sha256": "b" * 64,
            "files": 1,
        },
        {
            "gate": "design",
            "artifact": "designs/ospf-underlay/solution-design.yaml",
            "sha256": "c" * 64,
            "approver": "b.jones",
            "approved_at": "2026-11-20T10:00:00.000000Z",
            "note": None,
            "signed": False,
            "fingerprint": None,
            "record": "designs/ospf-underlay/approvals/design.json",
            "record_sha256": "d" * 64,
            "files": 12,
        },
    ]
    rec["requirements"].append(
        {"id": "REQ-4", "text": "Nobody checks this <script>alert(1)</script>", "line": 16}
    )
    rec["acceptance"].append(
        {
            "id": "AC-9",
            "component": "verify-router-id",
            "covers": [],
            "description": "covers nothing",
            "query": "x",
            "op": "eq",
        }
    )
    comps = {c["id"]: c for c in rec["components"]}
    # config: r2 failed in the device's words, r3 rolled back, r4 skipped (unreachable).
    proc = comps["ospf-process"]["hosts"]
    proc["r2"] = _host(
        "failed",
        reason='% Unknown command: ip ospf cost <b>"x"</b>',
        evidence=[
            "evidence/r2/ospf-process.rendered.cfg",
            "private/r2/backup.cfg",
            "evidence/../private/r2/backup.cfg",
            "/etc/passwd",
            "evidence/r2/link-to-private.cfg",
        ],
    )
    proc["r3"] = _host("rolled_back", reason="rolled back after 'ospf-process' failed on r2")
    proc["r4"] = _host("skipped", reason="unreachable: timed out")
    # checks: r1 passed + AC-9 not evaluated, r2 failed, r3 failed but waived, r4 blocked.
    rid = comps["verify-router-id"]["hosts"]
    rid["r1"]["checks"] = [_check("AC-3", "r1", True)]
    rid["r2"] = _host(
        "failed",
        checks=[_check("AC-3", "r2", False)],
        evidence=["evidence/r2/verify-router-id.0.raw.txt"],
        reason="1 acceptance check(s) failed",
    )
    rid["r3"] = _host(
        "built",
        checks=[
            _check(
                "AC-3",
                "r3",
                False,
                waived={"by": "c.lee", "reason": "lab quirk", "expires": "2026-12-31"},
            )
        ],
    )
    rid["r4"] = _host("blocked", reason="host unreachable")
    nbr = comps["verify-ospf-neighbors"]["hosts"]
    nbr["r4"] = _host("blocked", reason="host unreachable")
    rec["deviations"] = [
        {
            "id": "DEV-001",
            "component": "ospf-process",
            "host": "r2",
            "class": "apply_failed",
            "expected": f"interface eth1\n ip ospf message-digest-key 1 md5 {PLANTED_SECRET}\n",
            "actual": None,
            "reason": '% Unknown command: ip ospf cost <b>"x"</b> see https://example.invalid/kb',
            "evidence": ["evidence/r2/ospf-process.rendered.cfg", "private/r2/backup.cfg"],
        },
        {
            "id": "DEV-002",
            "component": "ospf-process",
            "host": "r3",
            "class": "rolled_back",
            "expected": "pre-build config",
            "actual": "pre-build config",
            "reason": "rolled back to the backup",
            "evidence": ["evidence/r3/pre.cfg"],
        },
        {
            "id": "DEV-003",
            "component": "verify-router-id",
            "host": "r2",
            "class": "acceptance_failed",
            "expected": "10.0.0.1",
            "actual": "10.9.9.9",
            "reason": "routerId == 10.0.0.1: found 10.9.9.9",
            "evidence": ["evidence/r2/verify-router-id.0.raw.txt"],
        },
        {
            "id": "DEV-004",
            "component": "verify-router-id",
            "host": "r3",
            "class": "waived",
            "expected": "10.0.0.1",
            "actual": "10.9.9.9",
            "reason": "AC-3 failed and is waived by c.lee: lab quirk",
            "evidence": [],
        },
        {
            "id": "DEV-005",
            "component": None,
            "host": "r4",
            "class": "unreachable",
            "expected": None,
            "actual": None,
            "reason": "timed out",
            "evidence": [],
        },
    ]
    return rec


@pytest.fixture
def rich_build(make_build: MakeBuild) -> Path:
    """The synthetic record, with evidence files, a private/ folder holding the planted
    secret, and a symlink from evidence/ into private/."""
    bdir = make_build(rich_record(), name="rich")
    ev = bdir / "evidence"
    for host in ("r1", "r2", "r3"):
        (ev / host).mkdir(parents=True)
        (ev / host / "verify-router-id.0.raw.txt").write_text('{"routerId": "10.0.0.1"}\n')
        (ev / host / "pre.cfg").write_text(f"password {PLANTED_SECRET}\n")
    (ev / "r2" / "ospf-process.rendered.cfg").write_text(
        f"interface eth1\n ip ospf message-digest-key 1 md5 {PLANTED_SECRET}\n"
    )
    private = bdir / "private" / "r2"
    private.mkdir(parents=True)
    (private / "backup.cfg").write_text(f"enable secret {PLANTED_SECRET}\n")
    (ev / "r2" / "link-to-private.cfg").symlink_to(private / "backup.cfg")
    inventory = bdir.parent.parent / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yaml").write_text(
        f"r1:\n  hostname: 127.0.0.1\n  username: frr\n  password: {PLANTED_SECRET}\n"
    )
    return bdir


# -- browser --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    return browser.require_browser()


@pytest.fixture(scope="session")
def _session_browser(chromium: str) -> Iterator[browser.Browser]:
    with browser.Browser(chromium) as b:
        yield b


@pytest.fixture
def page(_session_browser: browser.Browser) -> browser.Browser:
    """The shared headless Chromium, its events and log cleared for this test."""
    _session_browser.reset()
    return _session_browser
