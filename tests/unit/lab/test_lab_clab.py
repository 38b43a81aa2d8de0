"""The containerlab delegate, against a fake ``containerlab`` on PATH that logs its arguments
and prints recorded ``inspect --format json`` output. No device behaviour is claimed here: the
test proves what sdd-build asks containerlab and how it reads the answer."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdd_build.cli import main
from sdd_build.lab.clab import parse_inspect
from sdd_build.lab.inventory import read_hosts

from .conftest import LABS

DATA = Path(__file__).parent / "data"
FAKE = r"""#!/bin/sh
# fake containerlab: log argv, answer inspect from a recorded file once "deployed"
echo "$*" >> "$FAKE_CLAB_LOG"
case "$1" in
  deploy) touch "$FAKE_CLAB_DEPLOYED" ;;
  destroy) rm -f "$FAKE_CLAB_DEPLOYED" ;;
  inspect) if [ -f "$FAKE_CLAB_DEPLOYED" ]; then cat "$FAKE_CLAB_JSON"; else echo '{}'; fi ;;
  tools) ;;
esac
"""


def test_parse_inspect_both_shapes() -> None:
    new = parse_inspect((DATA / "containerlab-inspect-triangle.json").read_text(), "triangle")
    old = parse_inspect((DATA / "containerlab-inspect-old.json").read_text(), "triangle")
    assert [c["name"] for c in new] == ["clab-triangle-r1", "clab-triangle-r2", "clab-triangle-r3"]
    assert old[0]["ipv4_address"] == "172.20.20.2/24"
    assert parse_inspect("", "triangle") == []
    assert parse_inspect((DATA / "containerlab-inspect-triangle.json").read_text(), "x") == []


@pytest.fixture
def ssh_banner_port() -> Iterator[int]:
    """An 'sshd' on 127.0.0.2-4 that only says its banner: the readiness probe's target."""
    servers: list[socket.socket] = []
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    stop = threading.Event()
    for last in (2, 3, 4):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((f"127.0.0.{last}", port))
        s.listen()
        s.settimeout(0.2)
        servers.append(s)

    def serve(sock: socket.socket) -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    threads = [threading.Thread(target=serve, args=(s,), daemon=True) for s in servers]
    for t in threads:
        t.start()
    yield port
    stop.set()
    for t in threads:
        t.join(2)
    for s in servers:
        s.close()


@pytest.fixture
def fake_clab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ssh_banner_port: int) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "containerlab"
    exe.write_text(FAKE)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    # the recorded answer, with the 172.20.20.x management addresses mapped to loopback
    # aliases so the SSH readiness probe has something to reach
    recorded = (DATA / "containerlab-inspect-triangle.json").read_text()
    (tmp_path / "inspect.json").write_text(recorded.replace("172.20.20.", "127.0.0."))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CLAB_LOG", str(tmp_path / "clab.log"))
    monkeypatch.setenv("FAKE_CLAB_DEPLOYED", str(tmp_path / "deployed"))
    monkeypatch.setenv("FAKE_CLAB_JSON", str(tmp_path / "inspect.json"))
    labdir = tmp_path / "labs"
    (labdir / "triangle").mkdir(parents=True)
    for f in (LABS / "triangle").iterdir():
        (labdir / "triangle" / f.name).write_text(f.read_text())
    text = (LABS / "triangle.clab.yml").read_text()
    text = text.replace(
        "        sdd.daemons: bgpd,ospfd,staticd\n",
        "        sdd.daemons: bgpd,ospfd,staticd\n"
        f'        sdd.ssh-port: "{ssh_banner_port}"\n'
        "        sdd.username: admin\n",
    )
    topo = labdir / "triangle.clab.yml"
    topo.write_text(text)
    return topo


def test_up_status_inventory_down_delegate(fake_clab: Path, ssh_banner_port: int) -> None:
    runner = CliRunner()
    log = Path(os.environ["FAKE_CLAB_LOG"])
    res = runner.invoke(main, ["lab", "up", "-q", str(fake_clab)])
    assert res.exit_code == 0, res.output
    assert "(containerlab)" in res.output
    calls = log.read_text().splitlines()
    assert f"deploy -t {fake_clab}" in calls
    assert f"inspect -t {fake_clab} --format json" in calls

    inv = fake_clab.parent / "clab-triangle" / "inventory"
    hosts = read_hosts(inv)
    assert {n: (h["hostname"], h["port"]) for n, h in hosts.items()} == {
        "r1": ("127.0.0.2", ssh_banner_port),
        "r2": ("127.0.0.4", ssh_banner_port),
        "r3": ("127.0.0.3", ssh_banner_port),
    }
    assert hosts["r1"]["data"]["provider"] == "containerlab"
    assert hosts["r1"]["connection_options"]["netmiko"]["platform"] == "cisco_ios"

    # idempotent: a second up deploys nothing
    res = runner.invoke(main, ["lab", "up", "-q", str(fake_clab)])
    assert res.exit_code == 0, res.output
    assert "already up" in res.output
    assert sum(c.startswith("deploy") for c in log.read_text().splitlines()) == 1

    res = runner.invoke(main, ["lab", "status", "--json", str(fake_clab)])
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["provider"] == "containerlab"
    assert {n["name"]: n["alive"]["container"] for n in st["nodes"]} == {
        "r1": True,
        "r2": True,
        "r3": True,
    }

    res = runner.invoke(main, ["lab", "impair", str(fake_clab), "r1:eth1", "--delay", "50ms"])
    assert res.exit_code == 0, res.output
    assert "tools netem set -n clab-triangle-r1 -i eth1 --delay 50ms" in log.read_text()
    res = runner.invoke(main, ["lab", "impair", str(fake_clab), "r1:eth1", "--link", "down"])
    assert res.exit_code == 2
    assert "only netem faults" in res.output

    res = runner.invoke(main, ["lab", "down", "-q", str(fake_clab)])
    assert res.exit_code == 0, res.output
    assert f"destroy -t {fake_clab} --cleanup" in log.read_text()
    assert not inv.exists()
    res = runner.invoke(main, ["lab", "down", "-q", str(fake_clab)])
    assert res.exit_code == 0
    assert "not up" in res.output


def test_a_lab_deployed_with_containerlab_directly_is_adopted(fake_clab: Path) -> None:
    Path(os.environ["FAKE_CLAB_DEPLOYED"]).touch()  # containerlab deploy was run by hand
    res = CliRunner().invoke(main, ["lab", "up", "-q", str(fake_clab)])
    assert res.exit_code == 0, res.output
    assert "already up" in res.output
    calls = Path(os.environ["FAKE_CLAB_LOG"]).read_text().splitlines()
    assert not [c for c in calls if c.startswith("deploy")]
    assert read_hosts(fake_clab.parent / "clab-triangle" / "inventory")["r1"]["hostname"] == (
        "127.0.0.2"
    )
    res = CliRunner().invoke(main, ["lab", "down", "-q", str(fake_clab)])
    assert res.exit_code == 0
