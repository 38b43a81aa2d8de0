"""Topology loading: models, inheritance, located problems, the shipped topologies."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdd_build.cli import main
from sdd_build.errors import LabError
from sdd_build.lab import load_topology
from sdd_build.lab.generate import write_ring
from sdd_build.lab.netns import label_problems, unsupported_features

from .conftest import LABS, WriteTopo

BASE = """
name: t
topology:
  nodes:
    r1: {kind: linux, image: frrouting/frr:8.4.1}
    r2: {kind: linux, image: frrouting/frr:8.4.1}
  links:
    - endpoints: ["r1:eth1", "r2:eth1"]
"""


def _messages(exc: LabError) -> list[str]:
    return [str(p) for p in exc.problems]


def test_minimal_topology_resolves(write_topo: WriteTopo) -> None:
    topo = load_topology(write_topo(BASE))
    assert topo.name == "t"
    assert list(topo.nodes) == ["r1", "r2"]
    assert all(n.is_frr for n in topo.nodes.values())
    assert topo.long_name("r1") == "clab-t-r1"
    assert topo.workdir == topo.path.parent / "clab-t"
    assert [(str(lk.a), str(lk.b)) for lk in topo.links] == [("r1:eth1", "r2:eth1")]


def test_inheritance_defaults_kinds_groups_node(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: inh
        topology:
          defaults:
            kind: linux
            labels: {a: defaults, b: defaults, c: defaults, d: defaults}
            env: {X: "1"}
            binds: ["d.txt:/etc/frr/daemons"]
          kinds:
            linux:
              image: frrouting/frr:8.4.1
              labels: {b: kinds, c: kinds, d: kinds}
          groups:
            core:
              labels: {c: groups, d: groups}
              exec: ["echo group"]
          nodes:
            r1:
              group: core
              labels: {d: node}
              env: {Y: "2"}
            h1:
              image: alpine:3.20
        """,
        files={"d.txt": "bgpd=yes\n"},
    )
    topo = load_topology(path)
    r1, h1 = topo.nodes["r1"], topo.nodes["h1"]
    assert {k: r1.labels[k] for k in "abcd"} == {
        "a": "defaults",
        "b": "kinds",
        "c": "groups",
        "d": "node",
    }
    assert r1.env == {"X": "1", "Y": "2"}
    assert r1.exec == ("echo group",)
    assert r1.image == "frrouting/frr:8.4.1"
    assert r1.is_frr
    assert r1.groups == ("core",)
    assert r1.binds[0][1] == "/etc/frr/daemons"
    # node image beats the kind's: a linux node without an FRR image is a plain host
    assert h1.image == "alpine:3.20"
    assert h1.is_host
    assert h1.groups == ()


def test_label_groups_add_to_node_group(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: g
        topology:
          nodes:
            r1: {kind: frr, group: core, labels: {sdd.groups: "edge, west"}}
        """
    )
    assert load_topology(path).nodes["r1"].groups == ("core", "edge", "west")


def test_extended_veth_link_form(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: ext
        topology:
          nodes:
            r1: {kind: frr}
            r2: {kind: frr}
          links:
            - type: veth
              mtu: 9000
              endpoints:
                - {node: r1, interface: eth1, mac: "02:00:00:00:00:01"}
                - {node: r2, interface: eth7}
        """
    )
    (link,) = load_topology(path).links
    assert (str(link.a), str(link.b), link.mtu, link.a.mac) == (
        "r1:eth1",
        "r2:eth7",
        9000,
        "02:00:00:00:00:01",
    )


