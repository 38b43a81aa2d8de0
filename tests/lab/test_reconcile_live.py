"""Issue 10 items 2 and 3 on real FRR routers: defaults are not deviations, and the dry run
is honest.

The lab is the triangle with bfdd on r1 only. The use case (written here) is a BFD profile with
two of FRR's defaults spelled out (``detect-multiplier 3``, ``receive-interval 300``) and an
export route-map. What the routers really hold is read with vtysh inside their namespaces.

* A build writes the defaults; FRR does not show them: they are ``default_elided`` (named with
  component, host and line in every format), the build is ``as_designed`` and qualifies for a
  baseline. A line the device silently drops (a key chain with no daemon to own it) is still a
  ``rejected_line``: the scratch FRR of the same version keeps it.
* ``build --check`` shows the diff per host and every line the device would refuse, with FRR's
  words (``% Unknown command`` for ``match ip adress``; ``bfdd is not running`` on r2), ends
  ``checked`` with exit 1, changes no router and is not a build for ``metrics``.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import copy_repo, private_triangle, reset_router, running, sdd, strip_volatile

pytestmark = pytest.mark.lab

DESIGN = "designs/bfd-policy/solution-design.yaml"
SPEC = "designs/bfd-policy/customer-spec.md"
NODES = ("r1", "r2")

SPEC_TEXT = """# BFD profile and export policy

## Requirements

- REQ-1: The core routers have the BFD profile 'fast' and the export route-map EXPORT.
"""

DESIGN_TEXT = """design: bfd-policy
version: 1
author: j.doe
description: A BFD profile with FRR's defaults spelled out, and an export route-map.
spec: customer-spec.md
targets:
  hosts: [{hosts}]
components:
  - id: bfd-profile
    kind: config_template
    template: frr/bfd_profile.j2
  - id: route-policy
    kind: config_template
    template: frr/route_policy.j2
  - id: verify-policy
    kind: command_template
    commands: ["show running-config"]
    depends_on: [route-policy, bfd-profile]
    acceptance:
      - id: AC-1
        covers: [REQ-1]
        expect: {{query: "@", matches: "route-map EXPORT permit 10"}}
build:
  strategy: merge
  rollback: on_failure
  timeout_s: 30
"""

BFD = """bfd
 profile fast
  detect-multiplier 3
  receive-interval 300
  transmit-interval 200
 exit
exit
"""

POLICY = """ip prefix-list LOOPBACKS seq 5 permit 10.0.0.0/24 le 32
route-map EXPORT permit 10
 match ip address prefix-list LOOPBACKS
 set metric 100
