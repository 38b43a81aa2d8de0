"""The lab's Nornir SimpleInventory: ``clab-<lab>/inventory/{hosts,groups,defaults}.yaml``.

Hosts are the topology's FRR routers and, where the provider gives them an sshd (the namespace
provider does), its plain Linux hosts. Routers: ``platform: frr`` at host level, with a
per-plugin ``connection_options`` platform so both plugins understand it:

* ``netmiko``: ``cisco_ios`` (there is no FRR device type; cisco_ios drives vtysh well);
* ``napalm``: ``frr`` (the ``napalm_frr`` driver), with ``optional_args`` carrying the shell
  login (``shell_username``/``shell_password``), ``frr_instance`` and ``netns``.

Linux hosts: ``platform: linux`` (Netmiko's ``linux`` device type; no NAPALM), the lab's bash
login; designs list them under ``check_targets`` (checked, never configured).

Host ``data``: ``lab``, ``node``, ``netns``, ``frr_instance``, ``kind``, ``image``,
``shell_username``, ``groups`` (the topology groups: node ``group`` plus the comma-separated
label ``sdd.groups``), ``labels`` (all node labels). Every topology group is also a Nornir group
(``groups.yaml``) and so is ``lab_<lab>``, so designs can target either. Passwords appear only in
``hosts.yaml``; all three files are mode 0600 in a 0700 directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from sdd_build.lab.topology import LabTopology

__all__ = ["HostEntry", "build_inventory", "read_hosts", "write_inventory"]

NETMIKO_PLATFORM = "cisco_ios"
NAPALM_PLATFORM = "frr"
PLATFORM = "frr"
HOST_PLATFORM = "linux"  # a plain Linux host: Netmiko's device type of the same name


@dataclass(frozen=True, slots=True)
class HostEntry:
    node: str
    hostname: str
    port: int
    username: str
    password: str
    shell_username: str
    shell_password: str
    netns: str
    frr_instance: str


def _group_name(lab: str) -> str:
    return "lab_" + lab.replace("-", "_").replace(".", "_")


def build_inventory(
    topo: LabTopology, hosts: list[HostEntry], *, provider: str = "netns"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(hosts, groups, defaults) as plain data; pure, so it is unit-tested offline."""
    lab_group = _group_name(topo.name)
    groups: dict[str, Any] = {lab_group: {"data": {"lab": topo.name}}}
    out_hosts: dict[str, Any] = {}
    for entry in hosts:
        spec = topo.nodes[entry.node]
        for g in spec.groups:
            groups.setdefault(g, {"data": {}})
        if spec.is_host:
            out_hosts[entry.node] = {
                "hostname": entry.hostname,
                "port": entry.port,
                "username": entry.username,
                "password": entry.password,
                "platform": HOST_PLATFORM,
                "groups": [*spec.groups, lab_group],
                "data": {
                    "lab": topo.name,
                    "node": entry.node,
                    "netns": entry.netns,
                    "kind": spec.kind,
                    "image": spec.image,
                    "provider": provider,
                    "groups": list(spec.groups),
                    "labels": dict(spec.labels),
                },
                "connection_options": {"netmiko": {"platform": HOST_PLATFORM, "extras": {}}},
            }
            continue
        out_hosts[entry.node] = {
            "hostname": entry.hostname,
            "port": entry.port,
            "username": entry.username,
            "password": entry.password,
            "platform": PLATFORM,
            "groups": [*spec.groups, lab_group],
            "data": {
                "lab": topo.name,
                "node": entry.node,
                "netns": entry.netns,
                "frr_instance": entry.frr_instance,
                "kind": spec.kind,
                "image": spec.image,
                "provider": provider,
                "shell_username": entry.shell_username,
                "groups": list(spec.groups),
                "labels": dict(spec.labels),
            },
            "connection_options": {
                "netmiko": {"platform": NETMIKO_PLATFORM, "extras": {}},
                "napalm": {
                    "platform": NAPALM_PLATFORM,
                    "extras": {
                        "optional_args": {
                            "port": entry.port,
                            "frr_instance": entry.frr_instance,
                            "netns": entry.netns,
                            "shell_username": entry.shell_username,
                            "shell_password": entry.shell_password,
                        }
                    },
                },
            },
        }
    defaults: dict[str, Any] = {"platform": PLATFORM, "data": {"lab": topo.name}}
    return out_hosts, groups, defaults


def _dump(data: Any) -> str:
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    # YAML 1.1, declared: the scalars 1.1 and 1.2 read differently ('on', '1:20', ...) come out
    # quoted, so Nornir (ruamel) and sdd-build's fast reader (libyaml) see the same values
    y.version = (1, 1)
    buf = StringIO()
    y.dump(data, buf)
    return buf.getvalue()


GITIGNORE = "# sdd-build lab runtime: generated credentials, never committed\n*\n"


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_inventory(
    inventory_dir: Path, topo: LabTopology, hosts: list[HostEntry], *, provider: str = "netns"
) -> Path:
    h, g, d = build_inventory(topo, hosts, provider=provider)
    inventory_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(inventory_dir, 0o700)
    # The lab's folder beside the topology holds generated credentials (and the netns
    # provider's SSH host key): git never records it, whatever the user adds.
    _write_private(inventory_dir.parent / ".gitignore", GITIGNORE)
    header = f"# Written by sdd-build lab up for lab {topo.name!r}; removed by lab down.\n"
    _write_private(inventory_dir / "hosts.yaml", header + _dump(h))
    _write_private(inventory_dir / "groups.yaml", header + _dump(g))
    _write_private(inventory_dir / "defaults.yaml", header + _dump(d))
    return inventory_dir


def read_hosts(inventory_dir: Path) -> dict[str, Any]:
    y = YAML(typ="safe", pure=True)
    data = y.load((inventory_dir / "hosts.yaml").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}