def test_problems_are_all_listed_with_lines(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: bad
        topology:
          nodes:
            r1: {kind: frr}
            r2: {kind: frr, startup-config: missing.conf}
            r1: {kind: frr}
          links:
            - endpoints: ["r1:eth1", "r9:eth1"]
            - endpoints: ["r1:eth1", "r2:eth1"]
            - endpoints: ["r2-eth2", "r1:eth3"]
        """
    )
    with pytest.raises(LabError) as info:
        load_topology(path)
    assert info.value.exit_code == 2
    msgs = _messages(info.value)
    f = str(path)
    assert f"{f}:6: duplicate key 'r1' (first defined on line 4)" in msgs
    assert any(m.startswith(f"{f}:5: ") and "startup-config file not found" in m for m in msgs)
    assert any(m.startswith(f"{f}:8: ") and "unknown node 'r9'" in m for m in msgs)
    assert any(
        m.startswith(f"{f}:9: ") and "r1:eth1 is used by more than one link" in m for m in msgs
    )
    assert any(m.startswith(f"{f}:10: ") and "not 'node:interface'" in m for m in msgs)
    assert len(msgs) == 5


def test_schema_errors_map_to_lines(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: schema
        topology:
          nodes:
            r1:
              kind: frr
              startup_config: x.conf
            r2:
              kind: frr
              labels: [not, a, map]
          links:
            - endpoints: ["r1:eth1"]
        """
    )
    with pytest.raises(LabError) as info:
        load_topology(path)
    msgs = _messages(info.value)
    f = str(path)
    assert any(m.startswith(f"{f}:6: ") and "unknown key" in m for m in msgs), msgs
    assert any(m.startswith(f"{f}:9: ") and "labels" in m for m in msgs), msgs
    assert any(m.startswith(f"{f}:11: ") and "endpoints" in m for m in msgs), msgs


def test_invalid_yaml_names_the_line(write_topo: WriteTopo) -> None:
    path = write_topo("name: y\ntopology:\n  nodes: [\n")
    with pytest.raises(LabError) as info:
        load_topology(path)
    assert info.value.problems[0].line is not None
    assert "invalid YAML" in info.value.problems[0].message


def test_missing_topology_file(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="topology file not found"):
        load_topology(tmp_path / "nope.clab.yml")


