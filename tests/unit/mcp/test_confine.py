"""The one path-confinement function of the MCP drafting tool (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdd_build.errors import AgentRefusal
from sdd_build.mcp.confine import draft_target, read_target
from sdd_build.mcp.drafts import write_draft


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for sub in ("designs/uc", "templates/frr", "parsers/frr"):
        (tmp_path / sub).mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(
    "rel",
    [
        "designs/uc/solution-design.yaml",
        "designs/uc/fixtures/r1.yaml",
        "templates/frr/new.j2",
        "parsers/frr/x.textfsm",
    ],
)
def test_allowed(root: Path, rel: str) -> None:
    path, shown = draft_target(root, rel)
    assert shown == rel
    assert path == root / rel


@pytest.mark.parametrize(
    "rel",
    [
        "",
        "/etc/passwd.yaml",
        "../x.yaml",
        "designs/uc/../../x.yaml",
        "designs/./uc/x.yaml",
        "designs//uc/x.yaml",
        "designs/uc/approvals/spec.json",
        "designs/uc/APPROVALS/spec.json",
        "designs/uc/builds/1/as-built.json",
        "designs/uc/history/x.json",
        "audit/audit.jsonl",
        "designs/uc/waivers.json",
        "designs/uc/Policy.yaml",
        "approvers.yaml",
        "designs/uc/baseline.json",
        "designs/uc/feasibility.md",
        "designs/uc.yaml",  # not inside a use case folder
        "inventory/hosts.yaml",
        "templates/frr/.x.j2",
        "templates/frr/x.sh",
        "templates\\frr\\x.j2",
        "templates/frr/x\n.j2",
        "keys/k.yaml",
        "t" * 301,
    ],
)
def test_refused(root: Path, rel: str) -> None:
    with pytest.raises(AgentRefusal):
        draft_target(root, rel)


def test_symlinks_refused_anywhere_on_the_path(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (root / "designs/uc/link").symlink_to(outside)
    (root / "templates/frr/l.j2").symlink_to(outside / "t.j2")
    (root / "designs/inner").symlink_to(root / "designs/uc")  # even pointing inside
    for rel in ("designs/uc/link/x.yaml", "templates/frr/l.j2", "designs/inner/x.yaml"):
        with pytest.raises(AgentRefusal, match="symbolic link"):
            draft_target(root, rel)
    with pytest.raises(AgentRefusal):
        read_target(root, "templates/frr/l.j2")
    assert list(outside.iterdir()) == []


def test_non_string_arguments_refused(root: Path) -> None:
    for bad in (None, 1, ["templates/frr/x.j2"], {"a": 1}):
        with pytest.raises(AgentRefusal):
            draft_target(root, bad)


def test_invalid_content_writes_nothing(root: Path) -> None:
    from sdd_build.errors import SddBuildError

    for rel, content in (
        ("templates/frr/x.j2", "{% for %}"),
        ("designs/uc/fixtures/x.yaml", "a: [1"),
        ("designs/uc/fixtures/x.json", "{"),
        ("designs/uc/solution-design.yaml", "design: 1\n"),
        ("templates/frr/x.j2", "x" * (257 * 1024)),
        ("templates/frr/x.j2", "a\x00b"),
    ):
        with pytest.raises(SddBuildError):
            write_draft(root, rel, content)
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == []


def test_a_valid_draft_is_written(root: Path) -> None:
    out = write_draft(root, "templates/frr/x.j2", "hostname {{ host.name }}\n")
    assert out["kind"] == "template"
    assert (root / "templates/frr/x.j2").read_text() == "hostname {{ host.name }}\n"
