"""Building a namespace lab: everything recorded first, then namespaces, links, users, FRR,
exec commands, sshd + socat and the inventory."""

from __future__ import annotations

import os
import secrets
import shlex

from sdd_build.lab.health import wait_ssh
from sdd_build.lab.inventory import HostEntry, write_inventory
from sdd_build.lab.netns.frr import start_frr, wait_frr
from sdd_build.lab.netns.socat import ports_in_other_labs, start_socat
from sdd_build.lab.netns.sshd import add_user, host_key, start_sshd, users_for
from sdd_build.lab.procs import in_uts, parallel
from sdd_build.lab.provider import LabInputError, Progress, run
from sdd_build.lab.state import LabState, NodeRecord, Resource
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = ["create", "run_exec"]


def _record(topo: LabTopology, state: LabState) -> None:
    """Everything this run may create, recorded before the first thing is created."""
    routers = [n for n in topo.nodes.values() if n.is_frr]
    vty_user, shell_user = users_for(topo.name)
    if routers:
        state.vty_user, state.shell_user = vty_user, shell_user
    for node in topo.nodes.values():
        ns = topo.long_name(node.name)
        state.nodes[node.name] = NodeRecord(
            name=node.name,
            role="router" if node.is_frr else "host",
            netns=ns,
            frr_instance=ns if node.is_frr else None,
            hostname=node.name,
        )
    state.resources.append(Resource(kind="workdir", name=str(topo.workdir)))
    for rec in state.nodes.values():
        state.resources.append(Resource(kind="netns", name=rec.netns, node=rec.name))
        if rec.frr_instance:
            state.resources.append(
                Resource(kind="frr_instance", name=rec.frr_instance, node=rec.name)
            )
    if routers:
        state.resources.append(Resource(kind="user", name=vty_user))
        state.resources.append(Resource(kind="user", name=shell_user))
    state.save()


def _network(topo: LabTopology, state: LabState) -> None:
    # ip's batch mode: one process for all namespaces, one for all links, one per
    # namespace to raise its interfaces (30 routers: ~35 processes instead of ~200)
    adds = "".join(f"netns add {r.netns}\n" for r in state.nodes.values())
    run(["ip", "-b", "-"], input=adds, what="ip netns add")
    lines = []
    for link in topo.links:
        sides = []
        for ep in (link.a, link.b):
            side = f"{ep.interface} netns {topo.long_name(ep.node)}"
            side += f" mtu {link.mtu}" if link.mtu else ""
            side += f" address {ep.mac}" if ep.mac else ""
            sides.append(side)
        lines.append(f"link add name {sides[0]} type veth peer name {sides[1]}\n")
    if lines:
        run(["ip", "-b", "-"], input="".join(lines), what="ip link add (veth links)")
    for rec in state.nodes.values():
        up = ["lo", *topo.interfaces(rec.name)]
        ups = "".join(f"link set {i} up\n" for i in up)
        run(["ip", "-n", rec.netns, "-b", "-"], input=ups, what=f"{rec.name}: link up")
        if rec.role == "router":
            run(["ip", "netns", "exec", rec.netns, "sysctl", "-q", "-w",
                 "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"])  # fmt: skip


def create(topo: LabTopology, state: LabState, progress: Progress) -> None:
    routers = [n for n in topo.nodes.values() if n.is_frr]
    hosts = [n for n in topo.nodes.values() if n.is_host]
    _record(topo, state)
    vty_user, shell_user = users_for(topo.name)
    workdir = topo.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(exist_ok=True)

    progress(f"creating {len(topo.nodes)} namespaces and {len(topo.links)} links")
    _network(topo, state)

    passwords: dict[str, str] = {}
    if routers:
        progress("adding the lab's temporary users")
        for user in (vty_user, shell_user):
            passwords[user] = secrets.token_urlsafe(18)
            add_user(user, topo.name, passwords[user])
        host_key(workdir)
        progress(f"starting FRR in {len(routers)} routers")
    parallel(lambda n: start_frr(topo, n), routers)

    for node in [*hosts, *routers]:
        run_exec(topo, node)

    if not routers:
        write_inventory(workdir / "inventory", topo, [])  # hosts only: an empty inventory
        return
    progress("starting sshd + socat per router")
    taken: set[int] = ports_in_other_labs(topo.name)
    # sshd start-up is mostly waiting for its fork and pidfile: overlap them
    parallel(lambda n: start_sshd(topo, state, n, vty_user, shell_user), routers)
    parallel(lambda n: start_socat(topo, state, n, taken), routers)
    entries = [
        HostEntry(
            node=n.name,
            hostname="127.0.0.1",
            port=state.nodes[n.name].port or 0,
            username=vty_user,
            password=passwords[vty_user],
            shell_username=shell_user,
            shell_password=passwords[shell_user],
            netns=topo.long_name(n.name),
            frr_instance=topo.long_name(n.name),
        )
        for n in routers
    ]
    write_inventory(workdir / "inventory", topo, entries)
    progress("waiting for FRR and SSH on every router")
    parallel(lambda n: wait_frr(topo, n), routers)
    wait_ssh(
        {n.name: (state.nodes[n.name].port or 0) for n in routers},
        vty_user,
        passwords[vty_user],
        timeout=30.0,
    )


def run_exec(topo: LabTopology, node: NodeSpec) -> None:
    ns = topo.long_name(node.name)
    env = dict(os.environ, **node.env)
    for cmd in node.exec:
        try:
            argv = shlex.split(cmd)
        except ValueError as exc:
            raise LabInputError(f"node {node.name!r}: exec {cmd!r}: {exc}",
                                file=str(topo.path), line=node.line) from None  # fmt: skip
        if not argv:
            continue
        run(["ip", "netns", "exec", ns, *in_uts(node.name, argv)], env=env, timeout=30,
            what=f"{node.name}: exec {cmd!r}")  # fmt: skip