def test_reserved_and_long_interface_names(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: ifn
        topology:
          nodes:
            r1: {kind: frr}
            r2: {kind: frr}
          links:
            - endpoints: ["r1:eth0", "r2:eth1"]
            - endpoints: ["r1:averyveryverylongname", "r2:eth2"]
        """
    )
    with pytest.raises(LabError) as info:
        load_topology(path)
    text = "\n".join(_messages(info.value))
    assert "eth0 is reserved" in text
    assert "1-15" in text


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("r3: {kind: ceos, image: ceos:4.30}", "kind 'ceos' needs containerlab"),
        ("r3: {kind: linux, image: frr, cmd: /bin/true}", "cmd on an FRR node (it runs FRR) needs"),
        (
            "r3: {kind: linux, image: alpine, binds: ['b.txt:/data']}",
            "bind to /data: a node has no",
        ),
        ("r3: {kind: linux, image: frr, ports: ['8080:80']}", "ports '8080:80' needs containerlab"),
        ("r3: {kind: linux, image: alpine, ports: ['2221:22']}", "ports '2221:22' needs"),
    ],
)
def test_unsupported_features_are_located(write_topo: WriteTopo, node: str, expected: str) -> None:
    text = BASE.replace("    r2: {kind", f"    {node}\n    r2: {{kind".replace("{{", "{"), 1)
    path = write_topo(text, files={"b.txt": "x"})
    problems = unsupported_features(load_topology(path))
    assert len(problems) == 1
    assert expected in problems[0].message
    assert problems[0].line == 5


def test_special_link_endpoints_need_containerlab(write_topo: WriteTopo) -> None:
    path = write_topo(
        BASE.replace('"r2:eth1"]', '"r2:eth1"]\n    - endpoints: ["r1:eth2", "host:veth9"]')
    )
    problems = unsupported_features(load_topology(path))
    assert [p.message for p in problems] == ["link type/endpoint 'host' needs containerlab"]
    assert problems[0].line == 8


def test_cli_reports_problems_without_traceback(write_topo: WriteTopo) -> None:
    path = write_topo(BASE.replace("r9", "r9").replace('"r2:eth1"]', '"r9:eth1"]'))
    result = CliRunner().invoke(main, ["lab", "up", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"error: {path}:7: link endpoint r9:eth1: unknown node 'r9'" in result.output


def test_cli_unsupported_kind_is_input_error(write_topo: WriteTopo, monkeypatch) -> None:
    monkeypatch.setenv("SDD_LAB_PROVIDER", "netns")
    path = write_topo(
        BASE.replace("r2: {kind: linux, image: frrouting/frr:8.4.1}", "r2: {kind: ceos}")
    )
    result = CliRunner().invoke(main, ["lab", "up", str(path)])
    assert result.exit_code == 2, result.output
    assert "kind 'ceos' needs containerlab" in result.output
    assert "hint:" in result.output


# -- shipped topologies --------------------------------------------------------------------

ROUTERS = {"r1": (65001, "10.0.0.1"), "r2": (65002, "10.0.0.2"), "r3": (65003, "10.0.0.3")}
TRIANGLE_LINKS = {
    ("r1:eth1", "r2:eth1"): "10.1.12.0/31",
    ("r2:eth2", "r3:eth1"): "10.1.23.0/31",
    ("r3:eth2", "r1:eth2"): "10.1.13.0/31",
}


def _addresses(conf: str) -> dict[str, str]:
    out: dict[str, str] = {}
    iface = None
    for line in conf.splitlines():
        if line.startswith("interface "):
            iface = line.split()[1]
        elif line.strip().startswith("ip address ") and iface:
            out[iface] = line.split()[2]
    return out


@pytest.mark.parametrize("name", ["triangle", "triangle-converged"])
def test_triangle_matches_the_example_design(name: str) -> None:
    topo = load_topology(LABS / f"{name}.clab.yml")
    assert set(topo.nodes) == set(ROUTERS)
    assert {(str(lk.a), str(lk.b)) for lk in topo.links} == set(TRIANGLE_LINKS)
    for node in topo.nodes.values():
        assert node.is_frr
        assert node.groups == ("core",)
        assert node.startup_config is not None
        conf = node.startup_config.read_text()
        assert f"hostname {node.name}" in conf
        assert _addresses(conf)["lo"] == f"{ROUTERS[node.name][1]}/32"
    for (a, b), net in TRIANGLE_LINKS.items():
        (an, ai), (bn, bi) = a.split(":"), b.split(":")
        a_ip = _addresses(topo.nodes[an].startup_config.read_text())[ai]  # type: ignore[union-attr]
        b_ip = _addresses(topo.nodes[bn].startup_config.read_text())[bi]  # type: ignore[union-attr]
        network = ipaddress.ip_network(net)
        lower, upper = sorted([(an, a_ip), (bn, b_ip)])
        assert lower[1] == f"{network[0]}/31"  # .0 on the lower router
        assert upper[1] == f"{network[1]}/31"


def test_triangle_base_config_has_no_routing() -> None:
    for conf in (LABS / "triangle").glob("*.conf"):
        text = conf.read_text()
        assert "router ospf" not in text
        assert "router bgp" not in text
        assert "ip ospf" not in text


def test_triangle_converged_declares_convergence() -> None:
    topo = load_topology(LABS / "triangle-converged.clab.yml")
    for name, node in topo.nodes.items():
        conf = node.startup_config.read_text()  # type: ignore[union-attr]
        assert f"router bgp {ROUTERS[name][0]}" in conf
        assert "ip ospf network point-to-point" in conf
        assert "ip ospf hello-interval 1" in conf
        assert "ip ospf dead-interval 4" in conf
        assert node.labels["sdd.expect.ospf-full"] == "2"
        assert node.labels["sdd.expect.bgp-established"] == "2"


@pytest.mark.parametrize("name", ["hosts", "fabric"])
def test_other_shipped_topologies_load(name: str) -> None:
    topo = load_topology(LABS / f"{name}.clab.yml")
    assert not unsupported_features(topo)
    if name == "hosts":
        assert sorted(n for n, s in topo.nodes.items() if s.is_host) == ["h1", "h2"]
    else:
        assert len(topo.nodes) == 6
        assert len(topo.links) == 8


@pytest.mark.parametrize("n", [2, 3, 30])
def test_ring_generator(tmp_path: Path, n: int) -> None:
    path = write_ring(n, tmp_path)
    topo = load_topology(path)
    assert len(topo.nodes) == n
    assert len(topo.links) == (1 if n == 2 else n)
    for name, node in topo.nodes.items():
        conf = node.startup_config.read_text()  # type: ignore[union-attr]
        assert re.search(r"^router bgp 650\d\d$", conf, re.M)
        assert len(topo.interfaces(name)) == (1 if n == 2 else 2)
        neighbours = re.findall(r"^ neighbor (\S+) remote-as", conf, re.M)
        assert len(neighbours) == len(topo.interfaces(name))


def test_sdd_labels_are_checked_before_anything_runs(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: lbl
        topology:
          nodes:
            r1:
              kind: frr
              labels: {sdd.daemons: "bgpd,sshd", sdd.ssh-port: "22", sdd.expect.ospf-full: x}
            h1: {kind: linux, image: alpine, labels: {sdd.expect.routes: 10.0.0.1/32}}
        """
    )
    assert not unsupported_features(load_topology(path))
    msgs = [p.message for p in label_problems(load_topology(path))]
    assert msgs == [
        "node 'r1': label sdd.daemons: unknown FRR daemon 'sshd'",
        "node 'r1': label sdd.ssh-port '22' is not a port 1024-65535",
        "node 'r1': label sdd.expect.ospf-full 'x' is not a number",
        "node 'h1': a plain Linux host runs no FRR: only sdd.expect.ping applies",
    ]


