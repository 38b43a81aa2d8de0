"""A node's own filesystem view: a mount (and UTS) namespace held by one process per node.

Every node (router or host) gets a holder process (``sleep infinity``) in its network namespace
that owns a private mount namespace and a UTS namespace named like the node. Inside it, tmpfs
mounts replace ``/run`` (so ``/var/run/frr`` and sshd's files), ``/tmp``, ``/var/tmp``,
``/var/log``, ``/etc/frr`` and ``/dev/shm``; the node's binds are mounted there too. The rest
of the host's filesystem is read-only in the node (its own copy of each mount), so an ``exec``
that writes elsewhere (``mkdir -p /var/lib/openldap``) fails in the node instead of writing the
host's files. FRR, sshd and every
``exec`` run inside it (``nsenter -t <holder> -m -u -n``), so nothing a node writes reaches the
host's files, and it all vanishes with the holder at ``down``.

The host reaches a node's files through ``/proc/<holder>/root`` (``procs.node_path``). FRR keeps its
pathspace name (``vtysh -N <instance>``): inside the node, ``/etc/frr/<instance>`` and
``/run/frr/<instance>`` are symlinks to their own directory, so both ``vtysh`` and
``vtysh -N <instance>`` reach the node's FRR, and ``/etc/frr/frr.conf`` is its config.
"""

from __future__ import annotations

import grp
import pwd
import shlex
import time
from pathlib import Path

from sdd_build.lab.procs import STATE_LOCK, background, pid_alive, proc_cmdline, proc_start_time
from sdd_build.lab.provider import LabRuntimeError, run
from sdd_build.lab.state import LabState, Resource
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = ["PRIVATE_DIRS", "READ_ONLY_HOST", "private_target", "start_holder"]

#: the node's private directories (tmpfs) and their modes; /etc/frr belongs to user frr
PRIVATE_DIRS: dict[str, str] = {"/run": "755", "/tmp": "1777", "/var/tmp": "1777",
                                "/var/log": "755", "/etc/frr": "775",
                                "/dev/shm": "1777"}  # fmt: skip


#: remount every mount the node inherited read-only (its copy only: a private mount namespace),
#: except /proc, /sys, /dev (device nodes stay usable) and the node's new /run
READ_ONLY_HOST = (
    "awk '{print $5}' /proc/self/mountinfo | grep -v -E '^/(proc|sys|dev|run)(/|$)' | "
    "while read -r m; do case $m in *\\\\*) continue;; esac; "
    'mount -o remount,bind,ro "$m" 2>/dev/null || true; done; '
    "mount -o remount,bind,ro /"
)


def private_target(path: str) -> bool:
    """True when ``path`` lies in one of a node's private directories."""
    return any(path == d or path.startswith(d + "/") for d in PRIVATE_DIRS)


def _frr_ids() -> tuple[int, int]:
    try:
        return pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
    except KeyError:
        return 0, 0


def _setup_script(node: NodeSpec, inst: str) -> str:
    """The shell script (run inside the node's fresh mount namespace) that makes its private
    directories and mounts its binds. Sources are bound under the new /run first (the tmpfs
    mounted over /tmp would hide a source there), then moved to their targets."""
    q = shlex.quote
    uid, gid = _frr_ids()
    lines = ["set -e", f"hostname {q(node.name)}",
             "mount -t tmpfs -o mode=755,size=64m sdd-node /run",
             "mkdir -p /run/sdd/binds /run/sshd", "chmod 700 /run/sdd"]  # fmt: skip
    binds = [(src, dst, opt) for src, dst, opt in node.binds if not dst.startswith("/etc/frr/")]
    for i, (src, _dst, _opt) in enumerate(binds):
        make = "mkdir" if Path(src).is_dir() else "touch"
        lines += [f"{make} /run/sdd/binds/{i}", f"mount --bind {q(src)} /run/sdd/binds/{i}"]
    # everything else of the host is read-only for the node (its own mounts come after): an
    # exec's `mkdir -p /var/lib/x` or `echo > /etc/x` fails in the node instead of writing the
    # host's files; the bind sources above were bound before, so they keep their own mode
    lines.append(READ_ONLY_HOST)
    for d, mode in PRIVATE_DIRS.items():
        if d != "/run":
            owner = f",uid={uid},gid={gid}" if d == "/etc/frr" else ""
            lines.append(f"mount -t tmpfs -o mode={mode},size=64m{owner} sdd-node {d}")
    if inst:
        lines += [f"install -d -o {uid} -g {gid} -m 755 /run/frr /var/log/frr",
                  f"ln -s . /run/frr/{q(inst)}", f"ln -s . /etc/frr/{q(inst)}"]  # fmt: skip
    for i, (src, dst, opt) in enumerate(binds):
        if private_target(dst):
            make = "mkdir -p" if Path(src).is_dir() else "touch"
            lines += [f"mkdir -p {q(str(Path(dst).parent))}", f"{make} {q(dst)}"]
        lines.append(f"mount --move /run/sdd/binds/{i} {q(dst)}")
        if "ro" in opt.split(","):
            lines.append(f"mount -o remount,bind,ro {q(dst)}")
    return "\n".join(lines) + "\n"


def start_holder(topo: LabTopology, state: LabState, node: NodeSpec) -> None:
    """The node's holder process, its private mounts and host name; recorded first."""
    rec = state.nodes[node.name]
    with STATE_LOCK:
        res = state.add(Resource(kind="process", name=f"node:{node.name}", node=node.name))
    log = topo.workdir / "logs" / f"{node.name}.node.log"
    argv = ["ip", "netns", "exec", rec.netns,
            "unshare", "--mount", "--uts", "--propagation", "private", "--",
            "sleep", "infinity"]  # fmt: skip
    pid = background(argv, log)
    start = proc_start_time(pid)
    with STATE_LOCK:
        res.pid, res.start_time = pid, start
        rec.pid, rec.start_time = pid, start
        state.save()
    deadline = time.monotonic() + 10
    # ip execs unshare, which execs sleep once the namespaces are made: same PID throughout
    while proc_cmdline(pid)[:1] != ["sleep"]:
        if time.monotonic() > deadline or not pid_alive(pid):
            raise LabRuntimeError(f"{node.name}: the node's namespaces did not come up (see {log})")
        time.sleep(0.01)
    run(["nsenter", "-t", str(pid), "-m", "-u", "--", "sh", "-c",
         _setup_script(node, rec.frr_instance or "")],
        timeout=30, what=f"{node.name}: private mounts")  # fmt: skip
