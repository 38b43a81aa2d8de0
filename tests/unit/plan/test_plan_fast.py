"""The fast plan (flat programs, shared lookups, two processes) equals the straightforward one:
every host, every component rendered by Jinja one after the other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sdd_build.design.models import CommandTemplate, ConfigTemplate
from sdd_build.errors import RenderError
from sdd_build.plan import forked, planner
from sdd_build.plan.planner import HostStep, build_plan
from sdd_build.render import TemplateLibrary
from sdd_build.workspace import Workspace, open_workspace, render_context

FLAT = "interface {{ host.data.iface.name }}\n description {{ vars.tag }} {{ host.data.cost }}\n"
LOOP = (
    "{% for n in host.data.neighbors %}neighbor {{ n }} remote-as {{ vars.asn }}\n{% endfor %}"
    "{% if host.data.bfd %} bfd\n{% endif %}"
)
SHARED = "router ospf\n ospf router-id {{ host.data.rid }}\n"  # same text as shared2.j2


def _repo(root: Path, n_hosts: int, *, broken_host: int | None = None) -> Path:
    (root / "inventory").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "parsers").mkdir()
    design_dir = root / "designs" / "gen"
    design_dir.mkdir(parents=True)
    hosts = {}
    for i in range(n_hosts):
        data: dict[str, Any] = {
            "iface": {"name": f"eth{i % 3}"},  # shared by several hosts
            "neighbors": [f"10.0.{i}.{k}" for k in range(i % 4)],
            "bfd": i % 2 == 0,
            "rid": f"10.255.0.{i}",
        }
        if i != broken_host:
            data["cost"] = 10 + i % 5
        hosts[f"h{i:03d}"] = {"groups": ["all"], "data": data}
    (root / "inventory" / "hosts.yaml").write_text(json.dumps(hosts))
    (root / "inventory" / "groups.yaml").write_text(json.dumps({"all": {"data": {}}}))
    (root / "templates" / "flat.j2").write_text(FLAT)
    (root / "templates" / "loop.j2").write_text(LOOP)
    (root / "templates" / "shared1.j2").write_text(SHARED)
    (root / "templates" / "shared2.j2").write_text(SHARED)
    (design_dir / "customer-spec.md").write_text("# gen\n\n- REQ-1: verified\n")
    comps: list[dict[str, Any]] = [
        {"id": "flat-a", "kind": "config_template", "template": "flat.j2", "vars": {"tag": "a"}},
        {"id": "flat-b", "kind": "config_template", "template": "flat.j2", "vars": {"tag": "b"}},
        {"id": "loop", "kind": "config_template", "template": "loop.j2", "vars": {"asn": 65001}},
        {"id": "s1", "kind": "config_template", "template": "shared1.j2"},
        {"id": "s2", "kind": "config_template", "template": "shared2.j2", "depends_on": ["s1"]},
        {
            "id": "verify",
            "kind": "command_template",
            "commands": ["show interface {{ host.data.iface.name }}", "show ip ospf json"],
            "depends_on": ["flat-a", "flat-b", "loop", "s2"],
        },
    ]
    design = {
        "design": "gen",
        "version": 1,
        "author": "test",
        "vars": {"asn": 65000},
        "targets": {"groups": ["all"]},
        "components": comps,
    }
    path = design_dir / "solution-design.yaml"
    path.write_text(json.dumps(design))
    return path


def _straightforward(ws: Workspace) -> dict[str, list[HostStep]]:
    """The plan as it was computed before: Jinja, one host after the other, one process."""
    lib = TemplateLibrary(
        ws.templates.templates_dir,
        display_root=ws.templates.display_root,
        source=ws.templates.source,
        fast=False,
    )
    by_id = {c.id: c for c in ws.design.model.components}
    out: dict[str, list[HostStep]] = {}
    for host in ws.hosts:
        steps = []
        for cid in ws.host_components(host):
            comp = by_id[cid]
            layer = ws.graph.layer_of[cid]
            if isinstance(comp, ConfigTemplate):
                ctx = render_context(ws, host, comp.vars)
                text = lib.render(comp.template, ctx, host=host)
                steps.append(HostStep(cid, comp.kind, layer, config=text))
            elif isinstance(comp, CommandTemplate):
                ctx = render_context(ws, host, comp.vars)
                cmds = tuple(
                    lib.render_string(c, ctx, host=host, origin="d").strip() for c in comp.commands
                )
                steps.append(HostStep(cid, comp.kind, layer, commands=cmds))
            else:
                steps.append(HostStep(cid, comp.kind, layer))
        out[host] = steps
    return out


def forked_check(tmp: str) -> None:
    """The comparisons, in a fresh interpreter: no other thread, so the render forks (a test
    process may have threads left by other tests, and then ``plan.forked`` rightly refuses)."""
    planner._FORK_AT = 0
    os.environ["SDD_RENDER_PROCESSES"] = "2"  # the fork is opt-in
    if (os.cpu_count() or 1) > 1:
        assert forked.processes() == 2  # the check really takes the forked path
    root = Path(tmp) / "ok"
    ws = open_workspace(_repo(root, 40), root=root)
    plan = build_plan(ws)
    assert plan.hosts == _straightforward(ws)
    assert list(plan.hosts) == ws.hosts
    h001 = {s.component: s for s in plan.hosts["h001"]}
    assert h001["flat-b"].config == "interface eth1\n description b 11\n"
    assert h001["loop"].config == "neighbor 10.0.1.0 remote-as 65001\n"
    assert h001["verify"].commands == ("show interface eth1", "show ip ospf json")

    root = Path(tmp) / "broken"
    ws = open_workspace(_repo(root, 40, broken_host=27), root=root)
    with pytest.raises(RenderError) as fast:
        build_plan(ws)
    os.environ["SDD_RENDER_PROCESSES"] = "1"
    ws.templates.fast = False
    with pytest.raises(RenderError) as slow:
        build_plan(ws)
    assert fast.value.problems == slow.value.problems
    first = fast.value.problems[0]
    assert "host h027: undefined variable host.data.cost" in first.message
    assert first.file == "templates/flat.j2"
    print("forked check ok")


def test_fast_plan_and_its_failures_equal_the_straightforward_ones(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[3]
    code = (
        f"from tests.unit.plan.test_plan_fast import forked_check; forked_check({str(tmp_path)!r})"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "forked check ok" in proc.stdout


def test_one_process_plan_equals_the_straightforward_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDD_RENDER_PROCESSES", "1")
    ws = open_workspace(_repo(tmp_path, 12), root=tmp_path)
    assert build_plan(ws).hosts == _straightforward(ws)


def test_no_stale_render_when_a_template_or_host_data_changes(tmp_path: Path) -> None:
    design = _repo(tmp_path, 4)
    before = build_plan(open_workspace(design, root=tmp_path)).hosts["h001"]
    (tmp_path / "templates" / "shared2.j2").write_text(SHARED + " passive-interface lo\n")
    hosts = json.loads((tmp_path / "inventory" / "hosts.yaml").read_text())
    hosts["h001"]["data"]["iface"]["name"] = "eth9"
    (tmp_path / "inventory" / "hosts.yaml").write_text(json.dumps(hosts))
    after = {
        s.component: s for s in build_plan(open_workspace(design, root=tmp_path)).hosts["h001"]
    }
    old = {s.component: s for s in before}
    assert after["s2"].config == old["s2"].config + " passive-interface lo\n"
    assert after["s1"].config == old["s1"].config  # same name's text unchanged
    assert after["flat-a"].config == "interface eth9\n description a 11\n"
    assert after["verify"].commands[0] == "show interface eth9"
