"""``sdd-build audit verify``: exit 0 and a summary when intact, 3 naming lines when broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdd_build.audit import AuditLog
from tests.conftest import CliRun


def _seed(root: Path) -> AuditLog:
    log = AuditLog(root)
    for i in range(4):
        log.append("build", actor="ci", build_id=f"b{i}")
    return log


def test_intact_log(tmp_path: Path, cli: CliRun) -> None:
    _seed(tmp_path)
    result = cli("audit", "verify", tmp_path)
    assert result.exit_code == 0
    assert "audit log intact: 4 entries, seq 1..4" in result.stdout
    data = json.loads(cli("audit", "verify", tmp_path, "--json").stdout)
    assert data["ok"] is True
    assert data["entries"] == 4


def test_broken_log_exits_3_naming_the_line(tmp_path: Path, cli: CliRun) -> None:
    log = _seed(tmp_path)
    lines = log.path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"b1"', '"b9"')
    del lines[2]
    log.path.write_text("".join(lines))
    result = cli("audit", "verify", tmp_path)
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert "error: audit/audit.jsonl:2: seq 2: edited" in result.stderr
    assert "error: audit/audit.jsonl:3: seq 4: entry seq 3 deleted" in result.stderr
    data = json.loads(cli("audit", "verify", tmp_path, "--json").stdout)
    assert data["ok"] is False
    assert [p["line"] for p in data["problems"]] == [2, 3]


def test_default_directory_is_the_repository_around_cwd(
    example_repo: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(example_repo)
    monkeypatch.chdir(example_repo / "designs" / "ospf-underlay")
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "4 entries" in result.stdout


def test_no_log_yet(tmp_path: Path, cli: CliRun) -> None:
    result = cli("audit", "verify", tmp_path)
    assert result.exit_code == 0
    assert "no audit log" in result.stdout
