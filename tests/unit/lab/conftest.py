"""Offline lab fixtures: topologies written to tmp dirs, a private lab state root."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
LABS = REPO / "labs"

WriteTopo = Callable[..., Path]


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the machine's /var/lib/sdd-build/labs from unit tests."""
    root = tmp_path / "state"
    monkeypatch.setenv("SDD_LAB_STATE_DIR", str(root))
    monkeypatch.delenv("SDD_LAB_PROVIDER", raising=False)
    return root


@pytest.fixture
def write_topo(tmp_path: Path) -> WriteTopo:
    """Write a topology (dedented YAML) and optional side files into a fresh directory."""

    def write(text: str, name: str = "t.clab.yml", files: dict[str, str] | None = None) -> Path:
        d = tmp_path / "topo"
        d.mkdir(exist_ok=True)
        for rel, content in (files or {}).items():
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / rel).write_text(content)
        path = d / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write
