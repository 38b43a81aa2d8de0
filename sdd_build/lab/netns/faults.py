"""Faults injected into a running namespace lab (``lab impair``): links, netem, sshd, daemons."""

from __future__ import annotations

from sdd_build.lab.impair import Impairment, netem_argv
from sdd_build.lab.netns.frr import daemon_action
from sdd_build.lab.netns.sshd import sshd_action
from sdd_build.lab.provider import LabInputError, LabRuntimeError, run
from sdd_build.lab.state import LabState, NodeRecord
from sdd_build.lab.topology import LabTopology

__all__ = ["apply"]


def _netem(rec: NodeRecord, imp: Impairment) -> str:
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
    return f"{imp.node}:{imp.interface} " + ("qdisc cleared" if imp.clear else " ".join(argv[8:]))


def apply(topo: LabTopology, state: LabState, imp: Impairment) -> str:
    """Apply one impairment to a lab that is up (the caller holds the lab's lock)."""
    rec = state.nodes.get(imp.node)
    if rec is None:
        raise LabInputError(f"no node {imp.node!r} in lab {topo.name!r} "
                            f"(nodes: {', '.join(state.nodes)})")  # fmt: skip
    done: list[str] = []
    # link interfaces, and lo: delay on lo slows the node's own SSH path (socat->sshd)
    known = [*topo.interfaces(imp.node), "lo"]
    if imp.interface is not None and imp.interface not in known:
        raise LabInputError(f"{imp.node} has no interface {imp.interface!r} ({', '.join(known)})")
    if imp.link is not None:
        assert imp.interface is not None
        run(["ip", "-n", rec.netns, "link", "set", imp.interface, imp.link])
        done.append(f"{imp.node}:{imp.interface} {imp.link}")
    if imp.wants_netem or imp.clear:
        done.append(_netem(rec, imp))
    if imp.sshd is not None:  # routers and Linux hosts alike run one
        sshd_action(topo, state, topo.nodes[imp.node], imp.sshd)
        done.append(f"{imp.node} sshd {imp.sshd}")
    if imp.daemon is not None and imp.daemon_action is not None:
        if rec.role != "router":
            raise LabInputError(f"{imp.node} is a host: it runs no FRR")
        daemon_action(topo, rec, topo.nodes[imp.node], imp.daemon, imp.daemon_action)
        done.append(f"{imp.node} {imp.daemon} {imp.daemon_action}")
    return "; ".join(done)
