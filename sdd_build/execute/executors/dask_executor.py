"""The ``dask`` executor: shards of hosts held by long-lived actors on Dask workers.

``build --executor dask [--scheduler ADDR] [--shard-by KEY]``. Without ``--scheduler`` a
local cluster of two worker processes is started for the build (to try it: on one machine
``local`` is faster). Placement: a site shard (see ``executors.shards``) goes to a worker
offering the resource ``site-<name>``; hash shards are spread over the workers there are.
A shard whose resource no worker offers is refused before any device contact (exit 2).

Losing a worker (its process dies, or it stops answering within the call timeout):

* every host whose session it held gets :class:`WorkerLostError` — for the call in flight,
  or at its next one — which the build records as a ``worker_lost`` deviation for that host
  and treats as a failure of the component at hand: its rollback policy applies;
* the shard is placed again, on another worker that can reach it, and a host's next
  operation opens a fresh session there: a rollback restores the host's journaled backup and
  believes only the device's read-back (``DeviceSession.restore``), so the record says what
  the device holds; when no worker can take the shard, the restore is recorded as not
  verified, the device's state unknown (``rollback_failed``: repair with ``sdd-build
  rollback`` once a site worker is back).

Nothing is retried blindly: an operation in flight when the worker died may have taken
effect, so the host is compared with its backup, never sent the same change again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nornir.core.inventory import Hosts, Inventory
from nornir.core.task import Task

from sdd_build.errors import DeviceError, ExecutorError, WorkerLostError
from sdd_build.execute.device import PLATFORMS, DeviceSession
from sdd_build.execute.executors import ExecutorSpec
from sdd_build.execute.executors.actor import ShardActor
from sdd_build.execute.executors.remote import RemoteSession, raise_remote
from sdd_build.execute.executors.shards import Shard, plan_shards

__all__ = ["DaskExecutor"]

CONNECT_TIMEOUT_S = 15.0  # reaching the scheduler
PLACEMENT_TIMEOUT_S = 60.0  # an actor started on a worker
LOCAL_WORKERS = 2  # worker processes of the cluster started when no scheduler is given


def _oneline(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


@dataclass
class _Placed:
    """A shard and the actor holding it now."""

    shard: Shard
    actor: Any = None
    future: Any = None  # the actor lives as long as its future is held
    worker: str = ""
    generation: int = 0
    opened: set[str] = field(default_factory=set)  # hosts with a session on this actor
    unreported: set[str] = field(default_factory=set)  # must still hear of the loss
    lost: str = ""  # why the last actor was lost
    where: dict[str, Any] = field(default_factory=dict)  # the holder's pid and machine
    lock: threading.Lock = field(default_factory=threading.Lock)


class DaskExecutor:
    """Sessions in shard actors on Dask workers (module docstring)."""

    name = "dask"

    def __init__(self, spec: ExecutorSpec, client: Any, cluster: Any = None) -> None:
        self.spec = spec
        self.client = client
        self.cluster = cluster
        self.placed: dict[str, _Placed] = {}
        self.shard_of: dict[str, str] = {}
        self.op_timeout_s = max(120.0, 8 * spec.timeout_s)
        self._journal: Callable[..., Any] = spec.journal or (lambda event, **data: None)
        self._emit: Callable[..., Any] = spec.emit or (lambda event, **data: None)
        self._run_id = uuid.uuid4().hex[:8]

    # ----- start -------------------------------------------------------------------------

    @classmethod
    def start(cls, spec: ExecutorSpec) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a dependency of sdd-build
            raise ExecutorError(
                "the dask executor needs the 'distributed' package", hint="pip install distributed"
            ) from None
        logging.getLogger("distributed").setLevel(logging.ERROR)
        cluster = None
        try:
            if spec.scheduler is None:
                cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=LOCAL_WORKERS,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address="127.0.0.1:0",  # its HTTP server starts anyway
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
            else:
                client = Client(spec.scheduler, timeout=CONNECT_TIMEOUT_S)  # type: ignore[no-untyped-call]
        except Exception as exc:
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close()
            where = spec.scheduler or "a local cluster"
            raise ExecutorError(
                f"no Dask scheduler answers at {where}: {_oneline(exc)}",
                hint="start one with `dask scheduler` (README: 'Past one machine') and pass "
                "its address with --scheduler tcp://HOST:8786",
            ) from None
        executor = cls(spec, client, cluster)
        try:
            executor._place_all()
        except BaseException:
            executor.close()
            raise
        return executor

    def _workers(self) -> dict[str, dict[str, Any]]:
        info: dict[str, dict[str, Any]] = self.client.scheduler_info(n_workers=-1)["workers"]
        return info

    def _place_all(self) -> None:
        inventory = self._inventory()
        workers = sorted(self._workers())
        if not workers:
            raise ExecutorError(
                f"the Dask scheduler {self.spec.scheduler} has no workers",
                hint="start workers with `dask worker ADDR [--resources site-NAME=1]`",
            )
        sites = {h: inventory.hosts[h].get(self.spec.shard_by) for h in self.spec.hosts}
        shards = plan_shards(sites, len(workers))
        offered = {r for w in self._workers().values() for r in (w.get("resources") or {})}
        missing = [s for s in shards if s.resource and s.resource not in offered]
        if missing:
            raise ExecutorError(
                "no worker offers "
                + "; ".join(f"'{s.resource}' (hosts {', '.join(s.hosts)})" for s in missing),
                hint="start a worker that can reach those devices with `dask worker ADDR "
                f"--resources {missing[0].resource}=1`",
            )
        for index, shard in enumerate(shards):
            placed = _Placed(shard)
            self.placed[shard.name] = placed
            for host in shard.hosts:
                self.shard_of[host] = shard.name
            pin = None if shard.resource else [workers[index % len(workers)]]
            self._start_actor(placed, pin)

    def _inventory(self) -> Inventory:
        if self.spec.inventory is None:
            raise ExecutorError("the dask executor needs the build's inventory")
        inv: Inventory = self.spec.inventory.inventory
        return inv

    def _start_actor(self, placed: _Placed, pin: list[str] | None) -> None:
        """Place ``placed``'s shard on a worker: one of ``pin``, else any that offers its
        resource (any at all for a hash shard). Only that shard's hosts (and their
        credentials) go to that worker."""
        inv = self._inventory()
        shard = placed.shard
        sub = Inventory(
            hosts=Hosts({h: inv.hosts[h] for h in shard.hosts}),
            groups=inv.groups,
            defaults=inv.defaults,
        )
        threads = max(1, min(len(shard.hosts), self.spec.workers))
        try:
            future = self.client.submit(
                ShardActor,
                shard.name,
                sub,
                self.spec.timeout_s,
                threads,
                self.spec.path,
                actor=True,
                pure=False,
                key=f"sdd-shard-{shard.name}-{self._run_id}-{placed.generation}",
                resources={shard.resource: 1} if shard.resource else None,
                **({"workers": pin, "allow_other_workers": False} if pin else {}),
            )
            actor = future.result(timeout=PLACEMENT_TIMEOUT_S)
            where = actor.where().result(timeout=PLACEMENT_TIMEOUT_S)
            holder = self.client.who_has(future).get(future.key) or ("?",)
        except Exception as exc:
            raise ExecutorError(
                f"shard {shard.name} ({', '.join(shard.hosts)}) could not be placed on a "
                f"worker: {_oneline(exc)}",
                hint="check the workers (`dask worker ... --resources site-NAME=1`)",
            ) from None
        placed.actor, placed.future, placed.worker = actor, future, str(holder[0])
        placed.where = dict(where)
        placed.opened = set()
        self._placed_event(placed)

    def _placed_event(self, placed: _Placed) -> None:
        self._journal(
            "shard_placed",
            shard=placed.shard.name,
            shard_hosts=list(placed.shard.hosts),
            resource=placed.shard.resource,
            worker=placed.worker,
            generation=placed.generation,
            **placed.where,
        )

    def attach(self, journal: Callable[..., Any], emit: Callable[..., Any]) -> None:
        """Journal the placement made at start (before the build's journal existed) and
        every later event of this executor into the build's journal."""
        self._journal, self._emit = journal, emit
        for placed in self.placed.values():
            self._placed_event(placed)

    # ----- sessions ------------------------------------------------------------------------

    def open_session(self, task: Task, timeout_s: float) -> DeviceSession:
        host = task.host.name
        platform = task.host.platform or ""
        info = PLATFORMS.get(platform)
        if info is None:
            raise DeviceError(
                f"platform '{platform}' has no driver in sdd-build (known: {', '.join(PLATFORMS)})",
                host=host,
            )
        _, device_s = self.call(host, "open", (), {})
        session = RemoteSession(self, info, host)
        session.device_s = device_s
        return session

    def call(
        self, host: str, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, float]:
        """One operation on ``host``'s session, on the actor holding its shard."""
        placed = self.placed[self.shard_of[host]]
        with placed.lock:
            if host in placed.unreported:
                placed.unreported.discard(host)
                raise WorkerLostError(placed.lost, host=host)
            if placed.actor is None:
                try:
                    placed.generation += 1
                    self._start_actor(placed, None)
                except ExecutorError as exc:
                    placed.generation -= 1
                    raise WorkerLostError(
                        f"{placed.lost}; no other worker can take its hosts: {exc}", host=host
                    ) from None
            actor, generation = placed.actor, placed.generation
            reopen = op != "open" and host not in placed.opened
        if reopen:  # a session lost with its worker: log in again on the new holder
            self._remote(placed, actor, generation, host, "open", (), {})
        return self._remote(placed, actor, generation, host, op, args, kwargs)

    def _remote(
        self,
        placed: _Placed,
        actor: Any,
        generation: int,
        host: str,
        op: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[Any, float]:
        try:
            reply = actor.call(host, op, args, kwargs).result(timeout=self.op_timeout_s)
        except Exception as exc:  # the call itself failed: the worker or the link did
            self._lost(placed, generation, exc)
            with placed.lock:
                placed.unreported.discard(host)  # told now
            raise WorkerLostError(placed.lost, host=host) from None
        if reply[0] == "ok":
            if op == "open":
                with placed.lock:
                    if placed.generation == generation:
                        placed.opened.add(host)
            return reply[1], float(reply[2])
        raise_remote(host, str(reply[1]), str(reply[2]), bool(reply[3]))
        raise AssertionError("unreachable")  # pragma: no cover

    def _lost(self, placed: _Placed, generation: int, exc: BaseException) -> None:
        with placed.lock:
            if placed.generation != generation or placed.actor is None:
                return  # another host's call already saw it
            placed.lost = (
                f"the worker {placed.worker} holding shard {placed.shard.name} was lost "
                f"({_oneline(exc)})"
            )
            placed.unreported = set(placed.opened)
            hosts = sorted(placed.opened)
            placed.actor = placed.future = None
            placed.opened = set()
        self._journal(
            "worker_lost",
            shard=placed.shard.name,
            worker=placed.worker,
            shard_hosts=hosts,
            reason=placed.lost,
        )
        self._emit("warning", message=placed.lost)

    # ----- end ---------------------------------------------------------------------------

    def close(self) -> None:
        """Log every session out and release the actors; stop a cluster started here."""
        for placed in self.placed.values():
            if placed.actor is not None:
                with contextlib.suppress(Exception):
                    placed.actor.close().result(timeout=30)
            placed.actor = placed.future = None
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=30)
