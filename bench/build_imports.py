"""What ``sdd-build build <design> --lab <topology>`` imports, and how long that takes.

    PYTHONPATH=$PWD python bench/build_imports.py [--runs 5] [--against OTHER_CHECKOUT]

The demo use case of ``tests/unit/execute/fakerepo.py`` is approved and built through the CLI
(``sdd_build.cli.main``, in-process) with ``--lab`` pointing at a lab whose inventory exists,
on fake devices, with NAPALM + napalm_frr loaded the way ``make_nornir`` loads them for FRR
routers: the import set of a real lab build, without a lab. Each run is a fresh interpreter
with ``-X importtime`` and compiled bytecode (one warm-up run first). Printed per checkout:
the median and minimum of the summed top-level cumulative import times, the module count, and
with ``--against`` the ratio of this checkout to the other (runs interleaved). Figures, never
pass/fail.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HARNESS = """
import sys
import sdd_build.app.service as service
from sdd_build.cli import main
from sdd_build.execute.device import preload_drivers
from sdd_build.testing.fake import attach
from tests.unit.execute.fakerepo import network

net = network()
real = service.validate

def validate(*args, **kwargs):
    report = real(*args, **kwargs)
    preload_drivers({"frr"})  # a lab of FRR routers: napalm + napalm_frr, as make_nornir does
    attach(report.workspace, net)
    return report

service.validate = validate
design, topology = "designs/demo/solution-design.yaml", "labs/demo.clab.yml"
sys.argv = ["sdd-build", "build", design, "--lab", topology]
try:
    main()
except SystemExit as exc:
    assert exc.code == 0, exc.code
"""

LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)")


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX="/tmp/sdd-bench-pyc")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def make_repo(root: Path) -> None:
    """The demo repository, approved, with a 'running' lab named demo (its inventory)."""
    sys.path.insert(0, str(REPO))
    from tests.unit.execute import fakerepo

    fakerepo.write_repo(root)
    (root / "sdd-build.toml").write_text("")
    (root / "labs").mkdir()
    (root / "labs" / "demo.clab.yml").write_text("name: demo\ntopology:\n  nodes: {}\n")
    inventory = root / "labs" / "clab-demo" / "inventory"
    inventory.mkdir(parents=True)
    hosts = "".join(
        f"{h}:\n  hostname: 127.0.0.1\n  port: 22\n  platform: frr\n" for h in fakerepo.HOSTS
    )
    (inventory / "hosts.yaml").write_text(hosts)
    (inventory / "groups.yaml").write_text("{}\n")
    (inventory / "defaults.yaml").write_text("{}\n")
    for artifact, gate in (("designs/demo/spec.md", "spec"), (fakerepo.DESIGN, "design")):
        approve = ["approve", artifact, "--gate", gate, "--by", "bench.approver", "--note", "x"]
        subprocess.run(
            [sys.executable, "-m", "sdd_build", *approve],
            cwd=root,
            env=_env(REPO),
            check=True,
            capture_output=True,
        )


def once(tree: Path, repo: Path) -> tuple[float, int]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", HARNESS],
        cwd=repo,
        env=_env(tree),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the build failed in {tree}:\n{done.stderr[-2000:]}")
    total, modules = 0, 0
    for line in done.stderr.splitlines():
        match = LINE.match(line)
        if match:
            modules += 1
            if not match.group(2):
                total += int(match.group(1))
    return total / 1000, modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout, measured interleaved")
    args = parser.parse_args()
    trees = {"this": REPO} | ({"other": args.against.resolve()} if args.against else {})
    with tempfile.TemporaryDirectory(prefix="sdd-build-imports-") as tmp:
        repo = Path(tmp)
        make_repo(repo)
        for tree in trees.values():
            once(tree, repo)  # compile the bytecode
        runs: dict[str, list[float]] = {name: [] for name in trees}
        modules: dict[str, int] = {}
        for _ in range(args.runs):
            for name, tree in trees.items():
                ms, modules[name] = once(tree, repo)
                runs[name].append(ms)
    medians = {name: statistics.median(v) for name, v in runs.items()}
    for name, tree in trees.items():
        print(
            f"{name:5} {tree}: imports median {medians[name]:.1f} ms, min {min(runs[name]):.1f} ms "
            f"({args.runs} runs), {modules[name]} modules"
        )
    if "other" in medians:
        print(f"this / other: {medians['this'] / medians['other']:.2f}x (medians)")


if __name__ == "__main__":
    main()
