"""Python CPU per host of a governed build, on fake devices (no lab, no SSH): what our own code
costs per host and on the main thread after the device phase.

    PYTHONPATH=$PWD python bench/host_cpu.py 30 100 [--runs 3] [--profile 25]

Per size: the demo use case of ``tests/unit/execute/fakerepo.py`` (5 components, 2 checks)
over N fake hosts, built the way ``sdd-build build`` builds it (``build_service``: gates,
validation, the build, audit trail, baseline, the report formats) with the CLI's human
progress printer writing to a throw-away console. Printed: process CPU per host, wall, the
post-device-phase wall on the main thread (from the ``reconcile`` phase event to the return of
``build_service``: record, evidence sync, journal, audit, baseline, reports). With
``--profile K`` one extra run per size is profiled in every thread (one cProfile per thread on
its CPU clock, merged) and the top K functions by own time are printed. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sdd_build.app import service  # noqa: E402
from sdd_build.cli.build_cmds import _HumanProgress  # noqa: E402
from sdd_build.gates import approve  # noqa: E402
from sdd_build.testing.fake import FakeNetwork, attach  # noqa: E402
from tests.unit.execute import fakerepo  # noqa: E402


def write_repo(root: Path, n: int) -> Path:
    design = fakerepo.write_repo(root)
    (root / "inventory/hosts.yaml").write_text(
        "".join(
            f"hc{i}:\n  hostname: 127.81.{i // 250}.{i % 250 + 1}\n"
            f"  groups: [core]\n  data: {{n: {i}}}\n"
            for i in range(1, n + 1)
        )
    )
    text = design.read_text().replace("workers: 3", f"workers: {n}")
    design.write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    approve(design.parent / "spec.md", gate="spec", by="a.smith")
    approve(design, gate="design", by="b.jones")
    return design


def network(n: int) -> FakeNetwork:
    net = FakeNetwork()
    outputs = {"show svc json": fakerepo.svc_state, "show extra json": fakerepo.extra_count}
    for i in range(1, n + 1):
        net.add(f"hc{i}", outputs=outputs)
    return net


class Timed:
    """The build as the CLI runs it; times the post-device phase on the main thread."""

    def __init__(self, design: Path, n: int) -> None:
        self.design, self.n = design, n
        self.reconcile_at = 0.0

    def run(self) -> dict[str, float]:
        net = network(self.n)
        real_validate = service.validate

        def validate(*args: Any, **kwargs: Any) -> Any:
            report = real_validate(*args, **kwargs)
            attach(report.workspace, net)
            return report

        service.validate = validate  # type: ignore[assignment]
        human = _HumanProgress(Console(file=io.StringIO(), width=120, force_terminal=False))

        def emit(event: str, **data: Any) -> None:
            if event == "phase" and data.get("name") == "reconcile":
                self.reconcile_at = time.perf_counter()
            human(event, **data)

        try:
            cpu0, t0 = time.process_time(), time.perf_counter()
            asbuilt, _ = service.build_service(self.design, emit=emit, root=self.design.parents[2])
            t1, cpu1 = time.perf_counter(), time.process_time()
        finally:
            service.validate = real_validate  # type: ignore[assignment]
        assert asbuilt.result == "as_designed", asbuilt.result
        return {
            "wall_s": t1 - t0,
            "cpu_s": cpu1 - cpu0,
            "cpu_ms_per_host": (cpu1 - cpu0) * 1000 / self.n,
            "post_phase_ms": (t1 - self.reconcile_at) * 1000,
        }


def profiled(timed: Timed, top: int) -> str:
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(*_: Any) -> None:  # the first event in a new thread: profile it from here on
        prof = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(prof)
        prof.enable()

    main = cProfile.Profile(time.thread_time)
    threading.setprofile(start)
    main.enable()
    try:
        timed.run()
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
    for prof in profiles:
        prof.disable()
    stats = pstats.Stats(main, stream=(buf := io.StringIO()))
    for prof in profiles:
        stats.add(prof)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[30, 100])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="K")
    args = parser.parse_args()
    results = {}
    for n in args.sizes:
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            design = write_repo(Path(tmp) / "repo", n)
            timed = Timed(design, n)
            timed.run()  # warm-up: imports, template cache
            for _ in range(args.runs):
                rows.append(timed.run())
            if args.profile:
                print(profiled(timed, args.profile))
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        results[n] = med
        print(
            f"{n:4d} hosts: wall {med['wall_s']:.3f} s, CPU {med['cpu_s']:.3f} s "
            f"({med['cpu_ms_per_host']:.2f} ms/host), post-device phase "
            f"{med['post_phase_ms']:.1f} ms (median of {args.runs})",
            flush=True,
        )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
