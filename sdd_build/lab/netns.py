"""The namespace provider: a containerlab topology as FRR instances in Linux network namespaces.

Per node ``<prefix>-<lab>-<node>`` (``clab-triangle-r1``) is both the network namespace and,
for routers, the FRR pathspace (``/etc/frr/<ns>/``, ``/var/run/frr/<ns>/``, ``vtysh -N <ns>``):
``watchfrr --netns`` starts the daemons in the namespace of the same name. Links are veth pairs
created directly between the two namespaces under the endpoint names (``eth1``, ...).

Each router gets a UTS namespace with its node name (FRR 8.4 takes the prompt's host name from
the kernel, not from ``hostname`` in frr.conf), an ``sshd`` on 127.0.0.1:22 inside its network
namespace, and a ``socat`` in the root namespace that forwards 127.0.0.1:<port> into it. Two
temporary users per lab log in there: a vtysh login (``ForceCommand vtysh -N <ns>``) and a bash
login in groups frr/frrvty. Plain ``kind: linux`` nodes get a namespace and their ``exec``
commands only.

Teardown kills by PID (pidfiles, recorded PIDs, ``ip netns pids``) rather than running
``frrinit.sh stop``, which takes about 6 s per router on these machines.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sdd_build.errors import Problem
from sdd_build.lab.impair import Impairment, netem_argv
from sdd_build.lab.inventory import HostEntry, write_inventory
from sdd_build.lab.provider import (
    LabInputError,
    LabRuntimeError,
    NodeStatus,
    Progress,
    UpResult,
    run,
)
from sdd_build.lab.state import LabState, NodeRecord, Resource, lab_lock, state_root
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = [
    "NetnsProvider",
    "check_system",
    "in_uts",
    "label_problems",
    "pid_alive",
    "read_pid",
    "startup_config_problems",
    "unsupported_features",
]

FRR_LIB = Path("/usr/lib/frr")
FRR_ETC = Path("/etc/frr")
FRR_RUN = Path("/var/run/frr")
SSHD = "/usr/sbin/sshd"
VTYSH = "/usr/bin/vtysh"
GECOS_MARK = "sdd-build lab"
DEFAULT_DAEMONS = ("bgpd", "ospfd", "staticd")
PORT_SPAN = 4000
MAX_NAME = 64
WORKERS = min(8, (os.cpu_count() or 2) * 2)
_STATE_LOCK = threading.Lock()

# Node keys the namespace provider cannot honour: using one is an error that says containerlab
# is needed. Keys that only tune container scheduling (position, restart-policy, ...) are fine.
_NEEDS_CONTAINERLAB = (
    "type", "license", "entrypoint", "cmd", "publish", "env_files", "user", "devices", "ports",
    "network_mode", "runtime", "cpu", "cpu_set", "memory", "sysctls", "dns", "certificate",
    "healthcheck", "extras", "stages", "components", "config", "mgmt_ipv6", "cap_add",
    "shm_size",
)  # fmt: skip
_FRR_BIND_TARGETS = ("/etc/frr/daemons", "/etc/frr/frr.conf", "/etc/frr/vtysh.conf")


def check_system() -> None:
    """Root and the Debian packages; one clear error instead of a cascade of EPERMs."""
    if os.geteuid() != 0:
        raise LabRuntimeError(
            "the namespace lab provider needs root (network namespaces, FRR, users)",
            hint="run it as root, e.g. sudo sdd-build lab up <topology>",
        )
    missing = [
        p
        for p in (str(FRR_LIB / "watchfrr"), str(FRR_LIB / "frrinit.sh"), VTYSH, SSHD)
        if not Path(p).exists()
    ]
    missing += [b for b in ("ip", "socat", "tc", "useradd", "unshare") if shutil.which(b) is None]
    if missing:
        raise LabRuntimeError(
            f"missing on this machine: {', '.join(missing)}",
            hint="apt-get install -y frr frr-pythontools openssh-server socat iproute2 "
            "util-linux passwd",
        )


def unsupported_features(topo: LabTopology) -> list[Problem]:
    """Everything in the topology this provider cannot run, each located (file:line)."""
    file = str(topo.path)
    out: list[Problem] = []
    for what, line in topo.extended_links:
        out.append(Problem(f"link type/endpoint {what!r} needs containerlab", file, line))
    for node in topo.nodes.values():
        where = f"node {node.name!r}"
        if len(topo.long_name(node.name)) > MAX_NAME:
            # FRR's sockets live in /var/run/frr/<name>/ and a Unix socket path has 108 bytes
            out.append(
                Problem(
                    f"{where}: {topo.long_name(node.name)!r} is longer than {MAX_NAME} "
                    "characters; use a shorter lab or node name",
                    file,
                    node.line,
                )
            )
        if len(node.name) > 63:
            out.append(Problem(f"{where}: a host name has at most 63 characters", file, node.line))
        if not (node.is_frr or node.is_host):
            out.append(
                Problem(
                    f"{where}: kind {node.kind!r} needs containerlab (this provider runs "
                    "'frr' and 'linux' nodes only)",
                    file,
                    node.line,
                )
            )
            continue
        for key in _NEEDS_CONTAINERLAB:
            if getattr(node.settings, key) is not None:
                out.append(
                    Problem(f"{where}: {key.replace('_', '-')} needs containerlab", file, node.line)
                )
        for _src, dst, _opt in node.binds:
            if not (node.is_frr and dst in _FRR_BIND_TARGETS):
                out.append(Problem(f"{where}: bind to {dst} needs containerlab", file, node.line))
    return out


def label_problems(topo: LabTopology) -> list[Problem]:
    return [
        Problem(f"node {node.name!r}: {msg}", str(topo.path), node.line)
        for node in topo.nodes.values()
        for msg in _label_problems(node)
    ]


def _label_problems(node: NodeSpec) -> list[str]:
    """The sdd.* labels this provider reads, checked before anything is created."""
    from sdd_build.lab.impair import FRR_DAEMONS

    bad: list[str] = []
    for d in node.labels.get("sdd.daemons", "").split(","):
        if d.strip() and d.strip() not in FRR_DAEMONS:
            bad.append(f"label sdd.daemons: unknown FRR daemon {d.strip()!r}")
    port = node.labels.get("sdd.ssh-port")
    if port is not None and not (port.isdigit() and 1024 <= int(port) <= 65535):
        bad.append(f"label sdd.ssh-port {port!r} is not a port 1024-65535")
    for key in ("ospf-full", "bgp-established"):
        value = node.labels.get(f"sdd.expect.{key}")
        if value is not None and not value.strip().isdigit():
            bad.append(f"label sdd.expect.{key} {value!r} is not a number")
    if node.is_host and any(
        f"sdd.expect.{k}" in node.labels for k in ("ospf-full", "bgp-established", "routes")
    ):
        bad.append("a plain Linux host runs no FRR: only sdd.expect.ping applies")
    return bad


_DRYRUN_LINE = re.compile(r"^line (\d+): (% [^\[:]*)(?:\[\d+\])?:?\s*(.*)$")


def startup_config_problems(topo: LabTopology) -> list[Problem]:
    """FRR's own syntax check of each router's startup-config (``vtysh --dryrun``), located
    at the config file's lines: a config FRR would half-apply is bad input, not a lab."""
    import tempfile

    def check(node: NodeSpec) -> list[Problem]:
        text = NetnsProvider._startup_config(node)
        where = str(node.startup_config) if node.startup_config else f"{topo.path} ({node.name})"
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as tmp:
            tmp.write(text)
            tmp.flush()
            proc = run([VTYSH, "--dryrun", "-f", tmp.name], check=False, timeout=30)
        if proc.returncode == 0:
            return []
        found: list[Problem] = []
        for line in (proc.stdout + proc.stderr).splitlines():
            m = _DRYRUN_LINE.match(line.strip())
            if m:
                msg = f"{m.group(2).strip()}: {m.group(3).strip()}".rstrip(": ")
                found.append(Problem(f"node {node.name!r}: FRR rejects: {msg}", where,
                                     int(m.group(1))))  # fmt: skip
        return found or [Problem(f"node {node.name!r}: FRR rejects the startup-config", where)]

    routers = [n for n in topo.nodes.values() if n.is_frr]
    return [p for found in _parallel(check, routers) for p in found]


