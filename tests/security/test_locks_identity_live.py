"""Attacks on device ownership (issue "Trust I", items 3 and 7), on a private FRR lab.

* Item 7: two designs from two repositories built at once on the same routers. The second
  build exits 3 naming the first (build id, design, repository, pid) with ZERO connections to
  the routers (every router behind a ``CountingProxy`` in its connection data); ``--wait-lock``
  waits for the holder, then builds; a failed build that waited rolls back to a backup taken
  after the first build, so the first build's committed config stays on the routers. A build
  killed after a commit keeps the other design off its routers (exit 3, zero contact) until
  it is recovered.
* Item 3: r3's port pointed at another router (r4, outside the design) in the connection
  data. The device answers as r4: ``identity_mismatch``, nothing pushed to r4 (its running
  config, read with vtysh, unchanged), r3's components blocked, exit 1. With the identity
  ``discover`` recorded, even an r4 renamed ``r3`` is refused (its MACs are not r3's).

Every router state is read with vtysh in the router's namespace, never through the engine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from sdd_build import lab
from sdd_build.execute.locks import Holder, host_locks
from sdd_build.lab import LabHandle
from sdd_build.lab.state import LabState
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

NODES = ("r1", "r2", "r3")
UNDERLAY = "designs/ospf-underlay/solution-design.yaml"
CORE_BGP = "designs/core-bgp/solution-design.yaml"
SUBS = ("templates", "parsers", "inventory", "designs/ospf-underlay", "designs/core-bgp")
OUTSIDERS = {
    # a router outside every design's targets
    "r4": "frr defaults traditional\nhostname r4\n!\ninterface lo\n ip address 10.0.0.4/32\n!\n",
    # an impostor: a router configured with r3's host name
    "r5": "frr defaults traditional\nhostname r3\n!\ninterface lo\n ip address 10.0.0.5/32\n!\n",
}


def _with_outsiders(topo: Path) -> None:
    """The private triangle plus r4 and r5, neither of them in any design."""
    data = yaml.safe_load(topo.read_text())
    for node, conf in OUTSIDERS.items():
        data["topology"]["nodes"][node] = {
            "kind": "linux",
            "startup-config": f"triangle/{node}.conf",
        }
        (topo.parent / f"triangle/{node}.conf").write_text(conf)
    topo.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def lab4(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    """A private lab: the triangle (r1-r3), r4 and r5, up for the whole module."""
    require_lab()
    os.environ["SDD_LAB_PROVIDER"] = "netns"
    home = tmp_path_factory.mktemp("locklab")
    topo = private_triangle(home, prefix="lk")
    _with_outsiders(topo)
    try:
        handle = lab.up(topo, wait=False, timeout=120)
        yield topo, handle
    finally:
        lab.down(topo)


@pytest.fixture
def base(lab4: tuple[Path, LabHandle], tmp_path: Path) -> Iterator[dict[str, str]]:
    """Per test: every router back at its base config afterwards."""
    _topo, handle = lab4
    before = {n: running(handle, n) for n in (*NODES, *OUTSIDERS)}
    yield before
    for node, config in before.items():
        reset_router(handle, node, config, tmp_path)


def _repo(root: Path, topo: Path) -> Path:
    """A repository copy (tracked files only) with approved specs and designs."""
    copy_repo(root, SUBS)
    for rel in ("designs/ospf-underlay", "designs/core-bgp"):
        spec = sdd(root, "approve", f"{rel}/customer-spec.md", "--gate", "spec", "--by", "a.lead")
        assert spec.returncode == 0, spec.stderr
    return root


def _approve(root: Path, design: str) -> None:
    done = sdd(root, "approve", design, "--gate", "design", "--by", "a.lead")
    assert done.returncode == 0, done.stderr


def _records(root: Path, design_dir: str) -> list[dict[str, Any]]:
    builds = sorted((root / design_dir / "builds").glob("*/as-built.json"))
    return [json.loads(p.read_text()) for p in builds]


def _holders(lock_dir: Path) -> list[dict[str, Any]]:
    found = []
    for path in lock_dir.glob("*.lock") if lock_dir.is_dir() else []:
        text = path.read_text()
        if text:
            found.append(json.loads(text))
    return found


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sdd_build", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def test_two_designs_from_two_repositories_never_build_one_router_at_once(
    lab4: tuple[Path, LabHandle], base: dict[str, str], tmp_path: Path
) -> None:
    topo, handle = lab4
    lock_dir = Path(os.environ["SDD_LOCK_DIR"])
    first_repo = _repo(tmp_path / "first", topo)
    _approve(first_repo, CORE_BGP)
    second_repo = _repo(tmp_path / "second", topo)
    # The second design fails a check on every router (router-id 10.9.9.9 expected), so it
    # rolls back: the item-7 attack, where that rollback wiped the first build's BGP config.
    design = second_repo / UNDERLAY
    text = design.read_text()
    assert 'expect: {query: "routerId", eq: "{{ host.data.loopback | ip_address }}"}' in text
    design.write_text(
        text.replace(
            'expect: {query: "routerId", eq: "{{ host.data.loopback | ip_address }}"}',
            'expect: {query: "routerId", eq: "10.9.9.9"}',
        )
    )
    _approve(second_repo, UNDERLAY)
    # The second build reaches every router only through a counting proxy.
    proxies = {n: CountingProxy(handle.hosts[n].port) for n in NODES}
    try:
        conn = lab_inventory_through(
            handle, tmp_path / "second-conn", {n: p.port for n, p in proxies.items()}
        )
        first = _start(first_repo, "build", CORE_BGP, "--lab", str(topo))
        try:
            deadline = time.monotonic() + 180
            held: list[dict[str, Any]] = []
            while time.monotonic() < deadline and first.poll() is None:
                held = [h for h in _holders(lock_dir) if h.get("design") == "core-bgp"]
                if len(held) >= 2 * len(NODES):  # an address and a name key per router
                    break
                time.sleep(0.05)
            assert held, f"the first build never held the routers: {first.poll()}"
            first_id = held[0]["build_id"]

            refused = sdd(second_repo, "build", UNDERLAY, "--inventory", str(conn))
            assert first.poll() is None, "the first build ended before the attack was made"
        finally:
            _out, err = first.communicate(timeout=400)
        assert refused.returncode == 3, refused.stderr
        for part in (first_id, "design 'core-bgp'", str(first_repo), f"pid {first.pid}"):
            assert part in refused.stderr, (part, refused.stderr)
        assert "Traceback" not in refused.stderr
        assert {n: p.accepted for n, p in proxies.items()} == dict.fromkeys(NODES, 0)
        assert not (second_repo / "designs/ospf-underlay/builds").exists() or not _records(
            second_repo, "designs/ospf-underlay"
        )

        assert first.returncode == 0, err
        assert _records(first_repo, "designs/core-bgp")[-1]["result"] == "as_designed"
        built = {n: strip_volatile(running(handle, n)) for n in NODES}
        for node in NODES:
            assert "router bgp 6500" in built[node]
            assert "route-map" in built[node]

        # --wait-lock: held by another build, the second build waits (no contact), then runs.
        keys = {n: [f"name:{n}"] for n in NODES}
        holder = Holder("build", design="core-bgp", build_id="held-by-test")
        with host_locks(keys, holder):
            waiting = _start(
                second_repo, "build", UNDERLAY, "--inventory", str(conn), "--wait-lock", "300"
            )
            assert waiting.stderr is not None
            seen = ""
            deadline = time.monotonic() + 180
            while "waiting up to 300 s" not in seen and time.monotonic() < deadline:
                line = waiting.stderr.readline()
                if not line:
                    break
                seen += line
            assert "locked by build held-by-test of design 'core-bgp'" in seen, seen
            assert waiting.poll() is None
            assert sum(p.accepted for p in proxies.values()) == 0
        _out, rest = waiting.communicate(timeout=400)
        assert waiting.returncode == 1, seen + rest
        assert all(p.accepted > 0 for p in proxies.values())
        record = _records(second_repo, "designs/ospf-underlay")[-1]
        classes = {(d["class"], d["host"]) for d in record["deviations"]}
        for node in NODES:
            assert ("acceptance_failed", node) in classes
            assert ("rolled_back", node) in classes
        # Its rollback restored ITS backup, taken after the first build: BGP stays.
        for node in NODES:
            assert strip_volatile(running(handle, node)) == built[node]
    finally:
        for p in proxies.values():
            p.close()


def test_a_killed_build_keeps_another_design_off_its_routers_until_recovered(
    lab4: tuple[Path, LabHandle], base: dict[str, str], tmp_path: Path
) -> None:
    """kill -9 of a build of one design after a commit; a build of another design from another
    repository refuses those routers (exit 3, zero contact) until the first is recovered."""
    topo, handle = lab4
    first_repo = _repo(tmp_path / "first", topo)
    _approve(first_repo, CORE_BGP)
    second_repo = _repo(tmp_path / "second", topo)
    _approve(second_repo, UNDERLAY)
    first = _start(first_repo, "build", CORE_BGP, "--lab", str(topo))
    builds = first_repo / "designs/core-bgp/builds"
    deadline = time.monotonic() + 180
    journal: Path | None = None
    try:
        while time.monotonic() < deadline and first.poll() is None:
            found = list(builds.glob("*/journal.jsonl")) if builds.is_dir() else []
            if found and '"apply_committed"' in found[0].read_text():
                journal = found[0]
                break
            time.sleep(0.05)
    finally:
        first.kill()
        first.communicate(timeout=60)
    assert journal is not None, "the first build never committed anything"
    first_id = journal.parent.name
    proxies = {n: CountingProxy(handle.hosts[n].port) for n in NODES}
    try:
        conn = lab_inventory_through(
            handle, tmp_path / "second-conn", {n: p.port for n, p in proxies.items()}
        )
        refused = sdd(second_repo, "build", UNDERLAY, "--inventory", str(conn))
        assert refused.returncode == 3, refused.stderr
        assert f"left half-changed by build {first_id} of design 'core-bgp'" in refused.stderr
        assert f"--recover {first_id}" in refused.stderr
        assert str(first_repo) in refused.stderr
        assert {n: p.accepted for n, p in proxies.items()} == dict.fromkeys(NODES, 0)

        recovered = sdd(first_repo, "build", CORE_BGP, "--lab", str(topo), "--recover", first_id)
        assert recovered.returncode == 1, recovered.stderr
        for node in NODES:
            assert strip_volatile(running(handle, node)) == strip_volatile(base[node])

        second = sdd(second_repo, "build", UNDERLAY, "--inventory", str(conn))
        assert second.returncode == 0, second.stderr
        assert all(p.accepted > 0 for p in proxies.values())
    finally:
        for p in proxies.values():
            p.close()


def _misrouted(handle: LabHandle, dest: Path) -> Path:
    """The lab's connection data with r3's SSH port pointing at r4's."""
    return lab_inventory_through(handle, dest, {"r3": handle.hosts["r4"].port})


