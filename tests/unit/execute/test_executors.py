"""The dask executor's own logic on fake devices, in one process: sharding, placement, layer
barriers across shards, and a worker lost mid-build (``worker_lost``, host restored).

The cluster is Dask's real scheduler and workers (``LocalCluster(processes=False)``) so the
fake devices, which must stay one object per device, are shared with the workers through a
registry (``_Shared``); worker *processes* and real routers are tested in
``tests/lab/test_dask_live.py``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import ExecutorError
from sdd_build.execute.build import RunOptions, run_build
from sdd_build.execute.device import DeviceSession
from sdd_build.execute.executors import EXECUTORS, ExecutorSpec, open_executor
from sdd_build.execute.executors.remote import RemoteSession
from sdd_build.execute.executors.shards import plan_shards, resource_for
from sdd_build.execute.journal import read_journal
from sdd_build.execute.results import AsBuilt
from sdd_build.testing.fake import FakeDevice, FakeNetwork
from sdd_build.testing.fake import attach as attach_fake
from tests.unit.execute import fakerepo

distributed = pytest.importorskip("distributed")

_REGISTRY: dict[int, FakeDevice] = {}
_KEYS = itertools.count()


def _lookup(key: int) -> FakeDevice:
    return _REGISTRY[key]


class _Shared:
    """Pickles as a registry key and unpickles as the very FakeDevice (one process only)."""

    def __init__(self, device: FakeDevice) -> None:
        self.key = next(_KEYS)
        _REGISTRY[self.key] = device

    def __reduce__(self) -> tuple[Any, ...]:
        return (_lookup, (self.key,))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2, processes=False, threads_per_worker=2, dashboard_address="127.0.0.1:0"
    ) as c:
        yield c


def _report(design: Path, net: FakeNetwork, shared: bool) -> Any:
    report = fakerepo.validated(design, net)
    attach_fake(report.workspace, net)
    if shared:  # the workers get the devices themselves, not copies
        for name, host in report.workspace.inventory.inventory.hosts.items():
            host.connection_options["sdd_fake"].extras = {"device": _Shared(net[name])}
    return report


def _build(design: Path, net: FakeNetwork, **options: Any) -> tuple[AsBuilt, Path]:
    report = _report(design, net, shared=options.get("executor") == "dask")
    return run_build(report, RunOptions(**options))


def _comparable(record: AsBuilt) -> dict[str, Any]:
    """The record without what differs run to run (ids, times, durations)."""
    data = json.loads(json.dumps(record.dump()))
    for key in ("build_id", "started", "finished", "metrics", "attention"):
        data.pop(key, None)
    for comp in data["components"]:
        for rec in comp["hosts"].values():
            rec.pop("duration_s", None)
    return data


def test_shards_by_site_then_a_stable_hash() -> None:
    sites = {"a1": "a", "a2": "a", "b1": "b", "x1": None, "x2": "", "x3": None, "x4": None}
    shards = plan_shards(sites, 2)
    by_name = {s.name: s for s in shards}
    assert by_name["site-a"].hosts == ("a1", "a2")
    assert by_name["site-a"].resource == "site-a"
    assert by_name["site-b"].hosts == ("b1",)
    hashed = sorted(h for s in shards if s.resource is None for h in s.hosts)
    assert hashed == ["x1", "x2", "x3", "x4"]
    assert plan_shards(sites, 2) == shards  # the same split every time, in every process
    assert all(len(s.hosts) for s in shards)
    assert resource_for("dc 1/east") == "site-dc-1-east"


def test_ray_and_unknown_executors_are_refused_with_their_reason() -> None:
    assert isinstance(EXECUTORS["ray"], str)
    with (
        pytest.raises(ExecutorError, match="distributes with Dask"),
        open_executor(ExecutorSpec(name="ray")),
    ):
        pass
    with (
        pytest.raises(ExecutorError, match="only goes with --executor dask"),
        open_executor(ExecutorSpec(name="local", scheduler="tcp://127.0.0.1:1")),
    ):
        pass


def test_remote_session_overrides_every_device_operation() -> None:
    """A new DeviceSession method must be sent to the worker too, not run here on no driver."""
    public = {n for n in vars(DeviceSession) if not n.startswith("_")}
    local_ok = {"normalise"}  # needs no device
    assert public - local_ok <= set(vars(RemoteSession)), public - set(vars(RemoteSession))


def test_record_equals_the_local_executors(tmp_path: Path, cluster: Any) -> None:
    local, _ = _build(fakerepo.write_repo(tmp_path / "l"), fakerepo.network())
    remote, bdir = _build(
        fakerepo.write_repo(tmp_path / "d"),
        fakerepo.network(),
        executor="dask",
        scheduler=cluster.scheduler_address,
    )
    assert remote.result == "as_designed"
    assert _comparable(remote) == _comparable(local)
    placed = [e for e in read_journal(bdir) if e["event"] == "shard_placed"]
    assert sorted(h for e in placed for h in e["shard_hosts"]) == list(fakerepo.HOSTS)
    assert len({e["worker"] for e in placed}) == 2  # spread over both workers


def test_layers_are_barriers_across_shards(tmp_path: Path, cluster: Any) -> None:
    record, bdir = _build(
        fakerepo.write_repo(tmp_path),
        fakerepo.network(),
        executor="dask",
        scheduler=cluster.scheduler_address,
    )
    layer_of = {c.id: c.layer for c in record.components}
    layers = [
        layer_of[e["component"]] for e in read_journal(bdir) if e["event"] == "component_result"
    ]
    assert layers == sorted(layers)  # no host of any shard starts layer k+1 before all end k
    assert len(set(layers)) > 1


def test_a_lost_worker_is_worker_lost_and_its_hosts_are_restored(
    tmp_path: Path, cluster: Any
) -> None:
    """The worker holding r1 is closed while r1's first check runs: r1 and its shard mates
    record worker_lost; r1's component fails and r1 is restored from its backup on the other
    worker and read back; its mates are read back from there and reconciled."""
    design = fakerepo.write_repo(tmp_path)
    bdir_box: dict[str, Path] = {}
    fired = threading.Event()

    def svc_then_lose_worker(device: FakeDevice) -> str:
        if not fired.is_set():
            fired.set()
            builds = sorted((design.parent / "builds").iterdir())
            placed = [
                e
                for e in read_journal(builds[-1])
                if e["event"] == "shard_placed" and "r1" in e["shard_hosts"]
            ]
            bdir_box["dir"] = builds[-1]
            worker = next(w for w in cluster.workers.values() if w.address == placed[-1]["worker"])
            cluster.sync(worker.close)
        return fakerepo.svc_state(device)

    net = fakerepo.network(r1={"outputs": {"show svc json": svc_then_lose_worker}})
    base = {h: net[h].running() for h in fakerepo.HOSTS}
    record, bdir = _build(design, net, executor="dask", scheduler=cluster.scheduler_address)
    assert fired.is_set()
    lost = [d for d in record.deviations if d.class_ == "worker_lost"]
    assert "r1" in {d.host for d in lost}
    assert record.result == "failed"
    # r1's check was in flight: it failed with the worker, and r1 was restored elsewhere
    assert record.hosts["r1"]["state"] == "restored"
    assert net["r1"].running() == base["r1"]
    assert any(d.class_ == "rolled_back" and d.host == "r1" for d in record.deviations)
    for dev in lost:  # its shard mates: recorded, then read (and reconciled) from elsewhere
        host = dev.host
        assert host is not None
        state = record.hosts[host]["state"]
        assert state in ("restored", "built"), state
        if state == "restored":
            assert net[host].running() == base[host]  # what the record says it holds
        else:
            assert net[host].has("router demo / svc enable")
    events = [e["event"] for e in read_journal(bdir)]
    assert "worker_lost" in events
    assert events[-1] == "build_finished"
    placed = [e for e in read_journal(bdir) if e["event"] == "shard_placed"]
    assert any(e["generation"] > 0 for e in placed)  # the shard was placed again


def test_a_site_no_worker_offers_is_refused_before_any_contact(
    tmp_path: Path, cluster: Any
) -> None:
    design = fakerepo.write_repo(tmp_path)
    net = fakerepo.network()
    report = _report(design, net, shared=True)
    report.workspace.inventory.inventory.hosts["r2"].data["site"] = "east"
    with pytest.raises(ExecutorError, match="site-east") as err:
        run_build(report, RunOptions(executor="dask", scheduler=cluster.scheduler_address))
    assert "r2" in str(err.value)
    assert "--resources site-east=1" in str(err.value)
    assert all(net[h].sessions == 0 for h in fakerepo.HOSTS)  # no device contacted
    builds = design.parent / "builds"
    # no build folder (a journal without an end) is left to refuse the next build
    assert not builds.exists() or not [p for p in builds.iterdir() if p.is_dir()]
