"""Where a lab run's CPU went, machine-wide: the tool's own process, the routers' SSH logins,
the FRR daemons, the port relays, the rest, and the idle time.

On one machine the routers run beside the tool under test, so a fleet build's wall time is
bounded by everything the machine does for it, not only by the tool's own CPU:

* ``tool``: the tool's process tree (its rusage, as ``build_vs_peers.measure`` reports it);
* ``logins``: the lab's SSH logins, every one of them -- sshd's per-connection work (re-exec,
  key exchange, the password check), then the login's shell and vtysh -- which the lab's sshd
  on each router reaps, so they add up in its children's CPU; a vtysh whose session process
  ended first is reparented to the bench (the labs' subreaper), which reaps it and counts it
  here, not in the tool's CPU;
* ``sshd``: the listening sshd processes themselves;
* ``frr``: the FRR daemons of the lab's routers (answering vtysh, applying config, OSPF/BGP);
* ``relay``: the socat port forwards from the root namespace into each router (their reaped
  per-connection children included);
* ``rest``: the machine's busy time that is none of the above (other processes, kernel threads,
  this bench);
* ``idle``: core-seconds no CPU was busy (``/proc/stat``; steal time, a VM's, is left out).

``busy + idle`` is the number of cores times the wall time: with every core busy, the wall
time follows the machine's total, so a tool can only be faster by the CPU it does not spend,
and no faster than the logins, daemons and relays of its devices allow.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from build_vs_peers import proc_stat

from sdd_build.lab.state import LabState

HZ = os.sysconf("SC_CLK_TCK")
KEYS = ("tool", "logins", "sshd", "frr", "relay", "rest", "idle")


def _machine() -> tuple[int, int]:
    """(busy, idle) ticks of all CPUs since boot (iowait counts as idle, steal as neither)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq = fields[:7]
    return user + nice + system + irq + softirq, idle + iowait


def _netns(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


@dataclass
class Snapshot:
    busy: int
    idle: int
    procs: dict[int, tuple[str, int, int]]


class MachineCPU:
    """Snapshots of the machine and of one lab's processes, before and after a run."""

    def __init__(self, lab: str) -> None:
        state = LabState.load(lab)
        if state is None:
            raise RuntimeError(f"lab {lab!r} is not up")
        by_kind: dict[str, list[int]] = {}
        for res in state.resources:
            if res.pid:
                by_kind.setdefault(res.name.split(":", 1)[0] if res.kind == "process" else res.kind,
                                   []).append(res.pid)  # fmt: skip
        self.sshd = set(by_kind.get("sshd", []))
        self.relay = set(by_kind.get("socat", []))
        self.netns = {ino for pid in by_kind.get("node", []) if (ino := _netns(pid)) is not None}
        self.frr = self._daemons(set(by_kind.get("node", [])))
        self._before = self._after = self.snapshot()

    def _daemons(self, holders: set[int]) -> set[int]:
        """Every process in the lab's routers' network namespaces but their sshd and their
        namespace holders: the FRR daemons (watchfrr, zebra, bgpd, ospfd, staticd, ...)."""
        mine = self.sshd | holders
        pids = (int(entry) for entry in os.listdir("/proc") if entry.isdigit())
        return {pid for pid in pids if pid not in mine and _netns(pid) in self.netns}

    def snapshot(self) -> Snapshot:
        return Snapshot(*_machine(), self._procs())

    def settled(self, settle_s: float = 0.3) -> Snapshot:
        """The machine now, the lab's processes ``settle_s`` later: logins that were closing
        when the tool exited are reaped by then (and the wait is not counted as idle)."""
        busy, idle = _machine()
        time.sleep(settle_s)
        return Snapshot(busy, idle, self._procs())

    def _procs(self) -> dict[int, tuple[str, int, int]]:
        procs = {}
        for pid in self.sshd | self.relay | self.frr:
            if (got := proc_stat(pid)) is not None:
                procs[pid] = got
        return procs

    def hook(self, event: str) -> None:
        """For ``build_vs_peers.MEASURE_HOOKS``: snapshots at a tool's start and exit."""
        if event == "start":
            self._before = self.snapshot()
        else:
            self._after = self.settled()

    def last(self, tool_s: float, orphans_s: float = 0.0) -> dict[str, float]:
        """The split of the last run the hook saw (``tool_s``: the tool's own CPU;
        ``orphans_s``: logins the bench reaped, see ``build_vs_peers.LAB_LOGIN_NAMES``)."""
        return self.split(self._before, self._after, tool_s, orphans_s)

    def split(
        self, before: Snapshot, after: Snapshot, tool_s: float, orphans_s: float = 0.0
    ) -> dict[str, float]:
        """CPU seconds per key of :data:`KEYS` between two snapshots; ``tool_s`` is the tool's
        own (its rusage), ``orphans_s`` the CPU of logins whose sshd session ended before them
        (reparented to the bench, which reaped them: they count as logins)."""

        def delta(pids: set[int], children: bool) -> float:
            ticks = 0
            for pid in pids:
                if pid in before.procs and pid in after.procs:
                    b, a = before.procs[pid], after.procs[pid]
                    ticks += a[2] - b[2] if children else a[1] - b[1]
            return ticks / HZ

        out = {
            "tool": tool_s,
            "logins": delta(self.sshd, True) + orphans_s,
            "sshd": delta(self.sshd, False),
            "frr": delta(self.frr, False),
            "relay": delta(self.relay, False) + delta(self.relay, True),
        }
        busy = (after.busy - before.busy) / HZ
        out["rest"] = max(0.0, busy - sum(out.values()))
        out["idle"] = (after.idle - before.idle) / HZ
        return out
