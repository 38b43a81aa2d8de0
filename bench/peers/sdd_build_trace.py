"""Where a governed build spends its time: ``sdd-build build`` with timers around its phases
and every device round trip (bench helper; changes nothing in sdd_build, patches at run time).

    python bench/peers/sdd_build_trace.py <design> --lab <topology> [--json OUT]

Prints, in seconds since the interpreter started: imports, each main-thread phase (gates,
validate, Nornir setup, each ``nr.run``, as-built, audit, reports), and per device operation
(connect, each ``show`` by command, each ``configure``) the count, total and median/max per
call, plus how many round trips each host made.
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

T0 = time.perf_counter()
EVENTS: list[tuple[str, str, float, float]] = []  # (kind, label, start, duration)
_lock = threading.Lock()


def _wrap(owner: Any, name: str, kind: str, label: Callable[..., str]) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            end = time.perf_counter()
            where = kind
            if kind == "any":
                main = threading.current_thread() is threading.main_thread()
                where = "main" if main else "worker"
            with _lock:
                EVENTS.append((where, label(*args, **kwargs), start - T0, end - start))

    setattr(owner, name, wrapper)


def install() -> float:
    """Import sdd_build's CLI (timed) and patch the timers in; returns import seconds."""
    t = time.perf_counter()
    import nornir.core

    from sdd_build.cli import COMMANDS, load_command
    from sdd_build.execute.device import preload_drivers

    # what `sdd-build build` imports before its first login, the way it imports it: the build
    # command's module (the CLI loads a command's module when it runs), the service and the
    # engine, then napalm + napalm_frr as make_nornir loads them for FRR routers (NAPALM's other
    # bundled drivers deferred; importing napalm_frr first would execute them all)
    load_command("build", COMMANDS["build"])
    from sdd_build.app import service
    from sdd_build.execute import build

    preload_drivers({"frr"})
    from napalm_frr import transport

    imports = time.perf_counter() - t

    _wrap(transport._LoginSession, "open", "device", lambda self: "connect (login)")
    _wrap(transport.VtyshTransport, "show", "device", lambda self, cmd, *a, **k: f"show: {cmd}")
    _wrap(
        transport.VtyshTransport,
        "configure",
        "device",
        lambda self, lines, *a, **k: f"configure ({len(lines)} lines)",
    )
    _wrap(transport._LoginSession, "close", "device", lambda self: "disconnect")
    _wrap(nornir.core.Nornir, "run", "main", lambda self, *a, **k: f"nr.run {k.get('name')}")
    from sdd_build import gates

    _wrap(gates, "check_gate2", "main", lambda *a, **k: "gate 2 check (hashes)")
    _wrap(service, "validate", "main", lambda *a, **k: "validate (inventory, renders, offline)")
    _wrap(service, "_write_reports", "main", lambda *a, **k: "reports (md, html, junit)")
    _wrap(service, "run_build", "main", lambda *a, **k: "run_build (total)")
    _wrap(build, "make_nornir", "main", lambda *a, **k: "make_nornir (plugin entry points)")
    _wrap(build, "_as_built", "main", lambda *a, **k: "as-built record")
    from sdd_build.audit import AuditLog
    from sdd_build.cli import build_cmds
    from sdd_build.execute import evidence, journal

    _wrap(AuditLog, "append", "main", lambda *a, **k: "audit append")
    if hasattr(AuditLog, "append_many"):
        _wrap(AuditLog, "append_many", "main", lambda *a, **k: "audit append (batched)")
    _wrap(journal.Journal, "write", "any", lambda *a, **k: "journal write (fsync)")
    _wrap(evidence.EvidenceStore, "write", "any", lambda *a, **k: "evidence write")
    _wrap(build, "write_backup", "any", lambda *a, **k: "backup write (fsync)")
    _wrap(build, "refuse_if_unfinished", "main", lambda *a, **k: "unfinished-build check")
    _wrap(service, "lab_connections", "main", lambda *a, **k: "lab inventory lookup")
    _wrap(gates, "check_targets", "main", lambda *a, **k: "targets check")
    for name in ("write_baseline", "qualifies"):
        if hasattr(service, name):
            _wrap(service, name, "main", lambda *a, _n=name, **k: f"{_n}")
    _wrap(build_cmds, "_summary", "main", lambda *a, **k: "summary table (rich)")
    return imports


def report(imports: float, wall: float, out: Path | None) -> None:
    main: dict[str, list[float]] = collections.defaultdict(list)
    device: dict[str, list[float]] = collections.defaultdict(list)
    worker: dict[str, list[float]] = collections.defaultdict(list)
    for kind, label, _start, dur in EVENTS:
        {"main": main, "device": device}.get(kind, worker)[label].append(dur)
    w = sys.stderr.write
    w(f"\n== sdd-build trace: wall {wall:.2f}s (interpreter start -> exit of main)\n")
    w(f"  {'imports (build command, service, engine, napalm_frr)':58} {imports:7.3f}s\n")
    for label, durs in main.items():
        w(f"  {label:58} {sum(durs):7.3f}s  x{len(durs)}\n")
    w("\n  device operations (all hosts, worker threads):\n")
    w(f"  {'operation':40} {'calls':>6} {'total s':>8} {'median':>7} {'max':>7}\n")
    for label, durs in sorted(device.items(), key=lambda kv: -sum(kv[1])):
        w(
            f"  {label:40} {len(durs):6d} {sum(durs):8.2f} "
            f"{statistics.median(durs):7.3f} {max(durs):7.3f}\n"
        )
    w("\n  bookkeeping in worker threads (beside the device operations):\n")
    for label, durs in sorted(worker.items(), key=lambda kv: -sum(kv[1])):
        w(
            f"  {label:40} {len(durs):6d} {sum(durs):8.2f} "
            f"{statistics.median(durs):7.3f} {max(durs):7.3f}\n"
        )
    if out is not None:
        out.write_text(
            json.dumps(
                {
                    "wall_s": wall,
                    "imports_s": imports,
                    "main": {k: [sum(v), len(v)] for k, v in main.items()},
                    "worker": {k: [sum(v), len(v)] for k, v in worker.items()},
                    "device": {
                        k: {"calls": len(v), "total_s": sum(v), "median_s": statistics.median(v)}
                        for k, v in device.items()
                    },
                },
                indent=1,
            )
        )


def run() -> int:
    argv = sys.argv[1:]
    out: Path | None = None
    if "--json" in argv:
        i = argv.index("--json")
        out = Path(argv[i + 1])
        del argv[i : i + 2]
    imports = install()
    from sdd_build.cli import main

    code = 0
    try:
        main.main(args=["build", *argv], prog_name="sdd-build", standalone_mode=False)
    except SystemExit as exc:
        code = int(exc.code or 0)
    report(imports, time.perf_counter() - T0, out)
    return code


if __name__ == "__main__":
    raise SystemExit(run())
