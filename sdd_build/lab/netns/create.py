"""Building a namespace lab: everything recorded first, then namespaces, links, users, FRR,
exec commands, sshd + socat and the inventory."""

from __future__ import annotations

import secrets

from sdd_build.lab.health import wait_ssh
from sdd_build.lab.inventory import HostEntry, write_inventory
from sdd_build.lab.netns.execs import run_exec, start_cmd
from sdd_build.lab.netns.frr import start_frr, wait_frr
from sdd_build.lab.netns.node import start_holder
from sdd_build.lab.netns.socat import ports_in_other_labs, start_socat
from sdd_build.lab.netns.sshd import add_user, host_key, start_sshd, users_for
from sdd_build.lab.procs import parallel
from sdd_build.lab.provider import Progress, run
from sdd_build.lab.state import LabState, NodeRecord, Resource
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = ["create"]


def _record(topo: LabTopology, state: LabState) -> None:
    """Everything this run may create, recorded before the first thing is created."""
    vty_user, shell_user = users_for(topo.name)
    if topo.nodes:  # routers and Linux hosts alike get an sshd (hosts: the bash login only)
        state.vty_user, state.shell_user = vty_user, shell_user
    for node in topo.nodes.values():
        ns = topo.long_name(node.name)
        state.nodes[node.name] = NodeRecord(
            name=node.name,
            role="router" if node.is_frr else "bridge" if node.is_bridge else "host",
            netns=ns,
            frr_instance=ns if node.is_frr else None,
            hostname=node.name,
        )
    state.resources.append(Resource(kind="workdir", name=str(topo.workdir)))
    if topo.dummies:
        state.resources.append(Resource(kind="netns", name=stub_netns(topo)))
    for rec in state.nodes.values():
        state.resources.append(Resource(kind="netns", name=rec.netns, node=rec.name))
        if rec.frr_instance:
            state.resources.append(
                Resource(kind="frr_instance", name=rec.frr_instance, node=rec.name)
            )
    if topo.nodes:
        state.resources.append(Resource(kind="user", name=vty_user))
        state.resources.append(Resource(kind="user", name=shell_user))
    state.save()


def stub_netns(topo: LabTopology) -> str:
    """The lab's namespace for the far ends of emulated dummy links (no node can be named so:
    node names start with a letter or digit)."""
    return topo.long_name("_stubs")


def _dummies(topo: LabTopology) -> tuple[list[str], list[str]]:
    """``ip -b`` lines for the ``dummy`` links: a dummy interface, or, on a kernel without the
    dummy driver (some containers), a veth whose peer is up in the lab's stub namespace: to the
    node, an interface that is up with nothing behind it either way."""
    if not topo.dummies:
        return [], []
    probe_ns = topo.long_name(topo.dummies[0].a.node)
    probe = run(["ip", "-n", probe_ns, "link", "add", "sdd-probe", "type", "dummy"], check=False)
    if probe.returncode == 0:
        run(["ip", "-n", probe_ns, "link", "del", "sdd-probe"], check=False)
    stubs = stub_netns(topo)
    lines = [] if probe.returncode == 0 else [f"netns add {stubs}\n"]
    ups: list[str] = []
    for i, d in enumerate(topo.dummies):
        node, mtu = topo.long_name(d.a.node), f" mtu {d.mtu}" if d.mtu else ""
        if probe.returncode == 0:
            lines.append(f"link add name {d.a.interface} netns {node}{mtu} type dummy\n")
        else:
            lines.append(f"link add name {d.a.interface} netns {node}{mtu} type veth "
                         f"peer name s{i} netns {stubs}\n")  # fmt: skip
            ups.append(f"link set s{i} up\n")
    return lines, ups


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
    dummies, stub_ups = _dummies(topo)
    lines += dummies
    if lines:
        run(["ip", "-b", "-"], input="".join(lines), what="ip link add (links)")
    if stub_ups:
        run(["ip", "-n", stub_netns(topo), "-b", "-"], input="".join(stub_ups), what="stub links")
    for rec in state.nodes.values():
        up = ["lo", *topo.interfaces(rec.name)]
        ups = "".join(f"link set {i} up\n" for i in up)
        if rec.role == "bridge":
            # a broadcast segment: one Linux bridge inside the bridge node's own namespace
            # (never on the host), named like the node, every link ending here a port of it
            br = rec.name
            ups = (f"link add name {br} type bridge stp_state 0 mcast_snooping 0\n"
                   + "".join(f"link set {i} master {br}\n" for i in up[1:])
                   + ups + f"link set {br} up\n")  # fmt: skip
        run(["ip", "-n", rec.netns, "-b", "-"], input=ups, what=f"{rec.name}: link up")
        if rec.role == "router":
            run(["ip", "netns", "exec", rec.netns, "sysctl", "-q", "-w",
                 "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"])  # fmt: skip


