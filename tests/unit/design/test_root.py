"""The repository root is found the same, unambiguous way by every command (issue 11 item 5)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sdd_build.design.loader import ROOT_MARKER, find_root
from tests.conftest import EXAMPLE, CliRun


def _trap(example_repo: Path) -> Path:
    """The reported trap: an ``inventory/`` folder inside the design's own folder."""
    shutil.copytree(example_repo / "inventory", example_repo / EXAMPLE / "inventory")
    return example_repo / EXAMPLE / "solution-design.yaml"


def test_inventory_inside_a_design_folder_never_makes_it_the_root(example_repo: Path) -> None:
    design = _trap(example_repo)
    assert find_root(design.parent) == example_repo.resolve()


def test_marker_file_wins_over_nearer_folders(tmp_path: Path) -> None:
    (tmp_path / ROOT_MARKER).write_text("")
    inner = tmp_path / "sub" / "deeper"
    (inner / "templates").mkdir(parents=True)
    assert find_root(inner) == tmp_path.resolve()


def test_git_folder_is_a_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "designs" / "x").mkdir(parents=True)
    (tmp_path / "designs" / "x" / "customer-spec.md").write_text("- REQ-1: x\n")
    assert find_root(tmp_path / "designs" / "x") == tmp_path.resolve()


def test_use_case_folder_is_a_root_only_with_the_marker(tmp_path: Path) -> None:
    (tmp_path / "inventory").mkdir()
    (tmp_path / "customer-spec.md").write_text("- REQ-1: x\n")
    assert find_root(tmp_path) != tmp_path.resolve()
    (tmp_path / ROOT_MARKER).write_text("")
    assert find_root(tmp_path) == tmp_path.resolve()


def test_the_trap_validates_and_approves_against_the_real_root(
    cli: CliRun, example_repo: Path
) -> None:
    design = _trap(example_repo)
    res = cli("validate", str(design), "--no-offline")
    assert res.exit_code == 0, res.output
    spec = design.parent / "customer-spec.md"
    res = cli("approve", str(spec), "--gate", "spec", "--by", "a.smith")
    assert res.exit_code == 0, res.output
    assert (design.parent / "approvals" / "spec.json").is_file()
    # one audit log, at the real root; none inside the design folder
    assert (example_repo / "audit").is_dir()
    assert not (design.parent / "audit").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["plan"],
        ["graph"],
        ["build"],
        ["discover"],
        ["drift"],
        ["diff"],
        ["waive"],
        ["approve"],
        ["gates", "check"],
        ["rollback"],
    ],
)
def test_every_command_reading_a_repository_takes_root(cli: CliRun, command: list[str]) -> None:
    res = cli(*command, "--help")
    assert res.exit_code == 0
    assert "--root" in res.output


def test_build_with_root_uses_it(cli: CliRun, example_repo: Path, tmp_path: Path) -> None:
    """``--root`` pointing elsewhere: the gate looks there (resolved path in the message)."""
    design = example_repo / EXAMPLE / "solution-design.yaml"
    other = tmp_path / "other"
    other.mkdir()
    res = cli("build", str(design), "--check", "--root", str(other))
    assert res.exit_code in (2, 3)
    assert "Traceback" not in res.output
