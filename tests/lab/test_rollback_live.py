"""A restore that never lies (Trust II items 1 and 5), on real FRR 8.4 routers.

A private triangle with bfdd, each router starting with ``bfd / profile core`` at FRR's
defaults. The design ``bfd-timers`` pushes ``receive-interval 200`` into that profile (FRR 8.4
cannot negate it: ``no receive-interval 200`` and ``no receive-interval`` are ``% Unknown
command``) plus an OSPF process, then a BFD check that fails (this lab has no BFD peer), so
every build rolls back. Each test asserts the routers' running configs read with vtysh in
their namespaces, and the record: never ``rolled_back`` unless the device equals its backup.

Faults: zebra killed during the build (vtysh then prints ``Warning: connecting to
zebra...failed!``), zebra down before the build (the backup would be incomplete), the SSH
session cut (sshd stopped and the session's vtysh killed), ospfd killed during the checks;
then ``sdd-build rollback <build-id>`` repairs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import copy_repo, private_triangle, running, sdd, strip_volatile

pytestmark = pytest.mark.lab

NODES = ("r1", "r2", "r3")
DESIGN = "designs/bfd-timers/solution-design.yaml"
PROFILE = "bfd\n profile core\n exit\n!\n"

SPEC = """# Faster BFD on the core

## Requirements

- REQ-1: Every core router runs OSPF and BFD with a 200 ms receive interval on its core
  profile, with at least one BFD peer up.
"""

SOLUTION = """design: bfd-timers
version: 1
author: j.doe
description: A faster receive interval on the core BFD profile, and the OSPF process.
spec: customer-spec.md
targets:
  groups: [core]
components:
  - id: bfd-profile
    kind: config_template
    template: frr/bfd_profile.j2
  - id: ospf-process
    kind: config_template
    template: frr/ospf_process.j2
  - id: vtysh-json
    kind: parser
    engine: json
  - id: verify-bfd
    kind: command_template
    commands: ["show bfd peers json"]
    parser: vtysh-json
    depends_on: [bfd-profile, ospf-process]
    wait: {timeout_s: WAIT, interval_s: 1}
    acceptance:
      - id: AC-1
        covers: [REQ-1]
        description: At least one BFD peer (this lab has none; the check fails).
        expect: {query: "length(@)", gte: 1}
build:
  strategy: merge
  rollback: on_failure
  workers: 3
  timeout_s: 20
