"""A router's FRR: its files in the node's private /etc/frr, watchfrr and the daemons, started
and stopped inside the node."""

from __future__ import annotations

import contextlib
import os
import time

from sdd_build.lab.netns.frrconf import frr_files
from sdd_build.lab.procs import FRR_LIB, VTYSH, enter, kill_pids, node_path, pid_alive, read_pid
from sdd_build.lab.provider import LabInputError, LabRuntimeError, run
from sdd_build.lab.state import NodeRecord
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = ["daemon_action", "daemons", "start_frr", "wait_frr"]


def daemons(node: NodeSpec) -> list[str]:
    """The daemons a router runs besides zebra (see ``frrconf``)."""
    return frr_files(node).daemons


def start_frr(topo: LabTopology, rec: NodeRecord, node: NodeSpec) -> None:
    etc = node_path(rec, "/etc/frr")
    for fname, text in frr_files(node).files.items():
        path = etc / fname
        path.write_text(text)
        os.chown(path, etc.stat().st_uid, etc.stat().st_gid)
        # group frr read/write: the shell login edits and saves the config (write memory)
        os.chmod(path, 0o660)
    log = topo.workdir / "logs" / f"{node.name}.frr.log"
    argv = enter(rec, [str(FRR_LIB / "frrinit.sh"), "start", topo.long_name(node.name)])
    proc = run(argv, check=False, timeout=60, what=f"{node.name}: frrinit.sh start")
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or "Failed" in proc.stdout + proc.stderr:
        raise LabRuntimeError(f"{node.name}: FRR did not start (see {log})")


def wait_frr(topo: LabTopology, rec: NodeRecord, node: NodeSpec, timeout: float = 30.0) -> None:
    inst = topo.long_name(node.name)
    deadline = time.monotonic() + timeout
    wanted = ["zebra", *daemons(node)]
    run_dir = node_path(rec, "/run/frr")
    while True:
        missing = [d for d in wanted if not (run_dir / f"{d}.vty").exists()]
        if not missing:
            proc = run(enter(rec, [VTYSH, "-N", inst, "-c", "show version"]), check=False,
                       timeout=10)  # fmt: skip
            if proc.returncode == 0:
                return
            missing = ["vtysh"]
        if time.monotonic() > deadline:
            raise LabRuntimeError(f"{node.name}: FRR not ready after {timeout:.0f}s "
                                  f"(waiting for {', '.join(missing)})")  # fmt: skip
        time.sleep(0.1)


def daemon_action(
    topo: LabTopology, rec: NodeRecord, node: NodeSpec, daemon: str, act: str
) -> None:
    inst = topo.long_name(node.name)
    run_dir = node_path(rec, "/run/frr")
    if act == "stop":
        wpid = read_pid(run_dir / "watchfrr.pid")
        targets = []
        if wpid and pid_alive(wpid):
            targets.append(wpid)
        dpid = read_pid(run_dir / f"{daemon}.pid")
        if dpid and pid_alive(dpid):
            targets.append(dpid)
        kill_pids(targets, grace=3.0)
        with contextlib.suppress(FileNotFoundError):
            (run_dir / f"{daemon}.pid").unlink()
        return
    if daemon not in ["zebra", *daemons(node)]:
        raise LabInputError(f"{node.name} does not run {daemon} (label sdd.daemons)")
    wpid = read_pid(run_dir / "watchfrr.pid")
    if not (wpid and pid_alive(wpid)):
        # watchfrr, started again, starts whatever daemon is missing and loads its config
        run(enter(rec, [str(FRR_LIB / "frrinit.sh"), "start", inst]), timeout=60,
            what=f"{node.name}: frrinit.sh start")  # fmt: skip
    # (with watchfrr running, it restarts missing daemons by itself)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dpid = read_pid(run_dir / f"{daemon}.pid")
        if dpid and pid_alive(dpid) and (run_dir / f"{daemon}.vty").exists():
            return
        time.sleep(0.1)
    raise LabRuntimeError(f"{node.name}: {daemon} did not start")
