"""Shared fixtures: a throw-away copy of the shipped example repository."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sdd_build.cli import main
from sdd_build.secrets import reset_masker
from tests.labkit import copy_repo

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = "designs/ospf-underlay"


@pytest.fixture(autouse=True)
def _fresh_masker() -> None:
    """Each test starts with a masker that knows no literal secret (a process only ever
    learns more; tests in one process must not see each other's secrets)."""
    reset_masker()


@pytest.fixture(scope="session", autouse=True)
def private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Pre-build backups of test builds go to a throw-away state directory (inherited by the
    CLI subprocesses), not the machine's /var/lib/sdd-build/state."""
    path = tmp_path_factory.mktemp("sdd-state")
    old = os.environ.get("SDD_STATE_DIR")
    os.environ["SDD_STATE_DIR"] = str(path / "state")
    yield path / "state"
    if old is None:
        os.environ.pop("SDD_STATE_DIR", None)
    else:
        os.environ["SDD_STATE_DIR"] = old


@pytest.fixture(autouse=True)
def private_lock_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Device locks and ledger of each test live in a directory of its own (inherited by the
    CLI subprocesses): a test never waits for, or refuses because of, another test's or
    another run's routers of the same name (a build a test made fail on purpose leaves its
    devices 'changing' in the ledger), nor writes to the machine's /var/lib/sdd-build."""
    path = tmp_path_factory.mktemp("sdd-locks") / "locks"
    old = os.environ.get("SDD_LOCK_DIR")
    os.environ["SDD_LOCK_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SDD_LOCK_DIR", None)
    else:
        os.environ["SDD_LOCK_DIR"] = old


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A private copy of the example (design, spec, fixtures, templates, parsers, inventory)."""
    root = tmp_path / "repo"
    copy_repo(root, ["templates", "parsers", "inventory", EXAMPLE])
    return root


@pytest.fixture
def design_path(example_repo: Path) -> Path:
    return example_repo / EXAMPLE / "solution-design.yaml"


CliRun = Callable[..., Result]


@pytest.fixture
def cli() -> CliRun:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=True)

    return run
