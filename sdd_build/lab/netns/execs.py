"""A node's ``cmd`` and ``exec`` commands, run inside the node as containerlab runs them in the
container.

As in containerlab:

* each ``exec`` entry is split like a shell would (no shell runs it: ``bash -c '...'`` for
  pipes), runs in the node (its namespaces, its private /tmp, /etc/frr, binds) with the node's
  ``env:`` in its environment, after the node is up;
* a failing ``exec`` is logged (exit status, last line of its output) and the deploy goes on;
* ``$$`` in an ``exec`` is a literal ``$`` (``bash -c 'echo $$FOO'`` prints the node's FOO), and
  ``${VAR}``/``$VAR`` are the host's environment variables (sdd-build's environment) when set.

Where this differs: containerlab substitutes variables in the whole topology file and turns an
unset one into an empty string; here only ``exec`` and ``cmd`` are substituted and an unset
variable is left for the node's shell. The environment is ``env:`` plus PATH, HOME=/root and
TERM, not an image's. ``cmd`` (the container's command) runs in the background inside a
``kind: linux`` host before its ``exec`` commands; FRR nodes run FRR (their ``cmd`` is refused).
Output: ``clab-<lab>/logs/<node>.exec.log``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from sdd_build.lab.procs import STATE_LOCK, background, enter, proc_start_time
from sdd_build.lab.provider import LabInputError, Progress
from sdd_build.lab.state import LabState, NodeRecord, Resource
from sdd_build.lab.topology import LabTopology, NodeSpec

__all__ = ["expand", "node_env", "run_exec", "start_cmd"]

EXEC_TIMEOUT = 60.0
MAX_EXEC_OUTPUT = 1 << 20
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand(text: str, env: dict[str, str] | None = None) -> str:
    """containerlab's substitution: ``$$`` -> ``$``; a set ``${VAR}``/``$VAR`` -> its value."""
    source = os.environ if env is None else env

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(2)
        return source.get(name, m.group(0))

    return _VAR.sub(sub, text)


def node_env(node: NodeSpec) -> dict[str, str]:
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "TERM": "xterm",
        **node.env,
    }


def _argv(topo: LabTopology, node: NodeSpec, cmd: str, what: str) -> list[str]:
    try:
        return shlex.split(expand(cmd))
    except ValueError as exc:
        raise LabInputError(f"node {node.name!r}: {what} {cmd!r}: {exc}",
                            file=str(topo.path), line=node.line) from None  # fmt: skip


def _in_node(rec: NodeRecord, node: NodeSpec, argv: list[str]) -> list[str]:
    """argv inside the node, in /, with the node's environment only."""
    env = [f"{k}={v}" for k, v in node_env(node).items()]
    return enter(rec, ["env", "-i", *env, "sh", "-c", 'cd / && exec "$@"', "sh", *argv])


def _run_one(argv: list[str], log: Path, what: str) -> tuple[int, str]:
    """One exec: its exit status and output. Waits for the command itself, not for the end of
    its output: ``sh -c 'daemon &'`` (a background child keeps the output open) returns when
    ``sh`` does, as in a container; the child runs on in the node until ``down``."""
    out_file = log.with_name(f"{log.name}.{os.getpid()}.out")
    try:
        with out_file.open("w+b") as fh:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=fh)
            except FileNotFoundError:
                return -1, f"{argv[0]}: command not found"
            try:
                rc = proc.wait(timeout=EXEC_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                return -1, f"{what}: timed out after {EXEC_TIMEOUT:.0f}s"
            fh.seek(0)
            return rc, fh.read(MAX_EXEC_OUTPUT).decode("utf-8", "replace")
    finally:
        out_file.unlink(missing_ok=True)


def run_exec(topo: LabTopology, rec: NodeRecord, node: NodeSpec, progress: Progress) -> list[str]:
    """Each ``exec`` in order; the failures, as notes (the deploy goes on, as containerlab's)."""
    log = topo.workdir / "logs" / f"{node.name}.exec.log"
    failed: list[str] = []
    for cmd in node.exec:
        argv = _argv(topo, node, cmd, "exec")
        if not argv:
            continue
        rc, out = _run_one(_in_node(rec, node, argv), log, f"{node.name}: exec {cmd!r}")
        with log.open("a") as fh:
            fh.write(f"$ {cmd}\n{out}{'' if out.endswith(chr(10)) or not out else chr(10)}"
                     f"(exit {rc})\n")  # fmt: skip
        if rc != 0:
            last = (out.strip().splitlines() or [f"exit {rc}"])[-1]
            note = f"{node.name}: exec {cmd!r} failed (exit {rc}): {last}; the deploy went on"
            progress(note)
            failed.append(note)
    return failed


def start_cmd(topo: LabTopology, state: LabState, node: NodeSpec) -> None:
    """A host's ``cmd``, in the background inside the node (recorded; killed at down)."""
    cmd = node.settings.cmd
    if not cmd:
        return
    rec = state.nodes[node.name]
    argv = _argv(topo, node, cmd, "cmd")
    with STATE_LOCK:
        res = state.add(Resource(kind="process", name=f"cmd:{node.name}", node=node.name))
    pid = background(_in_node(rec, node, argv), topo.workdir / "logs" / f"{node.name}.cmd.log")
    with STATE_LOCK:
        res.pid, res.start_time = pid, proc_start_time(pid)
        state.save()
