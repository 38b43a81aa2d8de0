"""Read-only recording of a design's show commands, for fixtures (``sdd-build fixtures record``).

Per host, the rendered commands of every command_template that targets it run over one
session, under the same per-device locks as builds (a device half-way through a build would
give outputs true of neither state); a check target (``check_targets``) through
``execute.hostcheck``, unlocked like in a build. Nothing is configured; every command has a
timeout.
"""

from __future__ import annotations

import threading

from nornir.core.task import Result, Task

from sdd_build.execute.build import make_nornir
from sdd_build.execute.device import open_session
from sdd_build.execute.hostcheck import open_check_session
from sdd_build.execute.locks import lock_hosts
from sdd_build.plan.planner import BuildPlan
from sdd_build.workspace import Workspace

__all__ = ["record_outputs"]


def record_outputs(
    ws: Workspace,
    plan: BuildPlan,
    hosts: list[str],
    *,
    timeout_s: float = 60.0,
    wait_lock_s: float = 0.0,
) -> dict[str, dict[str, list[str] | str]]:
    """``host -> component -> outputs`` (one per command, in order), or ``host -> {"": error}``
    for a host that could not be read."""
    wanted = {h: [s for s in plan.hosts.get(h, []) if s.commands] for h in hosts}
    result: dict[str, dict[str, list[str] | str]] = {}
    lock = threading.Lock()
    checked = set(ws.check_hosts)  # check targets: read-only sessions, no device lock

    def read(task: Task) -> Result:
        host = task.host.name
        entry: dict[str, list[str] | str] = {}
        try:
            opener = open_check_session if host in checked else open_session
            session = opener(task, timeout_s)
            for step in wanted[host]:
                outputs = session.commands(list(step.commands))
                entry[step.component] = [outputs[c] for c in step.commands]
        except Exception as exc:  # recorded per host; the others are still read
            entry = {"": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
        with lock:
            result[host] = entry
        return Result(host=task.host, result=entry)

    targets = [h for h in hosts if wanted[h]]
    if not targets:
        return {}
    inventory = ws.inventory
    nr = make_nornir(inventory, targets, workers=20)
    devices = [inventory.inventory.hosts[h] for h in targets if h not in checked]
    with lock_hosts(
        devices,
        "fixtures record",
        design=ws.design.model.design,
        repository=ws.root,
        wait_s=wait_lock_s,
    ):
        try:
            nr.run(task=read, name="fixtures-record", on_failed=True)
        finally:
            nr.close_connections(on_failed=True)
    return dict(sorted(result.items()))
