"""What the namespace provider checks before it creates anything: the machine, the topology's
features and labels, the startup configs (FRR's own ``vtysh --dryrun``), the lab's name."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from sdd_build.errors import Problem
from sdd_build.lab.impair import FRR_DAEMONS
from sdd_build.lab.netns.frrconf import frr_files
from sdd_build.lab.netns.node import PRIVATE_DIRS, private_target
from sdd_build.lab.procs import FRR_LIB, SSHD, VTYSH, parallel
from sdd_build.lab.provider import LabInputError, LabRuntimeError, run
from sdd_build.lab.state import LabState
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = [
    "DRYRUN_LINE",
    "MAX_NAME",
    "check_system",
    "label_problems",
    "refuse_name_collision",
    "startup_config_problems",
    "unsupported_features",
]

MAX_NAME = 64
_IFNAME = re.compile(r"^[A-Za-z0-9_.\-]{1,15}$")

# Node keys the namespace provider cannot honour: using one is an error that says containerlab
# is needed. Keys that only tune container scheduling (position, restart-policy, ...) are fine.
_NEEDS_CONTAINERLAB = (
    "type", "license", "entrypoint", "publish", "env_files", "user", "devices",
    "network_mode", "runtime", "cpu", "cpu_set", "memory", "sysctls", "dns", "certificate",
    "healthcheck", "extras", "stages", "components", "config", "mgmt_ipv6", "cap_add",
    "shm_size",
)  # fmt: skip


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
    missing += [
        b for b in ("ip", "socat", "tc", "useradd", "unshare", "nsenter") if shutil.which(b) is None
    ]
    if missing:
        raise LabRuntimeError(
            f"missing on this machine: {', '.join(missing)}",
            hint="apt-get install -y frr frr-pythontools openssh-server socat iproute2 "
            "util-linux passwd",
        )


def ssh_port_of_entry(entry: str) -> str | None:
    """The host port of a ``ports`` entry that publishes a router's SSH (``2221:22``,
    ``127.0.0.1:2221:22/tcp``); ``None`` for anything else."""
    m = re.fullmatch(r"(?:[0-9.]+:)?(\d{1,5}):22(?:/tcp)?", str(entry).strip())
    return m.group(1) if m else None


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
        if node.is_bridge:
            if not _IFNAME.match(node.name):
                why = "a bridge is an interface named like its node: at most 15 characters"
                out.append(Problem(f"{where}: {why}", file, node.line))
            continue
        if not (node.is_frr or node.is_host):
            out.append(
                Problem(
                    f"{where}: kind {node.kind!r} needs containerlab (this provider runs "
                    "'frr', 'linux' and 'bridge' nodes only)",
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
        for entry in node.settings.ports or []:
            if not node.is_frr or ssh_port_of_entry(entry) is None:
                out.append(Problem(f"{where}: ports {entry!r} needs containerlab (without it: "
                                   "only '<host port>:22' of a router, its SSH on 127.0.0.1)",
                                   file, node.line))  # fmt: skip
        if node.is_frr and node.settings.cmd is not None:
            out.append(Problem(f"{where}: cmd on an FRR node (it runs FRR) needs containerlab",
                               file, node.line))  # fmt: skip
        out += [Problem(f"{where}: {why}", file, node.line) for why in _bind_problems(node)]
    return out


def _bind_problems(node: NodeSpec) -> list[str]:
    """A bind is mounted in the node's private mount namespace: its target must be in a private
    directory (created there) or exist on the host (covered, for this node only)."""
    bad: list[str] = []
    for src, dst, opt in node.binds:
        target = dst.rstrip("/") or "/"
        if not target.startswith("/"):
            bad.append(f"bind target {dst!r} is not an absolute path")
        elif target == "/etc/frr" or target.startswith("/etc/frr/"):
            if target == "/etc/frr" and not Path(src).is_dir():
                bad.append(f"bind to {dst}: the source must be a directory")
            elif target != "/etc/frr" and (not Path(src).is_file() or "/" in target[9:]):
                bad.append(f"bind to {dst}: a file directly in /etc/frr/ is copied into the "
                           "node; use a file as source")  # fmt: skip
        elif not (private_target(target) or os.path.lexists(target)):
            bad.append(
                f"bind to {dst}: a node has no private root, so a target must be in one of "
                f"its private directories ({', '.join(PRIVATE_DIRS)}) or exist on this "
                "machine (it is then covered for this node only)"
            )
        elif target in PRIVATE_DIRS or target in ("/", "/proc", "/sys", "/dev", "/usr"):
            bad.append(f"bind to {dst}: that directory cannot be replaced in a node")
        for o in filter(None, opt.split(",")):
            if o not in ("ro", "rw", "z", "Z"):
                bad.append(f"bind {src}:{dst}: option {o!r} is not supported (ro, rw)")
    return bad


def label_problems(topo: LabTopology) -> list[Problem]:
    return [
        Problem(f"node {node.name!r}: {msg}", str(topo.path), node.line)
        for node in topo.nodes.values()
        for msg in _label_problems(node)
    ]


def _label_problems(node: NodeSpec) -> list[str]:
    """The sdd.* labels this provider reads, checked before anything is created."""
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


DRYRUN_LINE = re.compile(r"^line (\d+): (% [^\[:]*)(?:\[\d+\])?:?\s*(.*)$")


def startup_config_problems(topo: LabTopology, version_note: str = "") -> list[Problem]:
    """FRR's own syntax check of each router's config files (``frr.conf``, or each daemon's
    own in split mode; ``vtysh --dryrun``), located at the file's lines: a config FRR would
    half-apply is bad input, not a lab. ``version_note`` is added to each rejection (the
    topology asks for another FRR than this machine's)."""

    def check(node: NodeSpec) -> list[Problem]:
        conf = frr_files(node)
        found: list[Problem] = []
        for name in conf.configs():
            where = conf.origin.get(name) or f"{topo.path} ({node.name})"
            # read from stdin: no file is written anywhere for the check
            proc = run([VTYSH, "--dryrun", "-f", "/dev/stdin"], input=conf.files[name],
                       check=False, timeout=30)  # fmt: skip
            if proc.returncode == 0:
                continue
            before = len(found)
            for line in (proc.stdout + proc.stderr).splitlines():
                m = DRYRUN_LINE.match(line.strip())
                if m:
                    msg = f"{m.group(2).strip()}: {m.group(3).strip()}".rstrip(": ")
                    found.append(Problem(f"node {node.name!r}: FRR rejects: {msg}{version_note}",
                                         where, int(m.group(1))))  # fmt: skip
            if len(found) == before:
                found.append(Problem(f"node {node.name!r}: FRR rejects {name}{version_note}",
                                     where))  # fmt: skip
        return found

    routers = [n for n in topo.nodes.values() if n.is_frr]
    return [p for found in parallel(check, routers) for p in found]


def refuse_name_collision(topo: LabTopology, state: LabState | None) -> None:
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
