"""Pre-build backups live in a private state directory outside the repository, 0700/0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sdd_build.errors import StateError
from sdd_build.execute import private


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "state"
    monkeypatch.setenv("SDD_STATE_DIR", str(root))
    return root


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_round_trip_is_private_and_outside_the_repo(tmp_path: Path, state: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    path = private.write_backup(repo, "20250101T000000Z-abcd", "r1", "enable password keepme\n")
    assert state in path.parents
    assert repo not in path.parents
    assert path == private.backup_path(repo, "20250101T000000Z-abcd", "r1")
    assert private.read_backup(repo, "20250101T000000Z-abcd", "r1") == "enable password keepme\n"
    assert _mode(path) == 0o600
    current = path.parent
    while current != state.parent:
        assert _mode(current) == 0o700, current
        current = current.parent
    assert not list(repo.rglob("*"))


def test_keyed_by_repository_and_build(tmp_path: Path, state: Path) -> None:
    a, b = tmp_path / "a" / "repo", tmp_path / "b" / "repo"
    assert private.backup_path(a, "x", "r1") != private.backup_path(b, "x", "r1")
    assert private.backup_path(a, "x", "r1") != private.backup_path(a, "y", "r1")
    assert private.read_backup(a, "nope", "r1") is None


def test_names_cannot_climb_out(tmp_path: Path, state: Path) -> None:
    path = private.backup_path(tmp_path, "../../etc", "../r1")
    assert state in path.parents
    assert ".." not in path.parts
    with pytest.raises(StateError):
        private.backup_path(tmp_path, "..", "r1")


def test_state_dir_inside_the_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDD_STATE_DIR", str(tmp_path / "builds" / "state"))
    with pytest.raises(StateError, match="inside the repository"):
        private.prepare_build(tmp_path, "b1")
    assert not (tmp_path / "builds").exists()


def test_a_symlinked_level_is_refused(tmp_path: Path, state: Path) -> None:
    state.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (state / "backups").symlink_to(elsewhere)
    with pytest.raises(StateError, match="not a directory"):
        private.write_backup(tmp_path / "repo", "b1", "r1", "x")
    assert not list(elsewhere.iterdir())


def test_an_open_level_is_tightened(tmp_path: Path, state: Path) -> None:
    state.mkdir()
    os.chmod(state, 0o755)
    private.prepare_build(tmp_path / "repo", "b1")
    assert _mode(state) == 0o700


def test_default_root_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SDD_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", "/xdg")
    root = private.state_root()
    if os.geteuid() == 0:
        assert root == Path("/var/lib/sdd-build/state")
    else:
        assert root == Path("/xdg/sdd-build")
