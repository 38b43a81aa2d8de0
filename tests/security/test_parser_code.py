"""Trust I item 4: parser templates are data. The attack: a TTP parser approved with
``<vars load="python" include="parsers/frr/aux_vars.txt"/>`` (and variants: the default
Python ``<vars>``, ``<macro>``, a lookup, an output returner, an eval'd argument), whose
included file holds code that would create a marker directory.

* ``validate`` and ``plan`` refuse it: exit 2, one located line;
* ``approve --gate design`` refuses it: exit 2;
* approved anyway (``validate`` skipped at approval, as an older release or a hand-made
  record would have it), ``build --check`` and ``build`` still refuse it before any device
  contact (counted by a proxy in front of every host) with exit 2;
* the code never ran: no marker, in any of these steps.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.labkit import CountingProxy, copy_repo, sdd

EXAMPLE = "designs/ospf-underlay"
D = f"{EXAMPLE}/solution-design.yaml"
SPEC = f"{EXAMPLE}/customer-spec.md"
TIMEOUT = 120

PARSER = """
  - id: iface-brief
    kind: parser
    description: FRR 'show interface brief' (TTP).
    engine: ttp
    template: frr/evil.ttp
    tests:
      - {input: fixtures/iface.txt, expect: fixtures/iface.json}

  - id: verify-interfaces
    kind: command_template
    commands: ["show interface brief"]
    parser: iface-brief
    depends_on: [ospf-config]
    acceptance:
      - id: AC-9
        covers: [REQ-1]
        expect: {query: "length(interfaces)", gte: 1}
"""
GROUP = '<group name="interfaces*">\n{{ interface | _start_ }} {{ status }} {{ vrf }}\n</group>\n'


def _exec_code(marker: Path) -> str:
    # works without builtins too (TTP execs <vars> with __builtins__ = None)
    return (
        '[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "catch_warnings"]'
        f'[0]()._module.__builtins__["__import__"]("os").makedirs({str(marker)!r}, exist_ok=True)'
    )


def _templates(marker: Path) -> dict[str, str]:
    code = _exec_code(marker)
    return {
        "vars-include": f'<vars load="python" include="parsers/frr/aux_vars.txt"/>\n{GROUP}',
        "vars-python-default": f"<vars>\nX = {code}\n</vars>\n{GROUP}",
        "macro": f"<macro>\nX = {code}\n</macro>\n{GROUP}",
        "lookup-include": f'<lookup name="l" include="parsers/frr/aux_vars.txt"/>\n{GROUP}',
        "output-returner-file": f'{GROUP}<output returner="file" url="./"/>\n',
        "eval-argument": GROUP.replace(
            "{{ status }}",
            f"{{{{ status | contains(sys.modules['os'].makedirs({str(marker)!r})) }}}}",
        ),
    }


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[tuple[Path, Path, CountingProxy]]:
    root = tmp_path / "repo"
    copy_repo(root, ["templates", "parsers", "inventory", EXAMPLE])
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    marker = tmp_path / "PWNED"
    (root / "parsers/frr/aux_vars.txt").write_text(f"X = {_exec_code(marker)}\n")
    (root / EXAMPLE / "fixtures/iface.txt").write_text("lo   up   default\n")
    (root / EXAMPLE / "fixtures/iface.json").write_text(
        '{"interfaces": [{"interface": "lo", "status": "up", "vrf": "default"}]}\n'
    )
    design = root / D
    text = design.read_text()
    anchor = "  # --- child workflow"
    text = text.replace(anchor, PARSER.lstrip("\n") + "\n" + anchor, 1)
    steps = "steps: [ospf-config, verify-ospf-neighbors, verify-router-id, verify-ospf-routes]"
    assert steps in text
    design.write_text(text.replace(steps, steps[:-1] + ", verify-interfaces]", 1))
    proxy = CountingProxy(1)  # nothing behind it: any connection attempt is counted
    hosts = yaml.safe_load((root / "inventory/hosts.yaml").read_text())
    (root / "connections").mkdir()
    (root / "connections/hosts.yaml").write_text(
        yaml.safe_dump({h: {"hostname": "127.0.0.1", "port": proxy.port} for h in hosts})
    )
    try:
        yield root, marker, proxy
    finally:
        proxy.close()


def _one_error(proc: subprocess.CompletedProcess[str], words: str) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    assert "parsers/frr/evil.ttp" in errors[0], proc.stderr
    assert words in errors[0], proc.stderr


# The approval without validate: the record and its audit entry as `approve` writes them.
_APPROVE_UNVALIDATED = """
import dataclasses, sys
import sdd_build.plan.validate as v
real = v.validate
def unvalidated(*args, **kwargs):
    return dataclasses.replace(real(*args, **kwargs), ok=True, problems=[])
v.validate = unvalidated
from sdd_build.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("case", sorted(_templates(Path("/m"))))
def test_code_in_a_parser_template_never_runs(
    repo: tuple[Path, Path, CountingProxy], case: str
) -> None:
    root, marker, proxy = repo
    (root / "parsers/frr/evil.ttp").write_text(_templates(marker)[case])

    for command in ("validate", "plan"):
        proc = sdd(root, command, D, timeout=TIMEOUT)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        _one_error(proc, "TTP template refused")

    assert sdd(root, "approve", SPEC, "--gate", "spec", "--by", "a.smith").returncode == 0
    proc = sdd(root, "approve", D, "--gate", "design", "--by", "b.jones", timeout=TIMEOUT)
    assert proc.returncode == 2, proc.stderr
    _one_error(proc, "TTP template refused")

    approved = subprocess.run(
        [sys.executable, "-c", _APPROVE_UNVALIDATED, "approve", D, "--gate", "design", "--by", "b"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert approved.returncode == 0, approved.stderr
    gates = sdd(root, "gates", "check", D, timeout=TIMEOUT)
    assert gates.returncode == 0, gates.stdout + gates.stderr  # the gates hold: it is approved

    for build in (["build", "--check"], ["build"]):
        proc = sdd(root, *build, D, "--inventory", "connections", timeout=TIMEOUT)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert "parsers/frr/evil.ttp" in proc.stderr
        assert "TTP template refused" in proc.stderr
    assert proxy.accepted == 0, "a device was contacted"
    assert not marker.exists(), "the parser template's code ran"
    assert not (root / "_root_template_").exists()  # the file returner's output
