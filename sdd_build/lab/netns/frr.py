"""A router's FRR: its files, watchfrr and the daemons, started and stopped."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from sdd_build.lab.impair import FRR_DAEMONS
from sdd_build.lab.netns.checks import startup_config
from sdd_build.lab.procs import (
    FRR_ETC,
    FRR_LIB,
    FRR_RUN,
    VTYSH,
    in_uts,
    kill_pids,
    pid_alive,
    proc_cmdline,
    read_pid,
)
from sdd_build.lab.provider import LabInputError, LabRuntimeError, run
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = ["DEFAULT_DAEMONS", "daemon_action", "daemons", "start_frr", "wait_frr"]

DEFAULT_DAEMONS = ("bgpd", "ospfd", "staticd")


def daemons(node: NodeSpec) -> list[str]:
    """The daemons a router runs besides zebra: its daemons file's, the sdd.daemons label's,
    else bgpd, ospfd, staticd."""
    declared = node.labels.get("sdd.daemons")
    out: list[str] = []
    for src, dst, _o in node.binds:
        if dst == "/etc/frr/daemons":
            for line in Path(src).read_text().splitlines():
                key, _, val = line.partition("=")
                if val.strip().strip('"') in ("yes", "1") and key.endswith("d"):
                    out.append(key.strip())
    if declared is not None:
        out += [d.strip() for d in declared.split(",") if d.strip()]
    if not out:
        out = list(DEFAULT_DAEMONS)
    return [d for d in dict.fromkeys(out) if d not in ("zebra", "watchfrr")]


def start_frr(topo: LabTopology, node: NodeSpec) -> None:
    inst = topo.long_name(node.name)
    etc = FRR_ETC / inst
    etc.mkdir(mode=0o770, exist_ok=True)
    wanted = daemons(node)
    lines = [f"# sdd-build lab {topo.name}, node {node.name}"]
    for d in FRR_DAEMONS:
        if d not in ("zebra", "staticd"):
            lines.append(f"{d}={'yes' if d in wanted else 'no'}")
    lines += [
        "vtysh_enable=yes",
        'zebra_options="-A 127.0.0.1 -s 90000000"',
        *(f'{d}_options="-A 127.0.0.1"' for d in FRR_DAEMONS if d != "zebra"),
        # watchfrr starts every daemon in the network namespace named like the instance
        'watchfrr_options="--netns"',
        'frr_profile="traditional"',
    ]
    files = {
        "daemons": "\n".join(lines) + "\n",
        "frr.conf": startup_config(node),
        "vtysh.conf": "service integrated-vtysh-config\n",
    }
    for src, dst, _o in node.binds:
        if dst == "/etc/frr/vtysh.conf":
            files["vtysh.conf"] = Path(src).read_text()
    for fname, text in files.items():
        path = etc / fname
        path.write_text(text)
        shutil.chown(path, "frr", "frr")
        # group frr read/write: the shell login edits and saves the config (write memory)
        os.chmod(path, 0o660)
    shutil.chown(etc, "frr", "frr")
    os.chmod(etc, 0o770)
    log = topo.workdir / "logs" / f"{node.name}.frr.log"
    argv = ["ip", "netns", "exec", inst,
            *in_uts(node.name, [str(FRR_LIB / "frrinit.sh"), "start", inst])]  # fmt: skip
    proc = run(argv, check=False, timeout=60, what=f"{node.name}: frrinit.sh start")
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or "Failed" in proc.stdout + proc.stderr:
        raise LabRuntimeError(f"{node.name}: FRR did not start (see {log})")


def wait_frr(topo: LabTopology, node: NodeSpec, timeout: float = 30.0) -> None:
    inst = topo.long_name(node.name)
    deadline = time.monotonic() + timeout
    wanted = ["zebra", *daemons(node)]
    run_dir = FRR_RUN / inst
    while True:
        missing = [d for d in wanted if not (run_dir / f"{d}.vty").exists()]
        if not missing:
            proc = run([VTYSH, "-N", inst, "-c", "show version"], check=False, timeout=10)
            if proc.returncode == 0:
                return
            missing = ["vtysh"]
        if time.monotonic() > deadline:
            raise LabRuntimeError(f"{node.name}: FRR not ready after {timeout:.0f}s "
                                  f"(waiting for {', '.join(missing)})")  # fmt: skip
        time.sleep(0.1)


def daemon_action(topo: LabTopology, node: NodeSpec, daemon: str, act: str) -> None:
    inst = topo.long_name(node.name)
    run_dir = FRR_RUN / inst
    if act == "stop":
        wpid = read_pid(run_dir / "watchfrr.pid")
        targets = []
        if wpid and pid_alive(wpid):
            targets.append(wpid)
        dpid = read_pid(run_dir / f"{daemon}.pid")
        if dpid and pid_alive(dpid) and inst in " ".join(proc_cmdline(dpid)):
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
        run(["ip", "netns", "exec", inst,
             *in_uts(node.name, [str(FRR_LIB / "frrinit.sh"), "start", inst])],
            timeout=60, what=f"{node.name}: frrinit.sh start")  # fmt: skip
    # (with watchfrr running, it restarts missing daemons by itself)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dpid = read_pid(run_dir / f"{daemon}.pid")
        if dpid and pid_alive(dpid) and (run_dir / f"{daemon}.vty").exists():
            return
        time.sleep(0.1)
    raise LabRuntimeError(f"{node.name}: {daemon} did not start")
