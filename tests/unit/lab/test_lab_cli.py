"""CLI behaviour that needs no running lab: exit codes and messages."""

from __future__ import annotations

import os
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
    other = tmp_path / "elsewhere" / "triangle.clab.yml"
    other.parent.mkdir()
    other.write_text((LABS / "triangle.clab.yml").read_text())
    LabState(
        lab="triangle",
        topology=str(other),
        provider="netns",
        phase="up",
        workdir=str(other.parent / "clab-triangle"),
    ).save()
    res = CliRunner().invoke(main, ["lab", "up", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 2
    assert f"lab name 'triangle' is already used by {other} (state" in res.output
    # and down through the other file is refused too, without touching anything
    res = CliRunner().invoke(main, ["lab", "down", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 2
    assert f"hint: sdd-build lab down {other}" in res.output
    assert LabState.load("triangle") is not None


def test_orphaned_lab_is_named_and_down_removes_it(tmp_path: Path) -> None:
    gone = tmp_path / "deleted" / "triangle.clab.yml"
    LabState(
        lab="triangle",
        topology=str(gone),
        provider="netns",
        phase="up",
        workdir=str(gone.parent / "clab-triangle"),
    ).save()
    res = CliRunner().invoke(main, ["lab", "up", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 2
    assert "(that file no longer exists)" in res.output
    assert f"hint: sdd-build lab down {LABS / 'triangle.clab.yml'} removes the orphaned" in (
        res.output
    )
    if os.geteuid() != 0:
        pytest.skip("removing an orphan needs root")
    res = CliRunner().invoke(main, ["lab", "down", str(LABS / "triangle.clab.yml")])
    assert res.exit_code == 0, res.output
    assert "lab triangle is down" in res.output
    assert LabState.load("triangle") is None


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


@pytest.mark.parametrize("quiet", [False, True])
def test_an_up_warning_is_said_once(
    monkeypatch: pytest.MonkeyPatch, quiet: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    """The image-tag warning: as progress when it is known, or (``--quiet``: no progress) at
    the end; never both (it was printed twice)."""
    from types import SimpleNamespace

    from sdd_build import lab as labapi
    from sdd_build.lab.provider import UpResult

    warning = "image quay.io/frrouting/frr:10.5.1 (FRR 10.5.1) of r1 runs as FRR 8.4"

    def up(topology: Path, *, progress: object, **_: object) -> SimpleNamespace:
        progress(f"warning: {warning}")  # type: ignore[operator]
        result = UpResult(already_up=False, provider="netns", ready_s=1.0, warnings=[warning])
        return SimpleNamespace(
            name="t", result=result, inventory_dir=Path("/x"), hosts={}, linux_hosts={}
        )

    monkeypatch.setattr(labapi, "up", up)
    args = ["lab", "up", str(LABS / "triangle.clab.yml"), *(["--quiet"] if quiet else [])]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    said = res.output + capfd.readouterr().err
    assert said.count(warning) == 1
