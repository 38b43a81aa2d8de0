"""Trust I item 10: every input is bounded. Each bad input goes through the CLI in a subprocess
(no stdin, a timeout): it is refused with exit 2 (3 for approval records), one ``error:`` line
naming the file, and never a traceback or a hang.

Bounds are lowered through their environment variables where the default would only make the
test slow (``SDD_RENDER_SECONDS``, ``SDD_PARSE_SECONDS``, ``SDD_MAX_FILE_BYTES``): that also
proves the overrides work. Builds go through a counting proxy: zero device contact.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from sdd_build.gates import approve
from tests.labkit import CountingProxy, copy_repo, sdd

EXAMPLE = "designs/ospf-underlay"
D = f"{EXAMPLE}/solution-design.yaml"
SPEC = f"{EXAMPLE}/customer-spec.md"
FIX = f"{EXAMPLE}/fixtures"
TIMEOUT = 120  # a hang fails the test (TimeoutExpired), it never blocks the suite

Mutation = Callable[[Path], None]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    copy_repo(root, ["templates", "parsers", "inventory", EXAMPLE])
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    return root


def _fifo(rel: str) -> Mutation:
    def mutate(root: Path) -> None:
        (root / rel).unlink()
        os.mkfifo(root / rel)

    return mutate


def _write(rel: str, data: str | bytes) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / rel
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)

    return mutate


def _append(rel: str, text: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / rel
        path.write_text(path.read_text() + text)

    return mutate


def _unpin_neighbor_parser(root: Path) -> None:
    """Drop the reuse pin so the parser template itself can be edited (else: hash mismatch)."""
    design = root / D
    text = design.read_text()
    start = text.index("    reuse:\n      asset: parsers/frr/show_ip_ospf_neighbor.textfsm")
    end = text.index("    tests:", start)
    design.write_text(text[:start] + text[end:])


def _chain(*mutations: Mutation) -> Mutation:
    def mutate(root: Path) -> None:
        for m in mutations:
            m(root)

    return mutate


BINARY = bytes(range(256)) * 8
DEEP_JSON = "[" * 100_000 + "]" * 100_000
LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n"

# (id, mutation, environment, words in the first error line, error lines allowed)
CASES: list[tuple[str, Mutation, dict[str, str], str, int]] = [
    ("fifo-design", _fifo(D), {}, f"{D}: is a FIFO", 1),
    ("fifo-template", _fifo("templates/frr/ospf_process.j2"), {}, "ospf_process.j2", 1),
    ("fifo-parser", _fifo("parsers/frr/show_ip_ospf_neighbor.textfsm"), {}, "textfsm", 1),
    ("fifo-fixture", _fifo(f"{FIX}/show_ip_ospf_neighbor.r1.txt"), {}, "r1.txt", 1),
    (
        "oversized-design",
        _append(D, "# padding\n" * 400),
        {"SDD_MAX_FILE_BYTES": "4000"},
        "larger than the 4000-byte limit",
        1,
    ),
    (
        "binary-template",
        _write("templates/frr/ospf_process.j2", BINARY),
        {},
        "binary file (contains NUL bytes)",
        1,
    ),
    (
        "binary-parser-input",
        _write(f"{FIX}/show_ip_ospf_neighbor.r1.txt", BINARY),
        {},
        "show_ip_ospf_neighbor.r1.txt: binary file",
        1,
    ),
    (
        "deep-json-expected",
        _write(f"{FIX}/show_ip_route_ospf_json.r1.json", DEEP_JSON),
        {},
        "nested deeper than 100 levels",
        1,
    ),
    (
        "deep-json-parser-input",
        _write(f"{FIX}/show_ip_route_ospf_json.r1.txt", DEEP_JSON),
        {},
        "nested deeper than 100 levels",
        1,
    ),
    (
        "deep-yaml-host-vars",
        _write(f"{FIX}/edge-host.yaml", "data: " + "[" * 20_000 + "]" * 20_000 + "\n"),
        {},
        "edge-host.yaml: YAML",
        1,
    ),
    (
        "deep-yaml-design",
        _append(D, "deep: " + "[" * 20_000 + "]" * 20_000 + "\n"),
        {},
        f"{D}: YAML",
        1,
    ),
    (
        # validate renders each target host (one line per host, then a summary): the bound
        # holds per render, so the refusal takes ~ hosts x SDD_RENDER_SECONDS
        "render-nested-loops",
        _append("templates/frr/ospf_process.j2", LOOPS),
        {"SDD_RENDER_SECONDS": "1"},
        "rendering took longer than 1 s in the loop at line",
        4,
    ),
    (
        "render-huge-power",
        _append("templates/frr/ospf_process.j2", "{{ 7 ** 1000000000 }}\n"),
        {},
        "too large a number",
        4,
    ),
    (
        "textfsm-catastrophic-backtracking",
        _chain(
            _unpin_neighbor_parser,
            _append("parsers/frr/show_ip_ospf_neighbor.textfsm", "  ^(a|aa)+$$ -> Record\n"),
            _append(f"{FIX}/show_ip_ospf_neighbor.r1.txt", "a" * 40 + "!\n"),
        ),
        {"SDD_PARSE_SECONDS": "1"},
        "regular expressions ran longer than 1 s",
        1,
    ),
]


def _errors(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert lines, "no error line on stderr"
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), proc.stderr
    return [line for line in lines if line.startswith("error: ")]


@pytest.mark.parametrize(
    ("mutate", "env", "words", "most"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_bad_input_refused(
    repo: Path,
    command: str,
    mutate: Mutation,
    env: dict[str, str],
    words: str,
    most: int,
) -> None:
    mutate(repo)
    proc = sdd(repo, command, D, timeout=TIMEOUT, env=env)
    assert proc.returncode == 2, proc.stderr
    errors = _errors(proc)
    assert words in errors[0], proc.stderr
    assert 1 <= len(errors) <= most, proc.stderr


def test_approve_refuses_a_bad_input(repo: Path) -> None:
    assert sdd(repo, "approve", SPEC, "--gate", "spec", "--by", "a.smith").returncode == 0
    _fifo(f"{FIX}/show_ip_ospf_neighbor.r1.txt")(repo)
    proc = sdd(repo, "approve", D, "--gate", "design", "--by", "b.jones", timeout=TIMEOUT)
    assert proc.returncode == 2, proc.stderr
    assert "r1.txt" in _errors(proc)[0]


# -- approval records: refused with exit 3, before any device contact -------------------------


@pytest.fixture
def approved(repo: Path) -> Iterator[tuple[Path, CountingProxy]]:
    """The example approved (spec and design), its hosts' connections through a proxy."""
    approve(repo / SPEC, gate="spec", by="a.smith", root=repo)
    approve(repo / D, gate="design", by="b.jones", root=repo)
    proxy = CountingProxy(1)  # nothing listens behind it: any contact is counted anyway
    hosts = yaml.safe_load((repo / "inventory/hosts.yaml").read_text())
    conn = {name: {"hostname": "127.0.0.1", "port": proxy.port} for name in hosts}
    (repo / "connections").mkdir()
    (repo / "connections/hosts.yaml").write_text(yaml.safe_dump(conn))
    try:
        yield repo, proxy
    finally:
        proxy.close()


