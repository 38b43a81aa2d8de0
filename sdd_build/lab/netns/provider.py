"""The namespace provider: up, down, status and impair of a lab, under the lab's lock."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from sdd_build.lab.health import node_status, wait_converged
from sdd_build.lab.impair import Impairment
from sdd_build.lab.netns.checks import (
    check_system,
    label_problems,
    refuse_name_collision,
    startup_config_problems,
    unsupported_features,
)
from sdd_build.lab.netns.create import create
from sdd_build.lab.netns.faults import apply
from sdd_build.lab.netns.teardown import teardown
from sdd_build.lab.netns.version import installed_frr, rejection_note, version_warnings
from sdd_build.lab.procs import FRR_ETC, netns_list, parallel
from sdd_build.lab.provider import (
    LabInputError,
    LabRuntimeError,
    NodeStatus,
    Progress,
    UpResult,
)
from sdd_build.lab.state import LabState, lab_lock
from sdd_build.lab.topology import LabTopology

__all__ = ["NetnsProvider"]


class NetnsProvider:
    name = "netns"

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
        refuse_name_collision(topo, LabState.load(topo.name))
        check_system()
        t0 = time.monotonic()
        with lab_lock(topo.name):
            state = LabState.load(topo.name)
            refuse_name_collision(topo, state)
            if state is not None and state.provider != self.name:
                raise LabInputError(f"lab {topo.name!r} is up with {state.provider}")
            if state is not None and state.phase == "up" and _present(state):
                if wait:
                    wait_converged(topo, state, timeout=timeout, progress=progress)
                return UpResult(already_up=True, provider=self.name)
            installed = installed_frr()
            warnings = version_warnings(topo, installed)
            for warning in warnings:
                progress(f"warning: {warning}")
            bad_configs = startup_config_problems(topo, rejection_note(topo, installed))
            if bad_configs:
                raise LabInputError.from_problems(bad_configs)
            if state is not None:
                progress(f"cleaning up leftovers of an interrupted run of lab {topo.name!r}")
                teardown(state, progress)
            _refuse_foreign(topo)
            state = LabState(
                lab=topo.name,
                topology=str(topo.path),
                provider=self.name,
                workdir=str(topo.workdir),
            )
            try:
                notes = create(topo, state, progress)
            except BaseException:
                # Never leave a half-built lab behind a failed `up`: undo what the state lists.
                with contextlib.suppress(Exception):
                    teardown(state, lambda _m: None)
                raise
            ready = time.monotonic() - t0
            state.phase = "up"
            state.save()
        progress(f"lab {topo.name!r} ready in {ready:.1f}s")
        result = UpResult(already_up=False, provider=self.name, ready_s=ready, notes=notes)
        result.warnings += warnings
        # accepted but meaningless without containers: said out loud, never skipped silently
        for node in topo.nodes.values():
            if node.mgmt_ipv4:
                result.notes.append(
                    f"{node.name}: mgmt-ipv4 {node.mgmt_ipv4} not used; the namespace provider "
                    "reaches routers on 127.0.0.1:<port>"
                )
        if wait:
            t1 = time.monotonic()
            wait_converged(topo, state, timeout=timeout, progress=progress)
            result.converged_s = time.monotonic() - t1
        return result

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
            teardown(state, progress)
        return True

    def status(self, topo: LabTopology) -> list[NodeStatus]:
        check_system()
        state = LabState.load(topo.name)
        if state is None or state.topology != str(topo.path):
            return []
        return parallel(lambda rec: node_status(topo, state, rec), list(state.nodes.values()))

    def impair(self, topo: LabTopology, imp: Impairment) -> str:
        check_system()
        imp.validate()
        with lab_lock(topo.name):
            state = LabState.load(topo.name)
            if state is None or state.topology != str(topo.path) or state.phase != "up":
                raise LabRuntimeError(f"lab {topo.name!r} is not up",
                                      hint=f"sdd-build lab up {topo.path}")  # fmt: skip
            return apply(topo, state, imp)


def _present(state: LabState) -> bool:
    existing = netns_list()
    return all(rec.netns in existing for rec in state.nodes.values())


def _refuse_foreign(topo: LabTopology) -> None:
    existing = netns_list()
    clash = [topo.long_name(n) for n in topo.nodes if topo.long_name(n) in existing]
    clash += [topo.long_name(n) for n in topo.nodes if (FRR_ETC / topo.long_name(n)).exists()]
    if clash:
        raise LabRuntimeError(
            f"names this lab needs are taken by something sdd-build did not record: "
            f"{', '.join(sorted(set(clash)))}",
            hint="another tool or lab uses them; remove them (ip netns del NAME; "
            "rm -r /etc/frr/NAME) or rename the lab",
        )
