"""A build loads the two Nornir connection plugins it drives devices through, by name, and no
other installed package's ``nornir.plugins.connections`` entry point (which Nornir's
``auto_register`` would import, and so run, in every build)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from nornir.core.plugins.connections import ConnectionPluginRegister

from sdd_build.errors import GateError
from sdd_build.execute.device import register_connections
from tests.unit.execute import fakerepo

PLUGIN = "sdd_test_planted_plugin"


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed distribution whose connection plugin leaves a file when it is imported."""
    site = tmp_path / "site"
    info = site / "planted_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: planted-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[nornir.plugins.connections]\nplanted = {PLUGIN}:Planted\n"
    )
    marker = tmp_path / "imported"
    (site / f"{PLUGIN}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "class Planted:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield marker
    sys.modules.pop(PLUGIN, None)
    ConnectionPluginRegister.available.pop("planted", None)


def test_a_build_imports_no_other_installed_connection_plugin(
    planted: Path, tmp_path: Path
) -> None:
    design = fakerepo.write_repo(tmp_path / "repo")
    record, _ = fakerepo.build(design, fakerepo.network())
    assert record.result == "as_designed"
    assert not planted.exists()
    assert "planted" not in ConnectionPluginRegister.available
    # what Nornir's own registration does with the same environment: the test can see it
    ConnectionPluginRegister.auto_register()
    assert planted.read_text() == "ran"


def test_another_plugin_under_the_napalm_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Swapped:
        pass

    monkeypatch.setitem(ConnectionPluginRegister.available, "napalm", Swapped)
    with pytest.raises(GateError, match="'napalm' is another plugin in this process"):
        register_connections()
