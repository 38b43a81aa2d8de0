"""Hosts as check targets, live: designs/hosts-reach on a private copy of labs/hosts.clab.yml.

The routers (r1, r2) are configured by the design; the plain Linux hosts (h1, h2) are reached
over their own sshd with Netmiko's ``linux`` device type and only checked, end to end, after
the routers' layers. Asserted on the lab itself: the routers' running configs (vtysh in their
namespaces), a ping between the hosts' namespaces, the evidence the hosts' sessions returned.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import copy_repo, private_lab, sdd

pytestmark = pytest.mark.lab

DESIGN = "designs/hosts-reach/solution-design.yaml"
BUILDS = "designs/hosts-reach/builds"


@pytest.fixture(scope="module")
def hosts_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    """A private repository with its own hosts lab, converged (the routers' underlay, each
    host answering its router), the design approved; up for the whole module."""
    require_lab()
    root = tmp_path_factory.mktemp("hostsrepo")
    copy_repo(root, ["templates", "parsers", "designs/hosts-reach"])
    topo = private_lab(root, "hosts", "hst")
    handle = lab.up(topo, wait=True, timeout=120)
    try:
        for gate, path in (("spec", "designs/hosts-reach/customer-spec.md"), ("design", DESIGN)):
            proc = sdd(root, "approve", path, "--gate", gate, "--by", "a.lead")
            assert proc.returncode == 0, proc.stderr
        yield root, handle
    finally:
        lab.down(topo)


def _build(root: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    proc = sdd(root, "build", DESIGN, "--lab", "labs/hosts.clab.yml")
    records = sorted((root / BUILDS).glob("*/as-built.json"))
    assert records, proc.stderr
    return proc, json.loads(records[-1].read_text())


def _stanza(config: str, head: str) -> set[str]:
    lines = config.splitlines()
    start = lines.index(head) + 1
    return set(lines[start : lines.index("exit", start)])


def _host_checks(record: dict[str, Any], host: str) -> dict[str, tuple[bool, Any]]:
    return {
        c["check_id"]: (c["passed"], c["found"])
        for comp in record["components"]
        for c in comp["hosts"].get(host, {}).get("checks", [])
    }


def test_the_example_builds_the_routers_and_checks_the_hosts_end_to_end(
    hosts_repo: tuple[Path, LabHandle],
) -> None:
    root, handle = hosts_repo
    h1, h2 = handle.linux_hosts["h1"], handle.linux_hosts["h2"]
    assert h1.port  # the namespace provider gives Linux hosts an sshd
    assert h2.port
    # before the design: the host LANs are not in OSPF, h1 cannot reach h2
    assert h1.exec("ping", "-c", "1", "-W", "1", "192.168.2.2").returncode != 0

    proc, record = _build(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert record["result"] == "as_designed", record["deviations"]
    assert record["deviations"] == []
    # the hosts' checks ran on h1/h2, parsed, after the routers' layer
    assert _host_checks(record, "h1") == {"AC-2": (True, "0"), "AC-3": (True, "192.168.1.1")}
    assert _host_checks(record, "h2") == {"AC-2": (True, "0"), "AC-3": (True, "192.168.2.1")}
    for host in ("h1", "h2"):
        assert record["hosts"][host] == {
            "reachable": True,
            "role": "check",
            "stopped": None,
            "state": "unchanged",
        }
    bdir = root / BUILDS / record["build_id"]
    raw = (bdir / "evidence/h1/host-reach.0.raw.txt").read_text()
    assert "3 packets transmitted, 3 received, 0% packet loss" in raw  # h1's own words
    assert not (bdir / "evidence/h1/pre.cfg").exists()  # a check target has no backup
    journal = [json.loads(line) for line in (bdir / "journal.jsonl").read_text().splitlines()]
    done = [(e["component"], e["host"]) for e in journal if e["event"] == "component_result"]
    assert done.index(("host-reach", "h1")) > done.index(("verify-lan-routes", "r2"))
    assert {e["host"] for e in journal if e["event"] == "host_backup"} == {"r1", "r2"}
    # the lab itself: the routers run the design's lines, the hosts reach each other
    eth1 = _stanza(handle.hosts["r1"].vtysh("show running-config"), "interface eth1")
    assert {
        " description hosts 192.168.1.0/24",
        " ip ospf area 0.0.0.0",
        " ip ospf passive",
    } <= eth1
    assert h1.exec("ping", "-c", "1", "-W", "2", "192.168.2.2").returncode == 0
    assert h2.exec("ping", "-c", "1", "-W", "2", "192.168.1.2").returncode == 0


def test_broken_reachability_fails_the_host_checks_honestly(
    hosts_repo: tuple[Path, LabHandle],
) -> None:
    """h2 loses its default route (a fault the routers' own checks cannot see): the routers
    still build, the end-to-end checks fail on the hosts with what they found, and no router
    is rolled back for a fault that is not theirs."""
    root, handle = hosts_repo
    h2 = handle.linux_hosts["h2"]
    assert h2.exec("ip", "route", "del", "default").returncode == 0
    try:
        proc, record = _build(root)
    finally:
        h2.exec("ip", "route", "replace", "default", "via", "192.168.2.1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert record["result"] == "failed"
    failed = {
        (d["host"], d["check"]) for d in record["deviations"] if d["class"] == "acceptance_failed"
    }
    assert failed == {("h1", "AC-2"), ("h2", "AC-2"), ("h2", "AC-3")}
    assert _host_checks(record, "h1")["AC-2"] == (False, "100")  # pings sent, none answered
    assert _host_checks(record, "h2")["AC-3"] == (False, None)  # no default route found
    assert _host_checks(record, "h1")["AC-3"] == (True, "192.168.1.1")
    assert not [d for d in record["deviations"] if d["class"] in ("rolled_back", "blocked")
                and d["host"] in ("r1", "r2")]  # fmt: skip
    assert {record["hosts"][h]["state"] for h in ("r1", "r2")} <= {"built", "unchanged"}
    assert " ip ospf passive" in _stanza(handle.hosts["r2"].vtysh("show run"), "interface eth2")