def _statuses(record: dict[str, Any], host: str) -> dict[str, str]:
    return {c["id"]: c["hosts"][host]["status"] for c in record["components"] if host in c["hosts"]}


def test_a_router_answering_as_another_is_refused_and_left_untouched(
    lab4: tuple[Path, LabHandle], base: dict[str, str], tmp_path: Path
) -> None:
    topo, handle = lab4
    root = _repo(tmp_path / "repo", topo)
    _approve(root, UNDERLAY)
    conn = _misrouted(handle, tmp_path / "misrouted")
    proc = sdd(root, "build", UNDERLAY, "--inventory", str(conn))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    record = _records(root, "designs/ospf-underlay")[-1]
    (dev,) = [d for d in record["deviations"] if d["class"] == "identity_mismatch"]
    assert dev["host"] == "r3"
    assert dev["actual"]["hostname"] == "r4"
    assert "answers as 'r4', not 'r3'" in dev["reason"]
    assert set(_statuses(record, "r3").values()) == {"blocked"}
    # the other hosts went on: r1 and r2 were configured (and judged) on their own
    for node in ("r1", "r2"):
        assert _statuses(record, node)["ospf-process"] in ("built", "rolled_back")
    # nothing was pushed to r4, nor to the real r3
    assert running(handle, "r4") == base["r4"]
    assert strip_volatile(running(handle, "r3")) == strip_volatile(base["r3"])
    assert not list((root / "designs/ospf-underlay/builds").glob("*/evidence/r3/pre.cfg"))


