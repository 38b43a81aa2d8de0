"""Issue 15 items 4 and 5, live: each node has its own mount namespace, nothing a lab does
writes the host's files, and ``down`` (also of an ``up`` that failed) leaves nothing.

One private lab for the module: two routers whose configs say ``log file /etc/frr/frr.log``
(before, three routers wrote one shared host file that ``down`` left behind), and a Linux host
whose ``exec`` writes ``/tmp/x`` (before: the host's /tmp), prints ``$$FOO`` (containerlab's
escape: the node's FOO, not a PID) and runs a command that fails (logged; the deploy goes on).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle
from sdd_build.lab.state import state_root
from tests.lab.conftest import require_lab

pytestmark = pytest.mark.lab

RUN = f"iso{os.getpid()}"
ROOTS = ("/etc", "/tmp", "/var")


def listing(keep: Path) -> set[str]:
    """Every path under /etc and /var, the entries of /tmp and /var/tmp, and our own temp dir
    (``keep``) whole: names, not contents. Left out, as other runs on a shared machine make
    them meanwhile: inside other /tmp entries, other labs' files (named clab-<other lab>, their
    state, what other runs keep in /etc/frr/<instance>/, builds' scratch FRR ``sddscr*``),
    temp dirs with a random 8-character suffix (tempfile's, pip's), other pytest sessions,
    the build engine's state."""
    out: set[str] = set()
    for root in ROOTS:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            if dirpath.startswith("/tmp/pytest-of-") and not dirpath.startswith(str(keep)):
                # other tests' temp dirs: walk only the way down to ours
                dirnames[:] = [d for d in dirnames if str(keep).startswith(f"{dirpath}/{d}")]
                continue
            for name in dirnames + filenames:
                path = f"{dirpath}/{name}"
                if (
                    re.search(r"clab-|\.lock$|/labs/[^/]+(/|$)|^/etc/frr/[^/]+/|sddscr", path)
                    and RUN not in path
                ):
                    continue  # another lab of this machine
                if dirpath in ("/tmp", "/var/tmp") and re.search(
                    r"^tmp\w{8}$|[-_][a-z0-9_]{8}$|^pytest-of-", name
                ):
                    continue
                out.add(path)
            if dirpath in ("/tmp", "/var/tmp") or dirpath.startswith(
                ("/var/lib/sdd-build/state", "/var/lib/sdd-build/devices", "/var/log/journal")
            ):
                dirnames[:] = [d for d in dirnames if d.startswith("pytest-of-")]
    return out


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sdd_build", "lab", *args],
        capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
        env={**os.environ, "SDD_LAB_PROVIDER": "netns"},
    )  # fmt: skip


ROUTER = """\
frr defaults traditional
hostname {name}
log file /etc/frr/frr.log
interface eth1
 ip address 10.15.0.{n}/24
 ip ospf area 0
interface eth2
 ip address 10.15.{n}.1/24
 ip ospf area 0
router ospf
 ospf router-id 10.15.255.{n}
"""


@pytest.fixture(scope="module")
def iso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabHandle, Path, set[str]]]:
    require_lab()
    os.environ["SDD_LAB_PROVIDER"] = "netns"
    base = tmp_path_factory.mktemp("iso")
    (base / "setup.sh").write_text(f"echo bound-script-ran > /tmp/{RUN}-setup\n")
    for n in (1, 2):
        (base / f"r{n}.conf").write_text(ROUTER.format(name=f"r{n}", n=n))
    topo = base / "iso.clab.yml"
    topo.write_text(textwrap.dedent(f"""\
        name: {RUN}
        topology:
          nodes:
            r1: {{kind: linux, image: quay.io/frrouting/frr:8.4.1, startup-config: r1.conf}}
            r2: {{kind: linux, image: quay.io/frrouting/frr:8.4.1, startup-config: r2.conf}}
            pc1:
              kind: linux
              image: alpine
              env: {{FOO: from-the-node}}
              binds: ["setup.sh:/tmp/setup.sh:ro"]
              cmd: sh -c 'echo "$$FOO" > /tmp/{RUN}-cmd; exec sleep 3600'
              exec:
                - sh /tmp/setup.sh
                - ip addr add 10.15.1.2/24 dev eth1
                - ip route add default via 10.15.1.1
                - sh -c 'echo written-in-the-node > /tmp/{RUN}-x'
                - bash -c 'echo $$FOO > /tmp/{RUN}-foo'
                - ls /this-does-not-exist
                - mkdir -p /var/lib/{RUN}-ldap
                - sh -c 'echo from-the-node > /etc/{RUN}-conf'
                - sh -c 'echo from-the-node > /dev/shm/{RUN}-shm'
                - sh -c 'echo after-the-failure > /tmp/{RUN}-after'
          links:
            - endpoints: ["r1:eth1", "r2:eth1"]
            - endpoints: ["r1:eth2", "pc1:eth1"]
            - endpoints: ["r2:eth2", "r1:eth3"]
        """))  # fmt: skip
    before = listing(base)
    res = cli("up", str(topo))
    try:
        assert res.returncode == 0, res.stderr
        handle = lab.attach(topo)
        handle.result = None
        yield handle, topo, before
    finally:
        cli("down", str(topo))


