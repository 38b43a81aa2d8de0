"""The build's Nornir runner: one pool of threads for every layer, started before any login."""

from __future__ import annotations

import threading

from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
from nornir.core.task import Result, Task

from sdd_build.execute.runner import PooledRunner


def _nornir(runner: PooledRunner, n: int) -> Nornir:
    hosts = Hosts({f"r{i}": Host(name=f"r{i}") for i in range(n)})
    inventory = Inventory(hosts=hosts, groups=Groups(), defaults=Defaults())
    return Nornir(inventory=inventory, runner=runner, config=Config())


def test_layers_reuse_the_threads_warmed_before_the_first_one() -> None:
    runner = PooledRunner(num_workers=8)
    try:
        before = {t.ident for t in threading.enumerate()}
        runner.warm(8)
        warmed = {t.ident for t in threading.enumerate()} - before
        assert len(warmed) == 8
        seen: set[int | None] = set()
        gate = threading.Barrier(8, timeout=10)  # all 8 hosts at once: 8 distinct threads

        def step(task: Task) -> Result:
            seen.add(threading.get_ident())
            gate.wait()
            return Result(host=task.host, result=task.host.name)

        nr = _nornir(runner, 8)
        for _layer in range(3):
            results = nr.run(task=step)
            assert {h: r[0].result for h, r in results.items()} == {
                f"r{i}": f"r{i}" for i in range(8)
            }
        assert seen == warmed  # no thread was started after warm()
    finally:
        runner.close()
    assert not any(t.ident in warmed for t in threading.enumerate())


def test_a_failing_host_is_its_own_result_and_the_others_finish() -> None:
    runner = PooledRunner(num_workers=3)
    try:

        def step(task: Task) -> Result:
            if task.host.name == "r1":
                raise RuntimeError("boom")
            return Result(host=task.host, result="ok")

        results = _nornir(runner, 3).run(task=step)
        assert results.failed_hosts.keys() == {"r1"}
        assert results["r0"][0].result == "ok"
        assert results["r2"][0].result == "ok"
    finally:
        runner.close()


def test_warming_on_its_own_thread_lets_the_caller_go_on_and_close_waits_for_it() -> None:
    before = set(threading.enumerate())
    with PooledRunner(num_workers=6, warm=6) as runner:
        results = _nornir(runner, 6).run(task=lambda task: Result(host=task.host, result=1))
        assert not results.failed
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []  # workers and the warming thread are gone once closed


def test_closing_while_it_still_warms_is_safe() -> None:
    runner = PooledRunner(num_workers=50, warm=50)
    runner.close()
    assert runner._warming is not None
    assert not runner._warming.is_alive()
