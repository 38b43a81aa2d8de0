"""Drive ``sdd-build mcp`` as a subprocess through the official SDK's stdio client."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp
from mcp import StdioServerParameters


@asynccontextmanager
async def agent(root: Path, name: str = "spec-agent", *extra: str) -> AsyncIterator[mcp.Client]:
    """A client session with ``sdd-build mcp --agent NAME --root ROOT`` (cwd outside ``root``
    so that a copied package in it is never imported)."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "sdd_build", "mcp", "--agent", name, "--root", str(root), *extra],
        cwd=str(root.parent),
        env=dict(os.environ),
    )
    async with mcp.Client(params) as client:
        yield client


def text_of(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def tree(root: Path, skip: tuple[str, ...] = ("audit",)) -> dict[str, str]:
    """Every file under ``root`` (not following links) with its sha256, bar ``skip`` folders."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        if rel_dir.parts and rel_dir.parts[0] in skip:
            dirnames[:] = []
            continue
        for name in filenames:
            path = Path(dirpath) / name
            key = str(rel_dir / name)
            out[key] = (
                "link:" + os.readlink(path)
                if path.is_symlink()
                else hashlib.sha256(path.read_bytes()).hexdigest()
            )
    return out
