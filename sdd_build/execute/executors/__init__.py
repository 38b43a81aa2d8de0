"""Where a build's device I/O runs: one table of executors (``EXECUTORS``), one seam.

The coordinator — the ``build`` process — always keeps what must be single: the gate check
and the snapshot, host locks, the one journal, the layer barriers (Nornir runs a layer over
every target host and returns when all are done), rendering, parsing and check evaluation,
evidence, the audit log and the as-built record. An executor only decides where each host's
device session lives:

* ``local`` (default, the fastest on one machine): in this process, through Nornir's plugins;
* ``dask``: in a long-lived shard actor on a Dask distributed worker that can reach the
  host's site (``executors.dask_executor``); the coordinator talks to it through a
  :class:`~sdd_build.execute.executors.remote.RemoteSession` standing in for the session.

``ray`` is a row that refuses with its reason: one distributed engine is enough.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from nornir.core.task import Task

from sdd_build.design.inventory import LoadedInventory
from sdd_build.errors import ExecutorError
from sdd_build.execute.device import DeviceSession, open_session

__all__ = ["EXECUTORS", "Executor", "ExecutorSpec", "LocalExecutor", "open_executor"]


@dataclass(frozen=True)
class ExecutorSpec:
    """What a build asks of its executor."""

    name: str = "local"
    scheduler: str | None = None  # a Dask scheduler address; none: a local cluster
    shard_by: str = "site"  # the inventory data key that names a host's site
    inventory: LoadedInventory | None = None
    hosts: tuple[str, ...] = ()
    timeout_s: float = 30.0  # the design's per-operation device timeout
    workers: int = 20  # sessions a shard drives at once
    emit: Callable[..., None] | None = None
    journal: Callable[..., Any] | None = None  # the build journal's ``write``
    path: str = "auto"  # how hosts are configured (execute.device.PATHS)


class Executor(Protocol):
    name: str

    def open_session(self, task: Task, timeout_s: float) -> DeviceSession: ...
    def attach(self, journal: Callable[..., Any], emit: Callable[..., Any]) -> None: ...
    def close(self) -> None: ...


class LocalExecutor:
    """Sessions in this process, through Nornir's connection plugins."""

    name = "local"

    def __init__(self, path: str = "auto") -> None:
        self.path = path

    def open_session(self, task: Task, timeout_s: float) -> DeviceSession:
        return open_session(task, timeout_s, self.path)

    def attach(self, journal: Callable[..., Any], emit: Callable[..., Any]) -> None:
        return None

    def close(self) -> None:
        return None


def _local(spec: ExecutorSpec) -> Executor:
    return LocalExecutor(spec.path)


def _dask(spec: ExecutorSpec) -> Executor:
    from sdd_build.execute.executors.dask_executor import DaskExecutor

    return DaskExecutor.start(spec)


#: name -> factory, or the reason it is refused (exit 2, nothing contacted)
EXECUTORS: dict[str, Callable[[ExecutorSpec], Executor] | str] = {
    "local": _local,
    "dask": _dask,
    "ray": "the ray executor is not provided: sdd-build distributes with Dask (lighter, "
    "actors and worker resources fit shards; see the README, 'Past one machine'); "
    "use --executor dask",
}


@contextlib.contextmanager
def open_executor(spec: ExecutorSpec) -> Iterator[Executor]:
    """The executor named by ``spec``, closed (its sessions and actors released) on exit."""
    row = EXECUTORS.get(spec.name)
    if row is None:
        raise ExecutorError(
            f"unknown executor '{spec.name}' (known: {', '.join(EXECUTORS)})",
            hint="use --executor local or --executor dask",
        )
    if isinstance(row, str):
        raise ExecutorError(row)
    if spec.scheduler is not None and spec.name != "dask":
        raise ExecutorError("--scheduler only goes with --executor dask")
    executor = row(spec)
    try:
        yield executor
    finally:
        executor.close()
