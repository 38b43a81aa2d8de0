"""What ``sdd-build build`` imports before it talks to a device: only what a build uses.

Each module named here was once loaded by every build and used only by other commands or
paths (bench/results: imports were ~0.6 s of a 30-router build's first second). A module that
comes back on the build's import path fails here with the chain that pulled it in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

#: modules the build's import path must not load (they are imported where they are used)
NOT_ON_THE_BUILD_PATH = (
    "rich.syntax",  # pygments and its entry points: code blocks of plan/report
    "pygments",
    "cryptography",  # signed approvals only (paramiko loads it later, at connect)
    "sdd_build.cli.design_cmds",
    "sdd_build.cli.report_cmds",
    "sdd_build.cli.lab_cmds",
    "sdd_build.cli.agent_cmds",
    "sdd_build.mcp",
    "sdd_build.execute.discover",
    "sdd_build.execute.drift",
    "sdd_build.execute.recover",
    "sdd_build.plan.day2",
    "sdd_build.lab",  # --lab needs the lab's inventory path only (sdd_build.labpaths)
    "dask",
    "distributed",
    "ray",
    "networkx",
    "hier_config",
)

PROBE = """
import builtins, sys, traceback
watched = set(sys.argv[1:])
chains = {}
real_import = builtins.__import__

def tracing_import(name, *args, **kwargs):
    before = set(sys.modules)
    module = real_import(name, *args, **kwargs)
    for new in (set(sys.modules) - before) & watched:
        if new not in chains:
            chains[new] = traceback.format_stack(limit=12)
    return module

builtins.__import__ = tracing_import
from sdd_build.cli import COMMANDS, load_command
load_command("build", COMMANDS["build"])
import sdd_build.app.service, sdd_build.execute.build, sdd_build.execute.device
import sdd_build.gates, sdd_build.audit  # what build_service imports when it starts
import os, pathlib
from sdd_build.workspace import lab_connections
labs = pathlib.Path(os.environ["LABS"])  # a lab that is up: its topology and inventory
assert lab_connections(labs / "demo.clab.yml") == labs / "clab-demo" / "inventory"
for name, chain in chains.items():
    print(f"== {name}\\n{''.join(chain)}")
"""


def test_the_build_path_imports_only_what_a_build_uses(tmp_path: Path) -> None:
    (tmp_path / "clab-demo" / "inventory").mkdir(parents=True)
    (tmp_path / "clab-demo" / "inventory" / "hosts.yaml").write_text("{}\n")
    (tmp_path / "demo.clab.yml").write_text("name: demo\ntopology: {nodes: {}}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "LABS": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *NOT_ON_THE_BUILD_PATH],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "", done.stdout


def test_a_topology_the_quick_read_cannot_name_gets_the_full_reading(tmp_path: Path) -> None:
    """``inventory_dir`` falls back to ``lab.topology.read_lab_name``: its located error."""
    import pytest

    from sdd_build.errors import LabError
    from sdd_build.labpaths import inventory_dir

    topology = tmp_path / "bad.clab.yml"
    topology.write_text("name: -not a name\n")
    with pytest.raises(LabError, match="no valid top-level 'name'"):
        inventory_dir(topology)
    topology.write_text("# a comment\nname: fine\n")
    assert inventory_dir(topology) == tmp_path / "clab-fine" / "inventory"
