"""Issue 15 items 1, 2, 5 and 6 offline: what a node's /etc/frr holds (directory binds, split
per-daemon configs), bridges and dummy links in the topology, containerlab's ``$$`` escape, and
the FRR version an image tag names."""

from __future__ import annotations

import pytest

from sdd_build.lab import load_topology
from sdd_build.lab.netns import unsupported_features
from sdd_build.lab.netns.execs import expand
from sdd_build.lab.netns.frrconf import frr_files
from sdd_build.lab.netns.version import image_version, rejection_note, version_warnings

from .conftest import WriteTopo

SPLIT = {
    "r1/zebra.conf": "hostname r1\ninterface eth1\n ip address 10.0.0.1/30\n",
    "r1/ospfd.conf": "router ospf\n network 10.0.0.0/30 area 0\n",
    "r1/daemons": "zebra=yes\nbgpd=no\nospfd=yes\nisisd=yes\n",
}


def test_directory_bind_with_split_configs(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: t
        topology:
          nodes:
            r1: {kind: linux, image: quay.io/frrouting/frr:8.4.1, binds: ["r1/:/etc/frr/"]}
        """,
        files=SPLIT,
    )
    topo = load_topology(path)
    assert unsupported_features(topo) == []
    got = frr_files(topo.nodes["r1"])
    assert got.split
    assert got.configs() == ["zebra.conf", "ospfd.conf"]
    assert got.files["ospfd.conf"] == SPLIT["r1/ospfd.conf"]
    assert got.origin["ospfd.conf"].endswith("r1/ospfd.conf")
    # the user's daemons file chooses the daemons; the file written is sdd-build's own
    assert got.daemons == ["ospfd", "isisd"]
    assert "ospfd=yes" in got.files["daemons"]
    assert "isisd=yes" in got.files["daemons"]
    assert "bgpd=no" in got.files["daemons"]
    assert 'zebra_options="-A 127.0.0.1' in got.files["daemons"]
    # split mode: vtysh must not force the integrated config
    assert "integrated" not in got.files["vtysh.conf"]


def test_split_configs_without_daemons_file_run_their_daemons(write_topo: WriteTopo) -> None:
    files = {k.replace("r1/", "c/"): v for k, v in SPLIT.items() if not k.endswith("daemons")}
    path = write_topo(
        """
        name: t
        topology:
          nodes:
            r1:
              kind: linux
              image: frrouting/frr:v8.4.0
              binds: ["c/zebra.conf:/etc/frr/zebra.conf", "c/ospfd.conf:/etc/frr/ospfd.conf"]
        """,
        files=files,
    )
    got = frr_files(load_topology(path).nodes["r1"])
    assert got.daemons == ["ospfd"]
    assert "frr.conf" not in got.files


def test_integrated_config_from_a_directory_bind_wins_over_nothing(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: t
        topology:
          nodes:
            r1: {kind: linux, image: frr, binds: ["r1:/etc/frr"]}
        """,
        files={"r1/frr.conf": "hostname r1\n", "r1/vtysh.conf": "! mine\n"},
    )
    got = frr_files(load_topology(path).nodes["r1"])
    assert not got.split
    assert got.files["frr.conf"] == "hostname r1\n"
    assert got.files["vtysh.conf"] == "! mine\n"
    assert got.daemons == ["bgpd", "ospfd", "staticd"]


def test_bridge_and_dummy_links(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: t
        topology:
          nodes:
            r1: {kind: linux, image: frr}
            r2: {kind: linux, image: frr}
            lan: {kind: bridge}
          links:
            - endpoints: ["r1:eth1", "lan:p1"]
            - endpoints: ["r2:eth1", "lan:p2"]
            - type: dummy
              endpoint: {node: r1, interface: dummy0}
        """
    )
    topo = load_topology(path)
    assert unsupported_features(topo) == []
    assert topo.nodes["lan"].is_bridge
    assert topo.interfaces("lan") == ["p1", "p2"]
    assert topo.interfaces("r1") == ["eth1", "dummy0"]


def test_bind_targets_outside_the_node_are_refused(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: t
        topology:
          nodes:
            pc: {kind: linux, image: alpine, binds: ["s.sh:/tmp/s.sh", "s.sh:/nowhere/s.sh"]}
        """,
        files={"s.sh": "echo hi\n"},
    )
    problems = unsupported_features(load_topology(path))
    assert len(problems) == 1
    assert "bind to /nowhere/s.sh: a node has no private root" in problems[0].message
    assert problems[0].line == 4


