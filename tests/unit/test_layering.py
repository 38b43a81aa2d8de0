"""The layering contracts (.importlinter, run by `make lint`) cover the whole package."""

from __future__ import annotations

import configparser
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: the application layer: front ends and the services they call; everything else is below it
APP = {"app", "cli", "mcp", "pytest_plugin", "__main__", "__init__"}


def _contracts() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(REPO / ".importlinter")
    return config


def test_application_contract_names_every_module_below_the_application_layer() -> None:
    """A new package or top-level module is under the contract from its first commit."""
    sources = set(_contracts()["importlinter:contract:application"]["source_modules"].split())
    below = {
        f"sdd_build.{p.stem}"
        for p in (REPO / "sdd_build").iterdir()
        if p.stem not in APP
        and (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").is_file()))
    }
    assert below <= sources, sorted(below - sources)


def test_no_contract_ignores_an_import() -> None:
    """Every known violation was fixed (Workspace one layer down, the services in app/)."""
    config = _contracts()
    assert [s for s in config.sections() if config.has_option(s, "ignore_imports")] == []


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
