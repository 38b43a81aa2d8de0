"""Issue 15 item 7: the namespace provider is a package of small modules without a cycle with
the probes, and providers are chosen by name from one registry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sdd_build.errors import LabError, LabInputError
from sdd_build.lab import registry
from sdd_build.lab.state import LabState

LAB = Path(__file__).resolve().parents[3] / "sdd_build" / "lab"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_modules_are_small() -> None:
    sizes = {p.relative_to(LAB).as_posix(): len(p.read_text().splitlines())
             for p in LAB.rglob("*.py")}  # fmt: skip
    assert {k: v for k, v in sizes.items() if v > 400 and k != "topology.py"} == {}
    assert sizes["topology.py"] < 700  # the containerlab schema, one model per key


def test_the_probes_import_no_provider() -> None:
    """health (read-only probes) and procs sit below the providers: no cycle with netns."""
    for name in ("health.py", "procs.py", "state.py", "provider.py", "topology.py"):
        imported = _imports(LAB / name)
        assert not {
            m for m in imported if m.startswith(("sdd_build.lab.netns", "sdd_build.lab.clab"))
        }, name


def test_provider_names_come_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(registry.PROVIDERS) == {"netns", "containerlab"}
    monkeypatch.setenv("SDD_LAB_PROVIDER", "docker")
    with pytest.raises(LabInputError, match="containerlab or netns"):
        registry.choose()
    monkeypatch.setenv("SDD_LAB_PROVIDER", "netns")
    assert registry.choose().name == "netns"
    # a lab that is up keeps the provider its state names, whatever is forced
    assert registry.choose("netns").name == "netns"


def test_state_refuses_an_unknown_provider(private_state: Path) -> None:
    (private_state / "x").mkdir(parents=True)
    (private_state / "x" / "state.json").write_text(
        '{"lab": "x", "topology": "/t", "provider": "docker", "workdir": "/w"}'
    )
    with pytest.raises(LabError, match="unreadable"):
        LabState.load("x")
