"""The containerlab delegate: with ``containerlab`` on PATH, the lab is containerlab's.

``up`` = ``containerlab deploy -t``, ``down`` = ``containerlab destroy -t --cleanup``,
``status``/inventory from ``containerlab inspect -t --format json`` (both the older
``{"containers": [...]}`` shape and the newer ``{"<lab>": [...]}`` shape). Nodes are reached on
their management address, port 22 (or the label ``sdd.ssh-port``), with the credentials of the
labels ``sdd.username`` / ``sdd.password`` (default ``admin`` / ``admin``): containerlab does not
create logins, the node image does. Faults: netem through ``containerlab tools netem``.
"""

from __future__ import annotations

import json
import shutil
import socket
import time
from typing import Any

from sdd_build.lab.impair import Impairment
from sdd_build.lab.inventory import HostEntry, write_inventory
from sdd_build.lab.provider import (
    LabInputError,
    LabRuntimeError,
    NodeStatus,
    Progress,
    UpResult,
    run,
)
from sdd_build.lab.state import LabState, lab_lock
from sdd_build.lab.topology import LabTopology

__all__ = ["ContainerlabProvider", "containerlab_path", "parse_inspect"]

DEPLOY_TIMEOUT = 900.0


def containerlab_path() -> str | None:
    return shutil.which("containerlab")


def parse_inspect(raw: str, lab: str) -> list[dict[str, Any]]:
    """The lab's containers from ``inspect --format json`` output (any known shape)."""
    text = raw.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        raise LabRuntimeError("containerlab inspect printed something that is not JSON") from None
    if isinstance(data, dict) and "containers" in data:
        items = data["containers"] or []
    elif isinstance(data, dict):
        items = data.get(lab) or []
    elif isinstance(data, list):
        items = data
    else:
        items = []
    return [c for c in items if isinstance(c, dict) and c.get("lab_name", lab) == lab]


def _node_of(topo: LabTopology, container: str) -> str | None:
    for node in topo.nodes:
        if topo.long_name(node) == container or node == container:
            return node
    return None