def _refuse_name_collision(topo: LabTopology, state: LabState | None) -> None:
    if state is not None and state.topology != str(topo.path):
        orphan = not Path(state.topology).exists()
        raise LabInputError(
            f"lab name {topo.name!r} is already used by {state.topology}"
            + (" (that file no longer exists)" if orphan else "")
            + f" (state {LabState.path_for(topo.name)})",
            file=str(topo.path),
            hint=f"sdd-build lab down {topo.path} removes the orphaned lab first"
            if orphan
            else "give this topology another 'name', or bring the other lab down first",
        )


def _users_for(lab: str) -> tuple[str, str]:
    slug = "".join(c if c.isalnum() else "-" for c in lab.lower())[:16].strip("-") or "lab"
    h = hashlib.sha256(lab.encode()).hexdigest()[:4]
    return f"sdd-{slug}-{h}-v", f"sdd-{slug}-{h}-s"


def _proc_start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces: split after its closing parenthesis
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19])


def _proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def pid_alive(pid: int | None, start_time: int | None = None) -> bool:
    if pid is None:
        return False
    st = _proc_start_time(pid)
    if st is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
        if state[state.rfind(")") + 2] == "Z":
            return False
    except OSError:
        return False
    return start_time is None or st == start_time


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _netns_list() -> set[str]:
    proc = run(["ip", "-j", "netns", "list"], check=False)
    try:
        return {e["name"] for e in json.loads(proc.stdout or "[]")}
    except (ValueError, KeyError, TypeError):
        return set()


