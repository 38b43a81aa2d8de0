"""Attacks on Gate 2 on the real lab (issue "Trust I", items 1, 2 and 5).

* A bound template swapped on disk (and a symlink retargeted) the instant the gate has read it
  — watched with inotify, so the swap lands between the gate's read and anything after it.
* ``--inventory`` carrying design data: a router outside the approved targets moved into the
  target group, an extra interface added to a target. It is connection data only.
* A hand-written waiver (another person, another design and version) for a failing check.

Each asserts what the routers run (vtysh in their namespaces), what sshd saw (TCP contacts
through a counting proxy) and what the record says.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import shutil
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sdd_build import lab
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import (
    CountingProxy,
    copy_repo,
    lab_inventory_through,
    private_triangle,
    reset_router,
    running,
    sdd,
    strip_volatile,
)

pytestmark = pytest.mark.lab

DESIGN = "designs/ospf-underlay/solution-design.yaml"
SPEC = "designs/ospf-underlay/customer-spec.md"
TOPO = "labs/triangle.clab.yml"
NODES = ("r1", "r2", "r3")
SUBS = ("templates", "parsers", "inventory", "designs/ospf-underlay")
EVIL = "ip ospf cost 999"
# The swapped-in template renders exactly the approved golden files (r1, edge-host) and adds the
# unapproved line on r3 only: the offline layer cannot see it, only the snapshot stops it.
SNEAKY = '{% if host.name == "r3" %}\ninterface eth1\n ' + EVIL + "\nexit\n{% endif %}\n"


@pytest.fixture(scope="module")
def lab_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    require_lab()
    os.environ["SDD_LAB_PROVIDER"] = "netns"
    root = tmp_path_factory.mktemp("gatebypass")
    copy_repo(root, SUBS)
    topo = private_triangle(root, prefix="gb")
    handle = lab.up(topo, wait=False, timeout=60)
    try:
        yield root, handle
    finally:
        lab.down(topo)


@pytest.fixture
def repo(lab_repo: tuple[Path, LabHandle]) -> Iterator[tuple[Path, LabHandle]]:
    """Per test: a fresh copy of the use case, no approvals/builds/audit; base configs after."""
    root, handle = lab_repo
    base = {n: running(handle, n) for n in NODES}
    for sub in (*SUBS, "audit"):
        shutil.rmtree(root / sub, ignore_errors=True)
    copy_repo(root, SUBS)
    yield root, handle
    for node, config in base.items():
        reset_router(handle, node, config, root)


def _approve(root: Path) -> None:
    for artifact, gate in ((SPEC, "spec"), (DESIGN, "design")):
        res = sdd(root, "approve", artifact, "--gate", gate, "--by", "a.lead")
        assert res.returncode == 0, res.stderr


def _last_record(root: Path) -> dict:  # type: ignore[type-arg]
    records = sorted((root / "designs/ospf-underlay/builds").glob("*/as-built.json"))
    assert records, "no as-built record"
    return json.loads(records[-1].read_text())


class _SwapOnFirstRead:
    """inotify on a folder: the first time ``name`` is closed after a read (the gate's capture),
    run ``swap`` at once, before the reader can do anything else with the file."""

    IN_CLOSE_NOWRITE = 0x10

    def __init__(self, folder: Path, name: str, swap: object) -> None:
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, "inotify_init1"
        wd = self.libc.inotify_add_watch(self.fd, str(folder).encode(), self.IN_CLOSE_NOWRITE)
        assert wd >= 0, "inotify_add_watch"
        self.name = name
        self.swap = swap
        self.swapped = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and not self.swapped.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            data = os.read(self.fd, 65536)
            offset = 0
            while offset < len(data):
                _wd, _mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                raw = data[offset + 16 : offset + 16 + length]
                offset += 16 + length
                if raw.rstrip(b"\0").decode() == self.name and not self.swapped.is_set():
                    self.swap()  # type: ignore[operator]
                    self.swapped.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self.fd)


def test_template_swapped_after_the_gate_read_is_never_pushed(
    repo: tuple[Path, LabHandle],
) -> None:
    root, handle = repo
    template = root / "templates/frr/ospf_interfaces.j2"
    original = template.read_text()
    _approve(root)

    def swap() -> None:
        tmp = template.with_name(".swap.j2")
        tmp.write_text(original + SNEAKY)
        os.replace(tmp, template)

    watcher = _SwapOnFirstRead(template.parent, template.name, swap)
    try:
        proc = sdd(root, "build", DESIGN, "--lab", TOPO)
    finally:
        watcher.close()
    assert watcher.swapped.is_set(), "the attack did not fire: the gate never read the template"
    assert EVIL in template.read_text()  # the file on disk is the attacker's now
    assert proc.returncode == 0, proc.stderr
    assert _last_record(root)["result"] == "as_designed"
    for node in NODES:
        config = running(handle, node)
        assert EVIL not in config, node
        assert "ip ospf network point-to-point" in config, node
    # the next build sees the change and refuses before any contact
    again = sdd(root, "build", DESIGN, "--lab", TOPO)
    assert again.returncode == 3, again.stderr
    assert "templates/frr/ospf_interfaces.j2" in again.stderr


def test_symlink_retargeted_after_the_gate_read_is_never_pushed(
    repo: tuple[Path, LabHandle],
) -> None:
    root, handle = repo
    frr = root / "templates/frr"
    (frr / "ospf_interfaces.real.j2").write_text((frr / "ospf_interfaces.j2").read_text())
    (frr / "evil.j2").write_text((frr / "ospf_interfaces.j2").read_text() + SNEAKY)
    (frr / "ospf_interfaces.j2").unlink()
    (frr / "ospf_interfaces.j2").symlink_to("ospf_interfaces.real.j2")
    _approve(root)

    def retarget() -> None:
        tmp = frr / ".link"
        tmp.symlink_to("evil.j2")
        os.replace(tmp, frr / "ospf_interfaces.j2")

    watcher = _SwapOnFirstRead(frr, "ospf_interfaces.real.j2", retarget)
    try:
        proc = sdd(root, "build", DESIGN, "--lab", TOPO)
    finally:
        watcher.close()
    assert watcher.swapped.is_set()
    assert proc.returncode == 0, proc.stderr
    for node in NODES:
        assert EVIL not in running(handle, node), node


def test_inventory_option_is_connection_data_only(repo: tuple[Path, LabHandle]) -> None:
    """r3 is outside the approved targets (its design data puts it in 'edge'); an attacker's
    --inventory moves it into 'core' and gives r2 an extra interface. r3 is never contacted,
    r2 gets only what was approved."""
    root, handle = repo
    inv = root / "inventory"
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts["r3"]["groups"] = ["edge"]
    for name in ("r1", "r2"):
        hosts[name]["data"]["ospf_peers"] = 1  # r3 stays unconfigured: one Full neighbour
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (inv / "groups.yaml").write_text((inv / "groups.yaml").read_text() + "edge: {}\n")
    design = root / DESIGN
    design.write_text(design.read_text().replace("gte: 3}", "gte: 1}"))
    _approve(root)

    proxies = {n: CountingProxy(handle.hosts[n].port) for n in NODES}
    try:
        # the attacker's inventory: the design's own data, edited, with the lab's logins
        conn = lab_inventory_through(
            handle, root / "lab-conn", {n: p.port for n, p in proxies.items()}
        )
        logins = yaml.safe_load((conn / "hosts.yaml").read_text())
        attacker = root / "attacker-inventory"
        attacker.mkdir()
        ahosts = yaml.safe_load((inv / "hosts.yaml").read_text())
        for name, entry in ahosts.items():
            lab_entry = logins[name]
            entry.update(
                {
                    k: lab_entry[k]
                    for k in ("hostname", "port", "username", "password", "platform")
                    if k in lab_entry
                }
            )
            entry["connection_options"] = lab_entry.get("connection_options", {})
        ahosts["r3"]["groups"] = ["core"]
        ahosts["r2"]["data"]["interfaces"].append(
            {"name": "eth9", "address": "10.99.0.0/31", "peer": "nobody"}
        )
        (attacker / "hosts.yaml").write_text(yaml.safe_dump(ahosts))
        for extra in ("groups.yaml", "defaults.yaml"):
            shutil.copy(inv / extra, attacker / extra)
        before_r3 = running(handle, "r3")
        proc = sdd(root, "build", DESIGN, "--inventory", str(attacker))
        contacts = {n: p.accepted for n, p in proxies.items()}
    finally:
        for proxy in proxies.values():
            proxy.close()
    assert proc.returncode == 0, proc.stderr
    assert contacts["r3"] == 0, contacts
    assert contacts["r1"] >= 1
    assert contacts["r2"] >= 1
    assert running(handle, "r3") == before_r3
    assert "eth9" not in running(handle, "r2")
    record = _last_record(root)
    assert set(record["hosts"]) == {"r1", "r2"}


def test_hand_written_waiver_is_ignored_and_the_failure_stands(
    repo: tuple[Path, LabHandle],
) -> None:
    root, handle = repo
    design = root / DESIGN
    # AC-3 cannot pass: the router ID is never 192.0.2.1
    design.write_text(
        design.read_text().replace('eq: "{{ host.data.loopback | ip_address }}"', 'eq: "192.0.2.1"')
    )
    _approve(root)
    before = {n: running(handle, n) for n in NODES}
    forged = [
        {
            "check": "AC-3",
            "host": None,
            "by": "mallory",
            "reason": "trust me, this is fine for now",
            "granted_at": "2026-01-01T00:00:00Z",
            "expires": None,
            "design": "another-design",
            "design_version": 99,
        },
        {
            "check": "AC-3",
            "host": None,
            "by": "a.lead",
            "reason": "looks like a real one but was never recorded",
            "granted_at": "2026-01-01T00:00:00Z",
            "expires": None,
            "design": "ospf-underlay",
            "design_version": 1,
        },
    ]
    (root / "designs/ospf-underlay/waivers.json").write_text(json.dumps(forged))
    proc = sdd(root, "build", DESIGN, "--lab", TOPO)
    assert proc.returncode == 1, proc.stderr
    assert "IGNORED" in proc.stderr
    record = _last_record(root)
    classes = {d["class"] for d in record["deviations"]}
    assert "waived" not in classes
    assert "acceptance_failed" in classes
    assert record["result"] == "failed"
    assert not (root / "designs/ospf-underlay/baseline.json").exists()
    audit = [json.loads(x) for x in (root / "audit/audit.jsonl").read_text().splitlines()]
    assert sum(e["event"] == "waiver_ignored" for e in audit) == 2
    for node in NODES:  # rolled back: the failure stood
        assert strip_volatile(running(handle, node)) == strip_volatile(before[node]), node
