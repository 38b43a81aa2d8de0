"""A node's logins: the lab's two temporary users and the sshd inside the node's namespace (a
router: vtysh and bash logins; a plain Linux host: the bash login only)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path

from sdd_build.lab.procs import (
    SSHD,
    STATE_LOCK,
    VTYSH,
    enter,
    kill_pids,
    node_path,
    pid_alive,
    proc_start_time,
    read_pid,
)
from sdd_build.lab.provider import LabRuntimeError, run
from sdd_build.lab.state import LabState, Resource
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = [
    "GECOS_MARK",
    "add_user",
    "del_user",
    "host_key",
    "is_ours",
    "sshd_action",
    "start_sshd",
    "users_for",
]

GECOS_MARK = "sdd-build lab"


def users_for(lab: str) -> tuple[str, str]:
    slug = "".join(c if c.isalnum() else "-" for c in lab.lower())[:16].strip("-") or "lab"
    h = hashlib.sha256(lab.encode()).hexdigest()[:4]
    return f"sdd-{slug}-{h}-v", f"sdd-{slug}-{h}-s"


def add_user(user: str, lab: str, password: str) -> None:
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
            if is_ours(user):
                break
            raise LabRuntimeError(f"user {user} exists and was not made by sdd-build")
        # 10: /etc/passwd is locked by a concurrent useradd/userdel (other labs): retry
        if proc.returncode != 10 or attempt == 19:
            raise LabRuntimeError(f"useradd {user}: {proc.stderr.strip()}")
        time.sleep(0.25)
    # The password goes through stdin, never argv (visible in ps) nor logs. SHA-512-crypt, not
    # Debian's default yescrypt: a lab password is 24 random characters (~143 bits), which a
    # deliberately slow hash protects no further, and yescrypt costs ~22 ms of the machine's CPU
    # for every login the lab's sshd checks (2 ms for SHA-512-crypt): at 100 routers logging in
    # at once, 2 core-seconds taken from the tool under test and the other routers.
    run(
        ["chpasswd", "--crypt-method", "SHA512"],
        input=f"{user}:{password}\n",
        timeout=20,
        what=f"chpasswd {user}",
    )


def del_user(user: str) -> None:
    if not is_ours(user):
        return
    for attempt in range(20):
        proc = run(["userdel", "--force", user], check=False, timeout=20)
        if proc.returncode in (0, 6):  # 6: no such user
            return
        if attempt == 19:
            raise LabRuntimeError(f"userdel {user}: {proc.stderr.strip()}")
        time.sleep(0.25)


def is_ours(user: str) -> bool:
    proc = run(["getent", "passwd", user], check=False)
    fields = proc.stdout.strip().split(":")
    return len(fields) > 4 and fields[4].startswith(GECOS_MARK)


def host_key(workdir: Path) -> None:
    key = workdir / "ssh_host_ed25519_key"
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
            what="ssh-keygen")  # fmt: skip
    os.chmod(key, 0o600)


def start_sshd(topo: LabTopology, state: LabState, node: NodeSpec, vty: str, shell: str) -> None:
    """sshd inside the node (its files in the node's private /run/sdd, its log in the node's
    /var/log): a login sees the node's /etc/frr, /tmp, ... and FRR."""
    inst = topo.long_name(node.name)
    rec = state.nodes[node.name]
    sdd = node_path(rec, "/run/sdd")
    with contextlib.suppress(FileNotFoundError):
        (sdd / "sshd.pid").unlink()
    key = sdd / "ssh_host_ed25519_key"
    key.write_bytes((topo.workdir / "ssh_host_ed25519_key").read_bytes())
    os.chmod(key, 0o600)
    cfg = sdd / "sshd_config"
    cfg.write_text(
        "\n".join([
            f"# sdd-build lab {topo.name}, node {node.name}",
            "ListenAddress 127.0.0.1:22",
            "HostKey /run/sdd/ssh_host_ed25519_key",
            "PidFile /run/sdd/sshd.pid",
            "UsePAM no",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication no",
            "PermitRootLogin no",
            # a plain Linux host: only the bash login (its checks run there)
            f"AllowUsers {shell}" if node.is_host else f"AllowUsers {vty} {shell}",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "LogLevel ERROR",
            "MaxStartups 100:30:200",
            "MaxSessions 50",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            *([] if node.is_host else [
                f"SetEnv FRR_PATHSPACE={inst}",
                f"Match User {vty}",
                f"    ForceCommand {VTYSH} -N {inst}",
            ]),
            "",
        ])
    )  # fmt: skip
    os.chmod(cfg, 0o600)
    with STATE_LOCK:  # threads share the state file
        res = state.add(Resource(kind="process", name=f"sshd:{node.name}", node=node.name))
    # sshd daemonizes itself and writes its pidfile: nothing of it stays our child.
    run(enter(rec, [SSHD, "-f", "/run/sdd/sshd_config", "-E", "/var/log/sshd.log"]),
        timeout=15, what=f"{node.name}: sshd")  # fmt: skip
    deadline = time.monotonic() + 10
    while (pid := read_pid(sdd / "sshd.pid")) is None:
        if time.monotonic() > deadline:
            raise LabRuntimeError(f"{node.name}: sshd did not start (its log: /var/log/sshd.log "
                                  "inside the node)")  # fmt: skip
        time.sleep(0.02)
    res.pid, res.start_time = pid, proc_start_time(pid)
    with STATE_LOCK:
        state.save()


def sshd_action(topo: LabTopology, state: LabState, node: NodeSpec, act: str) -> None:
    res = state.find("process", f"sshd:{node.name}")
    alive = res is not None and pid_alive(res.pid, res.start_time)
    if act == "stop":
        if alive and res is not None and res.pid:
            kill_pids([res.pid])
        return
    if alive:
        return
    if res is not None:
        state.resources.remove(res)
    if not (state.vty_user and state.shell_user):
        raise LabRuntimeError(f"lab {state.lab!r} has no SSH users recorded")
    start_sshd(topo, state, node, state.vty_user, state.shell_user)