def test_alias_bomb_is_refused_with_the_design_loaders_guard(tmp_path: Path) -> None:
    """Issue 15 item 7: a topology's YAML passes the same node budget as a design's
    (sdd_build.yamlsafe): a billion-laughs file (9^7 nodes) is one clear error, not a hang
    (stopped at 250,000 nodes: about a second)."""
    levels = ['x: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 7):
        levels.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    path = tmp_path / "bomb.clab.yml"
    path.write_text(
        "name: bomb\n" + "\n".join(levels) + "\ntopology:\n  nodes:\n"
        "    r1: {kind: linux, labels: {z: *l6}}\n"
    )
    with pytest.raises(LabError, match="alias bomb"):
        load_topology(path)


def test_numeric_node_names_keep_their_text(write_topo: WriteTopo) -> None:
    """containerlab reads mapping keys as text (Go map[string]): nodes named ``001`` and ``010``
    (kjan99/containerlab-dwdm-stub) stay ``001``/``010``, as their link endpoints say; a
    YAML 1.2 reader would make them the numbers 1 and 10 and refuse them."""
    topo = load_topology(
        write_topo(
            """
            name: num
            topology:
              nodes:
                001: {kind: linux, image: frrouting/frr:8.4.1}
                010: {kind: linux, image: frrouting/frr:8.4.1}
                1e3: {kind: linux, image: alpine}
              links:
                - endpoints: ["001:ppp_osc1", "010:ppp_osc1"]
                - endpoints: ["1e3:eth1", "010:eth1"]
            """
        )
    )
    assert list(topo.nodes) == ["001", "010", "1e3"]
    assert topo.long_name("001") == "clab-num-001"
    assert [(str(lk.a), str(lk.b)) for lk in topo.links] == [
        ("001:ppp_osc1", "010:ppp_osc1"), ("1e3:eth1", "010:eth1"),
    ]  # fmt: skip


def test_ports_publishing_a_routers_ssh_pin_its_port(write_topo: WriteTopo) -> None:
    """``ports: ["2221:22"]`` (each router of ciscoittech/containerlab-free-labs publishes its
    SSH so) was refused as needing containerlab; it is the router's SSH port on 127.0.0.1, as
    the label ``sdd.ssh-port`` pins it."""
    from sdd_build.lab.netns.checks import ssh_port_of_entry

    text = BASE.replace("r1: {kind: linux,", "r1: {ports: ['2221:22'], kind: linux,")
    assert unsupported_features(load_topology(write_topo(text))) == []
    assert [ssh_port_of_entry(e) for e in ("2221:22", "127.0.0.1:2222:22/tcp", "22:2221")] == [
        "2221", "2222", None,
    ]  # fmt: skip
