"""Nornir's threaded runner, with one pool of worker threads for a whole build.

Nornir's ``ThreadedRunner`` makes a new ``ThreadPoolExecutor`` for every ``nr.run``: each layer
of a build (and the closing of connections) starts its worker threads anew, one by one on the
main thread, and ``Thread.start`` waits for each new thread to be scheduled. At fleet size
that happens while the SSH logins of the first hosts keep both cores busy, so the last host of
a layer starts late. :class:`PooledRunner` starts its threads once, before any device is
contacted (:meth:`PooledRunner.warm_soon`, while the build checks its gates and writes its
journal), and every layer reuses them; what a run does with a
host and what it returns is Nornir's (``task.copy().start(host)``, an ``AggregatedResult``).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from nornir.core.inventory import Host
from nornir.core.task import AggregatedResult, Task

__all__ = ["PooledRunner"]


class PooledRunner:
    """Runs a task over hosts on a pool of ``num_workers`` threads kept between runs."""

    def __init__(self, num_workers: int = 20, *, warm: int = 0) -> None:
        """``warm``: start that many threads at once, on a thread of its own (:meth:`warm_soon`)."""
        self.num_workers = max(1, num_workers)
        self._pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="sdd-host")
        self._warming: threading.Thread | None = None
        if warm:
            self.warm_soon(warm)

    def __enter__(self) -> PooledRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def warm(self, threads: int) -> None:
        """Start ``threads`` worker threads now (at most ``num_workers``): every one waits on
        the same event, so no submission finds an idle thread and each starts its own."""
        release = threading.Event()
        waiting = []
        try:
            for _ in range(min(threads, self.num_workers)):
                waiting.append(self._pool.submit(release.wait))
        except RuntimeError:  # closed meanwhile: nothing more to start
            pass
        finally:
            release.set()
        for future in waiting:
            future.result()

    def warm_soon(self, threads: int) -> None:
        """:meth:`warm` on a thread of its own: the caller goes on with its work while the
        threads start (a run submitted meanwhile is served as soon as a thread is free)."""
        self._warming = threading.Thread(
            target=self.warm, args=(threads,), name="sdd-warm", daemon=True
        )
        self._warming.start()

    def run(self, task: Task, hosts: list[Host]) -> AggregatedResult:
        result = AggregatedResult(task.name)
        futures = [self._pool.submit(task.copy().start, host) for host in hosts]
        for future in futures:
            worker_result = future.result()
            result[worker_result.host.name] = worker_result
        return result

    def close(self) -> None:
        """Let the worker threads end (after the runs submitted so far)."""
        self._pool.shutdown(wait=True)
        if self._warming is not None:
            self._warming.join()
