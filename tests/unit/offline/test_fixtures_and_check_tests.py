"""Issue 11 items 1 and 2, offline: golden files made from the current templates
(``fixtures update``), and acceptance checks tested on recorded outputs (``check_tests``)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import EXAMPLE, CliRun

ROUTER_ID = """    parser: vtysh-json
    depends_on: [ospf-config]
    acceptance:
      - id: AC-3"""


def _with_check_tests(design: Path, tests: str, query: str = "routerId") -> None:
    text = design.read_text()
    assert ROUTER_ID in text
    text = text.replace(
        ROUTER_ID,
        ROUTER_ID.replace("    acceptance:\n", f"    check_tests:\n{tests}    acceptance:\n"),
    )
    design.write_text(text.replace('query: "routerId"', f'query: "{query}"'))


def _record(design: Path, name: str, data: object) -> str:
    rel = f"fixtures/rec/{name}"
    path = design.parent / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) + "\n")
    return rel


def test_fixtures_update_writes_goldens_that_validate(
    design_path: Path, example_repo: Path, cli: CliRun
) -> None:
    fixtures = design_path.parent / "fixtures"
    original = (fixtures / "r1.ospf_interfaces.cfg").read_bytes()
    (fixtures / "r1.ospf_interfaces.cfg").write_text("stale\n")
    (fixtures / "r2.ospf_process.cfg").unlink()
    assert cli("validate", design_path).exit_code == 2

    refused = cli("fixtures", "update", design_path)  # no terminal, no --yes: nothing written
    assert refused.exit_code == 2
    assert "confirm with --yes" in refused.stderr
    assert "-stale" in refused.stdout
    assert "+router ospf" in refused.stdout
    assert (fixtures / "r1.ospf_interfaces.cfg").read_text() == "stale\n"

    done = cli("fixtures", "update", design_path, "--yes")
    assert done.exit_code == 0, done.output
    assert (fixtures / "r1.ospf_interfaces.cfg").read_bytes() == original
    assert not any(
        line != line.rstrip()
        for line in (fixtures / "r2.ospf_process.cfg").read_text().splitlines()
    )
    assert cli("validate", design_path).exit_code == 0
    again = cli("fixtures", "update", design_path)
    assert again.exit_code == 0
    assert "up to date" in again.stdout


def test_check_tests_run_offline_per_host(design_path: Path, cli: CliRun) -> None:
    good = _record(design_path, "r1.json", {"routerId": "10.0.0.1"})
    other = _record(design_path, "r2.json", {"routerId": "10.0.0.1"})  # r2's loopback is .2
    _with_check_tests(
        design_path,
        f"      - {{host: r1, outputs: [{good}], expect: {{AC-3: pass}}}}\n"
        f"      - {{host: r2, outputs: [{other}], expect: {{AC-3: fail}}}}\n",
    )
    ok = cli("validate", design_path, "--json")
    assert ok.exit_code == 0, ok.output
    checks = [r for r in json.loads(ok.stdout)["offline"] if r["kind"] == "check"]
    assert [(r["component"], r["passed"]) for r in checks] == [
        ("verify-router-id", True),
        ("verify-router-id", True),
    ]


def test_check_test_with_the_wrong_outcome_fails_validate(design_path: Path, cli: CliRun) -> None:
    rec = _record(design_path, "r2.json", {"routerId": "10.0.0.1"})
    _with_check_tests(
        design_path, f"      - {{host: r2, outputs: [{rec}], expect: {{AC-3: pass}}}}\n"
    )
    res = cli("validate", design_path)
    assert res.exit_code == 2
    assert (
        "verify-router-id check test 0 (r2): AC-3 was expected to pass but did fail: "
        'expected routerId == "10.0.0.2", found "10.0.0.1"' in res.stderr
    )


def test_query_null_on_every_fixture_is_a_warning(design_path: Path, cli: CliRun) -> None:
    """A key FRR 8.4 does not have (routerID): found before the device, as a warning."""
    rec = _record(design_path, "r1.json", {"routerId": "10.0.0.1"})
    _with_check_tests(
        design_path,
        f"      - {{host: r1, outputs: [{rec}], expect: {{AC-3: fail}}}}\n",
        query="routerID",
    )
    res = cli("validate", design_path)
    assert res.exit_code == 0, res.output
    assert f"warning: {EXAMPLE}/solution-design.yaml:" in res.stderr
    assert "check 'AC-3': query 'routerID' finds null on every recorded output (1)" in res.stderr


def test_check_test_mistakes_are_located(design_path: Path, cli: CliRun) -> None:
    rec = _record(design_path, "r1.json", {"routerId": "10.0.0.1"})
    _with_check_tests(
        design_path,
        f"      - {{host: r9, outputs: [{rec}, {rec}], expect: {{AC-9: pass}}}}\n"
        "      - {host: r1, outputs: [fixtures/rec/none.json], expect: {AC-3: pass}}\n",
    )
    res = cli("validate", design_path)
    assert res.exit_code == 2
    for message in (
        "host 'r9' is not in the inventory",
        "2 output(s) for 1 command(s)",
        "'AC-9' is not a check of 'verify-router-id'",
        "fixture file not found: fixtures/rec/none.json",
    ):
        assert message in res.stderr, res.stderr
