"""The layering contracts (.importlinter, run by `make lint`) cover the whole package."""

from __future__ import annotations

import configparser
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = {"service", "rollback"}  # execute's application services (the contract's targets)


def test_application_contract_names_every_execute_stage_module() -> None:
    config = configparser.ConfigParser()
    config.read(REPO / ".importlinter")
    sources = set(config["importlinter:contract:application"]["source_modules"].split())
    stage_modules = {
        f"sdd_build.execute.{p.stem}"
        for p in (REPO / "sdd_build/execute").glob("*.py")
        if p.stem != "__init__" and p.stem not in APP
    }
    assert stage_modules <= sources, sorted(stage_modules - sources)


def test_no_private_name_is_imported_from_another_module() -> None:
    """A name shared between modules is public: ``from sdd_build.x import _y`` is refused."""
    import ast

    offenders = []
    for path in sorted((REPO / "sdd_build").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sdd_build"):
                offenders += [
                    f"{path.relative_to(REPO)}:{node.lineno}: {a.name} from {node.module}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert offenders == []
