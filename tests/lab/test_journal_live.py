"""Disk full mid-build, on real FRR routers (issue 10, item 4).

``builds/`` is a tiny tmpfs. Found before the fix: two routers kept a committed component while
the journal said "nothing was committed; the device is unchanged" (exit 2, no audit entry), and
``--recover`` marked every host untouched. Must hold, whichever write the full disk hits:

* a router is never left changed while the record says it is unchanged (``rolled_back``, or
  a finished record that does not say the host's components were built);
* the build ends with one clear line and exit 1, never a traceback; the audit log says so;
* an unfinished build refuses the next build (exit 3, named) and ``build --recover`` — deciding
  from the routers' state — restores every router to its pre-build config (read with vtysh),
  embeds the approvals and closes the build.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdd_build import lab
from sdd_build.execute.journal import find_unfinished
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import copy_repo, private_triangle, reset_router, running, sdd, strip_volatile

pytestmark = pytest.mark.lab

DESIGN_REL = "designs/ospf-underlay/solution-design.yaml"
NODES = ("r1", "r2", "r3")


@pytest.fixture(scope="module")
def journal_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LabHandle]]:
    """A private repository (approved once) with its own triangle lab, up for the module."""
    require_lab()
    root = tmp_path_factory.mktemp("journalrepo")
    copy_repo(root, ["templates", "parsers", "inventory", "designs/ospf-underlay"])
    topo = private_triangle(root, "j")
    handle = lab.up(topo, wait=False, timeout=90)
    try:
        for args in (
            ("designs/ospf-underlay/customer-spec.md", "--gate", "spec"),
            (DESIGN_REL, "--gate", "design"),
        ):
            proc = sdd(root, "approve", *args, "--by", "a.lead")
            assert proc.returncode == 0, proc.stderr
        yield root, handle
    finally:
        lab.down(topo)


@contextlib.contextmanager
def tiny_builds(root: Path, size: str) -> Iterator[Path]:
    """``builds/`` of the design on a tmpfs of ``size``; unmounted (and emptied) afterwards."""
    builds = root / "designs/ospf-underlay/builds"
    builds.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(builds)],
        check=True,
        timeout=30,
    )
    try:
        yield builds
    finally:
        subprocess.run(["umount", "-l", str(builds)], check=False, timeout=30)


def fill(directory: Path) -> None:
    """Write a filler file until the file system is full."""
    fd = os.open(directory / ".filler", os.O_WRONLY | os.O_CREAT, 0o600)
    error = 0
    try:
        while not error:
            try:
                os.write(fd, b"\0" * 4096)
            except OSError as exc:
                error = exc.errno or -1
    finally:
        os.close(fd)
    assert error == errno.ENOSPC


#: when the disk fills: journal text to wait for, and how many times it must appear
TRIGGERS = {
    "full after the first commit": ('"apply_committed"', 1),
    # every router built and checked: only reconciliation and the record are left to write
    "full after the last check": ('"component": "verify-ospf-routes"', 3),
}


def fill_when(builds: Path, needle: str, count: int, done: threading.Event) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not done.is_set():
        for journal in builds.glob("*/journal.jsonl"):
            with contextlib.suppress(OSError):
                if journal.read_text().count(needle) >= count:
                    fill(builds)
                    return
        time.sleep(0.01)


def audit_events(root: Path) -> list[dict]:  # type: ignore[type-arg]
    path = root / "audit/audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def build(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return sdd(root, "build", DESIGN_REL, "--lab", "labs/triangle.clab.yml", *extra)


def assert_record_tells_the_truth(
    builds: Path, handle: LabHandle, before: dict[str, str]
) -> list[str]:
    """Every router that differs from its pre-build config is one the record does not call
    unchanged. Returns the unfinished build ids."""
    unfinished = [p.name for p in find_unfinished(builds)]
    for record_path in builds.glob("*/as-built.json"):
        if record_path.parent.name in unfinished:
            continue
        record = json.loads(record_path.read_text())
        for node in NODES:
            if strip_volatile(running(handle, node)) == before[node]:
                continue
            classes = {d["class"] for d in record["deviations"] if d["host"] == node}
            built = [
                c["id"]
                for c in record["components"]
                if c["hosts"].get(node, {}).get("status") == "built" and c["kind"] != "workflow"
            ]
            assert "rolled_back" not in classes, f"{node} differs but is recorded rolled back"
            assert built or "rollback_failed" in classes, f"{node} differs, record says not"
    return unfinished


@pytest.mark.parametrize("when", ["64k from the start", *TRIGGERS])
def test_disk_full_never_leaves_a_router_changed_behind_the_record(
    journal_lab: tuple[Path, LabHandle], when: str
) -> None:
    root, handle = journal_lab
    before = {n: strip_volatile(running(handle, n)) for n in NODES}
    pre_raw = {n: running(handle, n) for n in NODES}
    audit_before = len(audit_events(root))
    try:
        with tiny_builds(root, "64k" if when.startswith("64k") else "4m") as builds:
            done = threading.Event()
            watcher = None
            if when in TRIGGERS:
                watcher = threading.Thread(
                    target=fill_when, args=(builds, *TRIGGERS[when], done), daemon=True
                )
                watcher.start()
            proc = build(root)
            done.set()
            if watcher is not None:
                watcher.join(timeout=10)
            print(f"[{when}] build exit {proc.returncode}: {proc.stderr.strip()[-600:]}")
            assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
            assert "Traceback" not in proc.stderr
            new = audit_events(root)[audit_before:]
            assert {e.get("event") for e in new} & {"build", "build_unrecorded"}, new
            unfinished = assert_record_tells_the_truth(builds, handle, before)
            changed = [n for n in NODES if strip_volatile(running(handle, n)) != before[n]]
            print(f"[{when}] unfinished={unfinished} routers changed={changed}")
            if not unfinished:
                return  # finished: every change is recorded truthfully (checked above)
            [build_id] = unfinished
            # the next build does not start blind over it ...
            refused = build(root)
            assert refused.returncode == 3, refused.stderr
            assert build_id in refused.stderr
            # ... and recovery, once there is space again, decides from the routers' state
            subprocess.run(["mount", "-o", "remount,size=8m", str(builds)], check=True, timeout=30)
            (builds / ".filler").unlink(missing_ok=True)
            recovered = build(root, "--recover", build_id)
            assert recovered.returncode == 1, recovered.stderr
            assert "Traceback" not in recovered.stderr
            for node in NODES:
                assert strip_volatile(running(handle, node)) == before[node], node
            record = json.loads((builds / build_id / "as-built.json").read_text())
            assert record["mode"] == "recover"
            assert record["approvals"], "the recovered record embeds the approvals"
            for node in NODES:
                expected = "restored" if node in changed else "unchanged"
                assert record["hosts"][node]["state"] == expected, node
            assert find_unfinished(builds) == []
    finally:
        for node in NODES:
            if running(handle, node) != pre_raw[node]:
                reset_router(handle, node, pre_raw[node], root)


def test_no_journal_no_contact(journal_lab: tuple[Path, LabHandle], tmp_path: Path) -> None:
    """builds/ already full: the build cannot journal its start, so it contacts no router."""
    root, handle = journal_lab
    before = {n: running(handle, n) for n in NODES}
    with tiny_builds(root, "16k") as builds:
        fill(builds)
        proc = build(root)
        assert proc.returncode == 1, proc.stderr
        assert "no device was contacted" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert find_unfinished(builds) == []
    assert {n: running(handle, n) for n in NODES} == before