def _ssh_banner(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class ContainerlabProvider:
    name = "containerlab"

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def _inspect(self, topo: LabTopology) -> list[dict[str, Any]]:
        proc = run([self.binary, "inspect", "-t", str(topo.path), "--format", "json"],
                   check=False, timeout=60, what="containerlab inspect")  # fmt: skip
        if proc.returncode != 0:
            return []
        return parse_inspect(proc.stdout, topo.name)

    def up(self, topo: LabTopology, *, wait: bool, timeout: float, progress: Progress) -> UpResult:
        t0 = time.monotonic()
        with lab_lock(topo.name):
            state = LabState.load(topo.name)
            if state is not None and state.topology != str(topo.path):
                raise LabInputError(
                    f"lab name {topo.name!r} is already used by {state.topology}",
                    file=str(topo.path),
                    hint="give this topology another 'name', or bring the other lab down first",
                )
            existing = self._inspect(topo)
            running = [c for c in existing if c.get("state") == "running"]
            if len(running) == len(topo.nodes):
                # up already (by us, or deployed with containerlab directly: adopt it)
                if state is None:
                    state = LabState(lab=topo.name, topology=str(topo.path),
                                     provider=self.name, workdir=str(topo.workdir),
                                     phase="up")  # fmt: skip
                    state.save()
                    entries = self._entries(topo, running)
                    write_inventory(topo.workdir / "inventory", topo, entries, provider=self.name)
                return UpResult(already_up=True, provider=self.name)
            state = LabState(lab=topo.name, topology=str(topo.path), provider=self.name,
                             workdir=str(topo.workdir))  # fmt: skip
            state.save()
            argv = [self.binary, "deploy", "-t", str(topo.path)]
            if existing:
                argv.append("--reconfigure")  # a partial lab: containerlab rebuilds it
            progress(" ".join(argv[1:]))
            run(argv, timeout=DEPLOY_TIMEOUT, what="containerlab deploy")
            containers = self._inspect(topo)
            entries = self._entries(topo, containers)
            write_inventory(topo.workdir / "inventory", topo, entries, provider=self.name)
            deadline = time.monotonic() + max(timeout, 60.0)
            pending = {e.node: e for e in entries}
            while pending:
                for name, e in list(pending.items()):
                    if _ssh_banner(e.hostname, e.port, 2.0):
                        pending.pop(name)
                if pending and time.monotonic() > deadline:
                    raise LabRuntimeError(
                        "deployed, but not answering over SSH: " + ", ".join(sorted(pending)),
                        hint="the node images must run sshd (labels sdd.username/sdd.password)",
                    )
                if pending:
                    time.sleep(1.0)
            state.phase = "up"
            state.save()
        return UpResult(already_up=False, provider=self.name, ready_s=time.monotonic() - t0)

    def _entries(self, topo: LabTopology, containers: list[dict[str, Any]]) -> list[HostEntry]:
        entries: list[HostEntry] = []
        for c in containers:
            node = _node_of(topo, str(c.get("name", "")))
            if node is None or not topo.nodes[node].is_frr:
                continue
            spec = topo.nodes[node]
            addr = str(c.get("ipv4_address") or "").split("/")[0]
            if not addr or addr == "N/A":
                raise LabRuntimeError(f"containerlab reports no management IPv4 for {node}")
            user = spec.labels.get("sdd.username", "admin")
            password = spec.labels.get("sdd.password", "admin")
            port = int(spec.labels.get("sdd.ssh-port", "22"))
            entries.append(
                HostEntry(node=node, hostname=addr, port=port, username=user, password=password,
                          shell_username=user, shell_password=password,
                          netns=str(c.get("name")), frr_instance="")
            )  # fmt: skip
        return entries

    def down(self, lab: str, topology_path: str, *, progress: Progress) -> bool:
        with lab_lock(lab):
            state = LabState.load(lab)
            progress(f"containerlab destroy -t {topology_path}")
            proc = run(
                [self.binary, "destroy", "-t", topology_path, "--cleanup"],
                check=False,
                timeout=DEPLOY_TIMEOUT,
                what="containerlab destroy",
            )
            if proc.returncode != 0 and state is not None:
                raise LabRuntimeError(f"containerlab destroy failed: {proc.stderr.strip()}")
            if state is not None:
                # our inventory lives in containerlab's lab directory; --cleanup removes it too
                if state.workdir.endswith(f"clab-{lab}"):
                    shutil.rmtree(state.workdir, ignore_errors=True)
                state.remove()
            return state is not None

    def status(self, topo: LabTopology) -> list[NodeStatus]:
        out: list[NodeStatus] = []
        for c in self._inspect(topo):
            node = _node_of(topo, str(c.get("name", ""))) or str(c.get("name"))
            st = NodeStatus(name=node, role="router" if node in topo.nodes and
                            topo.nodes[node].is_frr else "host",
                            netns=str(c.get("name")), port=None)  # fmt: skip
            st.alive["container"] = c.get("state") == "running"
            st.extra["mgmt_ipv4"] = c.get("ipv4_address")
            st.extra["image"] = c.get("image")
            out.append(st)
        return out

    def impair(self, topo: LabTopology, imp: Impairment) -> str:
        imp.validate()
        if imp.link or imp.sshd or imp.daemon:
            raise LabInputError(
                "with containerlab, only netem faults (--delay/--jitter/--loss/--rate/--clear) "
                "are supported; use docker exec for link, sshd and daemon faults"
            )
        assert imp.interface is not None
        container = topo.long_name(imp.node)
        if imp.clear:
            argv = [self.binary, "tools", "netem", "reset", "-n", container, "-i", imp.interface]
        else:
            argv = [self.binary, "tools", "netem", "set", "-n", container, "-i", imp.interface]
            for flag, value in (("--delay", imp.delay), ("--jitter", imp.jitter),
                                ("--rate", imp.rate)):  # fmt: skip
                if value is not None:
                    argv += [flag, value]
            if imp.loss is not None:
                argv += ["--loss", f"{imp.loss:g}"]
        run(argv, timeout=60, what="containerlab tools netem")
        return " ".join(argv[1:])