"""

TEMPLATE = """{# The core BFD profile's receive interval (FRR's default is 300 ms). #}
bfd
 profile core
  receive-interval 200
 exit
exit
"""


@pytest.fixture(scope="module")
def bfd_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    """A private triangle with bfdd and ``bfd / profile core`` in every startup config."""
    require_lab()
    work = tmp_path_factory.mktemp("rollback-lab")
    topo = private_triangle(work, prefix="rb")
    topo.write_text(
        topo.read_text().replace("sdd.daemons: bgpd,ospfd,staticd", "sdd.daemons: ospfd,bfdd")
    )
    for node in NODES:
        conf = work / "labs/triangle" / f"{node}.conf"
        conf.write_text(conf.read_text() + PROFILE)
    handle = lab.up(topo, wait=False, timeout=90)
    try:
        yield topo, handle
    finally:
        lab.down(topo)


def _daemons_up(handle: LabHandle) -> None:
    for node in NODES:
        handle.impair(node, sshd="start")
        for daemon in ("zebra", "ospfd", "bfdd"):
            handle.impair(node, daemon=daemon, daemon_action="start")


def _reset(handle: LabHandle, base: dict[str, str]) -> None:
    """Back to the base configs with plain vtysh commands (independent of the code tested)."""
    _daemons_up(handle)
    for node in NODES:
        handle.hosts[node].vtysh(
            "configure terminal",
            "bfd",
            "profile core",
            "receive-interval 300",
            "exit",
            "exit",
            "no router ospf",
            "end",
            check=False,
        )
        assert strip_volatile(running(handle, node)) == base[node], f"reset of {node}"


@pytest.fixture
def repo(
    bfd_lab: tuple[Path, LabHandle], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Path, Path, LabHandle]]:
    """Per test: a repository with the approved design, the routers at their base configs."""
    topo, handle = bfd_lab
    _daemons_up(handle)
    base = {n: strip_volatile(running(handle, n)) for n in NODES}
    assert all(PROFILE.splitlines()[1] in base[n] for n in NODES), base
    root = tmp_path / "repo"
    copy_repo(root, ["templates", "parsers", "inventory"])
    (root / "templates/frr/bfd_profile.j2").write_text(TEMPLATE)
    design_dir = root / "designs/bfd-timers"
    design_dir.mkdir(parents=True)
    (design_dir / "customer-spec.md").write_text(SPEC)
    wait = getattr(request, "param", 1)
    (design_dir / "solution-design.yaml").write_text(SOLUTION.replace("WAIT", str(wait)))
    for artifact, gate in (("designs/bfd-timers/customer-spec.md", "spec"), (DESIGN, "design")):
        done = sdd(root, "approve", artifact, "--gate", gate, "--by", "a.lead")
        assert done.returncode == 0, done.stderr
    yield root, topo, handle
    _reset(handle, base)


def _record(root: Path) -> tuple[Path, dict[str, Any]]:
    found = sorted((root / "designs/bfd-timers/builds").glob("*/as-built.json"))
    assert found, "no as-built record"
    return found[-1].parent, json.loads(found[-1].read_text())


def _classes(record: dict[str, Any], host: str) -> list[str]:
    return [d["class"] for d in record["deviations"] if d["host"] == host]


def _written(root: Path, state_dir: Path) -> dict[Path, str]:
    """Every byte the build wrote: the repository and the private backups."""
    files = [p for p in root.rglob("*") if p.is_file()]
    files += [p for p in state_dir.rglob("*") if p.is_file()]
    return {p: p.read_text(errors="replace") for p in files}


#: every test runs on both configuration paths (issue 13 item 3): NAPALM (napalm_frr) and
#: Netmiko alone (send_config_set with FRR's refusal patterns)
VIA = pytest.mark.parametrize("via", ["napalm", "netmiko"])


def _start_build(root: Path, topo: Path, via: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sdd_build", "build", DESIGN, "--lab", str(topo), "--path", via],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _wait_for_checks(root: Path, host: str, build: subprocess.Popen[str]) -> Path:
    """Block until ``host`` runs its BFD check (its first output is on disk)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = list(root.glob(f"designs/bfd-timers/builds/*/evidence/{host}/verify-bfd.0.raw.txt"))
        if found:
            return found[0].parents[2]
        assert build.poll() is None, build.communicate()
        time.sleep(0.05)
    raise AssertionError("the build never reached its checks")


def _cut_ssh(handle: LabHandle, node: str) -> None:
    """Stop the router's sshd and kill the vtysh of every SSH session to it (by pid)."""
    handle.impair(node, sshd="stop")
    instance = handle.hosts[node].frr_instance
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
            parent_argv = Path(f"/proc/{parent}/cmdline").read_bytes()
        except OSError:
            continue
        if argv[0].endswith(b"vtysh") and instance.encode() in argv and b"sshd" in parent_argv:
            os.kill(pid, signal.SIGKILL)


@VIA
def test_bfd_interval_frr_cannot_negate_is_restored_and_verified(
    repo: tuple[Path, Path, LabHandle], private_state_dir: Path, via: str
) -> None:
    """The Trust II finding: 'no receive-interval 200' is '% Unknown command'; the restore
    sets FRR's default (learnt from the device's YANG) and the read-back proves it."""
    root, topo, handle = repo
    before = {n: strip_volatile(running(handle, n)) for n in NODES}
    proc = sdd(root, "build", DESIGN, "--lab", str(topo), "--path", via)
    assert proc.returncode == 1, proc.stderr
    bdir, record = _record(root)
    for node in NODES:
        assert strip_volatile(running(handle, node)) == before[node]  # vtysh, in the netns
        assert "rolled_back" in _classes(record, node)
        assert "rollback_failed" not in _classes(record, node)
        assert record["hosts"][node]["state"] == "restored"
        restore = json.loads((bdir / "evidence" / node / "restore.json").read_text())
        assert restore["verified"] is True
        sent = [(a["strategy"], a["commands"], a["refused"]) for a in restore["attempts"]]
        refused = [r for _s, _c, rs in sent for r in rs]
        assert any("no receive-interval 200: % Unknown command" in r for r in refused), sent
        assert (
            "default",
            ["bfd", "profile core", "receive-interval 300", "exit", "exit"],
            [],
        ) in sent
    assert record["attention"] == []
    statuses = {c["id"]: c["hosts"]["r1"]["status"] for c in record["components"] if c["hosts"]}
    assert statuses["bfd-profile"] == "rolled_back"


@VIA
@pytest.mark.parametrize("repo", [12], indirect=True)
def test_zebra_killed_mid_build_no_warning_becomes_config(
    repo: tuple[Path, Path, LabHandle], private_state_dir: Path, via: str
) -> None:
    """zebra dies while r2 runs its checks: vtysh's warning never becomes a config line (in
    no backup, candidate, diff or restore), r2 is recorded changed with an unknown state,
    and `sdd-build rollback` repairs it once zebra is back."""
    root, topo, handle = repo
    before = {n: strip_volatile(running(handle, n)) for n in NODES}
    build = _start_build(root, topo, via)
    bdir = _wait_for_checks(root, "r2", build)
    handle.impair("r2", daemon="zebra", daemon_action="stop")
    _out, err = build.communicate(timeout=240)
    assert build.returncode == 1, err
    _bdir, record = _record(root)
    assert "rollback_failed" in _classes(record, "r2")
    assert "rolled_back" not in _classes(record, "r2")
    assert record["hosts"]["r2"]["state"] == "changed"
    assert [a["host"] for a in record["attention"]] == ["r2"]
    assert "zebra" in next(
        d["reason"] for d in record["deviations"] if d["class"] == "rollback_failed"
    )
    assert "ROLLBACK FAILED" in err
    for node in ("r1", "r3"):
        assert strip_volatile(running(handle, node)) == before[node]
    for path, text in _written(root, private_state_dir).items():
        assert "connecting to zebra" not in text, path
        assert "no Warning" not in text, path
    # zebra back: frrinit.sh restarts the instance's daemons from the saved config, so what
    # is left is FRR's business; the retry reads it and records what it finds
    handle.impair("r2", daemon="zebra", daemon_action="start")
    repaired = sdd(root, "rollback", bdir.name, "--lab", str(topo), "--path", via)
    assert repaired.returncode == 0, repaired.stderr
    assert strip_volatile(running(handle, "r2")) == before["r2"]
    _bdir, record = _record(root)
    assert record["hosts"]["r2"]["state"] == "restored"
    assert record["attention"] == []
    assert record["rollbacks"][-1]["hosts"]["r2"]["verified"] is True
    assert "ROLLBACK FAILED" not in (bdir / "as-built.md").read_text()


@VIA
def test_backup_read_while_zebra_is_down_is_refused(
    repo: tuple[Path, Path, LabHandle], private_state_dir: Path, via: str
) -> None:
    """A daemon down before the build: vtysh leaves its part out silently; no backup is
    taken, nothing is pushed to that host, and the record says why."""
    root, topo, handle = repo
    handle.impair("r3", daemon="zebra", daemon_action="stop")
    before_r3 = running(handle, "r3")
    proc = sdd(root, "build", DESIGN, "--lab", str(topo), "--path", via)
    assert proc.returncode == 1, proc.stderr
    _bdir, record = _record(root)
    reasons = [d["reason"] for d in record["deviations"] if d["host"] == "r3"]
    assert any("no faithful backup" in r and "zebra" in r for r in reasons), reasons
    assert record["hosts"]["r3"]["state"] == "unchanged"
    assert running(handle, "r3") == before_r3
    for path, text in _written(root, private_state_dir).items():
        assert "connecting to zebra" not in text, path


@VIA
@pytest.mark.parametrize("repo", [12], indirect=True)
def test_ssh_cut_mid_build_is_recorded_then_repaired(
    repo: tuple[Path, Path, LabHandle], via: str
) -> None:
    root, topo, handle = repo
    before = {n: strip_volatile(running(handle, n)) for n in NODES}
    build = _start_build(root, topo, via)
    bdir = _wait_for_checks(root, "r1", build)
    _cut_ssh(handle, "r1")
    _out, err = build.communicate(timeout=240)
    assert build.returncode == 1, err
    _bdir, record = _record(root)
    r1 = record["hosts"]["r1"]
    assert r1["state"] == "changed"
    assert r1["read_back"] is False  # nobody could look: unknown, never "rolled back"
    assert sorted(r1["committed"]) == ["bfd-profile", "ospf-process"]
    assert "rollback_failed" in _classes(record, "r1")
    assert "rolled_back" not in _classes(record, "r1")
    assert "receive-interval 200" in running(handle, "r1")  # truly left on the router
    # with the session down, a retry cannot reach it either: exit 1, still changed
    again = sdd(root, "rollback", bdir.name, "--lab", str(topo), "--timeout", "5", "--path", via)
    assert again.returncode == 1, again.stderr
    handle.impair("r1", sshd="start")
    repaired = sdd(root, "rollback", bdir.name, "--host", "r1", "--lab", str(topo), "--path", via)
    assert repaired.returncode == 0, repaired.stderr
    assert strip_volatile(running(handle, "r1")) == before["r1"]
    _bdir, record = _record(root)
    assert record["hosts"]["r1"]["state"] == "restored"
    statuses = {c["id"]: c["hosts"]["r1"]["status"] for c in record["components"] if c["hosts"]}
    assert statuses["bfd-profile"] == "rolled_back"
    audit = (root / "audit").rglob("*.jsonl")
    assert any('"event":"rollback"' in p.read_text().replace(" ", "") for p in audit)


@VIA
@pytest.mark.parametrize("repo", [12], indirect=True)
def test_ospfd_killed_during_checks_is_recorded_then_repaired(
    repo: tuple[Path, Path, LabHandle], via: str
) -> None:
    root, topo, handle = repo
    before = {n: strip_volatile(running(handle, n)) for n in NODES}
    build = _start_build(root, topo, via)
    bdir = _wait_for_checks(root, "r3", build)
    handle.impair("r3", daemon="ospfd", daemon_action="stop")
    _out, err = build.communicate(timeout=240)
    assert build.returncode == 1, err
    _bdir, record = _record(root)
    assert record["hosts"]["r3"]["state"] == "changed"
    assert "rollback_failed" in _classes(record, "r3")
    failed = next(d for d in record["deviations"] if d["class"] == "rollback_failed")
    assert "ospfd" in failed["reason"]
    for node in ("r1", "r2"):
        assert strip_volatile(running(handle, node)) == before[node]
        assert record["hosts"][node]["state"] == "restored"
    handle.impair("r3", daemon="ospfd", daemon_action="start")
    repaired = sdd(root, "rollback", bdir.name, "--lab", str(topo), "--path", via)
    assert repaired.returncode == 0, repaired.stderr
    assert strip_volatile(running(handle, "r3")) == before["r3"]
    assert _record(root)[1]["hosts"]["r3"]["state"] == "restored"


def test_rollback_refuses_unknown_builds_and_hosts(repo: tuple[Path, Path, LabHandle]) -> None:
    root, topo, _handle = repo
    assert sdd(root, "build", DESIGN, "--lab", str(topo)).returncode == 1
    bdir = _record(root)[0]
    nope = sdd(root, "rollback", "20990101T000000Z-ffff", "--lab", str(topo))
    assert nope.returncode == 2
    assert "no build" in nope.stderr
    assert "Traceback" not in nope.stderr
    bad = sdd(root, "rollback", bdir.name, "--host", "r9", "--lab", str(topo))
    assert bad.returncode == 2
    assert "not a host of build" in bad.stderr
    # every host is restored already: nothing to do, exit 0
    assert sdd(root, "rollback", bdir.name, "--lab", str(topo)).returncode == 0
    shutil.rmtree(root / "audit", ignore_errors=True)
