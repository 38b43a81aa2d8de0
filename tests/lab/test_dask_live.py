"""The dask executor on real FRR routers: a scheduler and two worker processes started as a
user would (``python -m distributed.cli.dask_scheduler`` / ``dask_worker``), the build run
by the CLI as a separate process (the coordinator).

* the as-built record of the shipped example equals the local executor's (timings aside);
* a worker SIGKILLed mid-build (right after r1's first commit, the coordinator held still
  meanwhile) is recorded as ``worker_lost`` for the hosts it held, and every router ends at
  the config its record claims (pre-build: read with vtysh in its namespace).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
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
from tests.labkit import copy_repo, private_triangle, reset_router, running, sdd, strip_volatile

pytestmark = pytest.mark.lab

DESIGN = "designs/ospf-underlay/solution-design.yaml"
NODES = ("r1", "r2", "r3")
SUBS = ("templates", "parsers", "inventory", "designs/ospf-underlay")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workers_seen(address: str) -> int:
    from distributed import Client

    with Client(address, timeout=10) as client:
        return len(client.scheduler_info(n_workers=-1)["workers"])


def _spawn(module: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class DaskCluster:
    """A scheduler and worker processes on loopback (no nanny: a worker's PID is the worker)."""

    def __init__(self, workers: int = 2) -> None:
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        port = self.address.rsplit(":", 1)[1]
        sched = ["--host", "127.0.0.1", "--port", port, "--no-dashboard"]
        self.scheduler = _spawn("distributed.cli.dask_scheduler", *sched)
        self.workers = [
            _spawn(
                "distributed.cli.dask_worker",
                self.address,
                "--nthreads",
                "2",
                "--no-nanny",
                "--resources",
                "site-lab=1",
                "--no-dashboard",
                "--name",
                f"w{i}",
            )
            for i in range(workers)
        ]
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(OSError, TimeoutError):
                if _workers_seen(self.address) == workers:
                    return
            assert time.monotonic() < deadline, "the dask workers did not register"
            time.sleep(0.5)

    def close(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dask_repo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, LabHandle, DaskCluster, dict[str, str]]]:
    require_lab()
    root = tmp_path_factory.mktemp("daskrepo")
    copy_repo(root, SUBS)
    topo = private_triangle(root, "dsk")
    cluster: DaskCluster | None = None
    handle = lab.up(topo, wait=False, timeout=60)
    try:
        base = {n: running(handle, n) for n in NODES}
        _approve(root)
        cluster = DaskCluster(2)
        yield root, handle, cluster, base
    finally:
        if cluster is not None:
            cluster.close()
        lab.down(topo)


def _approve(root: Path) -> None:
    for artifact, gate in (("designs/ospf-underlay/customer-spec.md", "spec"), (DESIGN, "design")):
        proc = sdd(root, "approve", artifact, "--gate", gate, "--by", "a.lead")
        assert proc.returncode == 0, proc.stderr


def _reset(root: Path, handle: LabHandle, base: dict[str, str]) -> None:
    for node in NODES:
        reset_router(handle, node, base[node], root)


def _build_cmd(*extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sdd_build",
        "build",
        DESIGN,
        "--lab",
        "labs/triangle.clab.yml",
        *extra,
    ]


def _record(root: Path, build_id: str) -> dict[str, Any]:
    path = root / "designs/ospf-underlay/builds" / build_id / "as-built.json"
    return dict(json.loads(path.read_text()))


def _builds(root: Path) -> list[Path]:
    return sorted((root / "designs/ospf-underlay/builds").glob("*/journal.jsonl"))


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    """Timings aside: ids, clocks, durations, metrics, the retries of a waiting check and the
    live output excerpts (uptimes, timers); every status, check result, deviation and evidence
    path stays."""
    data = json.loads(json.dumps(record))
    for key in ("build_id", "started", "finished", "metrics"):
        data.pop(key)
    for comp in data["components"]:
        for rec in comp["hosts"].values():
            rec.pop("duration_s", None)
            rec.pop("attempts", None)
            for check in rec["checks"]:  # the device's live output: uptimes, timers
                check.pop("input_excerpt", None)
    for summary in data["hosts"].values():
        # whether FRR's answer was asked afresh or remembered from an earlier build
        (summary.get("reconciliation") or {}).pop("asked", None)
    return data


def test_record_equals_the_local_executors(
    dask_repo: tuple[Path, LabHandle, DaskCluster, dict[str, str]],
) -> None:
    root, handle, cluster, base = dask_repo
    local = sdd(root, *_build_cmd("--executor", "local", "--json")[3:])
    assert local.returncode == 0, local.stderr
    first = _builds(root)[-1].parent.name
    _reset(root, handle, base)
    dist = sdd(root, *_build_cmd("--executor", "dask", "--scheduler", cluster.address)[3:])
    assert dist.returncode == 0, dist.stderr
    second = _builds(root)[-1].parent.name
    assert second != first
    a, b = _record(root, first), _record(root, second)
    assert b["result"] == "as_designed"
    assert _comparable(b) == _comparable(a)
    journal = [json.loads(x) for x in _builds(root)[-1].read_text().splitlines()]
    placed = [e for e in journal if e["event"] == "shard_placed"]
    assert sorted(h for e in placed for h in e["shard_hosts"]) == list(NODES)
    assert {e["pid"] for e in placed} <= {w.pid for w in cluster.workers}
    for node in NODES:  # the routers run the design (read in their namespaces)
        assert " ip ospf network point-to-point" in running(handle, node)


def test_a_worker_killed_mid_build_is_recorded_and_its_hosts_are_restored(
    dask_repo: tuple[Path, LabHandle, DaskCluster, dict[str, str]],
) -> None:
    root, handle, cluster, base = dask_repo
    _reset(root, handle, base)
    before = set(_builds(root))
    proc = subprocess.Popen(
        _build_cmd("--executor", "dask", "--scheduler", cluster.address),
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline and proc.poll() is None:
            new = sorted(set(_builds(root)) - before)
            entries = [json.loads(x) for x in new[0].read_text().splitlines()] if new else []
            commit = any(e["event"] == "apply_committed" and e.get("host") == "r1" for e in entries)
            if commit:  # hold the coordinator still, kill r1's worker, let it go on
                os.kill(proc.pid, signal.SIGSTOP)
                holder = [
                    e for e in entries if e["event"] == "shard_placed" and "r1" in e["shard_hosts"]
                ][-1]
                os.kill(int(holder["pid"]), signal.SIGKILL)
                killed = holder
                os.kill(proc.pid, signal.SIGCONT)
            else:
                time.sleep(0.02)
        _out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed, "r1 never committed"
    assert proc.returncode == 1, err
    record = _record(root, sorted(set(_builds(root)) - before)[0].parent.name)
    lost = {d["host"] for d in record["deviations"] if d["class"] == "worker_lost"}
    assert "r1" in lost
    assert lost <= set(killed["shard_hosts"])
    assert record["result"] == "failed"
    for node in NODES:  # the record says what each router holds, and it holds it
        state = record["hosts"][node]["state"]
        now = strip_volatile(running(handle, node))
        if state in ("restored", "unchanged"):
            assert now == strip_volatile(base[node]), node
        else:
            assert state == "built", (node, state)
            assert " ip ospf network point-to-point" in now, node
    assert record["hosts"]["r1"]["state"] == "restored"
    assert record["attention"] == []
