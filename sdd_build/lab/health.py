"""Readiness, convergence and status of a namespace lab (read-only probes).

Convergence is *declared*, per node, in topology labels (they inherit like any label, so a
group or ``topology.defaults`` can carry them):

==============================  ==============================================================
``sdd.expect.ospf-full: N``     at least N OSPF neighbours in state Full
``sdd.expect.bgp-established``  at least N BGP sessions Established (all address families)
``sdd.expect.routes: a,b``      these prefixes are in the node's routing table (any protocol)
``sdd.expect.ping: ip,ip``      each address answers one ping from the node (hosts too)
==============================  ==============================================================

With nothing declared, a node counts as converged when SSH answers (routers) and every one of
its link interfaces is operationally up.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sdd_build.lab.procs import VTYSH, enter, node_path, pid_alive, read_pid
from sdd_build.lab.provider import LabInputError, LabRuntimeError, NodeStatus, Progress, run
from sdd_build.lab.state import LabState, NodeRecord
from sdd_build.lab.topology import LabTopology

__all__ = ["Expectation", "expectations", "node_status", "wait_converged", "wait_ssh"]

Expectation = tuple[str, str]  # (kind, argument)


def expectations(topo: LabTopology, node: str) -> list[Expectation]:
    labels = topo.nodes[node].labels
    out: list[Expectation] = [
        (key, labels[f"sdd.expect.{key}"].strip())
        for key in ("ospf-full", "bgp-established")
        if f"sdd.expect.{key}" in labels
    ]
    for key in ("routes", "ping"):
        for item in labels.get(f"sdd.expect.{key}", "").split(","):
            if item.strip():
                out.append((key, item.strip()))
    return out


def _vtysh_json(rec: NodeRecord, command: str) -> Any:
    """A show command's JSON from the router's own vtysh, inside the node."""
    if rec.frr_instance is None:
        return None
    try:
        argv = enter(rec, [VTYSH, "-N", rec.frr_instance, "-c", command])
    except LabRuntimeError:
        return None
    proc = run(argv, check=False, timeout=10)
    if proc.returncode != 0:
        return None
    try:
        return json.loads(proc.stdout or "null")
    except ValueError:
        return None


def ospf_full(rec: NodeRecord) -> int | None:
    data = _vtysh_json(rec, "show ip ospf neighbor json")
    if not isinstance(data, dict):
        return None
    count = 0
    for entries in (data.get("neighbors") or {}).values():
        for nbr in entries if isinstance(entries, list) else [entries]:
            state = str(nbr.get("nbrState") or nbr.get("state") or "")
            if state.startswith("Full"):
                count += 1
    return count


def bgp_established(rec: NodeRecord) -> int | None:
    data = _vtysh_json(rec, "show bgp summary json")
    if not isinstance(data, dict):
        return None
    peers: set[str] = set()
    for afi in data.values():
        if isinstance(afi, dict):
            for peer, info in (afi.get("peers") or {}).items():
                if isinstance(info, dict) and info.get("state") == "Established":
                    peers.add(peer)
    return len(peers)


def routes(rec: NodeRecord) -> set[str]:
    data = _vtysh_json(rec, "show ip route json")
    return set(data) if isinstance(data, dict) else set()


def interfaces_up(netns: str, names: list[str]) -> tuple[int, list[str]]:
    proc = run(["ip", "-n", netns, "-j", "link", "show"], check=False, timeout=10)
    try:
        links = json.loads(proc.stdout or "[]")
    except ValueError:
        links = []
    up = {
        lk.get("ifname")
        for lk in links
        if lk.get("operstate") == "UP" or "LOWER_UP" in lk.get("flags", [])
    }
    down = [n for n in names if n not in up]
    return len(names) - len(down), down


def _ping(netns: str, address: str) -> bool:
    proc = run(
        ["ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "1", address],
        check=False,
        timeout=5,
    )  # fmt: skip (the network namespace is all ping needs)
    return proc.returncode == 0


def _ssh_auth(port: int, username: str, password: str, timeout: float) -> str | None:
    """None when the router's sshd accepts the vtysh login, else why not."""
    import logging

    import paramiko

    # paramiko logs every failed handshake with a traceback; a not-yet-ready node is expected
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    sock = None
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = timeout
            transport.auth_timeout = timeout
            transport.start_client(timeout=timeout)
            transport.auth_password(username, password)
            return None if transport.is_authenticated() else "authentication failed"
        finally:
            transport.close()
    except (OSError, paramiko.SSHException, EOFError) as exc:
        return f"{exc.__class__.__name__}: {exc}"
    finally:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


