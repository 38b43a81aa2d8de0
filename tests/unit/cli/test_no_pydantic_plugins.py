"""No installed package's pydantic plugin runs inside sdd-build: pydantic would load every
``pydantic`` entry point when the first model is built and show it every validation (the
approvals, designs and inventories with their credentials)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An installed distribution whose pydantic plugin leaves a file when it is imported."""
    site = tmp_path / "site"
    info = site / "planted_pydantic-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: planted-pydantic\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nplanted = sdd_test_planted_pyd:plugin\n")
    marker = tmp_path / "imported"
    (site / "sdd_test_planted_pyd.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "class _P:\n    def new_schema_validator(self, *a, **k):\n        return None, None, None\n"
        "plugin = _P()\n"
    )
    env = dict(os.environ)
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return marker, env


def test_a_command_loads_no_pydantic_plugin(planted: tuple[Path, dict[str, str]]) -> None:
    marker, env = planted
    schema = subprocess.run(
        [sys.executable, "-m", "sdd_build", "schema"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout)["title"] == "sdd-build solution design"  # models built
    assert not marker.exists()
    # the same environment without sdd-build's setting: pydantic runs the plugin
    control = subprocess.run(
        [sys.executable, "-c", "import pydantic\nclass M(pydantic.BaseModel):\n    x: int\n"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    assert control.returncode == 0, control.stderr
    assert marker.read_text() == "ran"
