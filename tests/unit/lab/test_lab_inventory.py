"""The lab's Nornir inventory: shape for both plugins, file modes, no secrets on stdout."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path

from click.testing import CliRunner
from nornir import InitNornir

from sdd_build.cli import main
from sdd_build.lab import attach, load_topology
from sdd_build.lab.inventory import HostEntry, build_inventory, write_inventory
from sdd_build.lab.state import LabState, NodeRecord

from .conftest import LABS


def _entries(topo_name: str = "triangle") -> list[HostEntry]:
    return [
        HostEntry(
            node=n,
            hostname="127.0.0.1",
            port=20000 + i,
            username="sdd-x-v",
            password=f"vty-secret-{n}",
            shell_username="sdd-x-s",
            shell_password=f"shell-secret-{n}",
            netns=f"clab-{topo_name}-{n}",
            frr_instance=f"clab-{topo_name}-{n}",
        )
        for i, n in enumerate(["r1", "r2", "r3"])
    ]


def test_inventory_shape_for_netmiko_and_napalm() -> None:
    topo = load_topology(LABS / "triangle.clab.yml")
    hosts, groups, defaults = build_inventory(topo, _entries())
    r1 = hosts["r1"]
    assert r1["platform"] == "frr"
    assert r1["port"] == 20000
    assert r1["groups"] == ["core", "lab_triangle"]
    assert r1["connection_options"]["netmiko"]["platform"] == "cisco_ios"
    napalm = r1["connection_options"]["napalm"]
    assert napalm["platform"] == "frr"
    assert napalm["extras"]["optional_args"]["shell_username"] == "sdd-x-s"
    assert napalm["extras"]["optional_args"]["frr_instance"] == "clab-triangle-r1"
    data = r1["data"]
    assert data["lab"] == "triangle"
    assert data["node"] == "r1"
    assert data["netns"] == data["frr_instance"] == "clab-triangle-r1"
    assert data["groups"] == ["core"]
    assert data["shell_username"] == "sdd-x-s"
    assert "shell_password" not in data  # only in optional_args (the 0600 file)
    assert set(groups) == {"core", "lab_triangle"}
    assert defaults["platform"] == "frr"


def test_written_inventory_reads_the_same_fast_and_in_full(tmp_path: Path) -> None:
    """YAML 1.1, declared: libyaml (the build's fast path) and ruamel agree on every value,
    also on scalars YAML 1.2 reads differently."""
    from sdd_build.design.inventory import load_inventory

    topo = load_topology(LABS / "triangle.clab.yml")
    entries = _entries()
    entries[0] = dataclasses.replace(entries[0], password="on", shell_password="1:20")
    inv = write_inventory(tmp_path / "inventory", topo, entries)
    assert "%YAML 1.1" in (inv / "hosts.yaml").read_text()
    fast = load_inventory(inv, machine_written=True)
    full = load_inventory(inv)
    assert not fast.files["hosts.yaml"].positions  # the fast path was taken
    assert full.files["hosts.yaml"].positions
    for name in ("hosts.yaml", "groups.yaml", "defaults.yaml"):
        assert fast.files[name].data == full.files[name].data
    r1 = fast.inventory.hosts["r1"]
    assert r1.password == "on"
    napalm = r1.get_connection_parameters("napalm")
    assert napalm.extras["optional_args"]["shell_password"] == "1:20"


def test_the_lab_folder_is_never_committed(tmp_path: Path) -> None:
    """The generated credentials sit beside the topology (clab-<lab>/): git ignores them."""
    import subprocess

    topo = load_topology(LABS / "triangle.clab.yml")
    write_inventory(tmp_path / "clab-triangle" / "inventory", topo, _entries())
    (tmp_path / "design.yaml").write_text("x\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=30)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True, timeout=30)
    staged = subprocess.run(
        ["git", "-C", str(tmp_path), "diff", "--cached", "--name-only"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    assert staged == ["design.yaml"]


def test_written_inventory_is_private_and_loads_in_nornir(tmp_path: Path) -> None:
    topo = load_topology(LABS / "triangle.clab.yml")
    inv = write_inventory(tmp_path / "inventory", topo, _entries())
    assert stat.S_IMODE(inv.stat().st_mode) == 0o700
    for f in ("hosts.yaml", "groups.yaml", "defaults.yaml"):
        assert stat.S_IMODE((inv / f).stat().st_mode) == 0o600
    nr = InitNornir(
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(inv / "hosts.yaml"),
                "group_file": str(inv / "groups.yaml"),
                "defaults_file": str(inv / "defaults.yaml"),
            },
        },
        logging={"enabled": False},
    )
    r1 = nr.inventory.hosts["r1"]
    assert r1.get_connection_parameters("netmiko").platform == "cisco_ios"
    assert r1.get_connection_parameters("napalm").platform == "frr"
    assert r1.port == 20000
    assert r1["frr_instance"] == "clab-triangle-r1"
    assert len(nr.filter(filter_func=lambda h: "core" in h.groups).inventory.hosts) == 3


def _fake_up_lab(tmp_path: Path) -> Path:
    """A copy of the triangle marked up in the (private) state root, with its inventory."""
    d = tmp_path / "labcopy"
    d.mkdir()
    for f in (LABS / "triangle").iterdir():
        (d / "triangle").mkdir(exist_ok=True)
        (d / "triangle" / f.name).write_text(f.read_text())
    path = d / "triangle.clab.yml"
    path.write_text((LABS / "triangle.clab.yml").read_text())
    topo = load_topology(path)
    write_inventory(topo.workdir / "inventory", topo, _entries())
    state = LabState(
        lab="triangle",
        topology=str(topo.path),
        provider="netns",
        phase="up",
        workdir=str(topo.workdir),
        nodes={
            n: NodeRecord(name=n, role="router", netns=f"clab-triangle-{n}", hostname=n)
            for n in topo.nodes
        },
    )
    state.save()
    return path


def test_inventory_command_prints_path_and_json_without_passwords(tmp_path: Path) -> None:
    path = _fake_up_lab(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["lab", "inventory", str(path)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(path.parent / "clab-triangle" / "inventory")
    res = runner.invoke(main, ["lab", "inventory", "--json", str(path)])
    assert res.exit_code == 0, res.output
    assert "secret" not in res.output
    data = json.loads(res.output)
    assert data["hosts"]["r2"]["port"] == 20001
    assert data["hosts"]["r2"]["groups"] == ["core"]


def test_handle_carries_both_logins(tmp_path: Path) -> None:
    handle = attach(_fake_up_lab(tmp_path))
    r1 = handle.hosts["r1"]
    assert (r1.username, r1.password) == ("sdd-x-v", "vty-secret-r1")
    assert (r1.shell_username, r1.shell_password) == ("sdd-x-s", "shell-secret-r1")
    assert r1.frr_instance == "clab-triangle-r1"
    assert "secret" not in repr(r1)
    assert "secret" not in repr(handle)


def test_inventory_of_a_lab_that_is_not_up(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["lab", "inventory", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 1
    assert "is not up" in res.output


def test_linux_hosts_are_check_targets_over_netmiko_linux() -> None:
    topo = load_topology(LABS / "hosts.clab.yml")
    h1 = HostEntry(
        node="h1",
        hostname="127.0.0.1",
        port=20010,
        username="sdd-x-s",
        password="shell-secret-h1",
        shell_username="sdd-x-s",
        shell_password="shell-secret-h1",
        netns="clab-hosts-h1",
        frr_instance="",
    )
    hosts, _groups, defaults = build_inventory(topo, [h1])
    entry = hosts["h1"]
    assert entry["platform"] == "linux"
    assert entry["username"] == "sdd-x-s"
    assert entry["connection_options"] == {"netmiko": {"platform": "linux", "extras": {}}}
    assert entry["data"]["netns"] == "clab-hosts-h1"
    assert "frr_instance" not in entry["data"]
    assert defaults["platform"] == "frr"