def wait_ssh(ports: dict[str, int], username: str, password: str, *, timeout: float) -> None:
    """Until every router accepts the vtysh login over SSH, or a clear error naming the rest."""
    deadline = time.monotonic() + timeout
    pending = dict(ports)
    last: dict[str, str] = {}
    while pending:
        with ThreadPoolExecutor(max_workers=min(8, len(pending))) as pool:
            results = dict(
                zip(
                    pending,
                    pool.map(lambda p: _ssh_auth(p, username, password, 5.0), pending.values()),
                    strict=True,
                )
            )
        for node, why in results.items():
            if why is None:
                pending.pop(node)
            else:
                last[node] = why
        if not pending:
            return
        if time.monotonic() > deadline:
            detail = "; ".join(f"{n} (port {pending[n]}): {last[n]}" for n in sorted(pending))
            raise LabRuntimeError(f"not answering over SSH after {timeout:.0f}s: {detail}")
        time.sleep(0.3)


def _check(topo: LabTopology, rec: NodeRecord) -> list[str]:
    """What is not yet as declared on one node (empty: converged)."""
    failing: list[str] = []
    ifaces = topo.interfaces(rec.name)
    _n, down = interfaces_up(rec.netns, ifaces)
    if down:
        failing.append(f"interfaces down: {', '.join(down)}")
    inst = rec.frr_instance
    for kind, arg in expectations(topo, rec.name):
        if kind == "ping":
            if not _ping(rec.netns, arg):
                failing.append(f"no ping reply from {arg}")
            continue
        if inst is None:
            failing.append(f"sdd.expect.{kind} on a host without FRR")
            continue
        if kind == "ospf-full":
            have = ospf_full(rec)
            if have is None or have < int(arg):
                failing.append(f"OSPF Full {have or 0}/{arg}")
        elif kind == "bgp-established":
            have = bgp_established(rec)
            if have is None or have < int(arg):
                failing.append(f"BGP Established {have or 0}/{arg}")
        elif kind == "routes" and arg not in routes(rec):
            failing.append(f"route {arg} missing")
    return failing


def validate_expectations(topo: LabTopology) -> list[str]:
    bad: list[str] = []
    for node in topo.nodes:
        for kind, arg in expectations(topo, node):
            if kind in ("ospf-full", "bgp-established") and not arg.isdigit():
                bad.append(f"node {node!r}: sdd.expect.{kind} {arg!r} is not a number")
    return bad


def wait_converged(
    topo: LabTopology, state: LabState, *, timeout: float, progress: Progress
) -> None:
    bad = validate_expectations(topo)
    if bad:
        raise LabInputError("; ".join(bad), file=str(topo.path))
    wants_ping = any(k == "ping" for n in topo.nodes for k, _ in expectations(topo, n))
    if wants_ping and shutil.which("ping") is None:
        raise LabRuntimeError(
            "sdd.expect.ping needs the ping command", hint="apt-get install -y iputils-ping"
        )
    progress(f"waiting up to {timeout:.0f}s for declared convergence")
    deadline = time.monotonic() + timeout
    recs = list(state.nodes.values())
    while True:
        with ThreadPoolExecutor(max_workers=min(8, len(recs))) as pool:
            failing = dict(zip([r.name for r in recs], pool.map(lambda r: _check(topo, r), recs),
                               strict=True))  # fmt: skip
        failing = {k: v for k, v in failing.items() if v}
        if not failing:
            return
        if time.monotonic() > deadline:
            detail = "; ".join(f"{n}: {', '.join(v)}" for n, v in sorted(failing.items()))
            raise LabRuntimeError(
                f"lab {topo.name!r} did not converge within {timeout:.0f}s: {detail}",
                hint="the lab stays up for inspection: sdd-build lab status; then lab down",
            )
        time.sleep(0.5)


def node_status(topo: LabTopology, state: LabState, rec: NodeRecord) -> NodeStatus:
    st = NodeStatus(name=rec.name, role=rec.role, netns=rec.netns, port=rec.port)
    ifaces = topo.interfaces(rec.name)
    n_up, _down = interfaces_up(rec.netns, ifaces)
    st.interfaces_up, st.interfaces_total = n_up, len(ifaces)
    if rec.frr_instance:
        run_dir = node_path(rec, "/run/frr") if pid_alive(rec.pid, rec.start_time) else None
        for pidfile in sorted(run_dir.glob("*.pid")) if run_dir and run_dir.is_dir() else []:
            st.alive[pidfile.stem] = pid_alive(read_pid(pidfile))
        sshd = state.find("process", f"sshd:{rec.name}")
        st.alive["sshd"] = sshd is not None and pid_alive(sshd.pid, sshd.start_time)
        socats = [r for r in state.resources if r.kind == "socat" and r.node == rec.name]
        st.alive["socat"] = any(pid_alive(r.pid, r.start_time) for r in socats)
        st.ospf_full = ospf_full(rec)
        st.bgp_established = bgp_established(rec)
        # the router's own vtysh, inside its namespaces (the machine's vtysh is another FRR)
        st.extra["vtysh"] = f"nsenter -t {rec.pid} -m -u -n vtysh -N {rec.frr_instance}"
    if rec.role != "bridge":  # a bridge runs nothing: no holder
        st.extra["node_alive"] = pid_alive(rec.pid, rec.start_time)
    st.extra["netns_present"] = Path(f"/run/netns/{rec.netns}").exists()
    return st