def test_node_files_stay_in_the_node(iso: tuple[LabHandle, Path, set[str]]) -> None:
    handle, _topo, _before = iso
    pc1, r1, r2 = handle.linux_hosts["pc1"], handle.hosts["r1"], handle.hosts["r2"]
    assert pc1.exec("cat", f"/tmp/{RUN}-x").stdout == "written-in-the-node\n"
    assert not Path(f"/tmp/{RUN}-x").exists()
    # $$FOO is containerlab's escape of $FOO: the node's own variable, not the shell's PID
    assert pc1.exec("cat", f"/tmp/{RUN}-foo").stdout == "from-the-node\n"
    # a bound script and the node's cmd ran inside it (item 3); the bind is read-only
    assert pc1.exec("cat", f"/tmp/{RUN}-setup").stdout == "bound-script-ran\n"
    assert pc1.exec("cat", f"/tmp/{RUN}-cmd").stdout == "from-the-node\n"
    assert pc1.exec("sh", "-c", "echo x >> /tmp/setup.sh").returncode != 0
    assert not Path(f"/tmp/{RUN}-setup").exists()
    # a failing exec is logged and the deploy goes on (the next one ran)
    assert pc1.exec("cat", f"/tmp/{RUN}-after").stdout == "after-the-failure\n"
    log = (handle.topology.workdir / "logs" / "pc1.exec.log").read_text()
    assert "$ ls /this-does-not-exist" in log
    assert "(exit 2)" in log
    # outside its private directories the host is read-only for the node: an exec's mkdir in
    # /var/lib (as ciscoittech/containerlab-free-labs ldap-a does) or a write to /etc fails; the
    # host's files stay as they were; /dev/shm is the node's own
    assert not Path(f"/var/lib/{RUN}-ldap").exists()
    assert not Path(f"/etc/{RUN}-conf").exists()
    assert f"$ mkdir -p /var/lib/{RUN}-ldap" in log
    assert "Read-only file system" in log
    assert pc1.exec("cat", f"/dev/shm/{RUN}-shm").stdout == "from-the-node\n"
    assert not Path(f"/dev/shm/{RUN}-shm").exists()
    # each router logs to its own /etc/frr/frr.log; the host's /etc/frr has no such file
    for node in (r1, r2):
        assert node.path("/etc/frr/frr.log").exists()
        assert "hostname" in node.exec("cat", "/etc/frr/frr.conf").stdout
        assert node.exec("hostname").stdout.strip() == node.name
    assert not Path("/etc/frr/frr.log").exists()
    one, two = (n.path("/etc/frr/frr.log").stat() for n in (r1, r2))
    assert (one.st_dev, one.st_ino) != (two.st_dev, two.st_ino)  # two files, one per router


def test_down_leaves_etc_tmp_var_as_before(iso: tuple[LabHandle, Path, set[str]]) -> None:
    handle, topo, before = iso
    res = cli("down", str(topo))
    assert res.returncode == 0, res.stderr
    after = listing(topo.parent)
    assert sorted(after - before) == []
    assert sorted(before - after) == []
    assert not (state_root() / f".{handle.name}.lock").exists()


def test_failed_up_leaves_no_lock_file(tmp_path: Path) -> None:
    """An ``up`` refused on a startup line FRR rejects: exit 2, the line located, and not even
    the lab's lock file is left (it was: /var/lib/sdd-build/labs/.<name>.lock)."""
    (tmp_path / "bad.conf").write_text("hostname r1\nrouter ospf\n no-such-command 1\n")
    topo = tmp_path / "bad.clab.yml"
    topo.write_text(f"name: {RUN}-bad\ntopology:\n  nodes:\n"
                    "    r1: {kind: linux, image: quay.io/frrouting/frr:10.5.1, "
                    "startup-config: bad.conf}\n")  # fmt: skip
    before = listing(tmp_path)
    res = cli("up", str(topo))
    assert res.returncode == 2, res.stderr
    assert "bad.conf:3" in res.stderr
    # the image asks for another FRR than this machine's: the error says so, naming both
    assert "FRR 10.5.1" in res.stderr
    assert "this machine runs FRR 8.4" in res.stderr
    assert not (state_root() / f".{RUN}-bad.lock").exists()
    assert listing(tmp_path) == before
