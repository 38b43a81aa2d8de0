"""Shared fixtures: a throw-away copy of the shipped example repository."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sdd_build.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = "designs/ospf-underlay"


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A private copy of the example (design, spec, fixtures, templates, parsers, inventory)."""
    root = tmp_path / "repo"
    for sub in ("templates", "parsers", "inventory", EXAMPLE):
        shutil.copytree(
            REPO / sub, root / sub, ignore=shutil.ignore_patterns("builds", "approvals")
        )
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
