"""Processes, namespaces and FRR's paths on this machine: the helpers every part of the
namespace provider and the read-only probes (``health``) share. Nothing here imports a provider.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sdd_build.lab.provider import LabRuntimeError, run
from sdd_build.lab.state import NodeRecord

__all__ = [
    "FRR_ETC",
    "FRR_LIB",
    "FRR_RUN",
    "SSHD",
    "STATE_LOCK",
    "VTYSH",
    "background",
    "enter",
    "in_uts",
    "kill_pids",
    "netns_list",
    "netns_pids",
    "node_path",
    "parallel",
    "pid_alive",
    "proc_cmdline",
    "proc_start_time",
    "read_pid",
]

FRR_LIB = Path("/usr/lib/frr")
FRR_ETC = Path("/etc/frr")
FRR_RUN = Path("/var/run/frr")
SSHD = "/usr/sbin/sshd"
VTYSH = "/usr/bin/vtysh"
WORKERS = min(8, (os.cpu_count() or 2) * 2)
# threads of one `up` share the lab's state file: records and saves go under this lock
STATE_LOCK = threading.Lock()


def proc_start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces: split after its closing parenthesis
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[19])


def proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def pid_alive(pid: int | None, start_time: int | None = None) -> bool:
    if pid is None:
        return False
    st = proc_start_time(pid)
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


def netns_list() -> set[str]:
    proc = run(["ip", "-j", "netns", "list"], check=False)
    try:
        return {e["name"] for e in json.loads(proc.stdout or "[]")}
    except (ValueError, KeyError, TypeError):
        return set()


def netns_pids(ns: str) -> list[int]:
    proc = run(["ip", "netns", "pids", ns], check=False, timeout=10)
    return [int(x) for x in proc.stdout.split() if x.isdigit()]


def in_uts(hostname: str, argv: list[str]) -> list[str]:
    """argv run in a fresh UTS namespace whose host name is ``hostname`` (FRR's prompt)."""
    return ["unshare", "--uts", "--", "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh",
            hostname, *argv]  # fmt: skip


def background(argv: list[str], log: Path | str) -> int:
    """Start a long-lived process detached from us (reparented to init: no zombie here) and
    return its PID."""
    script = '"$@" </dev/null >>"$LOGFILE" 2>&1 & echo $!'
    env = dict(os.environ, LOGFILE=str(log))
    proc = run(["sh", "-c", script, "sh", *argv], env=env, what=f"start {argv[0]}")
    return int(proc.stdout.strip())


def parallel(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
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


def kill_pids(pids: Iterable[int], grace: float = 1.0) -> None:
    """SIGTERM, then SIGKILL what is still alive after ``grace`` seconds; waits until gone."""
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


def node_path(rec: NodeRecord, path: str) -> Path:
    """``path`` as the node sees it, from the host (``/var/run`` is ``/run`` inside)."""
    if rec.pid is None:
        raise LabRuntimeError(f"{rec.name}: the node has no holder process recorded")
    if path == "/var/run" or path.startswith("/var/run/"):
        path = path[len("/var") :]
    return Path(f"/proc/{rec.pid}/root") / path.lstrip("/")


def enter(rec: NodeRecord, argv: list[str]) -> list[str]:
    """argv run inside the node: its network, mount and UTS namespaces."""
    if not pid_alive(rec.pid, rec.start_time):
        raise LabRuntimeError(
            f"{rec.name}: the node's namespace holder is gone",
            hint="sdd-build lab down, then lab up",
        )
    return ["nsenter", "-t", str(rec.pid), "-m", "-u", "-n", "--", *argv]
