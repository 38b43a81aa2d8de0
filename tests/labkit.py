"""Shared helpers for tests that need a private repository and (optionally) a private lab.

* ``copy_repo(root, subs)`` copies only the files git tracks (never a checkout's builds,
  baselines, approvals or audit log), falling back to ignore patterns outside a git checkout.
* ``private_triangle(root)`` renames the triangle lab per run (concurrent runs never share
  routers) and returns the topology path; ``lab.up`` / ``lab.down`` stay with the caller.
* ``CountingProxy`` forwards TCP to a router's sshd and counts every connection: point an
  inventory at it to prove *zero device contact* (or that contact happened).
* ``sdd(root, ...)`` runs the CLI in a subprocess (no stdin), ``running(handle, node)`` reads
  a router's running config with vtysh inside its namespace, ``reset_router`` restores one.
* ``one_router(root, topology, name)``: a private one-router lab (``topology``, a clab text
  with a ``{name}`` field, beside a copy of ``labs/triangle``) and a logged-in
  ``DeviceSession`` to its ``r1`` as a build opens one (FRR's NAPALM options); both ended after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from sdd_build.platforms import lookup

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = ("builds", "approvals", "baseline.json", "audit", "feasibility.*", ".state")


def _tracked(sub: str, src: Path) -> list[str] | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(src), "ls-files", "-z", "--", sub],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = [f for f in out.decode().split("\0") if f]
    return files or None


def copy_repo(root: Path, subs: Iterable[str], src: Path = REPO) -> None:
    """Copy ``subs`` (repository-relative folders or files) of ``src`` (default: this
    checkout) to ``root``: tracked files only, so no artifact the engine wrote is copied."""
    for sub in subs:
        files = _tracked(sub, src)
        if files is None:
            path = src / sub
            if path.is_dir():
                shutil.copytree(
                    path, root / sub, ignore=shutil.ignore_patterns(*ARTIFACTS), dirs_exist_ok=True
                )
            else:
                (root / sub).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, root / sub)
            continue
        for rel in files:
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / rel, dest)


def private_triangle(root: Path, prefix: str = "t") -> Path:
    """``labs/triangle.clab.yml`` copied into ``root`` under a lab name unique to this run."""
    copy_repo(root, ["labs/triangle"])
    name = f"{prefix}{os.getpid() % 100000}"
    text = (REPO / "labs/triangle.clab.yml").read_text()
    topo = root / "labs/triangle.clab.yml"
    topo.parent.mkdir(parents=True, exist_ok=True)
    topo.write_text(text.replace("name: triangle\n", f"name: {name}\n"))
    return topo


def private_lab(root: Path, lab: str, prefix: str) -> Path:
    """``labs/<lab>.clab.yml`` and its configs copied into ``root`` under a lab name unique
    to this run (``private_triangle`` for any shipped lab)."""
    copy_repo(root, [f"labs/{lab}"])
    text = (REPO / f"labs/{lab}.clab.yml").read_text()
    topo = root / f"labs/{lab}.clab.yml"
    topo.parent.mkdir(parents=True, exist_ok=True)
    topo.write_text(text.replace(f"name: {lab}\n", f"name: {prefix}{os.getpid() % 100000}\n"))
    return topo


def sdd(
    root: Path, *args: str, timeout: float = 240, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, in ``root``, with no stdin."""
    return subprocess.run(
        [sys.executable, "-m", "sdd_build", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def running(handle: Any, node: str) -> str:
    """A router's running config, read with vtysh inside its namespace (not over SSH)."""
    return str(handle.hosts[node].vtysh("show running-config"))


def strip_volatile(config: str) -> str:
    """The config without blank lines and FRR's volatile lines (the platform registry's list)."""
    volatile = lookup("frr").volatile_prefixes
    return "\n".join(
        line for line in config.splitlines() if line.strip() and not line.startswith(volatile)
    )


def reset_router(handle: Any, node: str, config: str, workdir: Path) -> None:
    """Put ``config`` back on ``node`` with FRR's own frr-reload.py run inside the router (its
    config file written to the router's own /tmp), and check it took."""
    target = handle.hosts[node]
    name = f".reset-{node}-{os.getpid()}.conf"
    conf = target.path(f"/tmp/{name}")
    conf.write_text(
        "\n".join(
            line
            for line in config.splitlines()
            if not line.startswith(("Building configuration", "Current configuration"))
        )
        + "\n"
    )
    try:
        subprocess.run(
            target.enter_argv(
                "python3", "/usr/lib/frr/frr-reload.py", "--reload", "--pathspace",
                target.frr_instance, "--stdout", f"/tmp/{name}",
            ),
            capture_output=True,
            timeout=60,
            check=False,
        )  # fmt: skip
    finally:
        conf.unlink(missing_ok=True)
    assert strip_volatile(running(handle, node)) == strip_volatile(config), f"reset of {node}"


class CountingProxy:
    """A TCP forwarder on loopback that counts connections (device contact) to one port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.close()

    def close(self) -> None:
        self._stop.set()
        self.server.close()


def lab_inventory_through(handle: Any, dest: Path, ports: dict[str, int]) -> Path:
    """A copy of the lab's (connection) inventory whose SSH goes through ``ports``; returns a
    topology-independent folder usable as ``--inventory``-style connection data."""
    src = Path(handle.inventory_dir)
    dest.mkdir(parents=True, exist_ok=True)
    hosts = yaml.safe_load((src / "hosts.yaml").read_text())
    for name, entry in hosts.items():
        if name not in ports:
            continue
        entry["port"] = ports[name]
        for plugin in (entry.get("connection_options") or {}).values():
            optional = (plugin.get("extras") or {}).get("optional_args")
            if optional and "port" in optional:
                optional["port"] = ports[name]
            if plugin.get("port"):
                plugin["port"] = ports[name]
    (dest / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    for extra in ("groups.yaml", "defaults.yaml"):
        if (src / extra).is_file():
            shutil.copy(src / extra, dest / extra)
    return dest


@contextlib.contextmanager
def one_router(root: Path, topology: str, name: str) -> Iterator[tuple[Any, Any]]:
    """(lab handle, ``DeviceSession`` to ``r1``) of a private one-router lab; see the module
    docstring. The session is closed and the lab taken down after."""
    from napalm_frr.frr import FRRDriver
    from sdd_build import lab
    from sdd_build.execute.device import DeviceSession
    from sdd_build.platforms import PLATFORMS

    copy_repo(root, ["labs/triangle"])
    topo = root / "labs" / f"{name}.clab.yml"
    topo.write_text(topology.format(name=name))
    handle = lab.up(topo, wait=False, timeout=60)
    try:
        node = handle.hosts["r1"]
        frr = PLATFORMS["frr"]
        options = {"port": node.port, **dict(frr.napalm_options)}
        driver = FRRDriver(node.hostname, node.username, node.password, 30, options)
        driver.open()
        try:
            yield handle, DeviceSession(driver, frr, "r1")
        finally:
            driver.close()
    finally:
        lab.down(topo)