def test_a_renamed_router_is_refused_by_the_identity_discover_recorded(
    lab4: tuple[Path, LabHandle], base: dict[str, str], tmp_path: Path
) -> None:
    topo, handle = lab4
    root = _repo(tmp_path / "repo", topo)
    found = sdd(root, "discover", UNDERLAY, "--lab", str(topo))
    assert found.returncode == 0, found.stderr
    feas = json.loads((root / "designs/ospf-underlay/feasibility.json").read_text())
    r3 = feas["hosts"]["r3"]["identity"]
    assert r3["hostname"] == "r3"
    assert r3["hardware"], "discover recorded no hardware address for r3"
    # discover through the wrong port: flagged, and no identity recorded for r3
    conn = _misrouted(handle, tmp_path / "misrouted")
    wrong = sdd(root, "discover", UNDERLAY, "--inventory", str(conn), "--json")
    assert wrong.returncode == 1, wrong.stderr
    entry = json.loads(wrong.stdout)["hosts"]["r3"]
    assert entry["answers_as"] == "r4"
    assert "identity" not in entry
    # An impostor configured as r3 and running on a system named r3: its host name no longer
    # gives it away, the hardware addresses discover recorded for r3 do.
    assert sdd(root, "discover", UNDERLAY, "--lab", str(topo)).returncode == 0
    _approve(root, UNDERLAY)
    impostor = lab_inventory_through(handle, tmp_path / "impostor", {"r3": handle.hosts["r5"].port})
    with _impostor(handle, "r5", "r3"):
        proc = sdd(root, "build", UNDERLAY, "--inventory", str(impostor))
    assert proc.returncode == 1, proc.stderr
    record = _records(root, "designs/ospf-underlay")[-1]
    (dev,) = [d for d in record["deviations"] if d["class"] == "identity_mismatch"]
    assert dev["host"] == "r3"
    assert dev["actual"]["hostname"] == "r3"
    assert "hardware addresses discover recorded" in dev["reason"]
    assert set(_statuses(record, "r3").values()) == {"blocked"}
    assert running(handle, "r5") == base["r5"]
    assert strip_volatile(running(handle, "r3")) == strip_volatile(base["r3"])


