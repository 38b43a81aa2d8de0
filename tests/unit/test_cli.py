"""The command line: contracts other tools rely on (plan --json, validate --json, schema)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, CliRun


def test_plan_json_contract(design_path: Path, cli: CliRun) -> None:
    result = cli("plan", design_path, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["layers"][:2] == [
        ["ospf-neighbors", "ospf-process", "vtysh-json"],
        ["ospf-interfaces"],
    ]
    assert set(data["hosts"]) == {"r1", "r2", "r3"}
    assert data["hosts"]["r1"][0] == "ospf-process"
    assert data["hosts"]["r1"][-1] == "underlay"
    assert "router ospf" in data["rendered"]["r1"]["ospf-process"]


def test_plan_for_one_host_shows_its_config(design_path: Path, cli: CliRun) -> None:
    result = cli("plan", design_path, "--host", "r3")
    assert result.exit_code == 0
    assert "ospf router-id 10.0.0.3" in result.stdout
    bad = cli("plan", design_path, "--host", "r9")
    assert bad.exit_code == 2
    assert "host 'r9' is not a target" in bad.stderr


def test_validate_json_ok(design_path: Path, cli: CliRun) -> None:
    result = cli("validate", design_path, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert data["problems"] == []


def test_schema_is_a_json_schema(cli: CliRun) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "sdd-build solution design"
    assert schema["additionalProperties"] is False
    assert {"config_template", "command_template", "parser", "workflow"} <= set(
        json.dumps(schema["$defs"]).replace('"', " ").split()
    )


def test_graph_formats(design_path: Path, cli: CliRun) -> None:
    mermaid = cli("graph", design_path, "--format", "mermaid")
    assert mermaid.exit_code == 0
    assert mermaid.stdout.startswith("flowchart BT")
    assert "n_ospf_config --> n_verify_ospf_neighbors" in mermaid.stdout
    dot = cli("graph", design_path, "--format", "dot")
    assert '"ospf-config" -> "underlay";' in dot.stdout


def test_init_scaffolds_and_never_overwrites(tmp_path: Path, cli: CliRun) -> None:
    target = tmp_path / "designs" / "bgp-peering"
    result = cli("init", target, "--author", "a.b")
    assert result.exit_code == 0
    assert (target / "customer-spec.md").read_text().count("REQ-1") >= 1
    assert "author: a.b" in (target / "solution-design.yaml").read_text()
    again = cli("init", target)
    assert again.exit_code == 2
    assert "never overwrites" in again.stderr


def test_init_keeps_every_group(tmp_path: Path, cli: CliRun) -> None:
    target = tmp_path / "designs" / "two"
    assert cli("init", target, "--group", "leaf", "--group", "spine").exit_code == 0
    design = yaml.safe_load((target / "solution-design.yaml").read_text())
    assert design["targets"]["groups"] == ["leaf", "spine"]
    default = tmp_path / "designs" / "one"
    assert cli("init", default).exit_code == 0
    assert yaml.safe_load((default / "solution-design.yaml").read_text())["targets"] == {
        "groups": ["core"]
    }


def test_python_dash_m_runs_without_traceback(example_repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sdd_build", "validate", str(example_repo / EXAMPLE / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "design file not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_public_api() -> None:
    import sdd_build

    assert set(sdd_build.__all__) >= {"SddBuildError", "DesignError", "GateError", "__version__"}
    for name in sdd_build.__all__:
        assert hasattr(sdd_build, name)


def test_deviation_line_never_shows_an_empty_component() -> None:
    from sdd_build.cli.build_cmds import deviation_line

    line = deviation_line(
        {"class": "unreachable", "id": "D1", "component": "", "host": "l1", "reason": "timeout"}
    )
    assert "(no component) @ l1" in line
    assert "  @" not in line


def test_forgetting_lab_names_the_running_lab_that_holds_the_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 item 8: a build or discover without --lab whose hosts were unreachable names
    the running labs holding those hosts (from the machine's lab state files)."""
    from rich.console import Console

    from sdd_build.cli.build_cmds import _lab_hint

    monkeypatch.setenv("SDD_LAB_STATE_DIR", str(tmp_path))
    for lab, phase, nodes in (("tri", "up", ["r1", "r2"]), ("gone", "destroying", ["r1"]),
                              ("other", "up", ["x1"])):  # fmt: skip
        (tmp_path / lab).mkdir()
        state = {
            "lab": lab, "topology": f"/repo/labs/{lab}.clab.yml", "provider": "netns",
            "phase": phase, "workdir": "/tmp/w",
            "nodes": {n: {"name": n, "role": "router", "netns": f"ns-{n}", "hostname": n}
                      for n in nodes},
        }  # fmt: skip
        (tmp_path / lab / "state.json").write_text(json.dumps(state))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "state.json").write_text("{")
    console = Console(record=True, width=200)
    _lab_hint(console, {"r1", "r2"})
    text = console.export_text()
    assert text.splitlines() == [
        "hint: lab 'tri' is up and holds r1, r2: did you mean --lab /repo/labs/tri.clab.yml?"
    ]


@pytest.mark.parametrize("hosts", [2, 6, 40])
def test_the_build_summary_never_cuts_an_id_or_a_status(hosts: int) -> None:
    """Issue 11 item 8: at 80 columns, "componen t" and "rolled…" were printed; ids and
    statuses are now whole at any number of hosts (a table when it fits, else lines)."""
    from types import SimpleNamespace as NS

    from rich.console import Console

    from sdd_build.cli.build_cmds import _summary

    names = [f"leaf{i}" for i in range(1, hosts + 1)]
    ids = [("bfd-leaf-spine-sessions", "rolled_back"), ("verify-bfd-peers-established", "blocked")]
    comps = [
        NS(id=cid, layer=i, hosts={h: NS(status=st) for h in names})
        for i, (cid, st) in enumerate(ids)
    ]
    asbuilt = NS(build_id="b1", result="failed", components=comps, hosts=dict.fromkeys(names),
                 mode="build", deviations=[], attention=[])  # fmt: skip
    console = Console(width=80, record=True)
    _summary(console, asbuilt, Path("x"))
    text = console.export_text()
    assert "…" not in text
    for cid, status in ids:
        assert cid in text
        assert status in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_plan_prints_configs_without_trailing_spaces(design_path: Path, cli: CliRun) -> None:
    """Issue 11 item 1: lines copied from `plan` into a golden file carried padding."""
    result = cli("plan", design_path, "--host", "r1")
    assert result.exit_code == 0, result.output
    assert " ip ospf hello-interval 1\n" in result.stdout
    assert [line for line in result.stdout.splitlines() if line != line.rstrip()] == []
