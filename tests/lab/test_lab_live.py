"""Live lab tests: real FRR routers in network namespaces, reached over SSH.

Each test asserts machine state (namespaces, processes, users, /etc/frr) rather than trusting
what the lab runtime reports about itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from click.testing import CliRunner
from nornir_netmiko.tasks import netmiko_send_command

from sdd_build import lab
from sdd_build.cli import main
from sdd_build.lab import LabHandle
from sdd_build.lab.netns.socat import candidate_ports
from sdd_build.lab.netns.sshd import users_for
from sdd_build.lab.state import LabState
from tests.lab.conftest import require_lab
from tests.labkit import copy_repo

pytestmark = pytest.mark.lab

LABS = Path(__file__).resolve().parents[2] / "labs"
RUN = f"sddt{os.getpid()}"


# -- helpers -------------------------------------------------------------------------------


def private_copy(tmp_path: Path, source: str, suffix: str, edit: str | None = None) -> Path:
    """A copy of a shipped topology under a lab name of its own (parallel runs never clash);
    its folder holds the tracked files only (never a checkout's generated credentials)."""
    copy_repo(tmp_path, [f"labs/{source}"])
    text = (LABS / f"{source}.clab.yml").read_text()
    text = re.sub(r"^name: .*$", f"name: {RUN}-{suffix}", text, count=1, flags=re.M)
    if edit:
        text = edit + text if edit.startswith("#") else text.replace("  links:", edit + "  links:")
    path = tmp_path / "labs" / f"{source}.clab.yml"
    path.write_text(text)
    return path


def footprint(lab_name: str) -> dict[str, list[str]]:
    """Everything on this machine that belongs to one lab, found from the machine itself."""
    vty, shell = users_for(lab_name)
    netns = run("ip", "netns", "list")
    procs = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if lab_name in cmd and "pytest" not in cmd:
                procs.append(f"{entry.name} {cmd}")
    return {
        "netns": [ln for ln in netns.stdout.splitlines() if f"-{lab_name}-" in ln],
        # a node's FRR files live in its own mount namespace: never in the host's /etc/frr
        "etc_frr": [p for p in os.listdir("/etc/frr") if f"-{lab_name}-" in p],
        "run_frr": [p for p in os.listdir("/var/run/frr") if f"-{lab_name}-" in p],
        "processes": procs,
        "users": [
            ln
            for ln in Path("/etc/passwd").read_text().splitlines()
            if ln.startswith((f"{vty}:", f"{shell}:"))
        ],
        "state": [str(p) for p in [LabState.path_for(lab_name)] if p.exists()],
    }


def assert_clean(lab_name: str) -> None:
    left = {k: v for k, v in footprint(lab_name).items() if v}
    assert not left, f"leftovers of lab {lab_name}: {left}"


def machine_snapshot() -> dict[str, set[str]]:
    netns = run("ip", "netns", "list")
    return {
        "netns": {ln.split()[0] for ln in netns.stdout.splitlines() if ln.strip()},
        "etc_frr": set(os.listdir("/etc/frr")),
        "passwd": set(Path("/etc/passwd").read_text().splitlines()),
        "group": set(Path("/etc/group").read_text().splitlines()),
    }


def run(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """A command with a timeout whose result the test inspects (never raises on exit status)."""
    options: dict[str, object] = {"capture_output": True, "text": True, "timeout": 30}
    options.update(kwargs)
    return subprocess.run(list(argv), check=False, **options)  # type: ignore[call-overload, no-any-return]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run(
        sys.executable, "-m", "sdd_build", "lab", *args,
        timeout=180, env={**os.environ, "SDD_LAB_PROVIDER": "netns"},
    )  # fmt: skip


def _client(host: lab.LabNode, *, shell: bool) -> paramiko.SSHClient:
    """Plain paramiko, logged in as the lab's shell user or (``shell=False``) its vtysh user."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        host.hostname,
        port=host.port,
        username=host.shell_username if shell else host.username,
        password=host.shell_password if shell else host.password,
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
        banner_timeout=10,
        auth_timeout=10,
    )
    return client


def ssh_exec(host: lab.LabNode, command: str, *, shell: bool = True) -> str:
    client = _client(host, shell=shell)
    try:
        _, out, _ = client.exec_command(command, timeout=30)
        return out.read().decode()
    finally:
        client.close()


@contextlib.contextmanager
def vtysh_shell(host: lab.LabNode) -> Iterator[paramiko.Channel]:
    """An interactive vtysh login (a pty of Netmiko's size), closed on the way out."""
    client = _client(host, shell=False)
    try:
        chan = client.invoke_shell(width=511, height=1000)
        chan.settimeout(10)
        yield chan
    finally:
        client.close()


def until_prompt(chan: paramiko.Channel, prompt: bytes, buf: bytes = b"") -> bytes:
    """What the channel says until it ends with ``prompt`` (asserted, within 10 s)."""
    deadline = time.monotonic() + 10
    while not buf.rstrip().endswith(prompt) and time.monotonic() < deadline:
        buf += chan.recv(65536)
    assert buf.rstrip().endswith(prompt), buf
    return buf


def ospf_full(node: lab.LabNode) -> int:
    data = json.loads(node.vtysh("show ip ospf neighbor json"))
    return sum(
        1
        for entries in data.get("neighbors", {}).values()
        for n in entries
        if str(n.get("nbrState", "")).startswith("Full")
    )


def bgp_established(node: lab.LabNode) -> int:
    data = json.loads(node.vtysh("show bgp summary json"))
    peers = data.get("ipv4Unicast", {}).get("peers", {})
    return sum(1 for p in peers.values() if p.get("state") == "Established")


def eventually(check, timeout: float = 30.0, interval: float = 0.5):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# -- the converged triangle -----------------------------------------------------------------


def test_converged_triangle_ospf_bgp_routes(converged_lab: LabHandle) -> None:
    expected_lo = {"r1": "10.0.0.1/32", "r2": "10.0.0.2/32", "r3": "10.0.0.3/32"}
    for name, node in converged_lab.hosts.items():
        assert ospf_full(node) == 2, name
        assert bgp_established(node) == 2, name
        routes = json.loads(node.vtysh("show ip route json"))
        for other, prefix in expected_lo.items():
            if other != name:
                assert prefix in routes, f"{name} lacks {prefix}"


def test_netmiko_through_the_generated_inventory(converged_lab: LabHandle) -> None:
    nr = converged_lab.nornir()
    try:
        host = nr.inventory.hosts["r1"]
        assert host.platform == "frr"
        assert host.get_connection_parameters("netmiko").platform == "cisco_ios"
        conn = host.get_connection("netmiko", nr.config)
        assert conn.find_prompt() == "r1#"
        result = nr.run(task=netmiko_send_command, command_string="show ip ospf neighbor")
        assert not result.failed
        for name in ("r1", "r2", "r3"):
            assert result[name][0].result.count("Full") == 2, result[name][0].result
        core = nr.filter(filter_func=lambda h: "core" in h.groups)
        assert sorted(core.inventory.hosts) == ["r1", "r2", "r3"]
    finally:
        nr.close_connections()


def test_shell_login_runs_vtysh_and_frr_reload(converged_lab: LabHandle) -> None:
    r2 = converged_lab.hosts["r2"]
    out = ssh_exec(r2, "hostname; id -nG; echo $FRR_PATHSPACE")
    host, groups, pathspace = out.split("\n")[:3]
    assert host == "r2"
    assert {"frr", "frrvty"} <= set(groups.split())
    assert pathspace == r2.frr_instance
    summary = json.loads(ssh_exec(r2, f"vtysh -N {r2.frr_instance} -c 'show bgp summary json'"))
    assert len(summary["ipv4Unicast"]["peers"]) == 2
    # frr-reload.py --test computes a diff for this instance as the shell user
    diff = ssh_exec(
        r2,
        f"vtysh -N {r2.frr_instance} -c 'show running-config' | sed 1,3d > /tmp/{RUN}.conf; "
        f"echo 'interface lo' >> /tmp/{RUN}.conf; echo ' description added' >> /tmp/{RUN}.conf; "
        f"/usr/lib/frr/frr-reload.py --pathspace {r2.frr_instance} --test /tmp/{RUN}.conf 2>&1;"
        f" rm -f /tmp/{RUN}.conf",
    )
    assert "Lines To Add" in diff
    assert "description added" in diff


def test_vtysh_login_prompt_is_the_node_hostname(converged_lab: LabHandle) -> None:
    with vtysh_shell(converged_lab.hosts["r3"]) as chan:
        until_prompt(chan, b"r3#")


def test_a_round_trip_through_the_lab_takes_no_delayed_ack(converged_lab: LabHandle) -> None:
    """A command's answer comes back through the lab's forwarder at once. vtysh answers in
    several small writes (echo, output, prompt); a forwarder with Nagle's algorithm on its
    client leg held each one after the first for the client's delayed ACK: 20-45 ms a round
    trip, measured, against under 1 ms straight to the router's sshd. The client here is plain
    paramiko (no TCP_NODELAY of its own), as Netmiko's is."""
    with vtysh_shell(converged_lab.hosts["r1"]) as chan:
        until_prompt(chan, b"r1#")
        chan.sendall(b"terminal length 0\n")
        until_prompt(chan, b"r1#")
        took = []
        for _ in range(21):
            started = time.perf_counter()
            chan.sendall(b"show version\n")
            out = until_prompt(chan, b"r1#")
            took.append(time.perf_counter() - started)
            assert b"FRRouting" in out
        took.sort()
        assert took[len(took) // 2] < 0.010, [round(t * 1000, 1) for t in took]


def test_impair_link_down_and_up(converged_lab: LabHandle) -> None:
    r1 = converged_lab.hosts["r1"]
    try:
        converged_lab.impair("r1:eth1", link="down")
        assert eventually(lambda: ospf_full(r1) == 1, 15)
        link = run("ip", "-n", r1.netns, "-j", "link", "show", "eth1")
        assert "UP" not in json.loads(link.stdout)[0]["flags"]
    finally:
        converged_lab.impair("r1:eth1", link="up")
    assert eventually(lambda: ospf_full(r1) == 2 and bgp_established(r1) == 2, 30)


def test_impair_sshd_stop_start(converged_lab: LabHandle) -> None:
    r2 = converged_lab.hosts["r2"]
    try:
        converged_lab.impair("r2", sshd="stop")
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            ssh_exec(r2, "true")
    finally:
        converged_lab.impair("r2", sshd="start")
    assert ssh_exec(r2, "hostname").strip() == "r2"


def test_impair_daemon_stop_start(converged_lab: LabHandle) -> None:
    r3 = converged_lab.hosts["r3"]
    pidfile = r3.path("/var/run/frr/bgpd.pid")  # inside the node
    try:
        converged_lab.impair("r3", daemon="bgpd", daemon_action="stop")
        time.sleep(2)  # watchfrr would have restarted it by now if it were still running
        assert not pidfile.exists()
        assert not [
            p for p in run("ip", "netns", "pids", r3.netns).stdout.split()
            if "bgpd" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        ]  # fmt: skip
        r1 = converged_lab.hosts["r1"]
        assert eventually(lambda: bgp_established(r1) == 1, 15)
    finally:
        converged_lab.impair("r3", daemon="bgpd", daemon_action="start")
    assert eventually(lambda: bgp_established(r3) == 2, 30)
    st = lab.status(converged_lab.topology_path)
    r3_status = next(n for n in st.nodes if n.name == "r3")
    assert all(r3_status.alive.values()), r3_status.alive


def test_impair_netem_applies_or_says_the_kernel_lacks_it(converged_lab: LabHandle) -> None:
    r1 = converged_lab.hosts["r1"]
    probe = run("tc", "-n", r1.netns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms")
    has_netem = probe.returncode == 0
    run("tc", "-n", r1.netns, "qdisc", "del", "dev", "lo", "root")
    try:
        if has_netem:
            done = converged_lab.impair("r1:eth2", delay="100ms", loss=5)
            assert "delay 100ms" in done
            qd = run("tc", "-n", r1.netns, "qdisc", "show", "dev", "eth2").stdout
            assert "netem" in qd
            assert "delay 100ms" in qd
        else:
            with pytest.raises(lab.LabRuntimeError, match="no netem qdisc"):
                converged_lab.impair("r1:eth2", delay="100ms", loss=5)
    finally:
        converged_lab.impair("r1:eth2", clear=True)
    converged_lab.impair("r1:eth2", rate="10mbit")
    try:
        qd = run("tc", "-n", r1.netns, "qdisc", "show", "dev", "eth2").stdout
        assert "tbf" in qd
    finally:
        converged_lab.impair("r1:eth2", clear=True)


def test_status_json(converged_lab: LabHandle) -> None:
    res = CliRunner().invoke(main, ["lab", "status", "--json", str(converged_lab.topology_path)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["up"] is True
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["r1"]["port"] == converged_lab.hosts["r1"].port
    assert nodes["r1"]["alive"]["sshd"] is True
    assert nodes["r1"]["alive"]["zebra"] is True
    assert "password" not in res.output


# -- the base triangle ---------------------------------------------------------------------


def test_triangle_base_configs_and_hostnames(triangle_lab: LabHandle) -> None:
    for name, node in triangle_lab.hosts.items():
        # the session's lab may carry what other tests pushed: only check what stays true
        running = node.vtysh("show running-config")
        assert f"hostname {name}" in running
        ns = run("ip", "netns", "identify", _zebra_pid(node)).stdout.strip()
        assert ns == node.netns
    r1 = triangle_lab.hosts["r1"]
    assert r1.exec("ping", "-c", "1", "-W", "2", "10.1.12.1").returncode == 0  # r2 over eth1


def test_lab_users_have_a_fast_password_hash(triangle_lab: LabHandle) -> None:
    """Every login checks a password: the lab's users (random 24-character passwords) have a
    SHA-512-crypt hash (~2 ms to check), not yescrypt (~22 ms of the machine's CPU each)."""
    node = triangle_lab.hosts["r1"]
    users = {node.username, node.shell_username}
    with open("/etc/shadow") as fh:
        hashes = {row.split(":")[0]: row.split(":")[1] for row in fh if row.split(":")[0] in users}
    assert set(hashes) == users
    assert all(h.startswith("$6$") for h in hashes.values())


def _zebra_pid(node: lab.LabNode) -> str:
    return node.path("/var/run/frr/zebra.pid").read_text().strip()


def test_up_twice_changes_nothing(triangle_lab: LabHandle) -> None:
    pids = {n: _zebra_pid(h) for n, h in triangle_lab.hosts.items()}
    res = cli("up", str(triangle_lab.topology_path))
    assert res.returncode == 0, res.stderr
    assert "already up (nothing changed)" in res.stdout
    again = lab.attach(triangle_lab.topology_path)
    assert {n: h.port for n, h in again.hosts.items()} == {
        n: h.port for n, h in triangle_lab.hosts.items()
    }
    assert {n: _zebra_pid(h) for n, h in triangle_lab.hosts.items()} == pids


def test_inventory_cli(triangle_lab: LabHandle) -> None:
    res = cli("inventory", str(triangle_lab.topology_path))
    assert res.returncode == 0
    assert Path(res.stdout.strip()) == triangle_lab.inventory_dir
    res = cli("inventory", "--json", str(triangle_lab.topology_path))
    data = json.loads(res.stdout)
    assert {n: h["port"] for n, h in data["hosts"].items()} == {
        n: h.port for n, h in triangle_lab.hosts.items()
    }
    assert triangle_lab.hosts["r1"].password not in res.stdout
    assert triangle_lab.hosts["r1"].shell_password not in res.stdout
    assert (triangle_lab.inventory_dir / "hosts.yaml").stat().st_mode & 0o777 == 0o600


# -- hosts behind routers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hosts_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabHandle]:
    require_lab()  # module fixtures are set up before the autouse skip check runs
    path = private_copy(tmp_path_factory.mktemp("hosts"), "hosts", "hosts")
    try:
        yield lab.up(path, wait=True, timeout=90)
    finally:
        lab.down(path)


def test_linux_hosts_ping_across_routers(hosts_lab: LabHandle) -> None:
    h1, h2 = hosts_lab.linux_hosts["h1"], hosts_lab.linux_hosts["h2"]
    assert h1.ping("192.168.1.1")  # declared: each host reaches its router
    # the host LANs are not in OSPF until advertised (designs/hosts-reach does it)
    for node, lan in (("r1", "eth1"), ("r2", "eth2")):
        hosts_lab.hosts[node].vtysh("configure terminal", f"interface {lan}",
                                    "ip ospf area 0", "ip ospf passive")  # fmt: skip
    assert eventually(lambda: h1.ping("192.168.2.2"), 40)
    assert h2.ping("192.168.1.2")
    trace = h1.exec("ip", "route", "get", "192.168.2.2").stdout
    assert "via 192.168.1.1" in trace
    assert set(hosts_lab.hosts) == {"r1", "r2"}  # hosts are no inventory hosts
    # cut the routers apart: the hosts lose each other
    hosts_lab.impair("r1:eth2", link="down")
    try:
        assert eventually(lambda: not h1.ping("192.168.2.2"), 15)
    finally:
        hosts_lab.impair("r1:eth2", link="up")
    assert eventually(lambda: h1.ping("192.168.2.2"), 40)


# -- lifecycle and faults of the runtime itself ---------------------------------------------


def test_up_down_leaves_the_machine_as_before(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "triangle-converged", "clean")
    name = f"{RUN}-clean"
    before = machine_snapshot()
    assert_clean(name)
    res = cli("up", "--wait", "--timeout", "90", str(path))
    assert res.returncode == 0, res.stderr
    fp = footprint(name)
    assert len(fp["netns"]) == 3
    assert not fp["etc_frr"]  # each router's /etc/frr is its own (issue 15 item 4)
    assert not fp["run_frr"]
    assert len(fp["users"]) == 2
    assert fp["processes"]
    res = cli("down", str(path))
    assert res.returncode == 0, res.stderr
    assert_clean(name)
    after = machine_snapshot()
    vty, shell = users_for(name)
    for key in before:
        new = after[key] - before[key]
        gone = before[key] - after[key]
        # other engineers' labs may come and go meanwhile: only ours must not differ
        assert not [x for x in new | gone if name in x or vty in x or shell in x], key
    assert not (path.parent / f"clab-{name}").exists()


def test_down_after_kill_9_mid_up(tmp_path: Path) -> None:
    from sdd_build.lab.generate import write_ring

    path = write_ring(8, tmp_path, name=f"{RUN}-kill")
    name = f"{RUN}-kill"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdd_build", "lab", "up", "-q", str(path)],
        env={**os.environ, "SDD_LAB_PROVIDER": "netns"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    phase = None
    try:
        # kill once some routers run sshd but the lab is not complete
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = LabState.load(name) if LabState.path_for(name).exists() else None
            if st is not None and any(r.kind == "process" and r.pid for r in st.resources):
                phase = st.phase
                break
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert phase == "creating"
    assert footprint(name)["netns"], "the killed up should have left namespaces behind"
    res = cli("down", str(path))
    assert res.returncode == 0, res.stderr
    assert_clean(name)


def test_up_after_kill_9_cleans_and_comes_up(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "triangle", "reup")
    name = f"{RUN}-reup"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sdd_build", "lab", "up", "-q", str(path)],
        env={**os.environ, "SDD_LAB_PROVIDER": "netns"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        # FRR's first daemons run (their argv names the lab): mid-up, before SSH
        while time.monotonic() < deadline and not footprint(name)["processes"]:
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    try:
        res = cli("up", str(path))
        assert res.returncode == 0, res.stderr
        assert "already up" not in res.stdout
        handle = lab.attach(path)
        assert handle.hosts["r1"].vtysh("show version")
        assert len(footprint(name)["netns"]) == 3
    finally:
        cli("down", str(path))
    assert_clean(name)


def test_port_taken_picks_another(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "triangle", "port")
    name = f"{RUN}-port"
    first = next(iter(candidate_ports(lab.load_topology(path), "r1")))
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", first))
        blocker.listen()
        try:
            handle = lab.up(path)
            assert handle.hosts["r1"].port != first
            assert ssh_exec(handle.hosts["r1"], "hostname").strip() == "r1"
            # a fresh base triangle runs its startup config as written, nothing more
            running = handle.hosts["r2"].vtysh("show running-config")
            assert "ip address 10.1.23.0/31" in running
            assert "router ospf" not in running
            assert "router bgp" not in running
        finally:
            lab.down(path)
    assert_clean(name)


def test_explicit_port_taken_fails_clearly(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        path = private_copy(
            tmp_path,
            "triangle",
            "xport",
            edit=f'    r4:\n      kind: frr\n      labels: {{sdd.ssh-port: "{port}"}}\n',
        )
        res = cli("up", str(path))
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"port {port} (label sdd.ssh-port) is already in use" in res.stderr
    assert "Traceback" not in res.stderr
    assert_clean(f"{RUN}-xport")


def test_name_collision_and_down_not_up(tmp_path: Path) -> None:
    first = private_copy(tmp_path / "a", "triangle", "same")
    second = private_copy(tmp_path / "b", "triangle", "same")
    res = cli("down", str(first))
    assert (res.returncode, "not up; nothing to do" in res.stdout) == (0, True)
    try:
        assert cli("up", str(first)).returncode == 0
        before = footprint(f"{RUN}-same")
        res = cli("up", str(second))
        assert res.returncode == 2
        assert f"lab name '{RUN}-same' is already used by {first}" in res.stderr
        assert footprint(f"{RUN}-same") == before
    finally:
        cli("down", str(first))
    assert_clean(f"{RUN}-same")


def test_unsupported_kind_creates_nothing(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "triangle", "ceos", edit="    r4: {kind: ceos}\n")
    res = cli("up", str(path))
    assert res.returncode == 2
    assert "kind 'ceos' needs containerlab" in res.stderr
    assert_clean(f"{RUN}-ceos")


def test_not_root_is_a_clear_error() -> None:
    """The real CLI as uid nobody (with only the capability to read root's Python install)."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) missing")
    res = run(
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", "--",
        sys.executable, "-m", "sdd_build", "lab", "up", str(LABS / "triangle.clab.yml"),
        timeout=60, cwd="/", env={**os.environ, "SDD_LAB_PROVIDER": "netns"},
    )  # fmt: skip
    assert res.returncode == 1, res.stderr
    assert res.stderr.startswith("error: the namespace lab provider needs root")
    assert "Traceback" not in res.stderr
    assert "PermissionError" not in res.stderr


def test_startup_config_frr_rejects_is_located_and_creates_nothing(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "triangle", "badcfg")
    conf = path.parent / "triangle" / "r2.conf"
    lines = conf.read_text().splitlines()
    conf.write_text("\n".join([*lines, " bogus line"]) + "\n")
    res = cli("up", str(path))
    assert res.returncode == 2
    assert (
        f"error: {conf}:{len(lines) + 1}: node 'r2': FRR rejects: % Unknown command" in res.stderr
    )
    assert_clean(f"{RUN}-badcfg")


def test_wait_reports_what_did_not_converge(tmp_path: Path) -> None:
    path = private_copy(tmp_path, "triangle", "noconv")
    text = path.read_text().replace(
        "        sdd.daemons: bgpd,ospfd,staticd\n",
        '        sdd.daemons: bgpd,ospfd,staticd\n        sdd.expect.ospf-full: "2"\n',
    )
    path.write_text(
        text.replace(
            'labels: {sdd.asn: "65002"', 'labels: {sdd.expect.routes: 10.0.0.9/32, sdd.asn: "65002"'
        )
    )
    try:
        t0 = time.monotonic()
        res = cli("up", "--wait", "--timeout", "4", str(path))
        elapsed = time.monotonic() - t0
        assert res.returncode == 1, res.stderr
        assert elapsed < 30
        msg = res.stderr
        assert f"lab '{RUN}-noconv' did not converge within 4s" in msg
        assert "r1: OSPF Full 0/2" in msg
        assert "r2: OSPF Full 0/2, route 10.0.0.9/32 missing" in msg
        assert "hint: the lab stays up" in msg
        # the lab is up (for inspection) and a plain up says so
        assert cli("up", str(path)).returncode == 0
    finally:
        cli("down", str(path))
    assert_clean(f"{RUN}-noconv")


@pytest.mark.parametrize(
    ("case", "old", "new", "message"),
    [
        ("unknown-node", '["r1:eth1", "r2:eth1"]', '["r1:eth1", "r9:eth1"]', "unknown node 'r9'"),
        ("dup-node", "    r3:\n", "    r2:\n", "duplicate key 'r2'"),
        ("iface-twice", '["r2:eth2", "r3:eth1"]', '["r2:eth1", "r3:eth1"]', "used by more than"),
        ("no-config", "triangle/r3.conf", "triangle/r33.conf", "startup-config file not found"),
    ],
)
def test_bad_topologies_fail_cleanly(
    tmp_path: Path, case: str, old: str, new: str, message: str
) -> None:
    path = private_copy(tmp_path, "triangle", case)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    res = cli("up", str(path))
    assert res.returncode == 2
    assert message in res.stderr
    assert re.search(rf"^error: {re.escape(str(path))}:\d+: ", res.stderr, re.M)
    assert "Traceback" not in res.stderr
    assert_clean(f"{RUN}-{case}")


def test_status_prints_each_routers_own_vtysh_command(converged_lab: LabHandle) -> None:
    """Issue 11 item 8: `lab status` prints the exact command of each router's own vtysh
    (`nsenter -t <pid> -m -u -n vtysh -N <name>`: inside the node, issue 15); run as printed it
    reaches that router (not the machine's own FRR)."""
    res = CliRunner().invoke(main, ["lab", "status", str(converged_lab.topology_path)])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.strip().startswith("r2: nsenter -t"))
    command = line.split(": ", 1)[1].split()
    assert command[-2] == "-N"
    out = run(*command, "-c", "show running-config").stdout
    assert "hostname r2" in out