@contextmanager
def _impostor(handle: LabHandle, node: str, name: str) -> Iterator[None]:
    """Make ``node`` a system named ``name``, as far as the device can tell: FRR's daemons
    take their host name from the system when they start (FRR 8.4 ignores ``hostname`` in
    frr.conf and in config mode for that), vtysh from the system it runs on (here the UTS
    namespace of the node's sshd). Restarted under ``name``; afterwards under ``node`` again."""
    target = handle.hosts[node]
    state = LabState.load(handle.name)
    assert state is not None
    (sshd,) = [r.pid for r in state.resources if r.name == f"sshd:{node}" and r.pid]

    def become(system: str) -> None:
        inst = target.frr_instance
        frrinit = "/usr/lib/frr/frrinit.sh"
        # inside the router (its own /etc/frr and /var/run/frr live in its mount namespace)
        subprocess.run(target.enter_argv(frrinit, "stop", inst), check=True, timeout=90,
                       capture_output=True)  # fmt: skip
        subprocess.run(
            target.enter_argv("unshare", "--uts", "--", "sh", "-c",
                              'hostname "$1" && exec "$2" start "$3"', "sh", system, frrinit, inst),
            check=True, timeout=90, capture_output=True,
        )  # fmt: skip
        subprocess.run(["nsenter", "--target", str(sshd), "--uts", "hostname", system],
                       check=True, timeout=30)  # fmt: skip
        deadline = time.monotonic() + 60
        while True:  # zebra answers (its addresses) under the new name, and no other
            text = target.vtysh("show running-config", check=False)
            names = set(re.findall(r"^hostname (\S+)$", text, re.M))
            if " ip address " in text and system in names and names <= {system, node}:
                break
            assert time.monotonic() < deadline, f"{node}: FRR did not come back as {system}"
            time.sleep(0.2)

    become(name)
    try:
        yield
    finally:
        become(node)
