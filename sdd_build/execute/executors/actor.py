"""The worker side: one shard actor holds its hosts' device sessions for the whole build.

Dask runs an actor's ``async`` methods on the worker's event loop; each device operation
runs on the actor's own thread pool (one thread per host, up to ``threads``), so the hosts
of a shard are driven concurrently and a slow device never holds up another. Every answer is
a plain tuple: ``("ok", value, device_s)`` or ``("error", type name, words, is a
DeviceError, device_s)`` — an exception raised *by the call itself* therefore always means
the worker or the link failed, never the device.

Nothing is written on the worker: sessions live in memory and close with the actor.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from nornir.core.configuration import Config
from nornir.core.inventory import Inventory
from nornir.core.task import Task

from sdd_build.errors import DeviceError
from sdd_build.execute.device import (
    DeviceSession,
    open_session,
    preload_drivers,
    register_connections,
)
from sdd_build.execute.executors.remote import REMOTE_OPS

__all__ = ["ShardActor"]


@dataclass
class _Nornir:
    config: Config


@dataclass
class _TaskOf:
    """What ``open_session`` reads of a Nornir task: the host and the configuration."""

    host: Any
    nornir: _Nornir


class ShardActor:
    """The sessions of one shard's hosts (see the module docstring)."""

    def __init__(
        self, shard: str, inventory: Inventory, timeout_s: float, threads: int, path: str = "auto"
    ) -> None:
        self.shard = shard
        self.inventory = inventory
        self.timeout_s = timeout_s
        self.path = path  # how hosts are configured (execute.device.PATHS)
        self.sessions: dict[str, DeviceSession] = {}
        self._config = Config()
        preload_drivers({h.platform or "" for h in inventory.hosts.values()})
        register_connections()
        self._pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix=f"sdd-{shard}")

    def where(self) -> dict[str, Any]:
        """The process holding this shard (recorded in the build journal)."""
        return {"pid": os.getpid(), "machine": socket.gethostname()}

    async def call(
        self, host: str, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._run, host, op, args, kwargs)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._close)

    def _close(self) -> None:
        for name in list(self.sessions):
            with contextlib.suppress(Exception):
                self.inventory.hosts[name].close_connections()
        self.sessions.clear()

    def _run(
        self, host: str, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        session = self.sessions.get(host)
        try:
            if op == "open":
                task = _TaskOf(self.inventory.hosts[host], _Nornir(self._config))
                session = open_session(cast(Task, task), self.timeout_s, self.path)
                self.sessions[host] = session
                return ("ok", None, session.device_s)
            if session is None:
                raise DeviceError("no session is open on this worker", host=host)
            if op not in REMOTE_OPS:
                raise DeviceError(f"'{op}' is not an operation a shard performs", host=host)
            return ("ok", self._target(session, op)(*args, **kwargs), session.device_s)
        except Exception as exc:
            device_s = session.device_s if session is not None else 0.0
            words = str(exc).strip() if not isinstance(exc, DeviceError) else str(exc)
            return ("error", type(exc).__name__, words, isinstance(exc, DeviceError), device_s)

    @staticmethod
    def _target(session: DeviceSession, op: str) -> Any:
        owner, _, name = op.rpartition(".")
        if owner == "driver":
            return getattr(session.driver, name)
        if owner == "oracle":
            oracle = session.oracle()
            if oracle is None:
                raise DeviceError("this platform has no oracle", host=session.host)
            return getattr(oracle, name)
        return getattr(session, name)
