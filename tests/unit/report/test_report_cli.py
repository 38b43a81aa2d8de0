"""``sdd-build report <build-dir> [--format md|html|json|junit]``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliRun
from tests.unit.report.conftest import fixture_record


def test_writes_every_format(cli: CliRun, failed_build: Path) -> None:
    before = (failed_build / "as-built.json").read_bytes()
    res = cli("report", failed_build)
    assert res.exit_code == 0, res.output
    for name in ("as-built.md", "report.html", "junit.xml"):
        assert (failed_build / name).is_file()
        assert f"wrote {failed_build / name}" in res.output
    assert (failed_build / "as-built.json").read_bytes() == before


@pytest.mark.parametrize(
    ("fmt", "name"), [("md", "as-built.md"), ("html", "report.html"), ("junit", "junit.xml")]
)
def test_one_format(cli: CliRun, failed_build: Path, fmt: str, name: str) -> None:
    res = cli("report", failed_build, "--format", fmt)
    assert res.exit_code == 0, res.output
    written = sorted(p.name for p in failed_build.iterdir() if p.is_file())
    assert written == sorted(["as-built.json", name])


def test_json_prints_the_validated_record(cli: CliRun, failed_build: Path) -> None:
    res = cli("report", failed_build, "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == fixture_record("failed")
    assert sorted(p.name for p in failed_build.iterdir() if p.is_file()) == ["as-built.json"]


def test_regenerating_gives_the_same_files(cli: CliRun, designed_build: Path) -> None:
    assert cli("report", designed_build).exit_code == 0
    first = {p.name: p.read_bytes() for p in designed_build.iterdir() if p.is_file()}
    assert cli("report", designed_build).exit_code == 0
    second = {p.name: p.read_bytes() for p in designed_build.iterdir() if p.is_file()}
    assert first == second


def _one_clear_error(res: object) -> str:
    out = getattr(res, "output", "")
    assert getattr(res, "exit_code", None) == 2, out
    assert "Traceback" not in out
    assert out.startswith("error: "), out
    return str(out)


def test_missing_build_dir(cli: CliRun, tmp_path: Path) -> None:
    out = _one_clear_error(cli("report", tmp_path / "builds" / "nope"))
    assert "not a build folder" in out


def test_not_a_build_dir(cli: CliRun, tmp_path: Path) -> None:
    out = _one_clear_error(cli("report", tmp_path))
    assert "no as-built.json" in out
    assert "hint: give a build folder" in out
    assert list(tmp_path.iterdir()) == []


def test_malformed_json(cli: CliRun, tmp_path: Path) -> None:
    (tmp_path / "as-built.json").write_text('{"build_id": "x",')
    out = _one_clear_error(cli("report", tmp_path, "--format", "html"))
    assert f"{tmp_path / 'as-built.json'}:1:" in out
    assert "malformed JSON" in out
    assert not (tmp_path / "report.html").exists()


def test_record_outside_the_contract(cli: CliRun, tmp_path: Path) -> None:
    rec = fixture_record("failed")
    rec["components"][0]["hosts"]["r1"]["status"] = "exploded"
    (tmp_path / "as-built.json").write_text(json.dumps(rec))
    out = _one_clear_error(cli("report", tmp_path, "--format", "json"))
    assert "components.0.hosts.r1.status" in out


def test_bad_format_is_a_usage_error(cli: CliRun, failed_build: Path) -> None:
    res = cli("report", failed_build, "--format", "pdf")
    assert res.exit_code == 2
    assert "Traceback" not in res.output
