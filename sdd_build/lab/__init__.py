"""Labs: containerlab topologies run as real FRR routers (containerlab, or network namespaces).

Public API::

    from sdd_build import lab
    topo = lab.load_topology("labs/triangle.clab.yml")      # validate only (LabError, exit 2)
    handle = lab.up("labs/triangle.clab.yml", wait=True, timeout=120)   # -> LabHandle
    handle.hosts["r1"].vtysh("show ip ospf neighbor")       # vtysh -N <inst> -c ..., locally
    handle.impair("r1:eth1", link="down")
    lab.status("labs/triangle.clab.yml")                     # -> LabStatus
    lab.down("labs/triangle.clab.yml")                       # -> bool (False: was not up)

The provider is ``containerlab`` when that binary is on PATH, else ``netns``;
``SDD_LAB_PROVIDER=netns|containerlab`` forces one. A lab that is up keeps its provider.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdd_build.lab.impair import Impairment, parse_target
from sdd_build.lab.inventory import HOST_PLATFORM, read_hosts
from sdd_build.lab.procs import VTYSH, enter, in_uts, node_path
from sdd_build.lab.provider import (
    LabInputError,
    LabProvider,
    LabRuntimeError,
    NodeStatus,
    Progress,
    UpResult,
)
from sdd_build.lab.registry import choose
from sdd_build.lab.state import LabState, NodeRecord
from sdd_build.lab.topology import LabTopology, load_topology, read_lab_name
from sdd_build.labpaths import inventory_dir
from sdd_build.secrets import register_secrets

__all__ = [
    "LabHandle",
    "LabInputError",
    "LabNode",
    "LabRuntimeError",
    "LabStatus",
    "LinuxHost",
    "NodeStatus",
    "UpResult",
    "attach",
    "down",
    "impair",
    "inventory_dir",
    "load_topology",
    "read_lab_name",
    "status",
    "up",
]


def _quiet(_msg: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class LabNode:
    """One FRR router of a running lab, as a test or the engine reaches it."""

    name: str
    hostname: str
    port: int
    username: str
    password: str = field(repr=False)
    shell_username: str = ""
    shell_password: str = field(default="", repr=False)
    netns: str = ""
    frr_instance: str = ""
    record: NodeRecord | None = field(default=None, repr=False, compare=False)

    def enter_argv(self, *argv: str) -> list[str]:
        """argv run inside this router: its network, mount and UTS namespaces (its own
        /etc/frr, /var/run/frr, /tmp, ...); containerlab's nodes: its network namespace."""
        if self.record is not None:
            return enter(self.record, list(argv))
        return ["ip", "netns", "exec", self.netns, *in_uts(self.name, list(argv))]

    def path(self, path: str) -> Path:
        """A file of this router as the router sees it (``/etc/frr/frr.conf``), from here."""
        if self.record is None:
            return Path(path)
        return node_path(self.record, path)

    def vtysh(self, *commands: str, timeout: float = 30.0, check: bool = True) -> str:
        """Run vtysh commands on this router (``vtysh -N <inst> -c ... -c ...``) inside it, so
        ``show running-config`` shows the node's host name.
        With ``check`` (default), an output line starting "% " (FRR's error marker, e.g.
        "% Unknown command") or a non-zero exit raises ``LabRuntimeError``."""
        argv = [VTYSH, "-N", self.frr_instance]
        for cmd in commands:
            argv += ["-c", cmd]
        proc = _run_node(self.enter_argv(*argv), timeout, f"{self.name}: vtysh")
        out = proc.stdout
        if check and (proc.returncode != 0 or any(ln.startswith("% ") for ln in out.splitlines())):
            first = next((ln for ln in out.splitlines() if ln.startswith("% ")), "")
            raise LabRuntimeError(
                f"{self.name}: vtysh {' / '.join(commands)!r} failed: "
                f"{first or proc.stderr.strip() or f'exit {proc.returncode}'}"
            )
        return out

    def exec(self, *argv: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run a command inside this router (not checked)."""
        return _run_node(self.enter_argv(*argv), timeout, self.name)


@dataclass(frozen=True, slots=True)
class LinuxHost:
    """A plain ``kind: linux`` node: its own namespaces, with the addresses its ``exec`` set."""

    name: str
    netns: str
    record: NodeRecord | None = field(default=None, repr=False, compare=False)
    port: int = 0  # its sshd on 127.0.0.1 (the namespace provider), 0: none
    username: str = ""

    def enter_argv(self, *argv: str) -> list[str]:
        if self.record is not None:
            return enter(self.record, list(argv))
        return ["ip", "netns", "exec", self.netns, *argv]

    def path(self, path: str) -> Path:
        return Path(path) if self.record is None else node_path(self.record, path)

    def exec(self, *argv: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        return _run_node(self.enter_argv(*argv), timeout, self.name)

    def ping(self, address: str, *, count: int = 1, timeout: float = 10.0) -> bool:
        return (
            self.exec("ping", "-c", str(count), "-W", "1", address, timeout=timeout).returncode == 0
        )


def _run_node(argv: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LabRuntimeError(f"{what}: timed out after {timeout:.0f}s") from None


@dataclass(frozen=True, slots=True)
class LabStatus:
    name: str
    topology_path: Path
    up: bool
    provider: str | None
    nodes: list[NodeStatus]
    phase: str | None = None  # creating / destroying: an interrupted run, ``down`` cleans it

    def as_dict(self) -> dict[str, Any]:
        return {
            "lab": self.name,
            "topology": str(self.topology_path),
            "up": self.up,
            "phase": self.phase,
            "provider": self.provider,
            "nodes": [n.as_dict() for n in self.nodes],
        }


@dataclass(slots=True)
class LabHandle:
    """A running lab: what tests and ``build --lab`` need to reach it."""

    name: str
    topology_path: Path
    inventory_dir: Path
    hosts: dict[str, LabNode]
    linux_hosts: dict[str, LinuxHost]
    provider: str
    topology: LabTopology = field(repr=False)
    result: UpResult | None = None

    def impair(self, target: str, **options: Any) -> str:
        """``handle.impair("r1:eth1", link="down")``; options as ``Impairment`` fields
        (link, delay, jitter, loss, rate, clear, sshd, daemon, daemon_action)."""
        return impair(self.topology_path, target, **options)

    def status(self) -> LabStatus:
        return status(self.topology_path)

    def down(self) -> bool:
        return down(self.topology_path)

    def nornir(self, **options: Any) -> Any:
        """A Nornir object over this lab's inventory (SimpleInventory)."""
        from nornir import InitNornir

        return InitNornir(
            inventory={
                "plugin": "SimpleInventory",
                "options": {
                    "host_file": str(self.inventory_dir / "hosts.yaml"),
                    "group_file": str(self.inventory_dir / "groups.yaml"),
                    "defaults_file": str(self.inventory_dir / "defaults.yaml"),
                },
            },
            logging={"enabled": False},
            **options,
        )


def _provider(state: LabState | None = None) -> LabProvider:
    return choose(state.provider if state is not None else None)


def up(
    topology: str | Path,
    *,
    wait: bool = False,
    timeout: float = 120.0,
    progress: Progress | None = None,
) -> LabHandle:
    """Bring a lab up (idempotent) and return its handle once every node answers over SSH;
    with ``wait``, also once declared convergence holds (else ``LabRuntimeError``, lab left up)."""
    topo = load_topology(topology)
    provider = _provider(LabState.load(topo.name))
    result = provider.up(topo, wait=wait, timeout=timeout, progress=progress or _quiet)
    handle = attach(topo)
    handle.result = result
    return handle


def attach(topology: str | Path | LabTopology) -> LabHandle:
    """The handle of a lab that is already up (``LabRuntimeError`` if it is not)."""
    topo = topology if isinstance(topology, LabTopology) else load_topology(topology)
    state = LabState.load(topo.name)
    if state is None or state.topology != str(topo.path) or state.phase != "up":
        raise LabRuntimeError(f"lab {topo.name!r} is not up", hint=f"sdd-build lab up {topo.path}")
    inv = topo.workdir / "inventory"
    hosts: dict[str, LabNode] = {}
    raw = read_hosts(inv) if (inv / "hosts.yaml").exists() else {}
    logins: dict[str, tuple[int, str]] = {}
    host_secrets: list[str] = []
    for name, h in raw.items():
        data = h.get("data", {})
        if h.get("platform") == HOST_PLATFORM:  # a Linux host's bash login (check target)
            logins[name] = (int(h["port"]), str(h["username"]))
            host_secrets.append(str(h["password"]))
            continue
        napalm_opts = h["connection_options"]["napalm"]["extras"]["optional_args"]
        hosts[name] = LabNode(
            name=name,
            hostname=str(h["hostname"]),
            port=int(h["port"]),
            username=str(h["username"]),
            password=str(h["password"]),
            shell_username=str(data.get("shell_username", "")),
            shell_password=str(napalm_opts.get("shell_password", "")),
            netns=str(data.get("netns", "")),
            frr_instance=str(data.get("frr_instance", "")),
            record=state.nodes[name] if name in state.nodes and state.nodes[name].pid else None,
        )
    # the lab's generated credentials are masked in everything written from now on
    register_secrets(
        [v for h in hosts.values() for v in (h.password, h.shell_password) if v] + host_secrets
    )
    linux_hosts = {
        rec.name: LinuxHost(
            rec.name, rec.netns, rec if rec.pid else None, *logins.get(rec.name, (0, ""))
        )
        for rec in state.nodes.values()
        if rec.role == "host"
    }
    return LabHandle(
        name=topo.name,
        topology_path=topo.path,
        inventory_dir=inv,
        hosts=hosts,
        linux_hosts=linux_hosts,
        provider=state.provider,
        topology=topo,
    )


def down(topology: str | Path, *, progress: Progress | None = None) -> bool:
    """Remove everything the lab made. False when it was not up (nothing to do)."""
    topo_path = Path(topology).resolve()
    name = read_lab_name(topo_path)
    state = LabState.load(name)
    provider = _provider(state)
    return provider.down(name, str(topo_path), progress=progress or _quiet)


def status(topology: str | Path) -> LabStatus:
    topo = load_topology(topology)
    state = LabState.load(topo.name)
    if state is None or state.topology != str(topo.path):
        return LabStatus(topo.name, topo.path, up=False, provider=None, nodes=[])
    nodes = _provider(state).status(topo)
    return LabStatus(topo.name, topo.path, up=state.phase == "up", provider=state.provider,
                     nodes=nodes, phase=state.phase)  # fmt: skip


def impair(topology: str | Path, target: str, **options: Any) -> str:
    topo = load_topology(topology)
    node, iface = parse_target(target)
    if node not in topo.nodes:
        raise LabInputError(f"no node {node!r} in {topo.path}")
    try:
        imp = Impairment(node=node, interface=iface, **options)
    except TypeError as exc:
        raise LabInputError(f"impair: {exc}") from None
    imp.validate()  # usage errors first (exit 2), before root or the lab's state matter
    state = LabState.load(topo.name)
    return _provider(state).impair(topo, imp)
