"""Lab scale: bring-up, convergence, teardown time and memory for N-router rings (root).

    python bench/lab_scale.py            # 3 and 30 routers
    python bench/lab_scale.py 3 10 30    # any sizes

Each size is a generated ring (OSPF + eBGP, ``sdd_build.lab.generate``) under a private lab
name in a temporary directory, brought up with the namespace provider and taken down again.
Memory is the RSS sum of every process of the lab: the FRR daemons, watchfrr and sshd found in
the node namespaces plus the socat forwarders in the root namespace. The last column compares
each size's per-router bring-up time with the smallest size measured in the same run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sdd_build import lab
from sdd_build.lab.generate import write_ring
from sdd_build.lab.procs import netns_pids
from sdd_build.lab.state import LabState


@dataclass
class Row:
    routers: int
    ready_s: float
    converged_s: float
    down_s: float
    rss_mb: float
    pss_mb: float
    processes: int


def _mem_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB: RSS counts shared pages (libfrr, libc) once per process, PSS splits
    them between the processes that share them, so PSS sums to what the lab really costs."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def lab_processes(name: str) -> list[int]:
    state = LabState.load(name)
    if state is None:
        return []
    pids: list[int] = []
    for rec in state.nodes.values():
        pids += netns_pids(rec.netns)
    pids += [r.pid for r in state.resources if r.kind == "socat" and r.pid]
    return sorted(set(pids))


def measure(n: int, workdir: Path) -> Row:
    name = f"bench{os.getpid()}-{n}"
    path = write_ring(n, workdir, name=name)
    try:
        handle = lab.up(path, wait=True, timeout=180)
        assert handle.result is not None
        ready = handle.result.ready_s
        converged = handle.result.converged_s or 0.0
        time.sleep(2)  # let the daemons settle before sampling memory
        pids = lab_processes(name)
        mem = [_mem_kb(p) for p in pids]
        rss_mb = sum(m[0] for m in mem) / 1024
        pss_mb = sum(m[1] for m in mem) / 1024
    finally:
        t1 = time.monotonic()
        lab.down(path)
        down = time.monotonic() - t1
    return Row(n, ready, converged, down, rss_mb, pss_mb, len(pids))


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        sys.stderr.write("lab_scale.py needs root (network namespaces, FRR)\n")
        return 2
    sizes = [int(a) for a in argv] or [3, 30]
    os.environ.setdefault("SDD_LAB_PROVIDER", "netns")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="sdd-lab-bench-") as tmp:
        for n in sizes:
            rows.append(measure(n, Path(tmp)))
    base = rows[0]
    load = os.getloadavg()[0]
    table = Table(
        title=f"sdd-build lab (namespace provider), {os.cpu_count()} CPUs",
        # a shared machine's load moves the times a lot: print it with them
        caption=f"load average (1 min) at the end: {load:.1f}; RSS counts shared libraries "
        "once per process, PSS shares them out",
    )
    columns = (
        "routers", "up → ready s", "converged +s", "down s", "RSS MB total",
        "RSS MB/router", "PSS MB/router", "procs/router", "ready s/router", "vs first",
    )  # fmt: skip
    for col in columns:
        table.add_column(col, justify="right")
    for r in rows:
        per = r.ready_s / r.routers
        table.add_row(
            str(r.routers), f"{r.ready_s:.2f}", f"{r.converged_s:.2f}", f"{r.down_s:.2f}",
            f"{r.rss_mb:.0f}", f"{r.rss_mb / r.routers:.1f}", f"{r.pss_mb / r.routers:.1f}",
            f"{r.processes / r.routers:.1f}",
            f"{per:.3f}", f"{per / (base.ready_s / base.routers):.2f}x",
        )  # fmt: skip
    Console(width=160).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
