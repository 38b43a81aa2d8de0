"""The governance commands: one clear message, the right exit code, never a traceback."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

from click.testing import Result

from tests.conftest import EXAMPLE, CliRun
from tests.unit.gates.conftest import edit, spec_of, write_policy

DESIGN = f"{EXAMPLE}/solution-design.yaml"


def _clean(result: Result, code: int) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_approve_then_gates_check(design_path: Path, cli: CliRun) -> None:
    first = cli("approve", design_path, "--gate", "design", "--by", "b.jones")
    _clean(first, 3)
    assert (
        "error: designs/ospf-underlay/customer-spec.md: the spec is not approved (Gate 1)"
        in first.stderr
    )

    _clean(cli("approve", spec_of(design_path), "--gate", "spec", "--by", "a.smith"), 0)
    ok = cli("approve", design_path, "--gate", "design", "--by", "b.jones", "--note", "CAB-7")
    _clean(ok, 0)
    assert "approved design ospf-underlay v1" in ok.stdout
    assert "16 file(s) bound, unsigned" in ok.stdout

    check = cli("gates", "check", design_path)
    _clean(check, 0)
    assert "Gate 1 (spec): approved" in check.stdout
    assert "Gate 2 (design): approved" in check.stdout


def test_gates_check_names_the_stale_file(
    design_path: Path, example_repo: Path, cli: CliRun
) -> None:
    cli("approve", spec_of(design_path), "--gate", "spec", "--by", "a.smith")
    missing = cli("gates", "check", design_path)
    _clean(missing, 3)
    assert "Gate 2 (design): missing" in missing.stdout
    cli("approve", design_path, "--gate", "design", "--by", "b.jones")
    edit(example_repo / "templates/frr/ospf_interfaces.j2", "point-to-point", "broadcast")
    stale = cli("gates", "check", design_path)
    _clean(stale, 3)
    assert "Gate 2 (design): stale" in stale.stdout
    assert (
        "stale: templates/frr/ospf_interfaces.j2: changed since the design was approved"
        in stale.stdout
    )
    data = json.loads(cli("gates", "check", design_path, "--json").stdout)
    assert data["ok"] is False
    assert data["gates"]["spec"]["status"] == "approved"
    assert data["gates"]["design"]["status"] == "stale"
    assert data["gates"]["design"]["problems"][0]["file"] == "templates/frr/ospf_interfaces.j2"


def test_approve_invalid_design_exits_2_with_the_problem(design_path: Path, cli: CliRun) -> None:
    cli("approve", spec_of(design_path), "--gate", "spec", "--by", "a.smith")
    edit(design_path, "depends_on: [verify-ospf-neighbors]", "depends_on: [no-such-component]")
    result = cli("approve", design_path, "--gate", "design", "--by", "b.jones")
    _clean(result, 2)
    assert f"error: {DESIGN}:" in result.stderr
    assert "no-such-component" in result.stderr
    assert "only a valid design can be approved" in result.stderr


def test_cli_errors_are_clean(
    design_path: Path, example_repo: Path, tmp_path: Path, cli: CliRun
) -> None:
    _clean(cli("approve", tmp_path / "none.md", "--gate", "spec", "--by", "a"), 2)
    _clean(cli("approve", spec_of(design_path), "--gate", "build", "--by", "a"), 2)
    _clean(cli("approve", spec_of(design_path), "--gate", "spec", "--by", "a b"), 2)
    bad_key = cli(
        "approve", spec_of(design_path), "--gate", "spec", "--by", "a", "--key", tmp_path / "k.pem"
    )
    _clean(bad_key, 2)
    assert "key file not found" in bad_key.stderr
    (example_repo / "approvers.yaml").write_text("approvers: 3\n")
    policy = cli("approve", spec_of(design_path), "--gate", "spec", "--by", "a")
    _clean(policy, 2)
    assert "error: approvers.yaml:1" in policy.stderr
    _clean(cli("gates", "check", tmp_path / "none.yaml"), 2)


def test_four_eyes_message(design_path: Path, example_repo: Path, cli: CliRun) -> None:
    write_policy(
        example_repo, four_eyes=True, approvers=[{"name": "j.doe", "gates": ["spec", "design"]}]
    )
    _clean(cli("approve", spec_of(design_path), "--gate", "spec", "--by", "j.doe"), 0)
    result = cli("approve", design_path, "--gate", "design", "--by", "j.doe")
    _clean(result, 3)
    assert "four-eyes policy: j.doe is the design's author" in result.stderr


def test_keys_generate_and_signed_approval(
    design_path: Path, example_repo: Path, tmp_path: Path, cli: CliRun
) -> None:
    key = tmp_path / "a.pem"
    gen = cli("keys", "generate", "--out", key)
    _clean(gen, 0)
    public = gen.stdout.strip()
    assert len(base64.b64decode(public)) == 32
    assert "PRIVATE KEY" not in gen.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = cli("keys", "generate", "--out", key)
    _clean(again, 2)
    assert "refusing to overwrite" in again.stderr

    write_policy(
        example_repo,
        require_signatures=True,
        approvers=[{"name": "a.smith", "public_key": public, "gates": ["spec"]}],
    )
    unsigned = cli("approve", spec_of(design_path), "--gate", "spec", "--by", "a.smith")
    _clean(unsigned, 3)
    assert "requires signed approvals" in unsigned.stderr
    signed = cli(
        "approve", spec_of(design_path), "--gate", "spec", "--by", "a.smith", "--key", key, "--json"
    )
    _clean(signed, 0)
    data = json.loads(signed.stdout)
    assert data["signed"] is True
    assert data["fingerprint"].startswith("SHA256:")
    assert "PRIVATE KEY" not in (example_repo / "audit" / "audit.jsonl").read_text()


def test_wrong_gate_for_the_artifact_changes_nothing(
    design_path: Path, example_repo: Path, cli: CliRun
) -> None:
    """Issue 11 item 6: a design with --gate spec, a spec with --gate design: exit 2, one
    line naming the right gate, no approval and no audit entry written."""
    spec = spec_of(design_path)
    for artifact, gate, right in ((design_path, "spec", "design"), (spec, "design", "spec")):
        res = cli("approve", artifact, "--gate", gate, "--by", "a.smith")
        _clean(res, 2)
        assert "wrong gate for this artifact" in res.stderr
        assert f"--gate {right}" in res.stderr
        assert "invalid YAML" not in res.stderr
    assert not (design_path.parent / "approvals").exists()
    assert not (example_repo / "audit").exists()