def _netns_pids(ns: str) -> list[int]:
    proc = run(["ip", "netns", "pids", ns], check=False, timeout=10)
    return [int(x) for x in proc.stdout.split() if x.isdigit()]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as socat will (reuseaddr): a port in TIME_WAIT is free for us
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listener_pid_matches(port: int, pid: int) -> bool:
    """True when ``pid`` owns the LISTEN socket on 127.0.0.1:port (not someone else)."""
    inodes: set[str] = set()
    try:
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            cols = line.split()
            local, st, inode = cols[1], cols[3], cols[9]
            if st == "0A" and int(local.split(":")[1], 16) == port:
                inodes.add(inode)
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return True
    except OSError:
        return False
    return False


def in_uts(hostname: str, argv: list[str]) -> list[str]:
    """argv run in a fresh UTS namespace whose host name is ``hostname`` (FRR's prompt)."""
    return ["unshare", "--uts", "--", "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh",
            hostname, *argv]  # fmt: skip


def _background(argv: list[str], log: Path) -> int:
    """Start a long-lived process detached from us (reparented to init: no zombie here) and
    return its PID."""
    script = '"$@" </dev/null >>"$LOGFILE" 2>&1 & echo $!'
    env = dict(os.environ, LOGFILE=str(log))
    proc = run(["sh", "-c", script, "sh", *argv], env=env, what=f"start {argv[0]}")
    return int(proc.stdout.strip())


def _parallel(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """Run ``fn`` over items in threads; the first error is raised after all finished."""
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(items))) as pool:
        futures = [pool.submit(fn, it) for it in items]
        results: list[Any] = []
        first: BaseException | None = None
        for fut in futures:
            try:
                results.append(fut.result())
            except BaseException as exc:
                results.append(None)
                first = first or exc
    if first is not None:
        raise first
    return results