def _deep_record(gate: str, deep: str) -> Mutation:
    def mutate(root: Path) -> None:
        path = root / EXAMPLE / "approvals" / f"{gate}.json"
        text = path.read_text().rstrip()
        assert text.endswith("}")
        path.write_text(text[:-1] + f', "deep": {deep}}}\n')

    return mutate


RECORD_CASES = {
    "deep-array-design-record": _deep_record("design", DEEP_JSON),
    "deep-object-spec-record": _deep_record("spec", '{"a":' * 100_000 + "1" + "}" * 100_000),
    "long-number-design-record": _deep_record("design", "1" * 5_000),
    "fifo-design-record": _fifo(f"{EXAMPLE}/approvals/design.json"),
    "binary-design-record": _write(f"{EXAMPLE}/approvals/design.json", BINARY),
}


@pytest.mark.parametrize("case", sorted(RECORD_CASES))
@pytest.mark.parametrize("command", ["gates check", "build --check", "build"])
def test_bad_approval_record_refused_before_contact(
    approved: tuple[Path, CountingProxy], case: str, command: str
) -> None:
    repo, proxy = approved
    RECORD_CASES[case](repo)
    extra = [] if command == "gates check" else ["--inventory", "connections"]
    proc = sdd(repo, *command.split(), D, *extra, timeout=TIMEOUT)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    if command != "gates check":  # gates check prints its table on stdout
        errors = _errors(proc)
        assert "approvals/" in errors[0], proc.stderr
    assert proxy.accepted == 0


def test_approve_refuses_a_bad_spec_record(approved: tuple[Path, CountingProxy]) -> None:
    repo, _ = approved
    RECORD_CASES["deep-object-spec-record"](repo)
    proc = sdd(repo, "approve", D, "--gate", "design", "--by", "b.jones", timeout=TIMEOUT)
    assert proc.returncode == 3, proc.stderr
    assert "approvals/spec.json" in _errors(proc)[0]


def test_the_unmodified_example_still_passes(approved: tuple[Path, CountingProxy]) -> None:
    """The control: the same commands on the untouched copy succeed (so refusals are real)."""
    repo, _ = approved
    for command in ("validate", "plan"):
        proc = sdd(repo, command, D, timeout=TIMEOUT)
        assert proc.returncode == 0, proc.stderr
    proc = sdd(repo, "gates", "check", D, "--json", timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)
