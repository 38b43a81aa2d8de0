"""The governed build against real FRR routers: the example, rollback, blocked dependents,
errors the peers miss, unreachable and slow hosts, kill -9 + recover, concurrent builds.

Every test starts from the routers' base configs (hostname + addresses) and asserts the exact
device state afterwards on the routers themselves (vtysh in the router's namespace).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sdd_build import lab
from sdd_build.execute import private
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import (
    copy_repo,
    private_triangle,
    reset_router,
    running,
    sdd,
    strip_volatile,
)

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
DESIGN_REL = "designs/ospf-underlay/solution-design.yaml"
NODES = ("r1", "r2", "r3")


SUBS = ("templates", "parsers", "inventory", "designs/ospf-underlay")


def _copy_repo(root: Path, src: Path = REPO) -> None:
    """Tracked files only (never the checkout's builds, baseline, approvals or audit log), and
    a lab name of its own per run: concurrent test runs never share routers."""
    copy_repo(root, SUBS, src)
    private_triangle(root, "bld")


@pytest.fixture(scope="module")
def build_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    """A private repository with its own lab 'bld' (r1-r3), up for the whole module."""
    require_lab()
    root = tmp_path_factory.mktemp("buildrepo")
    _copy_repo(root)
    topo = root / "labs/triangle.clab.yml"
    handle = lab.up(topo, wait=False, timeout=60)
    try:
        yield root, handle
    finally:
        lab.down(topo)


@pytest.fixture
def repo(build_repo: tuple[Path, LabHandle]) -> Iterator[tuple[Path, LabHandle]]:
    """Per test: base configs on the routers, no approvals, no builds, no audit log."""
    root, handle = build_repo
    base = {n: running(handle, n) for n in NODES}
    yield root, handle
    for sub in ("templates", "parsers", "inventory", "designs", "audit"):
        shutil.rmtree(root / sub, ignore_errors=True)
    copy_repo(root, SUBS)
    for node in NODES:
        handle.impair(node, sshd="start")
    _reset_routers(root, handle, base)


def _reset_routers(root: Path, handle: LabHandle, base: dict[str, str]) -> None:
    """Each router back to ``base`` with FRR's own frr-reload.py (not the code tested)."""
    for node, config in base.items():
        reset_router(handle, node, config, root)


def approve(root: Path) -> None:
    spec = sdd(
        root,
        "approve",
        "designs/ospf-underlay/customer-spec.md",
        "--gate",
        "spec",
        "--by",
        "a.lead",
    )
    assert spec.returncode == 0, spec.stderr
    design = sdd(root, "approve", DESIGN_REL, "--gate", "design", "--by", "a.lead")
    assert design.returncode == 0, design.stderr


def build(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return sdd(root, "build", DESIGN_REL, "--lab", "labs/triangle.clab.yml", *extra)


def last_record(root: Path) -> dict:  # type: ignore[type-arg]
    builds = sorted((root / "designs/ospf-underlay/builds").glob("*/as-built.json"))
    assert builds, "no as-built record written"
    return json.loads(builds[-1].read_text())


def statuses(record: dict, host: str) -> dict[str, str]:  # type: ignore[type-arg]
    return {c["id"]: c["hosts"][host]["status"] for c in record["components"] if host in c["hosts"]}


def test_example_builds_leaf_first_with_all_checks_green(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    approve(root)
    proc = build(root)
    assert proc.returncode == 0, proc.stderr
    record = last_record(root)
    assert record["result"] == "as_designed"
    assert record["deviations"] == []
    assert set(statuses(record, "r1").values()) == {"built"}
    checks = [
        c for comp in record["components"] for h in comp["hosts"].values() for c in h["checks"]
    ]
    assert len(checks) == 9
    assert all(c["passed"] for c in checks)
    # The routers really run what the design says.
    for node in NODES:
        neighbours = handle.hosts[node].vtysh("show ip ospf neighbor")
        assert neighbours.count("Full/") == 2, neighbours
        assert " ip ospf network point-to-point" in running(handle, node)
    # Leaf-first: the journal applied configs before any verification ran.
    journal = root / "designs/ospf-underlay/builds" / record["build_id"] / "journal.jsonl"
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events[0] == "build_started"
    assert events[-1] == "build_finished"
    # No secret of the lab inventory anywhere in the record.
    secrets = [n.password for n in handle.hosts.values()] + [
        n.shell_password for n in handle.hosts.values()
    ]
    for path in (root / "designs/ospf-underlay/builds").rglob("*"):
        if path.is_file() and "private" not in path.parts:
            text = path.read_text(errors="replace")
            assert not any(s in text for s in secrets if s), f"secret in {path}"
    # A second build is idempotent: nothing changes, still as designed.
    again = build(root)
    assert again.returncode == 0, again.stderr
    assert all(
        not h["changed"] for c in last_record(root)["components"] for h in c["hosts"].values()
    )


@pytest.mark.parametrize(
    ("bad_line", "device_words"),
    [
        (" ip ospf bogus-option 7", "% Unknown command"),
        (" ip ospf cost", "% Command incomplete"),
        (" ip ospf a 0.0.0.0", "% Ambiguous command"),
    ],
)
@pytest.mark.parametrize("via", ["napalm", "netmiko"])
def test_rejected_line_rolls_back_and_blocks_dependents(
    repo: tuple[Path, LabHandle], bad_line: str, device_words: str, via: str
) -> None:
    """The errors Netmiko and Ansible report as success: a failed apply with FRR's words, on
    either path (Netmiko's own send_config_set, given FRR's refusal patterns, stops too)."""
    root, handle = repo
    template = root / "templates/frr/ospf_process.j2"
    template.write_text(template.read_text() + f"interface eth1\n{bad_line}\nexit\n")
    golden = root / "designs/ospf-underlay/fixtures/r2.ospf_process.cfg"
    golden.write_text(golden.read_text() + f"interface eth1\n{bad_line}\nexit\n")
    before = {n: strip_volatile(running(handle, n)) for n in NODES}
    approve(root)
    proc = build(root, "--path", via)
    assert proc.returncode == 1, proc.stderr
    record = last_record(root)
    assert record["result"] == "failed"
    failed = [d for d in record["deviations"] if d["class"] == "apply_failed"]
    assert {d["host"] for d in failed} == set(NODES)
    assert all(device_words in d["reason"] for d in failed), failed
    assert any(d["class"] == "rolled_back" for d in record["deviations"])
    for node in NODES:
        st = statuses(record, node)
        assert st["ospf-process"] == "failed"
        assert st["verify-router-id"] == "blocked"
        assert st["underlay"] == "blocked"
        # Exactly the pre-build config on the router: the rollback held.
        assert strip_volatile(running(handle, node)) == before[node]


def _outcome(record: dict) -> dict:  # type: ignore[type-arg]
    """An as-built record without its timings, ids and raw outputs: the result, every
    deviation's class/component/host/expected/actual, per component and host its status,
    whether it changed and its checks' verdicts."""
    return {
        "result": record["result"],
        "hosts": {h: s.get("state") for h, s in record["hosts"].items()},
        "deviations": sorted(
            (
                d["class"],
                d["component"] or "",
                d["host"] or "",
                str(d["expected"]),
                str(d["actual"]),
            )
            for d in record["deviations"]
        ),
        "components": {
            c["id"]: {
                h: (
                    v["status"],
                    v["changed"],
                    [(k["check_id"], k["passed"], k["found"]) for k in v["checks"]],
                )
                for h, v in c["hosts"].items()
            }
            for c in record["components"]
        },
    }


def _diffs(root: Path, record: dict) -> dict[str, str]:  # type: ignore[type-arg]
    bdir = root / "designs/ospf-underlay/builds" / record["build_id"]
    return {str(p.relative_to(bdir)): p.read_text() for p in sorted(bdir.glob("evidence/*/*.diff"))}


def test_netmiko_path_builds_the_example_as_the_napalm_path_does(
    repo: tuple[Path, LabHandle],
) -> None:
    """Issue 13 item 3: FRR driven through Netmiko alone (send_config_set, remediation by
    FRR's own logic) builds the shipped example with the same as-built result and leaves the
    same running configs (vtysh, in each router's namespace) as the NAPALM path."""
    root, handle = repo
    base = {n: running(handle, n) for n in NODES}
    approve(root)
    by_napalm = build(root, "--path", "napalm")
    assert by_napalm.returncode == 0, by_napalm.stderr
    napalm_record = last_record(root)
    napalm_configs = {n: strip_volatile(running(handle, n)) for n in NODES}
    _reset_routers(root, handle, base)
    by_netmiko = build(root, "--path", "netmiko")
    assert by_netmiko.returncode == 0, by_netmiko.stderr
    netmiko_record = last_record(root)
    assert netmiko_record["build_id"] != napalm_record["build_id"]
    assert netmiko_record["result"] == "as_designed"
    assert _outcome(netmiko_record) == _outcome(napalm_record)
    assert _diffs(root, netmiko_record) == _diffs(root, napalm_record)  # the same remediation
    assert {n: strip_volatile(running(handle, n)) for n in NODES} == napalm_configs
    for node in NODES:
        assert " ip ospf network point-to-point" in napalm_configs[node]
    # idempotent on this path too: a second build changes nothing
    again = build(root, "--path", "netmiko")
    assert again.returncode == 0, again.stderr
    assert all(
        not h["changed"] for c in last_record(root)["components"] for h in c["hosts"].values()
    )


def test_failing_acceptance_check_is_recorded_and_rolled_back(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    design = root / DESIGN_REL
    design.write_text(
        design.read_text().replace(
            'eq: "{{ host.data.loopback | ip_address }}"', 'eq: "10.99.99.99"'
        )
    )
    before = {n: strip_volatile(running(handle, n)) for n in NODES}
    approve(root)
    proc = build(root)
    assert proc.returncode == 1
    record = last_record(root)
    failed = [d for d in record["deviations"] if d["class"] == "acceptance_failed"]
    assert {d["host"] for d in failed} == set(NODES)
    assert failed[0]["expected"] == "10.99.99.99"
    assert failed[0]["actual"] in {"10.0.0.1", "10.0.0.2", "10.0.0.3"}
    for node in NODES:
        assert statuses(record, node)["ospf-interfaces"] == "rolled_back"
        assert strip_volatile(running(handle, node)) == before[node]


def test_unreachable_host_is_a_deviation_and_others_go_on(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    approve(root)
    handle.impair("r2", sshd="stop")
    before_r2 = strip_volatile(running(handle, "r2"))
    proc = build(root)
    assert proc.returncode == 1
    record = last_record(root)
    unreachable = [d for d in record["deviations"] if d["class"] == "unreachable"]
    assert [d["host"] for d in unreachable] == ["r2"]
    assert set(statuses(record, "r2").values()) == {"blocked"}
    # r1 and r3 were configured (then their checks judged the missing neighbour).
    assert statuses(record, "r1")["ospf-interfaces"] in ("built", "rolled_back")
    assert strip_volatile(running(handle, "r2")) == before_r2


def test_dry_run_changes_nothing_and_shows_diffs(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    approve(root)
    before = {n: running(handle, n) for n in NODES}
    proc = build(root, "--check")
    assert proc.returncode == 0, proc.stderr
    record = last_record(root)
    assert record["mode"] == "check"
    assert all(record["hosts"][n]["unchanged"] for n in NODES)
    diff = (
        root / "designs/ospf-underlay/builds" / record["build_id"] / "evidence/r1/ospf-process.diff"
    )
    assert "+ ospf router-id 10.0.0.1" in diff.read_text().replace("+  ", "+ ")
    for node in NODES:
        assert running(handle, node) == before[node]


def test_kill_minus_9_then_recover(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    approve(root)
    before = {n: strip_volatile(running(handle, n)) for n in NODES}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdd_build", "build", DESIGN_REL, "--lab", "labs/triangle.clab.yml"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    builds = root / "designs/ospf-underlay/builds"
    deadline = time.monotonic() + 60
    journal: Path | None = None
    while time.monotonic() < deadline:
        found = list(builds.glob("*/journal.jsonl")) if builds.is_dir() else []
        text = found[0].read_text() if found else ""
        # hosts run concurrently: a commit on one host says nothing of r1's backup (checked
        # below); wait for both, so a slow login to r1 under load is not a failure
        if "apply_committed" in text and '"event": "host_backup", "host": "r1"' in text:
            journal = found[0]
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert journal is not None, "the build never committed anything"
    build_id = journal.parent.name
    # The backups a restore needs hold device secrets: outside the repository, never builds/.
    assert not list(builds.rglob("private")), "a private/ folder under builds/"
    backup = private.backup_path(root, build_id, "r1")
    assert "hostname r1" in backup.read_text()
    assert root.resolve() not in backup.resolve().parents
    # The next build refuses to start blind and names the unfinished one.
    refused = build(root)
    assert refused.returncode == 3
    assert build_id in refused.stderr
    recovered = build(root, "--recover", build_id)
    assert recovered.returncode == 1, recovered.stderr
    record = json.loads((journal.parent / "as-built.json").read_text())
    assert record["mode"] == "recover"
    assert any(d["class"] == "rolled_back" for d in record["deviations"])
    for node in NODES:
        assert strip_volatile(running(handle, node)) == before[node]
    # Closed: a new build may start.
    assert build(root).returncode == 0


def test_two_builds_of_one_design_at_once(repo: tuple[Path, LabHandle]) -> None:
    root, _handle = repo
    approve(root)
    first = subprocess.Popen(
        [sys.executable, "-m", "sdd_build", "build", DESIGN_REL, "--lab", "labs/triangle.clab.yml"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    lock = root / "designs/ospf-underlay/builds/.lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (lock.is_file() and lock.read_text()):
        time.sleep(0.05)
    second = build(root)
    _out, first_err = first.communicate(timeout=240)
    assert second.returncode == 3, second.stderr
    assert "another build of design 'ospf-underlay' is running" in second.stderr
    assert first.returncode == 0, first_err


class _SlowProxy:
    """A TCP proxy on loopback that delays every chunk in both directions: a slow management
    link, without netem (this kernel has no sch_netem)."""

    def __init__(self, target_port: int, delay_s: float) -> None:
        self.delay_s = delay_s
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                data = src.recv(65536)
                if not data:
                    break
                time.sleep(self.delay_s)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.close()

    def close(self) -> None:
        self._stop.set()
        self.server.close()


def _inventory_through(root: Path, handle: LabHandle, ports: dict[str, int]) -> Path:
    """A full inventory (design data + the lab's logins) whose SSH goes through ``ports``."""
    lab_hosts = yaml.safe_load((handle.inventory_dir / "hosts.yaml").read_text())
    design_hosts = yaml.safe_load((root / "inventory/hosts.yaml").read_text())
    inv = root / "slow-inventory"
    inv.mkdir(exist_ok=True)
    for name, entry in design_hosts.items():
        lab = lab_hosts[name]
        entry.update({k: lab[k] for k in ("username", "password", "platform") if k in lab})
        entry["port"] = ports[name]
        conn = lab.get("connection_options", {})
        for plugin in conn.values():
            optional = (plugin.get("extras") or {}).get("optional_args")
            if optional and "port" in optional:
                optional["port"] = ports[name]
        entry["connection_options"] = conn
    (inv / "hosts.yaml").write_text(yaml.safe_dump(design_hosts))
    for extra in ("groups.yaml", "defaults.yaml"):
        shutil.copy(root / "inventory" / extra, inv / extra)
    return inv


def test_slow_link_within_and_beyond_the_timeout(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    design = root / DESIGN_REL
    design.write_text(design.read_text().replace("timeout_s: 30\n", "timeout_s: 4\n"))
    approve(root)
    slow = {n: _SlowProxy(handle.hosts[n].port, 0.02) for n in NODES}
    try:
        # Within: 20 ms per chunk on every management path slows the build, nothing fails.
        inv = _inventory_through(root, handle, {n: p.port for n, p in slow.items()})
        within = sdd(root, "build", DESIGN_REL, "--inventory", str(inv))
        assert within.returncode == 0, within.stderr
        # Beyond: 6 s per chunk on r1 exceeds the 4 s operation timeout: r1 is unreachable,
        # recorded as such, and the build ends in bounded time.
        slow["r1"].close()
        slow["r1"] = _SlowProxy(handle.hosts["r1"].port, 6.0)
        inv = _inventory_through(root, handle, {n: p.port for n, p in slow.items()})
        started = time.monotonic()
        beyond = sdd(root, "build", DESIGN_REL, "--inventory", str(inv))
        elapsed = time.monotonic() - started
    finally:
        for proxy in slow.values():
            proxy.close()
    assert beyond.returncode == 1
    record = last_record(root)
    assert [d["host"] for d in record["deviations"] if d["class"] == "unreachable"] == ["r1"]
    assert elapsed < 120


def test_baseline_then_drift_after_a_manual_change(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    approve(root)
    assert build(root).returncode == 0
    baseline = json.loads((root / "designs/ospf-underlay/baseline.json").read_text())
    assert baseline["build_id"] == last_record(root)["build_id"]
    clean = sdd(root, "drift", DESIGN_REL, "--lab", "labs/triangle.clab.yml", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr  # the deviations, if any
    assert json.loads(clean.stdout)["deviations"] == []
    handle.hosts["r2"].vtysh("configure terminal", "interface eth1", "ip ospf cost 77")
    drifted = sdd(root, "drift", DESIGN_REL, "--lab", "labs/triangle.clab.yml", "--json")
    assert drifted.returncode == 1
    devs = json.loads(drifted.stdout)["deviations"]
    assert [(d["host"], d["class"], d["actual"]) for d in devs] == [
        ("r2", "unexpected_change", "interface eth1 / ip ospf cost 77")
    ]


def test_waived_check_is_recorded_not_rolled_back(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    design = root / DESIGN_REL
    design.write_text(
        design.read_text().replace(
            'eq: "{{ host.data.loopback | ip_address }}"', 'eq: "10.99.99.99"'
        )
    )
    approve(root)
    waived = sdd(
        root,
        "waive",
        DESIGN_REL,
        "--check",
        "AC-3",
        "--by",
        "ops.lead",
        "--reason",
        "router-id migration tracked in CHG-42",
    )
    assert waived.returncode == 0, waived.stderr
    proc = build(root)
    assert proc.returncode == 0, proc.stderr
    record = last_record(root)
    assert record["result"] == "with_deviations"
    assert {d["class"] for d in record["deviations"]} == {"waived"}
    assert set(statuses(record, "r1").values()) == {"built"}
    assert "ospf router-id 10.0.0.1" in running(handle, "r1")
    assert (root / "designs/ospf-underlay/baseline.json").is_file()


def test_pytest_plugin_runs_the_layered_tests(repo: tuple[Path, LabHandle]) -> None:
    root, _handle = repo
    approve(root)
    empty = root / "empty-tests"
    empty.mkdir(exist_ok=True)
    junit = root / "junit.xml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(empty),
            str(empty),
            "--sdd-design",
            DESIGN_REL,
            "--sdd-lab",
            "labs/triangle.clab.yml",
            "--junitxml",
            str(junit),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "14 passed" in proc.stdout
    text = junit.read_text()
    assert 'tests="14"' in text
    assert "device/L3/verify-ospf-neighbors/AC-1[r1]" in text


def test_day2_walkthrough_from_baseline_to_new_baseline(repo: tuple[Path, LabHandle]) -> None:
    """designs/core-bgp extends ospf-underlay: baseline -> diff -> approval -> build -> baseline."""
    root, handle = repo
    copy_repo(root, ["designs/core-bgp"])
    approve(root)
    assert build(root).returncode == 0
    day2 = "designs/core-bgp/solution-design.yaml"
    diff = sdd(root, "diff", day2, "--json")
    assert diff.returncode == 0, diff.stderr
    delta = json.loads(diff.stdout)
    assert delta["components"]["changed"] == []
    assert "bgp-peering" in delta["components"]["added"]
    assert "ospf-interfaces" in delta["components"]["unchanged"]
    assert "+router bgp 65001" in delta["config_delta"]["r1"]
    assert delta["gates"]["ok"] is False  # a new design needs its own approval
    refused = sdd(root, "build", day2, "--lab", "labs/triangle.clab.yml")
    assert refused.returncode == 3
    for artifact, gate in (("designs/core-bgp/customer-spec.md", "spec"), (day2, "design")):
        assert sdd(root, "approve", artifact, "--gate", gate, "--by", "a.lead").returncode == 0
    built = sdd(root, "build", day2, "--lab", "labs/triangle.clab.yml")
    assert built.returncode == 0, built.stderr
    baseline = json.loads((root / "designs/core-bgp/baseline.json").read_text())
    assert baseline["design"]["id"] == "core-bgp"
    summary = json.loads(handle.hosts["r1"].vtysh("show bgp summary json"))
    assert {p["state"] for p in summary["ipv4Unicast"]["peers"].values()} == {"Established"}
    again = sdd(root, "diff", day2, "--json")
    assert json.loads(again.stdout)["components"]["added"] == []
    # The shipped examples survive each other (issue 11 item 9): with the loopbacks now learnt
    # over eBGP (distance 20, selected), the underlay's REQ-2 check still asks what REQ-2
    # means (OSPF has the routes) and a rebuild of the underlay reports no failure.
    r1_routes = json.loads(handle.hosts["r1"].vtysh("show ip route 10.0.0.2/32 json"))
    assert {e["protocol"] for e in r1_routes["10.0.0.2/32"] if e.get("selected")} == {"bgp"}
    rebuilt = build(root)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    record = last_record(root)
    assert record["result"] == "as_designed", record["result"]
    ac2 = {
        h: [c["passed"] for c in r["checks"]]
        for comp in record["components"]
        if comp["id"] == "verify-ospf-routes"
        for h, r in comp["hosts"].items()
    }
    assert ac2 == {key: [True] for key in NODES}, ac2


def test_rewritten_line_is_classified_and_every_format_is_written(
    repo: tuple[Path, LabHandle],
) -> None:
    """FRR numbers prefix-list entries itself: the line is stored in another form."""
    root, _handle = repo
    line = "ip prefix-list SDD-LOOPBACKS permit 10.0.0.0/24 le 32\n"
    for rel in (
        "templates/frr/ospf_process.j2",
        "designs/ospf-underlay/fixtures/r2.ospf_process.cfg",
    ):
        path = root / rel
        path.write_text(path.read_text() + line)
    approve(root)
    proc = build(root)
    assert proc.returncode == 1, proc.stderr
    record = last_record(root)
    assert record["result"] == "with_deviations"
    rewritten = [d for d in record["deviations"] if d["class"] == "rewritten_line"]
    assert {d["host"] for d in rewritten} == set(NODES)
    assert all(
        d["expected"] == "ip prefix-list SDD-LOOPBACKS permit 10.0.0.0/24 le 32"
        and d["actual"] == "ip prefix-list SDD-LOOPBACKS seq 5 permit 10.0.0.0/24 le 32"
        for d in rewritten
    )
    bdir = root / "designs/ospf-underlay/builds" / record["build_id"]
    for name in ("as-built.json", "as-built.md", "report.html", "junit.xml"):
        assert (bdir / name).is_file(), name
    assert "rewritten_line" in (bdir / "as-built.md").read_text()
    assert not (root / "designs/ospf-underlay/baseline.json").exists()


def test_host_outside_targets_is_never_touched(repo: tuple[Path, LabHandle]) -> None:
    root, handle = repo
    design = root / DESIGN_REL
    design.write_text(design.read_text().replace("  groups: [core]\n", "  hosts: [r1]\n", 1))
    design.write_text(design.read_text().replace("{{ host.data.ospf_peers }}", "0"))
    design.write_text(design.read_text().replace("gte: 3}", "gte: 0}"))
    before = {n: running(handle, n) for n in ("r2", "r3")}
    approve(root)
    proc = build(root)
    assert proc.returncode == 0, proc.stderr
    record = last_record(root)
    assert set(record["hosts"]) == {"r1"}
    assert " ip ospf network point-to-point" in running(handle, "r1")
    for node, config in before.items():
        assert running(handle, node) == config


def test_discover_after_gate1_only(repo: tuple[Path, LabHandle]) -> None:
    root, _handle = repo
    spec = "designs/ospf-underlay/customer-spec.md"
    refused = sdd(root, "discover", spec, "--lab", "labs/triangle.clab.yml")
    assert refused.returncode == 3
    assert "not approved" in refused.stderr
    assert not (root / "designs/ospf-underlay/feasibility.json").exists()
    assert sdd(root, "approve", spec, "--gate", "spec", "--by", "a.lead").returncode == 0
    found = sdd(root, "discover", DESIGN_REL, "--lab", "labs/triangle.clab.yml")
    assert found.returncode == 0, found.stderr
    feas = json.loads((root / "designs/ospf-underlay/feasibility.json").read_text())
    assert feas["hosts"]["r1"]["facts"]["vendor"] == "FRRouting"
    assert feas["hosts"]["r1"]["facts"]["os_version"].startswith("8.")
    assert "interface eth1" in feas["hosts"]["r1"]["existing_sections"]
    assert "router ospf" in feas["hosts"]["r1"]["new_sections"]
    assert any(
        c["asset"] == "parsers/frr/show_ip_ospf_neighbor.textfsm" for c in feas["reuse_candidates"]
    )
    assert "## Reuse candidates" in (root / "designs/ospf-underlay/feasibility.md").read_text()


def test_validate_and_plan_with_a_lab_keep_the_design_data(repo: tuple[Path, LabHandle]) -> None:
    """--lab says how to reach hosts; the rendered config still comes from the design data."""
    root, _handle = repo
    valid = sdd(root, "validate", DESIGN_REL, "--lab", "labs/triangle.clab.yml")
    assert valid.returncode == 0, valid.stderr
    plan = sdd(root, "plan", DESIGN_REL, "--lab", "labs/triangle.clab.yml", "--json")
    assert plan.returncode == 0, plan.stderr
    assert "ospf router-id 10.0.0.1" in json.loads(plan.stdout)["rendered"]["r1"]["ospf-process"]
    down = sdd(root, "validate", DESIGN_REL, "--lab", "labs/nope.clab.yml")
    assert down.returncode == 2
    assert "Traceback" not in down.stderr


def _example_commands() -> list[list[str]]:
    """The sdd-build commands of the Makefile's ``example`` job (the README's first command),
    variables expanded; ``lab up`` is left out (this module's lab is already up)."""
    text = (REPO / "Makefile").read_text()
    vars_ = dict(re.findall(r"^(\w+) \?= (.+)$", text, re.M))
    recipe = text.split("\nexample:", 1)[1].split("\n\n", 1)[0]
    commands = []
    for raw in recipe.splitlines()[1:]:
        line = re.sub(r"\$\((\w+)\)", lambda m: vars_[m.group(1)], raw.strip())
        if line.startswith("sdd-build ") and " lab up " not in line:
            commands.append(shlex.split(line)[1:])
    return commands


def test_readme_commands_in_order_leave_the_tests_copy_unpolluted(
    repo: tuple[Path, LabHandle], tmp_path: Path
) -> None:
    """README: ``make … example`` then ``make … test``. The example writes builds, a baseline,
    approvals and an audit log into the user's checkout; the test repositories copied from that
    checkout must hold none of them (issue 11, item 0)."""
    root, _ = repo
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root)]
    try:
        subprocess.run([*git, "init", "-q"], check=True, timeout=30)
        subprocess.run([*git, "add", "."], check=True, timeout=30)
        subprocess.run([*git, "commit", "-qm", "checkout"], check=True, timeout=30)
        commands = _example_commands()
        assert [c[0] for c in commands] == ["validate", "plan", "approve", "approve", "build"]
        for command in commands:
            proc = sdd(root, *command)
            assert proc.returncode == 0, (command, proc.stdout + proc.stderr)
        written = [
            root / "designs/ospf-underlay/baseline.json",
            root / "designs/ospf-underlay/builds",
            root / "designs/ospf-underlay/approvals",
            root / "audit",
        ]
        assert all(p.exists() for p in written), [p for p in written if not p.exists()]
        # What every test module does with the checkout (tests/labkit.py copy_repo):
        dest = tmp_path / "copy"
        _copy_repo(dest, src=root)
        left = [p.relative_to(root) for p in written if (dest / p.relative_to(root)).exists()]
        assert left == []
        assert (dest / DESIGN_REL).is_file()
    finally:
        shutil.rmtree(root / ".git", ignore_errors=True)
