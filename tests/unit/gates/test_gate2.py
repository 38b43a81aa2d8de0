"""Gate 2 holds: any change to a bound byte, a new reference or a deleted file refuses the
build (exit 3) and names the file with its approved and current hash prefixes."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from sdd_build.errors import GateError
from sdd_build.gates import approve, check_gate2, gate_status
from tests.conftest import EXAMPLE
from tests.unit.gates.conftest import approve_both, edit, spec_of

DESIGN = f"{EXAMPLE}/solution-design.yaml"


def _refused(design: Path) -> GateError:
    with pytest.raises(GateError) as info:
        check_gate2(design)
    assert info.value.exit_code == 3
    return info.value


def _files(exc: GateError) -> list[str | None]:
    return [p.file for p in exc.problems]


def test_unapproved_design_is_refused(design_path: Path) -> None:
    exc = _refused(design_path)
    text = str(exc)
    assert "the spec is not approved (Gate 1)" in text
    assert "the design is not approved (Gate 2)" in text
    approve(spec_of(design_path), gate="spec", by="a.smith")
    exc = _refused(design_path)
    assert _files(exc) == [DESIGN]
    assert "sdd-build approve" in exc.problems[0].message


def test_approved_design_passes(approved: Path) -> None:
    build = check_gate2(approved)
    assert build.files[DESIGN] == hashlib.sha256(approved.read_bytes()).hexdigest()
    assert build.spec_sha256 == hashlib.sha256(spec_of(approved).read_bytes()).hexdigest()


def test_design_edited_after_approval(approved: Path) -> None:
    old = hashlib.sha256(approved.read_bytes()).hexdigest()
    edit(approved, "workers: 20", "workers: 5")
    new = hashlib.sha256(approved.read_bytes()).hexdigest()
    exc = _refused(approved)
    assert _files(exc)[0] == DESIGN
    message = exc.problems[0].message
    assert "changed since the design was approved" in message
    assert old[:12] in message
    assert new[:12] in message


@pytest.mark.parametrize(
    ("rel", "old", "new"),
    [
        (
            "templates/frr/ospf_interfaces.j2",
            " ip ospf passive",
            " ip ospf passive\n ip ospf cost 10",
        ),
        ("templates/frr/ospf_process.j2", "log-adjacency-changes", "log-adjacency-changes detail"),
        ("parsers/frr/show_ip_ospf_neighbor.textfsm", "Value", "Value  "),
        (f"{EXAMPLE}/fixtures/r1.ospf_interfaces.cfg", "interface lo", "interface lo\n"),
        (f"{EXAMPLE}/fixtures/show_ip_ospf_neighbor.r1.txt", "Neighbor", "Neighbour"),
        (f"{EXAMPLE}/fixtures/edge-host.yaml", "ospf_dead: 4", "ospf_dead: 40"),
        ("inventory/hosts.yaml", "ospf_peers: 2", "ospf_peers: 1"),
        ("inventory/groups.yaml", "ospf_hello: 1", "ospf_hello: 2"),
        ("inventory/defaults.yaml", "site: lab", "site: prod"),
        (f"{EXAMPLE}/customer-spec.md", "REQ-1:", "REQ-1: (amended)"),
    ],
)
def test_bound_file_edited_after_approval(
    approved: Path, example_repo: Path, rel: str, old: str, new: str
) -> None:
    path = example_repo / rel
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    edit(path, old, new)
    exc = _refused(approved)
    assert rel in _files(exc)
    problem = next(p for p in exc.problems if p.file == rel)
    assert "changed since the" in problem.message
    assert before[:12] in problem.message
    assert "review the change" in (exc.hint or "")


def test_bound_file_deleted(approved: Path, example_repo: Path) -> None:
    rel = f"{EXAMPLE}/fixtures/r2.ospf_process.cfg"
    (example_repo / rel).unlink()
    exc = _refused(approved)
    problem = next(p for p in exc.problems if p.file == rel)
    assert "deleted since the design was approved" in problem.message


def test_inventory_file_added_after_approval(design_path: Path, example_repo: Path) -> None:
    (example_repo / "inventory/defaults.yaml").unlink()
    approve_both(design_path)
    (example_repo / "inventory/defaults.yaml").write_text("data: {site: lab}\n")
    exc = _refused(design_path)
    problem = next(p for p in exc.problems if p.file == "inventory/defaults.yaml")
    assert "not part of its approval" in problem.message


def _add_macro_import(example_repo: Path) -> Path:
    macros = example_repo / "templates/frr/_macros.j2"
    macros.write_text("{% macro area(a) %}ip ospf area {{ a }}{% endmacro %}\n")
    tpl = example_repo / "templates/frr/ospf_interfaces.j2"
    tpl.write_text('{% import "frr/_macros.j2" as m %}\n' + tpl.read_text())
    return macros


def test_included_template_is_bound_and_checked(design_path: Path, example_repo: Path) -> None:
    macros = _add_macro_import(example_repo)
    approve_both(design_path)
    build = check_gate2(design_path)
    assert "templates/frr/_macros.j2" in build.files
    edit(macros, "ip ospf area", "ip ospf  area")
    exc = _refused(design_path)
    assert _files(exc) == ["templates/frr/_macros.j2"]


def test_include_chain_is_followed(design_path: Path, example_repo: Path) -> None:
    macros = _add_macro_import(example_repo)
    (example_repo / "templates/frr/_base.j2").write_text("{# shared #}\n")
    macros.write_text('{% include "frr/_base.j2" %}' + macros.read_text())
    approve_both(design_path)
    assert "templates/frr/_base.j2" in check_gate2(design_path).files
    (example_repo / "templates/frr/_base.j2").write_text("{# shared, edited #}\n")
    assert _files(_refused(design_path)) == ["templates/frr/_base.j2"]


def test_template_gaining_an_include_names_the_new_file(approved: Path, example_repo: Path) -> None:
    _add_macro_import(example_repo)
    exc = _refused(approved)
    files = _files(exc)
    assert "templates/frr/ospf_interfaces.j2" in files
    problem = next(p for p in exc.problems if p.file == "templates/frr/_macros.j2")
    assert "referenced by the design now (template) but not part of its approval" in problem.message


def test_gate_status_reports_without_raising(approved: Path, example_repo: Path) -> None:
    report = gate_status(approved)
    assert report.ok
    assert (report.gate1.status, report.gate2.status) == ("approved", "approved")
    edit(example_repo / "templates/frr/ospf_process.j2", "exit", "exit\n")
    report = gate_status(approved)
    assert not report.ok
    assert report.gate1.status == "approved"
    assert report.gate2.status == "stale"
    data = report.to_json()
    assert data["gates"]["design"]["problems"][0]["file"] == "templates/frr/ospf_process.j2"


def test_design_broken_after_approval_is_stale_not_bad_input(approved: Path) -> None:
    approved.write_text("design: [unclosed\n")
    exc = _refused(approved)
    assert _files(exc)[0] == DESIGN
    assert "changed since the design was approved" in exc.problems[0].message


class _Opens:
    """Every file opened under a folder, by any means (audit hook 'open': builtins.open,
    os.open, io.open, Path.read_*)."""

    active: ClassVar[_Opens | None] = None
    installed: ClassVar[bool] = False

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.paths: list[str] = []

    @staticmethod
    def _hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
        rec = _Opens.active
        if rec is None or event != "open":
            return
        path = args[0]
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        if isinstance(path, str | Path) and str(path).startswith(rec.root):
            rec.paths.append(str(path))

    def __enter__(self) -> _Opens:
        if not _Opens.installed:
            sys.addaudithook(_Opens._hook)
            _Opens.installed = True
        _Opens.active = self
        return self

    def __exit__(self, *exc: object) -> None:
        _Opens.active = None


def test_every_bound_file_is_read_once_and_never_after_the_gate(
    approved: Path, example_repo: Path
) -> None:
    """The gate reads each bound file exactly once; validate, render and the offline layer
    then read nothing under the repository: they use the snapshot."""
    from sdd_build.plan.validate import validate

    root = example_repo.resolve()
    with _Opens(root) as gate_opens:
        build = check_gate2(approved)
    bound = {str(root / rel) for rel in build.files}
    reads = [p for p in gate_opens.paths if p in bound]
    assert sorted(reads) == sorted(bound), "each bound file once"
    with _Opens(root) as later:
        report = validate(build.design.path, repo=build.repo)
    assert report.ok, report.problems
    assert report.plan is not None
    assert report.offline
    assert later.paths == []


def test_a_file_swapped_after_the_gate_changes_nothing_rendered(
    approved: Path, example_repo: Path
) -> None:
    """TOCTOU: replace a template (and retarget a symlink) right after the gate read it."""
    from sdd_build.plan.validate import validate

    build = check_gate2(approved)
    template = example_repo / "templates/frr/ospf_interfaces.j2"
    original = template.read_text()
    template.write_text(original + " ip ospf cost 999\n")
    report = validate(build.design.path, repo=build.repo)
    assert report.ok
    assert report.plan is not None
    rendered = "".join(step.config or "" for steps in report.plan.hosts.values() for step in steps)
    assert "ospf cost 999" not in rendered
    # a symlink retargeted at an unapproved file: the snapshot answers for the name it bound
    evil = example_repo / "templates/frr/evil.j2"
    evil.write_text("interface eth1\n ip ospf cost 999\n")
    template.unlink()
    template.symlink_to(evil)
    report = validate(build.design.path, repo=build.repo)
    rendered = "".join(step.config or "" for steps in report.plan.hosts.values() for step in steps)  # type: ignore[union-attr]
    assert "ospf cost 999" not in rendered
    # and the next gate check sees the change
    exc = _refused(approved)
    assert any(p.file == "templates/frr/ospf_interfaces.j2" for p in exc.problems)


def test_tampered_unsigned_record_is_invalid(approved: Path) -> None:
    path = approved.parent / "approvals" / "design.json"
    path.write_text(path.read_text()[:-20])
    exc = _refused(approved)
    assert exc.problems[0].file == f"{EXAMPLE}/approvals/design.json"
    assert "not valid JSON" in exc.problems[0].message
    path.write_text('{"format": "sdd-build.approval/1", "gate": "design"}')
    assert "malformed" in str(_refused(approved))


def test_approval_for_another_artifact_is_invalid(approved: Path, example_repo: Path) -> None:
    other = example_repo / EXAMPLE / "copy.yaml"
    other.write_bytes(approved.read_bytes())
    with pytest.raises(GateError, match=r"approves designs/ospf-underlay/solution-design\.yaml"):
        check_gate2(other)