exit
"""

BFD_LINES = {
    "bfd",
    "bfd / profile fast",
    "bfd / profile fast / detect-multiplier 3",
    "bfd / profile fast / receive-interval 300",
    "bfd / profile fast / transmit-interval 200",
}
DEPRECATED = "router ospf\n passive-interface lo\nexit\n"
ELIDED = {
    "bfd / profile fast / detect-multiplier 3",
    "bfd / profile fast / receive-interval 300",
}


def write_use_case(root: Path, hosts: str = "r1", policy: str = POLICY, bfd: str = BFD) -> None:
    (root / "designs/bfd-policy").mkdir(parents=True, exist_ok=True)
    (root / "templates/frr").mkdir(parents=True, exist_ok=True)
    (root / SPEC).write_text(SPEC_TEXT)
    (root / DESIGN).write_text(DESIGN_TEXT.format(hosts=hosts))
    (root / "templates/frr/bfd_profile.j2").write_text(bfd)
    (root / "templates/frr/route_policy.j2").write_text(policy)


@pytest.fixture(scope="module")
def bfd_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    """A private triangle whose r1 (only) runs bfdd, up for the module."""
    require_lab()
    root = tmp_path_factory.mktemp("reconcile")
    copy_repo(root, ["inventory", "parsers"])
    topo = private_triangle(root, prefix="rc")
    text = topo.read_text()
    topo.write_text(
        text.replace(
            'labels: {sdd.asn: "65001"',
            'labels: {sdd.daemons: "bgpd,ospfd,staticd,bfdd", sdd.asn: "65001"',
        )
    )
    handle = lab.up(topo, wait=False, timeout=60)
    try:
        yield root, handle
    finally:
        lab.down(topo)


@pytest.fixture
def repo(
    bfd_lab: tuple[Path, LabHandle], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, LabHandle]]:
    """Per test: the routers' base configs, a fresh use case, no approvals/builds/audit, and
    a private verdict cache (so every test asks FRR afresh)."""
    root, handle = bfd_lab
    monkeypatch.setenv("SDD_CACHE_DIR", str(tmp_path / "cache"))
    base = {n: running(handle, n) for n in NODES}
    write_use_case(root)
    yield root, handle
    for sub in ("designs", "templates", "audit"):
        shutil.rmtree(root / sub, ignore_errors=True)
    for node, config in base.items():
        reset(handle, node, config, root)


def reset(handle: LabHandle, node: str, config: str, root: Path) -> None:
    """``reset_router``, twice if needed: frr-reload.py sends ``no bfd`` and then re-enters
    ``bfd`` to remove a profile, which leaves an empty ``bfd`` stanza for a second pass."""
    try:
        reset_router(handle, node, config, root)
    except AssertionError:
        reset_router(handle, node, config, root)


def approve(root: Path) -> None:
    for artifact, gate in ((SPEC, "spec"), (DESIGN, "design")):
        proc = sdd(root, "approve", artifact, "--gate", gate, "--by", "a.lead")
        assert proc.returncode == 0, proc.stderr


def build(root: Path, *extra: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    proc = sdd(root, "build", DESIGN, "--lab", "labs/triangle.clab.yml", *extra)
    records = sorted((root / "designs/bfd-policy/builds").glob("*/as-built.json"))
    assert records, proc.stderr
    return proc.returncode, proc.stderr, json.loads(records[-1].read_text())


def test_defaults_written_out_are_default_elided_not_rejected(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    approve(root)
    code, stderr, record = build(root)
    # FRR itself holds the profile without the two defaults
    config = running(handle, "r1")
    assert " profile fast\n  transmit-interval 200\n" in config, stderr
    assert "detect-multiplier" not in config
    assert "receive-interval" not in config
    assert code == 0, stderr
    assert record["result"] == "as_designed"
    devs = record["deviations"]
    assert {(d["class"], d["component"], d["host"], d["line"]) for d in devs} == {
        ("default_elided", "bfd-profile", "r1", line) for line in ELIDED
    }
    assert all("FRR 8.4" in d["reason"] and "default" in d["reason"] for d in devs)
    assert "scratch instance" in record["hosts"]["r1"]["reconciliation"]["asked"]
    baseline = root / "designs/bfd-policy/baseline.json"
    assert baseline.is_file(), "an informational deviation must not block the baseline"
    # every format names component, host and line
    bdir = root / "designs/bfd-policy/builds" / record["build_id"]
    terminal = [ln for ln in stderr.splitlines() if "default_elided" in ln]
    for line in ELIDED:
        assert any(line in ln and "bfd-profile @ r1" in ln for ln in terminal), stderr
    md = (bdir / "as-built.md").read_text()
    html = (bdir / "report.html").read_text()
    junit = ET.parse(bdir / "junit.xml")
    junit_text = " ".join(el.text or "" for el in junit.iter("system-out"))
    for line in ELIDED:
        row = next(r for r in md.splitlines() if line in r and r.startswith("|"))
        assert "default_elided" in row
        assert "bfd-profile" in row
        assert "r1" in row
        assert line in html
        assert line in junit_text
    # the second build finds the verdicts remembered: FRR need not be asked again
    code, stderr, again = build(root)
    assert code == 0, stderr
    assert {d["class"] for d in again["deviations"]} == {"default_elided"}
    assert "remembered" in again["hosts"]["r1"]["reconciliation"]["asked"]


@pytest.mark.parametrize("via", ["napalm", "netmiko"])
def test_a_line_the_device_drops_stays_a_rejected_line(
    repo: tuple[Path, LabHandle], via: str
) -> None:
    """No daemon of r1 owns a key chain (ripd/eigrpd do): vtysh takes the lines without a
    word and keeps nothing. FRR with those daemons keeps them, so this is no default. The
    same on the Netmiko path: send_config_set sees no refusal, the reconciliation finds it."""
    root, handle = repo
    keychain = "key chain lab\n key 1\n  key-string s3cr3t-k3y\n exit\nexit\n"
    write_use_case(root, policy=POLICY + keychain)
    approve(root)
    code, stderr, record = build(root, "--path", via)
    assert "key chain lab" not in running(handle, "r1")
    assert code == 1, stderr
    assert record["result"] == "with_deviations"
    rejected = {d["line"] for d in record["deviations"] if d["class"] == "rejected_line"}
    assert "key chain lab" in rejected
    assert "key chain lab / key 1" in rejected
    assert all(
        d["component"] == "route-policy"
        for d in record["deviations"]
        if d["class"] == "rejected_line"
    )
    assert {d["line"] for d in record["deviations"] if d["class"] == "default_elided"} == ELIDED
    assert not (root / "designs/bfd-policy/baseline.json").exists()
    bdir = root / "designs/bfd-policy/builds" / record["build_id"]
    for path in bdir.rglob("*"):
        if path.is_file():
            assert "s3cr3t-k3y" not in path.read_text(errors="replace"), path
    assert "s3cr3t-k3y" not in stderr


@pytest.mark.parametrize("via", ["napalm", "netmiko"])
def test_check_shows_diffs_and_every_refused_line_and_changes_nothing(
    repo: tuple[Path, LabHandle], via: str
) -> None:
    root, handle = repo
    # a typo FRR's parser refuses, and a deprecated command FRR warns about (the driver
    # refuses a warning: the dry run must say so too)
    typo = POLICY.replace("match ip address", "match ip adress") + DEPRECATED
    write_use_case(root, hosts="r1, r2", policy=typo)
    approve(root)
    before = {n: running(handle, n) for n in NODES}
    code, stderr, record = build(root, "--check", "--path", via)
    for node in NODES:
        assert strip_volatile(running(handle, node)) == strip_volatile(before[node])
    assert code == 1, stderr
    assert record["result"] == "checked"
    assert record["mode"] == "check"
    assert record["metrics"]["time_to_value_s"] is None
    refused = {
        (d["component"], d["host"], d["line"]): d["reason"]
        for d in record["deviations"]
        if d["class"] == "rejected_line"
    }
    typo_line = "route-map EXPORT permit 10 / match ip adress prefix-list LOOPBACKS"
    assert set(refused) == {
        ("route-policy", "r1", typo_line),
        ("route-policy", "r2", typo_line),
        ("route-policy", "r1", "router ospf / passive-interface lo"),
        ("route-policy", "r2", "router ospf / passive-interface lo"),
        *(("bfd-profile", "r2", line) for line in BFD_LINES),
    }, refused
    assert "% Unknown command" in refused[("route-policy", "r1", typo_line)]
    assert "deprecated" in refused[("route-policy", "r2", "router ospf / passive-interface lo")]
    assert "bfdd is not running on the device" in refused[("bfd-profile", "r2", "bfd")]
    assert not [d for d in record["deviations"] if d["class"] == "unvalidated"]
    # the terminal shows per host the diff and the refused lines
    for node in NODES:
        assert f"{node} — 2 component(s) change; validated by FRR 8.4" in stderr, stderr
    assert "+ route-map EXPORT permit 10" in stderr
    assert "+  profile fast" in stderr or "+ profile fast" in stderr.replace("+  ", "+ ")
    assert typo_line in stderr
    assert "bfdd is not running on the device" in stderr
    # a dry run is not a build
    metrics = sdd(root, "metrics", "designs", "--json")
    assert metrics.returncode == 0, metrics.stderr
    (row,) = json.loads(metrics.stdout)["use_cases"]
    assert row["builds"] == 0
    assert row["latest"] is None
    # without the typo and with bfdd where it runs: checked, exit 0, still nothing changed
    write_use_case(root, hosts="r1")
    approve(root)
    code, stderr, record = build(root, "--check", "--path", via)
    assert code == 0, stderr
    assert record["result"] == "checked"
    assert record["deviations"] == []
    assert strip_volatile(running(handle, "r1")) == strip_volatile(before["r1"])
