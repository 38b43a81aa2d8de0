"""Overhead of the distributed executor: the same governed build at N FRR routers (default 30)
with ``--executor local`` and ``--executor dask``, interleaved, as ratios (root).

    python bench/dask_overhead.py [--routers 30] [--runs 3]

The work is ``bench/build_vs_peers.py``'s (5 config lines pushed, ``show ip ospf neighbor``
parsed and checked, ``show version``) on the same kind of ring lab, brought up once as
``bench-dsk-<N>``. Three ways, each run as a subprocess and measured as a process tree
(wall, peak RSS, CPU):

1. ``local`` — ``sdd-build build <design> --lab <topology>`` (the default executor);
2. ``dask, cluster up`` — ``--executor dask --scheduler ADDR`` against a scheduler and two
   worker processes started once before the runs (as a deployment keeps them); the workers'
   CPU during each run is added to the tree's and their RSS reported beside it;
3. ``dask, own cluster`` — ``--executor dask`` without a scheduler: the build starts (and
   stops) a local cluster of two worker processes itself.

Before each run the 5 lines are removed from every router and their absence verified; after
it, their presence on every router is verified. Results go to
``bench/results/dask_overhead-<N>.json``; the table prints ratios against ``local``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_vs_peers import (  # noqa: E402  (bench/ is not a package)
    Bench,
    Run,
    approve,
    become_subreaper,
    measure,
    reset,
    sdd_build_argv,
    write_repo,
)

from sdd_build import lab  # noqa: E402
from sdd_build.lab.generate import write_ring  # noqa: E402

RESULTS = HERE / "results"
TICK = os.sysconf("SC_CLK_TCK")
WORKER_ARGS = ("--nthreads", "2", "--no-nanny", "--no-dashboard")


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Cluster:
    """A scheduler and two worker processes on loopback, for the whole bench."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        py = [sys.executable, "-m"]
        self.scheduler = subprocess.Popen(
            [*py, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port)],
            **quiet,
        )
        self.workers = [
            subprocess.Popen(
                [*py, "distributed.cli.dask_worker", self.address, *WORKER_ARGS],
                **quiet,
            )
            for _ in range(2)
        ]
        from distributed import Client

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with Client(self.address, timeout=10) as client:
                    if len(client.scheduler_info(n_workers=-1)["workers"]) == 2:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit("the dask workers did not register")

    def cpu_s(self) -> float:
        return sum(_cpu_s(p.pid) for p in self.workers)

    def rss_mb(self) -> float:
        return sum(_rss_mb(p.pid) for p in self.workers)

    def close(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            proc.send_signal(signal.SIGTERM)
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_build(bench: Bench, extra: list[str], cluster: Cluster | None) -> Run:
    topo = bench.handle.topology_path
    before = cluster.cpu_s() if cluster else 0.0
    m = measure(
        [*sdd_build_argv(), "build", str(bench.design), "--lab", str(topo), *extra],
        cwd=bench.tmp,
    )
    if cluster:
        m.cpu_s += cluster.cpu_s() - before
    record = re.search(r"record: (\S+)", m.stderr)
    parsed, note, info = 0, "", {}
    if record:
        asbuilt = json.loads((Path(record[1]) / "as-built.json").read_text())
        info = {k: asbuilt["metrics"].get(k) for k in ("governance_s", "device_s", "wall_s")}
        verify = next(c for c in asbuilt["components"] if c["id"] == "verify")
        parsed = sum(1 for rec in verify["hosts"].values() if rec["status"] == "built")
        if asbuilt["result"] != "as_designed":
            note = f"result {asbuilt['result']}: {len(asbuilt['deviations'])} deviation(s)"
    else:
        note = f"no as-built record (exit {m.rc})"
    if cluster:
        info["workers_rss_mb"] = round(cluster.rss_mb(), 1)
    return bench._finish(m, parsed, note, metrics=info)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--routers", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3, help="runs per way (median)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("dask_overhead needs root (the lab runs FRR in namespaces)\n")
        return 2
    n = args.routers
    console = Console(width=150)
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-dsk-{n}-"))
    topo = write_ring(n, tmp, name=f"bench-dsk-{n}")
    console.print(f"lab up: {n} routers ...")
    handle = lab.up(topo, wait=True, timeout=300)
    cluster: Cluster | None = None
    ways: dict[str, list[Run]] = {"local": [], "dask, cluster up": [], "dask, own cluster": []}
    try:
        become_subreaper()
        design = write_repo(tmp / "repo", sorted(handle.hosts), n)
        approve(design)
        bench = Bench(n, tmp, handle, design)
        cluster = Cluster()  # the bench inventory names no site: hash shards, both workers
        for i in range(args.runs):
            for way, runs in ways.items():
                reset(handle)
                if way == "local":
                    run = run_build(bench, ["--executor", "local"], None)
                elif way == "dask, cluster up":
                    run = run_build(
                        bench, ["--executor", "dask", "--scheduler", cluster.address], cluster
                    )
                else:
                    run = run_build(bench, ["--executor", "dask"], None)
                runs.append(run)
                console.print(
                    f"run {i + 1}: {way:18} {run.wall_s:7.2f}s  RSS {run.peak_rss_mb:5.0f} MB  "
                    f"CPU {run.cpu_s:5.1f}s  lines on {run.correct_hosts}/{n}  "
                    f"load {os.getloadavg()[0]:.1f}  {run.note}"
                )
        reset(handle)
    finally:
        if cluster is not None:
            cluster.close()
        lab.down(topo)
        shutil.rmtree(tmp, ignore_errors=True)
    base = statistics.median(r.wall_s for r in ways["local"])
    base_cpu = statistics.median(r.cpu_s for r in ways["local"])
    rows = []
    for way, runs in ways.items():
        wall = statistics.median(r.wall_s for r in runs)
        cpu = statistics.median(r.cpu_s for r in runs)
        rows.append(
            {
                "way": way,
                "wall_s": round(wall, 2),
                "wall_ratio": round(wall / base, 2),
                "cpu_s": round(cpu, 2),
                "cpu_ratio": round(cpu / base_cpu, 2) if base_cpu else None,
                "peak_rss_mb": round(statistics.median(r.peak_rss_mb for r in runs), 1),
                "device_s": statistics.median(
                    (r.extra.get("metrics") or {}).get("device_s") or 0.0 for r in runs
                ),
                "governance_s": statistics.median(
                    (r.extra.get("metrics") or {}).get("governance_s") or 0.0 for r in runs
                ),
                "workers_rss_mb": max(
                    (r.extra.get("metrics") or {}).get("workers_rss_mb") or 0.0 for r in runs
                ),
                "correct": [r.correct_hosts for r in runs],
                "runs_wall_s": [round(r.wall_s, 2) for r in runs],
                "notes": [r.note for r in runs if r.note],
            }
        )
    table = Table(
        title=f"governed build at {n} routers: local vs dask executor (median of {args.runs})"
    )
    for col in (
        "executor",
        "wall s",
        "x local",
        "CPU s",
        "CPU x local",
        "peak RSS MB",
        "workers RSS MB",
        "device s",
        "lines ok",
    ):
        table.add_column(col, justify="right" if col != "executor" else "left")
    for row in rows:
        table.add_row(
            row["way"],
            f"{row['wall_s']:.2f}",
            f"{row['wall_ratio']:.2f}x",
            f"{row['cpu_s']:.1f}",
            f"{row['cpu_ratio']:.2f}x" if row["cpu_ratio"] else "-",
            f"{row['peak_rss_mb']:.0f}",
            f"{row['workers_rss_mb']:.0f}" if row["workers_rss_mb"] else "-",
            f"{row['device_s']:.1f}",
            "/".join(str(c) for c in row["correct"]),
        )
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"dask_overhead-{n}.json"
    meta = {
        "routers": n,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_at_end": os.getloadavg(),
    }
    out.write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n")
    console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
