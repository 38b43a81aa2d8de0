"""Attack tests (issue "Trust I"): each performs one attack on the gates, the record or the
inputs and asserts the observable outcome (exit code, zero device contact, every byte
written). Run them alone with ``pytest -m security`` (lab ones also carry ``lab``)."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.security)
