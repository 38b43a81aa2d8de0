"""Scale curve: the governed build and the plain Nornir script from 3 routers to fleet size (root).

    python bench/scale_curve.py                      # 3 30 100
    python bench/scale_curve.py 3 30 100 200 --runs 3

For each size, one N-router ring (``sdd_build.lab.generate``, a private lab name) and the same
work as ``bench/build_vs_peers.py`` (5 config lines, 2 shows, TextFSM; sdd-build adds gates,
offline layer, backup, diff, commit, checks, reconciliation, evidence, record, audit). Four
subprocesses are timed per round, interleaved round by round so that the machine's load falls
on all of them alike, with the routers reset before each:

* ``sdd-build build`` of the design over all N routers, and the plain Nornir + nornir_netmiko
  script with N workers over all N;
* the same two over one router of the same lab (a design targeting ``r1``; the script over an
  inventory holding only ``r1``): the *single* run.

Per size and tool: median wall, wall per router, **fleet/single** (median wall over N routers
divided by the median wall over one: 1.0 would be perfect scaling), peak RSS of the process
tree and its growth per router over the single run (``(RSS_N - RSS_1) / (N - 1)``), CPU, and
sdd-build's wall as a ratio of the script's; and for each fleet run where the machine's CPU
went (``machine_cpu.py``: the tool, the routers' SSH logins, FRR daemons, relays, the rest,
idle), since on one machine the routers share the cores with the tool. Ratios, never
pass/fail. Results go to ``bench/results/scale_curve-<sizes>-<date>-<HHMM>.json``; every tool
runs with compiled bytecode, as installed tools do (``build_vs_peers.installed_python_env``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_vs_peers as bvp
from machine_cpu import KEYS, MachineCPU

from sdd_build import lab
from sdd_build.lab.generate import write_ring

SINGLE = "r1"


class SingleBench(bvp.Bench):
    """The same tools over one router of the lab: a design targeting it, an inventory of it."""

    def __init__(self, full: bvp.Bench, design: Path) -> None:
        super().__init__(full.n, full.tmp, full.handle, design)
        self.inventory = full.tmp / "inventory-single"
        self.inventory.mkdir(exist_ok=True)
        src = full.handle.inventory_dir
        import yaml

        hosts = yaml.safe_load((src / "hosts.yaml").read_text())
        (self.inventory / "hosts.yaml").write_text(json.dumps({SINGLE: hosts[SINGLE]}))
        (self.inventory / "hosts.yaml").chmod(0o600)
        for name in ("groups.yaml", "defaults.yaml"):
            if (src / name).exists():
                shutil.copyfile(src / name, self.inventory / name)

    def _peer_args(self, out: Path) -> list[str]:
        args = super()._peer_args(out)
        args[args.index("--inventory") + 1] = str(self.inventory)
        return args

    def nornir(self) -> bvp.Run:
        out = self.tmp / "nornir-single.json"
        out.unlink(missing_ok=True)
        argv = [sys.executable, str(bvp.PEERS / "nornir_plain.py"), *self._peer_args(out)]
        m = bvp.measure([*argv, "--workers", "1"], cwd=self.tmp)
        return self._finish(m, self._peer_result(out))

    def _finish(self, m: bvp.Measured, parsed: int, note: str = "", **extra: Any) -> bvp.Run:
        present = bvp.present_lines(self.handle.hosts[SINGLE].vtysh("show running-config"), SINGLE)
        notes = [note] if note else []
        if m.rc != 0:
            notes.append(f"exit {m.rc}: {(m.stderr.strip().splitlines() or [''])[-1][:200]}")
        return bvp.Run(
            m.wall_s, m.peak_rss_mb, m.peak_pss_mb, m.cpu_s, m.rc, int(present == 5), parsed,
            "; ".join(notes), extra,
        )  # fmt: skip


def single_design(full_design: Path) -> Path:
    """The bench design, targeting one router (its own folder, approved like the full one)."""
    data = json.loads(full_design.read_text())
    data["design"] = "bench-5-lines-single"
    data["targets"] = {"hosts": [SINGLE]}
    data["build"]["workers"] = 1
    folder = full_design.parent.parent / "bench-5-lines-single"
    folder.mkdir()
    shutil.copyfile(full_design.parent / "customer-spec.md", folder / "customer-spec.md")
    path = folder / "solution-design.yaml"
    path.write_text(json.dumps(data, indent=1))
    return path


def topo_name(topo: Path) -> str:
    from sdd_build.lab.topology import load_topology

    return load_topology(topo).name


def one_size(n: int, runs: int, console: Console) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-curve-{n}-"))
    topo = write_ring(n, tmp, name=f"curve-{n}-{os.getpid()}")
    t = time.perf_counter()
    console.print(f"[bold]{n} routers[/]: lab up ({topo}) ...")
    try:
        handle = lab.up(topo, wait=True, timeout=max(300, 3 * n))
        console.print(f"  converged in {time.perf_counter() - t:.1f}s")
        bvp.installed_python_env(tmp)
        design = bvp.write_repo(tmp / "repo", sorted(handle.hosts), n)
        single = single_design(design)
        bvp.approve(design)
        bvp.approve(single)
        full = bvp.Bench(n, tmp, handle, design)
        one = SingleBench(full, single)
        tools = {
            "sdd-build": full.sdd_build,
            "nornir": full.nornir,
            "sdd-build single": one.sdd_build,
            "nornir single": one.nornir,
        }
        runs_of: dict[str, list[bvp.Run]] = {k: [] for k in tools}
        machine = MachineCPU(topo_name(topo))
        bvp.MEASURE_HOOKS[:] = [machine.hook]
        for i in range(runs):
            for key, fn in tools.items():
                bvp.reset(handle)
                run = fn()
                run.extra["machine_cpu"] = machine.last(
                    run.cpu_s, run.extra.get("lab_orphans_cpu_s", 0.0)
                )
                runs_of[key].append(run)
                console.print(
                    f"  run {i + 1}: {key:17} {run.wall_s:7.2f}s  RSS {run.peak_rss_mb:5.0f} MB  "
                    f"CPU {run.cpu_s:5.1f}s  correct {run.correct_hosts}  "
                    f"load {os.getloadavg()[0]:.1f}  {run.note}"
                )
        bvp.reset(handle)
    finally:
        bvp.MEASURE_HOOKS.clear()
        lab.down(topo)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"routers": n, "runs": {k: [asdict(r) for r in v] for k, v in runs_of.items()}}


def valid(runs: list[dict[str, Any]], hosts: int) -> list[dict[str, Any]]:
    """The runs that did the work (exit 0, lines on every host); the others are counted in
    ``excluded``, never timed."""
    return [r for r in runs if r["rc"] == 0 and r["correct_hosts"] == hosts] or runs


def summary(size: dict[str, Any]) -> dict[str, dict[str, Any]]:
    n = size["routers"]
    out: dict[str, dict[str, Any]] = {}
    for tool in ("sdd-build", "nornir"):
        fleet = valid(size["runs"][tool], n)
        single = valid(size["runs"][f"{tool} single"], 1)
        wall = statistics.median(r["wall_s"] for r in fleet)
        wall1 = statistics.median(r["wall_s"] for r in single)
        rss = max(r["peak_rss_mb"] for r in fleet)
        rss1 = max(r["peak_rss_mb"] for r in single)
        out[tool] = {
            "wall_s": wall,
            "single_wall_s": wall1,
            "per_router_ms": 1000 * wall / n,
            "fleet_over_single": wall / wall1,
            "peak_rss_mb": rss,
            "rss_per_router_mb": (rss - rss1) / (n - 1) if n > 1 else 0.0,
            "cpu_s": statistics.median(r["cpu_s"] for r in fleet),
            "machine_cpu": {
                k: statistics.median(r["extra"]["machine_cpu"][k] for r in fleet)
                for k in KEYS
                if all("machine_cpu" in r["extra"] for r in fleet)
            },
            "correct": min(r["correct_hosts"] for r in fleet),
            "runs": len(fleet),
            "excluded": len(size["runs"][tool]) - len(fleet),
        }
    out["sdd-build"]["vs_nornir"] = out["sdd-build"]["wall_s"] / out["nornir"]["wall_s"]
    return out


def print_curve(sizes: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="Scale curve: sdd-build (governed) vs the plain Nornir script, same lab")
    cols = (
        "routers", "tool", "wall s", "single s", "ms/router", "fleet/single", "peak RSS MB",
        "RSS +MB/router", "CPU s", "lines on", "runs (excl.)", "sdd-build / Nornir",
    )  # fmt: skip
    for c in cols:
        table.add_column(c, justify="left" if c == "tool" else "right")
    for size in sizes:
        n, s = size["routers"], summary(size)
        for tool in ("sdd-build", "nornir"):
            r = s[tool]
            table.add_row(
                str(n), tool, f"{r['wall_s']:.2f}", f"{r['single_wall_s']:.2f}",
                f"{r['per_router_ms']:.0f}", f"{r['fleet_over_single']:.2f}x",
                f"{r['peak_rss_mb']:.0f}", f"{r['rss_per_router_mb']:.2f}", f"{r['cpu_s']:.1f}",
                f"{r['correct']:.0f}/{n}", f"{r['runs']:.0f} ({r['excluded']:.0f})",
                f"{r['vs_nornir']:.2f}x" if "vs_nornir" in r else "",
            )  # fmt: skip
    console.print(table)
    print_machine(sizes, console)
    console.print(
        "fleet/single: median wall over N routers / median wall over one router of the same "
        "lab (same tool); RSS +MB/router: (peak RSS at N - at one) / (N - 1). Medians of "
        "interleaved runs; the machine's other load moves all tools alike."
    )


def print_machine(sizes: list[dict[str, Any]], console: Console) -> None:
    """Where the machine's CPU went during the fleet runs (``machine_cpu``): on one machine
    the routers' SSH logins and daemons share the cores with the tool under test."""
    table = Table(title="Where the machine's CPU went, per fleet run (median CPU s)")
    cols = ("routers", "tool", "wall s", *KEYS, "busy+idle", "logins ms/router",
            "tool ms/router")  # fmt: skip
    for c in cols:
        table.add_column(c, justify="left" if c == "tool" else "right")
    for size in sizes:
        n, s = size["routers"], summary(size)
        for tool in ("sdd-build", "nornir"):
            m = s[tool].get("machine_cpu") or {}
            if not m:
                continue
            table.add_row(
                str(n), tool, f"{s[tool]['wall_s']:.2f}", *(f"{m[k]:.2f}" for k in KEYS),
                f"{sum(m.values()):.2f}", f"{1000 * m['logins'] / n:.0f}",
                f"{1000 * m['tool'] / n:.0f}",
            )  # fmt: skip
    console.print(table)
    console.print(
        "tool: the tool's own process; logins: the routers' SSH logins (sshd's per-connection "
        "work, the password check, the login's shell and vtysh); frr: the routers' FRR "
        "daemons; relay: the socat port forwards; rest: other busy time on the machine; idle: "
        "core-seconds no CPU was busy. busy+idle = cores x wall: with every core busy, a tool "
        "is faster only by the CPU it does not spend (bench/machine_cpu.py)."
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=int, default=[3, 30, 100])
    ap.add_argument("--runs", type=int, default=3, help="interleaved rounds per size (median)")
    ap.add_argument("--report", type=Path, help="print the curve of a results file, run nothing")
    args = ap.parse_args()
    if args.report is not None:
        print_curve(json.loads(args.report.read_text())["sizes"], Console(width=160))
        return 0
    if os.geteuid() != 0:
        sys.stderr.write("scale_curve needs root (the lab runs FRR in namespaces)\n")
        return 2
    if any(n < 3 for n in args.sizes):
        sys.stderr.write("sizes start at 3 routers (a ring)\n")
        return 2
    console = Console(width=160)
    bvp.become_subreaper()
    bvp.RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime())  # never over an earlier run's file
    out = bvp.RESULTS / f"scale_curve-{'-'.join(map(str, args.sizes))}-{stamp}.json"
    sizes: list[dict[str, Any]] = []
    for n in args.sizes:
        sizes.append(one_size(n, args.runs, console))
        meta = {
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "runs": args.runs,
            "loadavg_at_end": os.getloadavg(),
        }
        data = {**meta, "sizes": [{**s, "summary": summary(s)} for s in sizes]}
        out.write_text(json.dumps(data, indent=1) + "\n")  # each size kept as soon as it is done
        print_curve(sizes, console)
    console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
