"""Design variables declared secret: masked by value in ``plan`` (unless --show-secrets),
refused at validate when undefined or too short; the audit chain binds masked data."""

from __future__ import annotations

import json
from pathlib import Path

from sdd_build.audit import AuditLog
from sdd_build.secrets import MASK, register_secrets
from tests.conftest import CliRun

NOTE = "Plan-Secret-Value-9"
AUTH = "AuthKey1x"
HOST_KEY = "Host-Data-Key-r2"


def _with_secrets(design_path: Path, secrets: str = "[note_key, peer_key]") -> None:
    root = design_path.parents[2]
    (root / "templates/frr/auth.j2").write_text(
        "interface eth1\n"
        " ip ospf authentication-key {{ vars.ospf_auth }}\n"
        "exit\n"
        "! {{ vars.note_key }} {{ host.data.peer_key | default('') }}\n"
    )
    hosts = root / "inventory/hosts.yaml"
    hosts.write_text(
        hosts.read_text().replace(
            "    router_id: 10.0.0.2\n", f"    router_id: 10.0.0.2\n    peer_key: {HOST_KEY}\n"
        )
    )
    text = design_path.read_text()
    text = text.replace(
        "components:\n",
        f"vars: {{ospf_auth: {AUTH}, note_key: {NOTE}}}\nsecrets: {secrets}\n\ncomponents:\n"
        "  - id: auth\n    kind: config_template\n    template: frr/auth.j2\n"
        "    acceptance_exempt: secrets under test, no check needed\n",
        1,
    )
    text = text.replace(
        "    steps: [ospf-config, verify-ospf-neighbors,",
        "    steps: [auth, ospf-config, verify-ospf-neighbors,",
    )
    design_path.write_text(text)


def test_plan_masks_declared_and_syntax_secrets(design_path: Path, cli: CliRun) -> None:
    _with_secrets(design_path)
    for args in ((), ("--json",), ("--host", "r2")):
        result = cli("plan", design_path, *args)
        assert result.exit_code == 0, result.output
        for secret in (NOTE, AUTH, HOST_KEY):
            assert secret not in result.output, (args, secret)
        assert MASK in result.output


def test_plan_show_secrets_prints_them_on_stdout(design_path: Path, cli: CliRun) -> None:
    _with_secrets(design_path)
    result = cli("plan", design_path, "--host", "r2", "--show-secrets")
    assert result.exit_code == 0, result.output
    assert NOTE in result.stdout
    assert AUTH in result.stdout
    assert HOST_KEY in result.stdout
    assert "secrets shown" in result.stderr
    as_json = cli("plan", design_path, "--json", "--show-secrets")
    assert NOTE in json.loads(as_json.stdout)["rendered"]["r1"]["auth"]


def test_undefined_secret_name_is_refused(design_path: Path, cli: CliRun) -> None:
    _with_secrets(design_path, "[note_key, not_defined]")
    result = cli("validate", design_path)
    assert result.exit_code == 2
    assert "secret variable 'not_defined' is defined nowhere" in result.stderr
    assert "solution-design.yaml:" in result.stderr


def test_short_secret_value_is_refused(design_path: Path, cli: CliRun) -> None:
    _with_secrets(design_path)
    design_path.write_text(design_path.read_text().replace(f"note_key: {NOTE}", "note_key: abc"))
    result = cli("validate", design_path)
    assert result.exit_code == 2
    assert "'note_key' is shorter than 4 characters" in result.stderr


def test_audit_entries_are_masked_before_they_are_chained(tmp_path: Path) -> None:
    register_secrets([NOTE])
    log = AuditLog(tmp_path)
    log.append("note", actor="a", reason=f"because {NOTE}", line=" enable password Aud-1234")
    text = (tmp_path / "audit/audit.jsonl").read_text()
    assert NOTE not in text
    assert "Aud-1234" not in text
    assert log.verify().ok