def create(topo: LabTopology, state: LabState, progress: Progress) -> list[str]:
    """Build the lab; returns notes for the user (exec commands that failed, ...)."""
    routers = [n for n in topo.nodes.values() if n.is_frr]
    hosts = [n for n in topo.nodes.values() if n.is_host]
    _record(topo, state)
    vty_user, shell_user = users_for(topo.name)
    workdir = topo.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(exist_ok=True)

    progress(f"creating {len(topo.nodes)} namespaces and {len(topo.links)} links")
    _network(topo, state)
    nodes = [n for n in topo.nodes.values() if not n.is_bridge]  # a bridge runs nothing
    parallel(lambda n: start_holder(topo, state, n), nodes)

    passwords: dict[str, str] = {}
    if topo.nodes:
        progress("adding the lab's temporary users")
        for user in (vty_user, shell_user):
            passwords[user] = secrets.token_urlsafe(18)
            add_user(user, topo.name, passwords[user])
        host_key(workdir)
    if routers:
        progress(f"starting FRR in {len(routers)} routers")
    parallel(lambda n: start_frr(topo, state.nodes[n.name], n), routers)

    notes: list[str] = []
    for node in hosts:
        start_cmd(topo, state, node)
    for node in [*hosts, *routers]:
        notes += run_exec(topo, state.nodes[node.name], node, progress)

    if not topo.nodes:
        write_inventory(workdir / "inventory", topo, [])
        return notes
    progress("starting sshd + socat per node")
    taken: set[int] = ports_in_other_labs(topo.name)
    # sshd start-up is mostly waiting for its fork and pidfile: overlap them
    logins = [*routers, *hosts]
    parallel(lambda n: start_sshd(topo, state, n, vty_user, shell_user), logins)
    parallel(lambda n: start_socat(topo, state, n, taken), logins)
    entries = [_entry(topo, state, n, vty_user, shell_user, passwords) for n in logins]
    write_inventory(workdir / "inventory", topo, entries)
    progress("waiting for FRR and SSH on every node")
    parallel(lambda n: wait_frr(topo, state.nodes[n.name], n), routers)
    for group, user in ((routers, vty_user), (hosts, shell_user)):
        ports = {n.name: (state.nodes[n.name].port or 0) for n in group}
        if ports:
            wait_ssh(ports, user, passwords[user], timeout=30.0)
    return notes


def _entry(
    topo: LabTopology,
    state: LabState,
    node: NodeSpec,
    vty_user: str,
    shell_user: str,
    passwords: dict[str, str],
) -> HostEntry:
    """A node's inventory entry: a router logs in to vtysh (its FRR instance named), a Linux
    host to bash (Netmiko's linux device type, a design's check target); both keep the shell
    login for what needs one."""
    login = shell_user if node.is_host else vty_user
    return HostEntry(
        node=node.name,
        hostname="127.0.0.1",
        port=state.nodes[node.name].port or 0,
        username=login,
        password=passwords[login],
        shell_username=shell_user,
        shell_password=passwords[shell_user],
        netns=topo.long_name(node.name),
        frr_instance="" if node.is_host else topo.long_name(node.name),
    )
