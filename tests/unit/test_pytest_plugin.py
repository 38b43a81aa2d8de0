"""The pytest plugin's offline layer (no device): golden renders and parser fixtures as items."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE


def _pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    empty = root / "empty-tests"
    empty.mkdir(exist_ok=True)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(empty),
            str(empty),
            "--sdd-design",
            str(root / EXAMPLE / "solution-design.yaml"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=root,
    )


def test_offline_layer_items_in_layer_order(example_repo: Path) -> None:
    proc = _pytest(example_repo, "-v", "--junitxml", str(example_repo / "j.xml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "offline/" in line and "PASSED" in line]
    assert [line.split("::")[-1].split()[0] for line in lines] == [
        "offline/L0/ospf-neighbors[0]",
        "offline/L0/ospf-process[0]",
        "offline/L0/vtysh-json[0]",
        "offline/L1/ospf-interfaces[0]",
        "offline/L1/ospf-interfaces[1]",
    ]
    assert 'tests="5"' in (example_repo / "j.xml").read_text()


def test_a_golden_mismatch_fails_its_item_with_the_diff(example_repo: Path) -> None:
    golden = example_repo / EXAMPLE / "fixtures/r2.ospf_process.cfg"
    golden.write_text(golden.read_text().replace("router ospf", "router ospf 9"))
    proc = _pytest(example_repo)
    assert proc.returncode == 1
    assert "-router ospf 9" in proc.stdout
    assert "1 failed, 4 passed" in proc.stdout


def test_failures_shown_by_pytest_are_masked(example_repo: Path) -> None:
    """pytest prints (and writes to --junitxml) what the plugin reports: masked like all output."""
    template = example_repo / "templates/frr/ospf_process.j2"
    template.write_text(
        template.read_text().replace(
            " log-adjacency-changes\n",
            " log-adjacency-changes\n neighbor 10.0.0.9 password Plugin-Secret-1\n",
        )
    )
    proc = _pytest(example_repo, "--junitxml", str(example_repo / "j.xml"))
    assert proc.returncode == 1
    assert "password <redacted>" in proc.stdout
    for text in (proc.stdout, proc.stderr, (example_repo / "j.xml").read_text()):
        assert "Plugin-Secret-1" not in text


def test_the_readme_ci_command_at_a_project_root_runs_only_the_designs_items(
    example_repo: Path,
) -> None:
    """Issue 11 item 8: at a root whose pytest config collects its own tests, the README's
    command (no --rootdir, no path) runs the design's items only."""
    (example_repo / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
    )
    (example_repo / "tests").mkdir()
    (example_repo / "tests/test_own.py").write_text("def test_own():\n    raise AssertionError\n")
    junit = example_repo / "out.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--sdd-design",
         f"{EXAMPLE}/solution-design.yaml", "--junitxml", str(junit)],
        capture_output=True, text=True, timeout=120, check=False, cwd=example_repo,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 passed" in proc.stdout
    assert "test_own" not in proc.stdout + junit.read_text()
    assert 'tests="5"' in junit.read_text()


def test_check_tests_are_offline_items(example_repo: Path) -> None:
    """Issue 11 item 2: the checks run on recorded outputs are items of the offline layer."""
    from tests.unit.offline.test_fixtures_and_check_tests import _record, _with_check_tests

    design = example_repo / EXAMPLE / "solution-design.yaml"
    rec = _record(design, "r1.json", {"routerId": "10.0.0.1"})
    _with_check_tests(design, f"      - {{host: r1, outputs: [{rec}], expect: {{AC-3: pass}}}}\n")
    proc = _pytest(example_repo, "-v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"offline/L\d+/verify-router-id/check\[0\] PASSED", proc.stdout), proc.stdout
    assert "6 passed" in proc.stdout
