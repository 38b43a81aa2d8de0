"""Issue 15 "Done when": public FRR topologies shipped under labs/ come up and route as their
own READMEs (and, for the converted topotest, its reference outputs) say.

* ``labs/frr01.clab.yml`` — containerlab's lab-examples/frr01: file binds into /etc/frr, PCs
  configured by ``exec``, an image tag (FRR 10.5.1) that is not the installed FRR;
* ``labs/frr-ospf-topo1.clab.yml`` — FRR's topotest ospf_topo1: directory binds, split
  per-daemon configs, two broadcast segments (``kind: bridge``) and ``dummy`` stub networks.

Each runs as a private copy under a lab name of its own (module-scoped, brought down after).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle
from tests.lab.conftest import LABS, require_lab

pytestmark = pytest.mark.lab

RUN = f"pub{os.getpid()}"


def eventually(probe: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(1)
    return probe()


def private_lab(tmp: Path, source: str, suffix: str) -> Path:
    """The shipped topology and its own directory, copied; the lab renamed."""
    shutil.copytree(LABS / source, tmp / source)
    text = (LABS / f"{source}.clab.yml").read_text()
    path = tmp / f"{source}.clab.yml"
    path.write_text(re.sub(r"^name: .*$", f"name: {RUN}-{suffix}", text, count=1, flags=re.M))
    return path


def _up(tmp: Path, source: str, suffix: str) -> Iterator[LabHandle]:
    require_lab()
    os.environ["SDD_LAB_PROVIDER"] = "netns"
    path = private_lab(tmp, source, suffix)
    try:
        yield lab.up(path, timeout=120)
    finally:
        lab.down(path)


@pytest.fixture(scope="module")
def frr01(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabHandle]:
    yield from _up(tmp_path_factory.mktemp("frr01"), "frr01", "frr01")


@pytest.fixture(scope="module")
def topo1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabHandle]:
    yield from _up(tmp_path_factory.mktemp("topo1"), "frr-ospf-topo1", "topo1")


def _full(node: lab.LabNode) -> int:
    data = json.loads(node.vtysh("show ip ospf neighbor json"))
    return sum(
        1
        for entries in data.get("neighbors", {}).values()
        for n in entries
        if str(n.get("nbrState", n.get("converged", ""))).startswith("Full")
    )


def test_frr01_routes_as_its_readme_says(frr01: LabHandle) -> None:
    assert frr01.result is not None
    # the image asks for FRR 10.5.1; this machine runs its own FRR: said at up, naming both
    (warning,) = frr01.result.warnings
    assert "FRR 10.5.1" in warning
    assert "router1, router2, router3" in warning
    routers = [frr01.hosts[f"router{i}"] for i in (1, 2, 3)]
    assert eventually(lambda: all(_full(r) == 2 for r in routers), 90)
    # every PC subnet everywhere (the loopbacks are not in OSPF upstream: no network line)
    want = {f"192.168.1{i}.0/24" for i in (1, 2, 3)} | {f"192.168.{i}.0/24" for i in (1, 2, 3)}
    for r in routers:
        assert eventually(lambda r=r: want <= set(json.loads(r.vtysh("show ip route json"))), 30)
    pc1 = frr01.linux_hosts["PC1"]
    for address in ("192.168.12.2", "192.168.13.2", "192.168.3.1", "10.10.10.1"):
        assert eventually(lambda a=address: pc1.ping(a), 30), address


def _network_table(text: str) -> list[str]:
    """The network part of ``show ip ospf route``, as the topotest's reference files show it."""
    part = text.split("============ OSPF router routing table", maxsplit=1)[0]
    return [ln.rstrip() for ln in part.splitlines()[1:] if ln.strip()]


def test_ospf_topo1_matches_the_topotest_reference(topo1: LabHandle) -> None:
    expected_dir = LABS / "frr-ospf-topo1" / "expected"
    for name in ("r1", "r2", "r3", "r4"):
        node = topo1.hosts[name]
        # split config, directory bind: the node's /etc/frr holds the user's files, no frr.conf
        assert "ospfd.conf" in node.exec("ls", "/etc/frr").stdout.split()
        assert not node.path("/etc/frr/frr.conf").exists()
        want = (expected_dir / f"{name}.txt").read_text().splitlines()
        assert eventually(
            lambda n=node, w=want: _network_table(n.vtysh("show ip ospf route")) == w, 90
        ), (name, node.vtysh("show ip ospf route"))
        kernel = node.exec("ip", "-j", "-4", "route", "show").stdout
        have = {r["dst"] for r in json.loads(kernel)}
        assert {"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.10.0/24", "172.16.0.0/24",
                "172.16.1.0/24"} <= have  # fmt: skip
    # s3 is one broadcast segment of three routers: r3 has two neighbours on r3-eth0
    r3 = json.loads(topo1.hosts["r3"].vtysh("show ip ospf neighbor json"))["neighbors"]
    assert {"10.0.255.1", "10.0.255.2", "10.0.255.4"} <= set(r3)
