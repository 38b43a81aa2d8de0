"""CLI behaviour that needs no running lab: exit codes and messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sdd_build.cli import main
from sdd_build.lab.state import LabState

from .conftest import LABS


@pytest.fixture(autouse=True)
def _netns_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDD_LAB_PROVIDER", "netns")


def test_not_root_is_one_clear_runtime_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 65534)
    res = CliRunner().invoke(main, ["lab", "up", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 1
    assert res.output.count("error:") == 1
    assert "needs root" in res.output
    assert "Traceback" not in res.output
    assert LabState.load("triangle") is None  # nothing recorded, nothing made


def test_down_of_a_lab_that_is_not_up_exits_0() -> None:
    res = CliRunner().invoke(main, ["lab", "down", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 0
    assert "lab triangle is not up; nothing to do" in res.output


def test_status_of_a_lab_that_is_not_up() -> None:
    res = CliRunner().invoke(main, ["lab", "status", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 0
    assert "is not up" in res.output


def test_lab_name_collision_is_refused(tmp_path: Path) -> None:
    LabState(
        lab="triangle",
        topology="/elsewhere/triangle.clab.yml",
        provider="netns",
        phase="up",
        workdir="/elsewhere/clab-triangle",
    ).save()
    res = CliRunner().invoke(main, ["lab", "up", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 2
    assert "lab name 'triangle' is already used by /elsewhere/triangle.clab.yml" in res.output
    # and down through the other file is refused too, without touching anything
    res = CliRunner().invoke(main, ["lab", "down", str(LABS / "triangle.clab.yml")])
    assert res.exit_code in (1, 2)
    assert LabState.load("triangle") is not None


def test_bad_provider_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDD_LAB_PROVIDER", "docker")
    res = CliRunner().invoke(main, ["lab", "up", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 2
    assert "SDD_LAB_PROVIDER='docker'" in res.output


def test_impair_usage_errors() -> None:
    topo = str(LABS / "triangle.clab.yml")
    res = CliRunner().invoke(main, ["lab", "impair", topo, "r9:eth1", "--link", "down"])
    assert res.exit_code == 2
    assert "no node 'r9'" in res.output
    res = CliRunner().invoke(main, ["lab", "impair", topo, "r1:eth1", "--loss", "300"])
    assert res.exit_code == 2


def test_generate_writes_a_loadable_ring(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["lab", "generate", "--routers", "5", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    path = Path(res.output.strip())
    assert path.name == "ring5.clab.yml"
    res = CliRunner().invoke(main, ["lab", "status", str(path)])
    assert res.exit_code == 0