class NetnsProvider:
    name = "netns"

    # ------------------------------------------------------------------------------------- up

    def up(self, topo: LabTopology, *, wait: bool, timeout: float, progress: Progress) -> UpResult:
        # input problems first (exit 2), so they are reported the same with or without root
        unsupported = unsupported_features(topo)
        if unsupported or (bad_labels := label_problems(topo)):
            raise LabInputError.from_problems(
                unsupported or bad_labels,
                hint="these need containerlab (https://containerlab.dev); with containerlab on "
                "PATH sdd-build delegates to it"
                if unsupported
                else None,
            )
        _refuse_name_collision(topo, LabState.load(topo.name))
        check_system()
        t0 = time.monotonic()
        with lab_lock(topo.name):
            state = LabState.load(topo.name)
            _refuse_name_collision(topo, state)
            if state is not None and state.provider != self.name:
                raise LabInputError(f"lab {topo.name!r} is up with {state.provider}")
            if state is not None and state.phase == "up" and self._present(state):
                return UpResult(already_up=True, provider=self.name)
            bad_configs = startup_config_problems(topo)
            if bad_configs:
                raise LabInputError.from_problems(bad_configs)
            if state is not None:
                progress(f"cleaning up leftovers of an interrupted run of lab {topo.name!r}")
                self._teardown(state, progress)
            self._refuse_foreign(topo)
            state = LabState(
                lab=topo.name,
                topology=str(topo.path),
                provider="netns",
                workdir=str(topo.workdir),
            )
            try:
                self._create(topo, state, progress)
            except BaseException:
                # Never leave a half-built lab behind a failed `up`: undo what the state lists.
                with contextlib.suppress(Exception):
                    self._teardown(state, lambda _m: None)
                raise
            ready = time.monotonic() - t0
            state.phase = "up"
            state.save()
        progress(f"lab {topo.name!r} ready in {ready:.1f}s")
        result = UpResult(already_up=False, provider=self.name, ready_s=ready)
        # accepted but meaningless without containers: said out loud, never skipped silently
        for node in topo.nodes.values():
            if node.mgmt_ipv4:
                result.notes.append(
                    f"{node.name}: mgmt-ipv4 {node.mgmt_ipv4} not used; the namespace provider "
                    "reaches routers on 127.0.0.1:<port>"
                )
        if wait:
            from sdd_build.lab.health import wait_converged

            t1 = time.monotonic()
            wait_converged(topo, state, timeout=timeout, progress=progress)
            result.converged_s = time.monotonic() - t1
        return result

    def _present(self, state: LabState) -> bool:
        existing = _netns_list()
        return all(rec.netns in existing for rec in state.nodes.values())

    def _refuse_foreign(self, topo: LabTopology) -> None:
        existing = _netns_list()
        clash = [topo.long_name(n) for n in topo.nodes if topo.long_name(n) in existing]
        clash += [topo.long_name(n) for n in topo.nodes if (FRR_ETC / topo.long_name(n)).exists()]
        if clash:
            raise LabRuntimeError(
                f"names this lab needs are taken by something sdd-build did not record: "
                f"{', '.join(sorted(set(clash)))}",
                hint="another tool or lab uses them; remove them (ip netns del NAME; "
                "rm -r /etc/frr/NAME) or rename the lab",
            )

    def _create(self, topo: LabTopology, state: LabState, progress: Progress) -> None:
        routers = [n for n in topo.nodes.values() if n.is_frr]
        hosts = [n for n in topo.nodes.values() if n.is_host]
        vty_user, shell_user = _users_for(topo.name)
        if routers:
            state.vty_user, state.shell_user = vty_user, shell_user
        for node in topo.nodes.values():
            ns = topo.long_name(node.name)
            state.nodes[node.name] = NodeRecord(
                name=node.name,
                role="router" if node.is_frr else "host",
                netns=ns,
                frr_instance=ns if node.is_frr else None,
                hostname=node.name,
            )
        # Everything this run may create is recorded before the first thing is created.
        state.resources.append(Resource(kind="workdir", name=str(topo.workdir)))
        for rec in state.nodes.values():
            state.resources.append(Resource(kind="netns", name=rec.netns, node=rec.name))
            if rec.frr_instance:
                state.resources.append(
                    Resource(kind="frr_instance", name=rec.frr_instance, node=rec.name)
                )
        if routers:
            state.resources.append(Resource(kind="user", name=vty_user))
            state.resources.append(Resource(kind="user", name=shell_user))
        state.save()

        workdir = topo.workdir
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "logs").mkdir(exist_ok=True)

        progress(f"creating {len(topo.nodes)} namespaces and {len(topo.links)} links")
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
        if lines:
            run(["ip", "-b", "-"], input="".join(lines), what="ip link add (veth links)")
        for rec in state.nodes.values():
            up = ["lo", *topo.interfaces(rec.name)]
            ups = "".join(f"link set {i} up\n" for i in up)
            run(["ip", "-n", rec.netns, "-b", "-"], input=ups, what=f"{rec.name}: link up")
            if rec.role == "router":
                run(["ip", "netns", "exec", rec.netns, "sysctl", "-q", "-w",
                     "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"])  # fmt: skip

        passwords: dict[str, str] = {}
        if routers:
            progress("adding the lab's temporary users")
            for user in (vty_user, shell_user):
                passwords[user] = secrets.token_urlsafe(18)
                self._add_user(user, topo.name, passwords[user])
            self._host_key(workdir)

        if routers:
            progress(f"starting FRR in {len(routers)} routers")
        _parallel(lambda n: self._start_frr(topo, n), routers)

        for node in hosts:
            self._run_exec(topo, node)
        for node in routers:
            self._run_exec(topo, node)

        if routers:
            progress("starting sshd + socat per router")
            taken: set[int] = self._ports_in_other_labs(topo.name)
            # sshd start-up is mostly waiting for its fork and pidfile: overlap them
            _parallel(lambda n: self._start_sshd(topo, state, n, vty_user, shell_user), routers)
            _parallel(lambda n: self._start_socat(topo, state, n, taken), routers)
            entries = [
                HostEntry(
                    node=n.name,
                    hostname="127.0.0.1",
                    port=state.nodes[n.name].port or 0,
                    username=vty_user,
                    password=passwords[vty_user],
                    shell_username=shell_user,
                    shell_password=passwords[shell_user],
                    netns=topo.long_name(n.name),
                    frr_instance=topo.long_name(n.name),
                )
                for n in routers
            ]
            write_inventory(workdir / "inventory", topo, entries)
            progress("waiting for FRR and SSH on every router")
            _parallel(lambda n: self._wait_frr(topo, n), routers)
            from sdd_build.lab.health import wait_ssh

            wait_ssh(
                {n.name: (state.nodes[n.name].port or 0) for n in routers},
                vty_user,
                passwords[vty_user],
                timeout=30.0,
            )
        else:
            write_inventory(workdir / "inventory", topo, [])  # hosts only: an empty inventory

    # -- pieces of up -----------------------------------------------------------------------

    def _add_user(self, user: str, lab: str, password: str) -> None:
        argv = [
            "useradd", "--no-create-home", "--home-dir", "/", "--shell", "/bin/bash",
            "--groups", "frr,frrvty", "--no-user-group", "--gid", "frr",
            "--comment", f"{GECOS_MARK} {lab}", user,
        ]  # fmt: skip
        for attempt in range(20):
            proc = run(argv, check=False, timeout=20)
            if proc.returncode == 0:
                break
            if proc.returncode == 9:  # exists: a leftover only if it carries our mark
                if self._is_ours(user):
                    break
                raise LabRuntimeError(f"user {user} exists and was not made by sdd-build")
            # 10: /etc/passwd is locked by a concurrent useradd/userdel (other labs): retry
            if proc.returncode != 10 or attempt == 19:
                raise LabRuntimeError(f"useradd {user}: {proc.stderr.strip()}")
            time.sleep(0.25)
        # the password goes through stdin, never argv (visible in ps) nor logs
        run(["chpasswd"], input=f"{user}:{password}\n", timeout=20, what=f"chpasswd {user}")

    @staticmethod
    def _is_ours(user: str) -> bool:
        proc = run(["getent", "passwd", user], check=False)
        fields = proc.stdout.strip().split(":")
        return len(fields) > 4 and fields[4].startswith(GECOS_MARK)

    @staticmethod
    def _host_key(workdir: Path) -> None:
        key = workdir / "ssh_host_ed25519_key"
        if not key.exists():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                what="ssh-keygen")  # fmt: skip
        os.chmod(key, 0o600)

    def _daemons(self, node: NodeSpec) -> list[str]:
        declared = node.labels.get("sdd.daemons")
        daemons: list[str] = []
        for _src, dst, _o in node.binds:
            if dst == "/etc/frr/daemons":
                for line in Path(_src).read_text().splitlines():
                    key, _, val = line.partition("=")
                    if val.strip().strip('"') in ("yes", "1") and key.endswith("d"):
                        daemons.append(key.strip())
        if declared is not None:
            daemons += [d.strip() for d in declared.split(",") if d.strip()]
        if not daemons:
            daemons = list(DEFAULT_DAEMONS)
        return [d for d in dict.fromkeys(daemons) if d not in ("zebra", "watchfrr")]

    @staticmethod
    def _startup_config(node: NodeSpec) -> str:
        for src, dst, _o in node.binds:
            if dst == "/etc/frr/frr.conf":
                return Path(src).read_text()
        if node.settings.suppress_startup_config:
            return f"hostname {node.name}\n"
        if node.startup_config_text is not None:
            return node.startup_config_text
        if node.startup_config is not None:
            return node.startup_config.read_text()
        return f"frr defaults traditional\nhostname {node.name}\n!\n"

    def _start_frr(self, topo: LabTopology, node: NodeSpec) -> None:
        inst = topo.long_name(node.name)
        etc = FRR_ETC / inst
        etc.mkdir(mode=0o770, exist_ok=True)
        daemons = self._daemons(node)
        lines = [f"# sdd-build lab {topo.name}, node {node.name}"]
        from sdd_build.lab.impair import FRR_DAEMONS

        for d in FRR_DAEMONS:
            if d not in ("zebra", "staticd"):
                lines.append(f"{d}={'yes' if d in daemons else 'no'}")
        lines += [
            "vtysh_enable=yes",
            'zebra_options="-A 127.0.0.1 -s 90000000"',
            *(f'{d}_options="-A 127.0.0.1"' for d in FRR_DAEMONS if d != "zebra"),
            # watchfrr starts every daemon in the network namespace named like the instance
            'watchfrr_options="--netns"',
            'frr_profile="traditional"',
        ]
        files = {
            "daemons": "\n".join(lines) + "\n",
            "frr.conf": self._startup_config(node),
            "vtysh.conf": "service integrated-vtysh-config\n",
        }
        for src, dst, _o in node.binds:
            if dst == "/etc/frr/vtysh.conf":
                files["vtysh.conf"] = Path(src).read_text()
        for fname, text in files.items():
            path = etc / fname
            path.write_text(text)
            shutil.chown(path, "frr", "frr")
            # group frr read/write: the shell login edits and saves the config (write memory)
            os.chmod(path, 0o660)
        shutil.chown(etc, "frr", "frr")
        os.chmod(etc, 0o770)
        log = topo.workdir / "logs" / f"{node.name}.frr.log"
        argv = ["ip", "netns", "exec", inst,
                *in_uts(node.name, [str(FRR_LIB / "frrinit.sh"), "start", inst])]  # fmt: skip
        proc = run(argv, check=False, timeout=60, what=f"{node.name}: frrinit.sh start")
        log.write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0 or "Failed" in proc.stdout + proc.stderr:
            raise LabRuntimeError(f"{node.name}: FRR did not start (see {log})")

    def _wait_frr(self, topo: LabTopology, node: NodeSpec, timeout: float = 30.0) -> None:
        inst = topo.long_name(node.name)
        deadline = time.monotonic() + timeout
        daemons = ["zebra", *self._daemons(node)]
        run_dir = FRR_RUN / inst
        while True:
            missing = [d for d in daemons if not (run_dir / f"{d}.vty").exists()]
            if not missing:
                proc = run([VTYSH, "-N", inst, "-c", "show version"], check=False, timeout=10)
                if proc.returncode == 0:
                    return
                missing = ["vtysh"]
            if time.monotonic() > deadline:
                raise LabRuntimeError(f"{node.name}: FRR not ready after {timeout:.0f}s "
                                      f"(waiting for {', '.join(missing)})")  # fmt: skip
            time.sleep(0.1)

    @staticmethod
    def _run_exec(topo: LabTopology, node: NodeSpec) -> None:
        ns = topo.long_name(node.name)
        env = dict(os.environ, **node.env)
        for cmd in node.exec:
            try:
                argv = shlex.split(cmd)
            except ValueError as exc:
                raise LabInputError(f"node {node.name!r}: exec {cmd!r}: {exc}",
                                    file=str(topo.path), line=node.line) from None  # fmt: skip
            if not argv:
                continue
            run(["ip", "netns", "exec", ns, *in_uts(node.name, argv)], env=env, timeout=30,
                what=f"{node.name}: exec {cmd!r}")  # fmt: skip

    def _ports_in_other_labs(self, lab: str) -> set[int]:
        ports: set[int] = set()
        root = state_root()
        if root.is_dir():
            for path in root.glob("*/state.json"):
                if path.parent.name == lab:
                    continue
                with contextlib.suppress(Exception):
                    other = LabState.load(path.parent.name)
                    if other is not None:
                        ports.update(r.port for r in other.nodes.values() if r.port)
        return ports

    def _start_sshd(
        self, topo: LabTopology, state: LabState, node: NodeSpec, vty: str, shell: str
    ) -> None:
        inst = topo.long_name(node.name)
        nodedir = topo.workdir / node.name
        nodedir.mkdir(exist_ok=True)
        pidfile = nodedir / "sshd.pid"
        with contextlib.suppress(FileNotFoundError):
            pidfile.unlink()
        cfg = nodedir / "sshd_config"
        cfg.write_text(
            "\n".join([
                f"# sdd-build lab {topo.name}, node {node.name}",
                "ListenAddress 127.0.0.1:22",
                f"HostKey {topo.workdir / 'ssh_host_ed25519_key'}",
                f"PidFile {pidfile}",
                "UsePAM no",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication no",
                "PermitRootLogin no",
                f"AllowUsers {vty} {shell}",
                "PrintMotd no",
                "PrintLastLog no",
                "UseDNS no",
                "LogLevel ERROR",
                "MaxStartups 100:30:200",
                "MaxSessions 50",
                "X11Forwarding no",
                "AllowTcpForwarding no",
                f"SetEnv FRR_PATHSPACE={inst}",
                f"Match User {vty}",
                f"    ForceCommand {VTYSH} -N {inst}",
                "",
            ])
        )  # fmt: skip
        os.chmod(cfg, 0o600)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        with _STATE_LOCK:  # threads share the state file
            res = state.add(Resource(kind="process", name=f"sshd:{node.name}", node=node.name))
        log = topo.workdir / "logs" / f"{node.name}.sshd.log"
        # sshd daemonizes itself and writes its pidfile: nothing of it stays our child.
        run(["ip", "netns", "exec", inst,
             *in_uts(node.name, [SSHD, "-f", str(cfg), "-E", str(log)])],
            timeout=15, what=f"{node.name}: sshd")  # fmt: skip
        deadline = time.monotonic() + 10
        while (pid := read_pid(pidfile)) is None:
            if time.monotonic() > deadline:
                raise LabRuntimeError(f"{node.name}: sshd did not start (see {log})")
            time.sleep(0.02)
        res.pid, res.start_time = pid, _proc_start_time(pid)
        with _STATE_LOCK:
            state.save()

    def _start_socat(
        self, topo: LabTopology, state: LabState, node: NodeSpec, taken: set[int]
    ) -> int:
        inst = topo.long_name(node.name)
        explicit = node.labels.get("sdd.ssh-port")
        if explicit is not None:
            if not explicit.isdigit() or not 1024 <= int(explicit) <= 65535:
                raise LabInputError(
                    f"node {node.name!r}: label sdd.ssh-port {explicit!r} is not a port 1024-65535",
                    file=str(topo.path),
                    line=node.line,
                )
            candidates: Iterable[int] = [int(explicit)]
        else:
            candidates = self.candidate_ports(topo, node.name)
        # socat splits addresses at ":"; the inner ones are escaped (socat >= 1.7.4)
        marker = f"EXEC:ip netns exec {inst} socat STDIO TCP\\:127.0.0.1\\:22"
        log = topo.workdir / "logs" / f"{node.name}.socat.log"
        tried = 0
        for port in candidates:
            # routers start their socat in parallel: choosing and recording a port is atomic
            with _STATE_LOCK:
                if port in taken or not _port_free(port):
                    if explicit is not None:
                        raise LabRuntimeError(
                            f"node {node.name!r}: port {port} (label sdd.ssh-port) is already "
                            "in use on 127.0.0.1",
                            hint="free the port or remove the label to let sdd-build pick one",
                        )
                    continue
                tried += 1
                if tried > 50:
                    break
                taken.add(port)
                res = state.add(
                    Resource(kind="socat", name=f"socat:{node.name}:{port}", node=node.name,
                             argv_marker=marker)
                )  # fmt: skip
            pid = _background(
                ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr", marker], log
            )
            with _STATE_LOCK:
                res.pid, res.start_time = pid, _proc_start_time(pid)
                state.save()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if not pid_alive(pid):
                    break  # lost a race for the port: try the next one
                if _listener_pid_matches(port, pid):
                    with _STATE_LOCK:
                        state.nodes[node.name].port = port
                        state.save()
                    return port
                time.sleep(0.02)
            self._kill_pids([pid])
            if explicit is not None:
                raise LabRuntimeError(f"node {node.name!r}: could not listen on port {port}")
        raise LabRuntimeError(f"node {node.name!r}: no free port for SSH on 127.0.0.1")

    @staticmethod
    def candidate_ports(topo: LabTopology, node: str) -> Iterable[int]:
        """Ports tried for a node, in order: stable per lab, so a lab keeps its ports across
        runs when they are free. ``SDD_LAB_PORT_BASE`` moves the whole range."""
        base_env = os.environ.get("SDD_LAB_PORT_BASE")
        if base_env and base_env.isdigit():
            base = int(base_env)
        else:
            base = 20000 + (zlib.crc32(topo.name.encode()) % 2000) * 16
        index = list(topo.nodes).index(node)
        first = base + index
        yield first
        span = range(20000, 20000 + 2000 * 16 + PORT_SPAN)
        start = first - span.start
        for i in range(1, len(span)):
            yield span.start + (start + i * 997) % len(span)

    # ----------------------------------------------------------------------------------- down

    def down(self, lab: str, topology_path: str, *, progress: Progress) -> bool:
        found = LabState.load(lab)
        if found is None:
            return False  # not up: nothing to do, root or not
        if found.topology != topology_path and Path(found.topology).exists():
            raise LabInputError(
                f"lab {lab!r} was brought up from {found.topology}, not {topology_path}",
                hint=f"sdd-build lab down {found.topology}",
            )
        check_system()
        with lab_lock(lab):
            state = LabState.load(lab)
            if state is None:
                return False
            if state.topology != topology_path:
                if Path(state.topology).exists():
                    raise LabInputError(
                        f"lab {lab!r} was brought up from {state.topology}, not {topology_path}",
                        hint=f"sdd-build lab down {state.topology}",
                    )
                # nobody can name the lab's own file any more (a deleted temp dir): an orphan
                progress(f"lab {lab!r} was brought up from {state.topology}, which no longer "
                         "exists: removing it as an orphan")  # fmt: skip
            self._teardown(state, progress)
        return True

    def _kill_pids(self, pids: Iterable[int], grace: float = 1.0) -> None:
        pids = [p for p in dict.fromkeys(pids) if p > 1 and p != os.getpid()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
            time.sleep(0.05)
        for pid in pids:
            if pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
            time.sleep(0.05)

    @staticmethod
    def _socat_pids(markers: set[str]) -> list[int]:
        """Our socat forwarders, found by their unique EXEC argument even if a crash lost the
        PID: the marker names our namespace, so no one else's socat can match it."""
        found: list[int] = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                argv = _proc_cmdline(int(entry.name))
                if argv and Path(argv[0]).name == "socat" and markers.intersection(argv):
                    found.append(int(entry.name))
        return found

    def _teardown(self, state: LabState, progress: Progress) -> None:
        state.phase = "destroying"
        state.save()
        progress(f"removing lab {state.lab!r}")
        res = state.resources
        markers = {r.argv_marker for r in res if r.kind == "socat" and r.argv_marker}
        pids = [
            r.pid for r in res if r.kind == "socat" and r.pid and pid_alive(r.pid, r.start_time)
        ]
        pids += self._socat_pids(markers)
        existing = _netns_list()
        netns = [r.name for r in res if r.kind == "netns"]
        instances = [r.name for r in res if r.kind == "frr_instance"]
        # watchfrr first: it would restart the daemons we are about to stop
        for inst in instances:
            wpid = read_pid(FRR_RUN / inst / "watchfrr.pid")
            if wpid and any(inst in a for a in _proc_cmdline(wpid)):
                pids.insert(0, wpid)
        for ns in netns:
            if ns in existing:
                pids += _netns_pids(ns)
        for inst in instances:
            for pidfile in (FRR_RUN / inst).glob("*.pid") if (FRR_RUN / inst).is_dir() else []:
                pid = read_pid(pidfile)
                if pid and inst in " ".join(_proc_cmdline(pid)):
                    pids.append(pid)
        pids += [
            r.pid for r in res if r.kind == "process" and r.pid and pid_alive(r.pid, r.start_time)
        ]
        self._kill_pids(pids)
        for ns in netns:
            if ns in existing:
                run(["ip", "netns", "del", ns], check=False)
        for inst in instances:
            for base in (FRR_ETC, FRR_RUN):
                path = base / inst
                if path.parent == base and inst and path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
        for r in res:
            if r.kind == "user" and self._is_ours(r.name):
                for attempt in range(20):
                    proc = run(["userdel", "--force", r.name], check=False, timeout=20)
                    if proc.returncode in (0, 6):  # 6: no such user
                        break
                    if attempt == 19:
                        raise LabRuntimeError(f"userdel {r.name}: {proc.stderr.strip()}")
                    time.sleep(0.25)
        for r in res:
            if r.kind == "workdir":
                wd = Path(r.name)
                if wd.name == f"clab-{state.lab}" and wd.is_dir():
                    shutil.rmtree(wd, ignore_errors=True)
        leftovers = [ns for ns in netns if ns in _netns_list()]
        if leftovers:
            raise LabRuntimeError(f"could not delete namespaces: {', '.join(leftovers)}")
        state.remove()

    # --------------------------------------------------------------------------------- status

    def status(self, topo: LabTopology) -> list[NodeStatus]:
        check_system()
        state = LabState.load(topo.name)
        if state is None or state.topology != str(topo.path):
            return []
        from sdd_build.lab.health import node_status

        return _parallel(lambda rec: node_status(topo, state, rec), list(state.nodes.values()))

    # --------------------------------------------------------------------------------- impair

    def impair(self, topo: LabTopology, imp: Impairment) -> str:
        check_system()
        imp.validate()
        with lab_lock(topo.name):
            state = LabState.load(topo.name)
            if state is None or state.topology != str(topo.path) or state.phase != "up":
                raise LabRuntimeError(f"lab {topo.name!r} is not up",
                                      hint=f"sdd-build lab up {topo.path}")  # fmt: skip
            rec = state.nodes.get(imp.node)
            if rec is None:
                raise LabInputError(f"no node {imp.node!r} in lab {topo.name!r} "
                                    f"(nodes: {', '.join(state.nodes)})")  # fmt: skip
            done: list[str] = []
            # link interfaces, and lo: delay on lo slows the node's own SSH path (socat->sshd)
            known = [*topo.interfaces(imp.node), "lo"]
            if imp.interface is not None and imp.interface not in known:
                raise LabInputError(
                    f"{imp.node} has no interface {imp.interface!r} ({', '.join(known)})"
                )
            if imp.link is not None:
                assert imp.interface is not None
                run(["ip", "-n", rec.netns, "link", "set", imp.interface, imp.link])
                done.append(f"{imp.node}:{imp.interface} {imp.link}")
            if imp.wants_netem or imp.clear:
                argv = netem_argv(rec.netns, imp)
                proc = run(argv, check=False)
                err = proc.stderr.strip()
                if proc.returncode != 0 and imp.clear:
                    # nothing to clear is fine: clearing is idempotent
                    if "handle of zero" not in err and "No such file" not in err:
                        raise LabRuntimeError(f"tc: {err}")
                elif proc.returncode != 0 and "qdisc kind is unknown" in err:
                    raise LabRuntimeError(
                        "this kernel has no netem qdisc (module sch_netem): delay and loss "
                        "cannot be emulated here",
                        hint="--rate alone works without netem; --link down cuts a link",
                    )
                elif proc.returncode != 0:
                    raise LabRuntimeError(f"tc: {err}")
                done.append(f"{imp.node}:{imp.interface} " + (
                    "qdisc cleared" if imp.clear else " ".join(argv[8:])))  # fmt: skip
            if imp.sshd is not None:
                if rec.role != "router":
                    raise LabInputError(f"{imp.node} is a host: it has no sshd")
                self._sshd_action(topo, state, topo.nodes[imp.node], imp.sshd)
                done.append(f"{imp.node} sshd {imp.sshd}")
            if imp.daemon is not None and imp.daemon_action is not None:
                if rec.role != "router":
                    raise LabInputError(f"{imp.node} is a host: it runs no FRR")
                self._daemon_action(topo, topo.nodes[imp.node], imp.daemon, imp.daemon_action)
                done.append(f"{imp.node} {imp.daemon} {imp.daemon_action}")
            return "; ".join(done)

    def _sshd_action(self, topo: LabTopology, state: LabState, node: NodeSpec, act: str) -> None:
        res = state.find("process", f"sshd:{node.name}")
        alive = res is not None and pid_alive(res.pid, res.start_time)
        if act == "stop":
            if alive and res is not None and res.pid:
                self._kill_pids([res.pid])
            return
        if alive:
            return
        if res is not None:
            state.resources.remove(res)
        if not (state.vty_user and state.shell_user):
            raise LabRuntimeError(f"lab {state.lab!r} has no SSH users recorded")
        self._start_sshd(topo, state, node, state.vty_user, state.shell_user)

    def _daemon_action(self, topo: LabTopology, node: NodeSpec, daemon: str, act: str) -> None:
        inst = topo.long_name(node.name)
        run_dir = FRR_RUN / inst
        if act == "stop":
            wpid = read_pid(run_dir / "watchfrr.pid")
            targets = []
            if wpid and pid_alive(wpid):
                targets.append(wpid)
            dpid = read_pid(run_dir / f"{daemon}.pid")
            if dpid and pid_alive(dpid) and inst in " ".join(_proc_cmdline(dpid)):
                targets.append(dpid)
            self._kill_pids(targets, grace=3.0)
            with contextlib.suppress(FileNotFoundError):
                (run_dir / f"{daemon}.pid").unlink()
            return
        if daemon not in ["zebra", *self._daemons(node)]:
            raise LabInputError(f"{node.name} does not run {daemon} (label sdd.daemons)")
        wpid = read_pid(run_dir / "watchfrr.pid")
        if wpid and pid_alive(wpid):
            # watchfrr is running: it restarts missing daemons by itself
            pass
        else:
            # watchfrr, started again, starts whatever daemon is missing and loads its config
            run(["ip", "netns", "exec", inst,
                 *in_uts(node.name, [str(FRR_LIB / "frrinit.sh"), "start", inst])],
                timeout=60, what=f"{node.name}: frrinit.sh start")  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            dpid = read_pid(run_dir / f"{daemon}.pid")
            if dpid and pid_alive(dpid) and (run_dir / f"{daemon}.vty").exists():
                return
            time.sleep(0.1)
        raise LabRuntimeError(f"{node.name}: {daemon} did not start")
