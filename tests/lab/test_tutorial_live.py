"""docs/first-use-case.md is run as written (issue 11 item 10): every fenced ``sh`` block, in
order, in a private copy of the repository whose triangle lab has a name of its own. A block
that fails (any command's non-zero exit) fails the test with its output: the page cannot rot."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdd_build import lab
from tests.lab.conftest import require_lab
from tests.labkit import REPO, copy_repo, private_triangle

pytestmark = [pytest.mark.lab, pytest.mark.slow]

PAGE = REPO / "docs/first-use-case.md"


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, re.M | re.S)


@pytest.fixture
def tutorial_repo(tmp_path: Path) -> Iterator[Path]:
    require_lab()
    root = tmp_path / "repo"
    copy_repo(root, ["templates", "parsers", "inventory"])
    topo = private_triangle(root, "tut")
    try:
        yield root
    finally:
        lab.down(topo)  # whatever block failed, the lab goes


def test_the_tutorial_runs_as_written(tutorial_repo: Path) -> None:
    blocks = shell_blocks(PAGE.read_text())
    assert len(blocks) >= 12
    text = "\n".join(blocks)
    for step in ("init", "fixtures update", "fixtures record", "validate", "lab up", "approve",
                 "gates check", "--check", "build", "report", "drift", "diff", "lab down"):  # fmt: skip
        assert step in text, step
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for n, block in enumerate(blocks):
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=tutorial_repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert proc.returncode == 0, f"block {n}:\n{block}\n--- exit {proc.returncode}\n" + (
            proc.stdout[-3000:] + proc.stderr[-3000:]
        )
        assert "Traceback" not in proc.stderr, f"block {n}: {proc.stderr[-3000:]}"
        if "sdd-build validate" in block:
            assert "finds null on every recorded output" in proc.stderr  # as the page says
        if "sdd-build diff" in block:
            assert "+ip route 198.51.100.0/24 blackhole" in proc.stdout + proc.stderr
    design = tutorial_repo / "designs/blackhole"
    records = [json.loads(p.read_text()) for p in sorted(design.glob("builds/*/as-built.json"))]
    assert [(r["mode"], r["result"]) for r in records] == [
        ("check", "checked"),
        ("build", "as_designed"),
        ("build", "as_designed"),
    ], [(r.get("mode"), r.get("result")) for r in records]
    assert json.loads((design / "baseline.json").read_text())["design"]["version"] == 2