@pytest.mark.parametrize(
    ("text", "env", "want"),
    [
        ("bash -c 'echo $$FOO'", {}, "bash -c 'echo $FOO'"),
        ("echo ${HOSTVAR} $HOSTVAR", {"HOSTVAR": "x"}, "echo x x"),
        ("echo $UNSET_HERE", {}, "echo $UNSET_HERE"),
        ("echo $$$$", {}, "echo $$"),
    ],
)
def test_containerlab_dollar_escape(text: str, env: dict[str, str], want: str) -> None:
    assert expand(text, env) == want


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("quay.io/frrouting/frr:10.5.1", "10.5.1"),
        ("frrouting/frr:v7.5.0", "7.5.0"),
        ("frr:8.4", "8.4"),
        ("frrouting/frr:latest", None),
        ("frrouting/frr", None),
        ("registry:5000/frr", None),
        (None, None),
    ],
)
def test_image_version(image: str | None, version: str | None) -> None:
    assert image_version(image) == version


def test_version_warning_names_both(write_topo: WriteTopo) -> None:
    path = write_topo(
        """
        name: t
        topology:
          nodes:
            r1: {kind: linux, image: quay.io/frrouting/frr:10.5.1}
            r2: {kind: linux, image: quay.io/frrouting/frr:10.5.1}
            r3: {kind: linux, image: quay.io/frrouting/frr:8.4.1}
        """
    )
    topo = load_topology(path)
    (warning,) = version_warnings(topo, "8.4.4")
    assert "FRR 10.5.1" in warning
    assert "FRR 8.4.4" in warning
    assert "r1, r2" in warning
    assert "8.4.4" in rejection_note(topo, "8.4.4")
    assert version_warnings(topo, "10.5.0") != []  # r3 then differs
    assert rejection_note(load_topology(path), None) == ""


def test_node_mounts_bind_sources_before_hiding_them(write_topo: WriteTopo) -> None:
    """A bind's source may live under the host's /tmp (a test's copy of the topology): it is
    bound under the node's new /run first, then moved to its target after the node's own /tmp
    covers the host's; ``:ro`` is honoured; FRR's pathspace resolves to the node's /etc/frr."""
    from sdd_build.lab.netns.node import READ_ONLY_HOST, _setup_script

    path = write_topo(
        """
        name: t
        topology:
          nodes:
            r1: {kind: linux, image: frr, binds: ["s.sh:/tmp/s.sh:ro"]}
        """,
        files={"s.sh": "echo hi\n"},
    )
    node = load_topology(path).nodes["r1"]
    lines = _setup_script(node, "clab-t-r1").splitlines()
    bind = next(i for i, ln in enumerate(lines) if ln.startswith("mount --bind"))
    tmpfs = lines.index("mount -t tmpfs -o mode=1777,size=64m sdd-node /tmp")
    move = lines.index("mount --move /run/sdd/binds/0 /tmp/s.sh")
    assert lines.index("mount -t tmpfs -o mode=755,size=64m sdd-node /run") < bind < tmpfs < move
    # the host's other mounts turn read-only for the node after the sources are bound (a bind
    # keeps its own mode) and before the node's own tmpfs mounts (they stay writable)
    assert bind < lines.index(READ_ONLY_HOST) < tmpfs
    assert "mount -t tmpfs -o mode=1777,size=64m sdd-node /dev/shm" in lines
    assert lines[move + 1] == "mount -o remount,bind,ro /tmp/s.sh"
    assert "ln -s . /etc/frr/clab-t-r1" in lines
    assert "hostname r1" in lines


def test_exec_waits_for_its_command_not_for_a_background_child(tmp_path) -> None:
    """``sh -c 'loop &'`` (ciscoittech/containerlab-free-labs' monitor-a and netbox) returns when
    ``sh`` does, as in a container: it used to hold the output pipe until the 60 s timeout and
    then be reported as a failed exec, twice per lab (+120 s to its ``up``)."""
    import os
    import signal
    import time

    from sdd_build.lab.netns.execs import _run_one

    log = tmp_path / "pc1.exec.log"
    start = time.monotonic()
    rc, out = _run_one(["sh", "-c", "sleep 30 & echo $!"], log, "pc1: exec")
    took = time.monotonic() - start
    os.kill(int(out.strip()), signal.SIGKILL)
    assert (rc, took < 10) == (0, True)
    assert list(tmp_path.iterdir()) == []  # the output file is gone
    assert _run_one(["sh", "-c", "echo oops >&2; exit 3"], log, "x") == (3, "oops\n")
    assert _run_one(["/no/such/command"], log, "x")[0] == -1
