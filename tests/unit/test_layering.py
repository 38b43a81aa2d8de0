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
