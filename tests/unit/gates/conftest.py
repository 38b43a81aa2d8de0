"""Helpers for the gate tests: approvals on a private copy of the example, keys, policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sdd_build.gates import approve, generate_key


def spec_of(design: Path) -> Path:
    return design.parent / "customer-spec.md"


def approve_both(
    design: Path, *, spec_by: str = "a.smith", design_by: str = "b.jones", **kw: Any
) -> None:
    approve(spec_of(design), gate="spec", by=spec_by, **kw)
    approve(design, gate="design", by=design_by, **kw)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def write_policy(
    root: Path,
    *,
    require_signatures: bool = False,
    four_eyes: bool = False,
    approvers: list[dict[str, Any]],
) -> None:
    # JSON is YAML: no quoting surprises for base64 keys.
    (root / "approvers.yaml").write_text(
        json.dumps(
            {
                "require_signatures": require_signatures,
                "four_eyes": four_eyes,
                "approvers": approvers,
            },
            indent=2,
        )
    )


def record(design_or_spec: Path, gate: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (design_or_spec.parent / "approvals" / f"{gate}.json").read_text()
    )
    return data


def write_record(design_or_spec: Path, gate: str, data: dict[str, Any]) -> None:
    (design_or_spec.parent / "approvals" / f"{gate}.json").write_text(
        json.dumps(data, indent=2, sort_keys=True)
    )


class Key:
    def __init__(self, path: Path) -> None:
        self.path = path
        info = generate_key(path)
        self.public = info.public_key
        self.fingerprint = info.fingerprint


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Key]:
    folder = tmp_path / "keys"
    folder.mkdir()
    return {name: Key(folder / f"{name}.pem") for name in ("a", "b", "mallory")}


@pytest.fixture
def approved(design_path: Path) -> Path:
    """The example with its spec and design approved (no approvers.yaml, unsigned)."""
    approve_both(design_path)
    return design_path
