"""Removing a namespace lab: every recorded resource treated as "may exist", idempotently.

Teardown kills by PID (pidfiles, recorded PIDs, ``ip netns pids``) rather than running
``frrinit.sh stop``, which takes about 6 s per router on these machines.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sdd_build.lab.netns.socat import socat_pids
from sdd_build.lab.netns.sshd import del_user
from sdd_build.lab.procs import (
    FRR_ETC,
    FRR_RUN,
    kill_pids,
    netns_list,
    netns_pids,
    pid_alive,
    proc_cmdline,
    read_pid,
)
from sdd_build.lab.provider import LabRuntimeError, Progress, run
from sdd_build.lab.state import LabState

__all__ = ["teardown"]


def _lab_pids(state: LabState, existing: set[str]) -> list[int]:
    """Every process of the lab: socat forwarders (root namespace), node holders, FRR, sshd,
    cmd and exec leftovers (all in the lab's network namespaces); watchfrr first, as it would
    restart the daemons being stopped."""
    res = state.resources
    markers = {r.argv_marker for r in res if r.kind == "socat" and r.argv_marker}
    pids = [r.pid for r in res if r.kind == "socat" and r.pid and pid_alive(r.pid, r.start_time)]
    pids += socat_pids(markers)
    for ns in (r.name for r in res if r.kind == "netns"):
        if ns in existing:
            pids += netns_pids(ns)
    # labs brought up before nodes had their own mount namespace kept FRR's files on the host
    for inst in (r.name for r in res if r.kind == "frr_instance"):
        for pidfile in (FRR_RUN / inst).glob("*.pid") if (FRR_RUN / inst).is_dir() else []:
            pid = read_pid(pidfile)
            if pid and inst in " ".join(proc_cmdline(pid)):
                pids.append(pid)
    pids += [r.pid for r in res if r.kind == "process" and r.pid and pid_alive(r.pid, r.start_time)]
    return sorted(dict.fromkeys(pids), key=lambda p: "watchfrr" not in " ".join(proc_cmdline(p)))


def teardown(state: LabState, progress: Progress) -> None:
    state.phase = "destroying"
    state.save()
    progress(f"removing lab {state.lab!r}")
    res = state.resources
    existing = netns_list()
    kill_pids(_lab_pids(state, existing))
    netns = [r.name for r in res if r.kind == "netns"]
    for ns in netns:
        if ns in existing:
            run(["ip", "netns", "del", ns], check=False)
    for inst in (r.name for r in res if r.kind == "frr_instance"):
        for base in (FRR_ETC, FRR_RUN):
            path = base / inst
            if path.parent == base and inst and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
    for r in res:
        if r.kind == "user":
            del_user(r.name)
    for r in res:
        if r.kind == "workdir":
            wd = Path(r.name)
            if wd.name == f"clab-{state.lab}" and wd.is_dir():
                shutil.rmtree(wd, ignore_errors=True)
    leftovers = [ns for ns in netns if ns in netns_list()]
    if leftovers:
        raise LabRuntimeError(f"could not delete namespaces: {', '.join(leftovers)}")
    state.remove()
