"""Bad input gets one clear error: exit 2, file:line and the offending ids, never a traceback.

Each case mutates a private copy of the shipped example and runs ``sdd-build validate``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, CliRun

Mutator = Callable[[Path], None]


def _edit(rel: str, old: str, new: str) -> Mutator:
    def mutate(root: Path) -> None:
        path = root / rel
        text = path.read_text()
        assert old in text, f"test setup: {old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    return mutate


def _write(rel: str, content: str | bytes) -> Mutator:
    def mutate(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return mutate


def _append(rel: str, text: str) -> Mutator:
    def mutate(root: Path) -> None:
        path = root / rel
        path.write_text(path.read_text() + text)

    return mutate


def _chain(*mutators: Mutator) -> Mutator:
    def mutate(root: Path) -> None:
        for m in mutators:
            m(root)

    return mutate


D = f"{EXAMPLE}/solution-design.yaml"
S = f"{EXAMPLE}/customer-spec.md"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefg", "bcdefgh", strict=True)
)

# (case id, mutation, regexes that must all appear in stderr)
CASES: list[tuple[str, Mutator, list[str]]] = [
    ("malformed-yaml", _edit(D, "version: 1\n", "version: [1\n"), [rf"{D}:\d+:\d+: invalid YAML"]),
    ("wrong-type", _edit(D, "version: 1\n", "version: one\n"), [rf"{D}:4:\d+: version: .*integer"]),
    (
        "unknown-top-key",
        _edit(D, "version: 1\n", "version: 1\nowner: x\n"),
        [rf"{D}:5:1: unknown key 'owner'"],
    ),
    (
        "unknown-component-key",
        _edit(D, "template: frr/ospf_process.j2", "template: frr/ospf_process.j2\n    colour: red"),
        [rf"{D}:\d+:5: unknown key 'colour'"],
    ),
    (
        "duplicate-component-id",
        _edit(D, "id: ospf-process", "id: ospf-interfaces"),
        [rf"{D}:\d+:\d+: duplicate component id 'ospf-interfaces'"],
    ),
    (
        "cycle",
        _edit(
            D,
            "description: The OSPF process with the loopback as router ID.",
            "depends_on: [verify-router-id]",
        ),
        [r"dependency cycle: (\S+ -> ){3}\S+", "ospf-process", "verify-router-id", "ospf-config"],
    ),
    (
        "self-dependency",
        _edit(
            D,
            "description: The OSPF process with the loopback as router ID.",
            "depends_on: [ospf-process]",
        ),
        [rf"{D}:\d+:\d+: component 'ospf-process' depends on itself"],
    ),
    (
        "unknown-dependency",
        _edit(D, "depends_on: [ospf-config]", "depends_on: [ospf-confg]"),
        [
            rf"{D}:\d+:\d+: component 'verify-ospf-neighbors' depends on unknown component 'ospf-confg'"
        ],
    ),
    (
        "missing-template",
        _edit(D, "template: frr/ospf_process.j2", "template: frr/nope.j2"),
        [
            rf"{D}:\d+:\d+: template not found: templates/frr/nope.j2 \(component "
            r"'ospf-process'; looked in /\S+/templates: pass --root"
        ],
    ),
    (
        "missing-parser-template",
        _chain(
            _edit(D, "template: frr/show_ip_ospf_neighbor.textfsm", "template: frr/gone.textfsm")
        ),
        [rf"{D}:\d+:\d+: parser template not found: parsers/frr/gone.textfsm"],
    ),
    (
        "missing-fixture",
        _edit(D, "expect: fixtures/r2.ospf_process.cfg", "expect: fixtures/missing.cfg"),
        [rf"{D}:\d+:\d+: fixture file not found: fixtures/missing.cfg"],
    ),
    (
        "jinja-syntax-error",
        _append("templates/frr/ospf_process.j2", "{% if %}\n"),
        [r"templates/frr/ospf_process.j2:\d+"],
    ),
    (
        "undefined-variable",
        _edit(
            "templates/frr/ospf_process.j2",
            "log-adjacency-changes",
            "log-adjacency-changes {{ host.data.ospf_log_level }}",
        ),
        [r"templates/frr/ospf_process.j2:4", "ospf_log_level", r"r1|r2|r3"],
    ),
    (
        "injection",
        _edit(
            "inventory/hosts.yaml",
            "{name: eth1, address: 10.1.12.0/31, peer: r2}",
            '{name: eth1, address: 10.1.12.0/31, peer: "r2\\nrouter bgp 666"}',
        ),
        [r"templates/frr/ospf_interfaces.j2:8", "iface.peer", "r1", r"(?i)newline|control"],
    ),
    (
        "bad-textfsm",
        _write(
            "parsers/frr/show_ip_ospf_neighbor.textfsm",
            "Value X (\\S+)\nValue Broken\n\nStart\n  ^${X} -> Record\n",
        ),
        [r"parsers/frr/show_ip_ospf_neighbor.textfsm:\d+"],
    ),
    (
        "fixture-mismatch",
        _edit(f"{EXAMPLE}/fixtures/r2.ospf_process.cfg", "router ospf", "router ospf 7"),
        [
            rf"{D}:\d+:\d+: golden render of 'ospf-process' differs",
            r"^-router ospf 7",
            r"^\+router ospf$",
        ],
    ),
    (
        "parser-fixture-mismatch",
        _edit(f"{EXAMPLE}/fixtures/show_ip_ospf_neighbor.r1.json", "10.0.0.2", "10.0.0.99"),
        [rf"{D}:\d+:\d+: parser 'ospf-neighbors' output", "10.0.0.99"],
    ),
    (
        "unknown-requirement",
        _edit(D, "covers: [REQ-3]", "covers: [REQ-3, REQ-99]"),
        [rf"{D}:\d+:\d+: check 'AC-3' covers REQ-99, which is not a requirement"],
    ),
    (
        "uncovered-requirement",
        _append(S, "\n- REQ-4: Every router logs to the collector.\n"),
        [rf"{S}:\d+: REQ-4 is not covered by any acceptance check"],
    ),
    (
        "reuse-hash-mismatch",
        _append("parsers/frr/show_ip_ospf_neighbor.textfsm", "\n"),
        [rf"{D}:\d+:\d+: reused asset parsers/frr/show_ip_ospf_neighbor.textfsm changed"],
    ),
    ("empty-design", _write(D, ""), [rf"{D}:1: design is empty"]),
    (
        "target-group-missing",
        _edit(D, "groups: [core]", "groups: [core, edge]"),
        [rf"{D}:\d+:\d+: target group 'edge' is not in the inventory"],
    ),
    (
        "target-host-missing",
        _edit(D, "groups: [core]", "groups: [core]\n  hosts: [r9]"),
        [rf"{D}:\d+:\d+: target host 'r9' is not in the inventory"],
    ),
    (
        "path-escape",
        _edit(D, "template: frr/ospf_process.j2", "template: ../../../../etc/passwd"),
        [rf"{D}:\d+:\d+: template path '../../../../etc/passwd' escapes the repository"],
    ),
    ("alias-bomb", _write(D, BOMB), [rf"{D}: YAML expands to more than \d+ nodes"]),
    (
        "huge-file",
        _write(D, "# " + "x" * (21 * 1024 * 1024) + "\n"),
        [rf"{D}: file is \d+ bytes, larger than"],
    ),
    ("binary-file", _write(D, b"\x7fELF\x02\x01\x01\x00\x00\x00"), [rf"{D}: binary file"]),
    ("empty-spec", _write(S, ""), [rf"{S}:1: spec is empty"]),
    (
        "spec-without-requirements",
        _write(S, "# Title\n\nJust prose.\n"),
        [rf"{S}:1: no requirements found"],
    ),
    (
        "duplicate-yaml-key",
        _edit(D, "version: 1\n", "version: 1\nversion: 2\n"),
        [rf"{D}:5:1: duplicate key"],
    ),
    (
        "unknown-kind",
        _edit(D, "kind: workflow\n    description: All", "kind: flow\n    description: All"),
        [rf"{D}:\d+:\d+: unknown component kind 'flow'"],
    ),
    (
        "missing-required-key",
        _edit(D, "    template: frr/ospf_process.j2\n", ""),
        [rf"{D}:\d+:\d+: missing required key 'template'"],
    ),
    (
        "workflow-contract",
        _edit(
            D,
            "steps: [ospf-config, verify-ospf-neighbors, verify-router-id, verify-ospf-routes]",
            "steps: [ospf-config, verify-router-id, verify-ospf-routes]\n    depends_on: []",
        ),
        [r"workflow 'underlay': its step 'verify-ospf-routes' depends on 'verify-ospf-neighbors'"],
    ),
    (
        "unreachable",
        _edit(
            D,
            "  # --- parent workflow: the use case ---",
            "  - {id: orphan, kind: command_template, commands: [show version], acceptance: [{id: AC-9, covers: [REQ-1], expect: {query: '@', matches: FRR}}]}\n"
            "  # --- parent workflow: the use case ---",
        ),
        [rf"{D}:\d+:\d+: component 'orphan' is unreachable"],
    ),
    (
        "bad-jmespath",
        _edit(D, 'query: "routerId"', 'query: "routerId["'),
        [rf"{D}:\d+:?\d*:? .*AC-3"],
    ),
    (
        "bad-regex",
        _edit(
            D, 'expect: {query: "routerId", eq:', 'expect: {query: "routerId", matches: "([", eq:'
        ),
        [rf"{D}:\d+:\d+: .*(regular expression|exactly one comparison)"],
    ),
    (
        "two-comparisons",
        _edit(D, "gte: 3}", "gte: 3, lt: 9}"),
        [rf"{D}:\d+:\d+: .*exactly one comparison.*got (gte, lt|lt, gte)"],
    ),
    (
        "unverified-config",
        _edit(
            D,
            "depends_on: [ospf-config]\n    acceptance:\n      - id: AC-3",
            "acceptance:\n      - id: AC-3",
        ),
        [],
    ),  # still verified through verify-ospf-neighbors: must stay valid (negative control below)
    (
        "parser-is-not-a-parser",
        _edit(D, "parser: ospf-neighbors", "parser: ospf-process"),
        [
            rf"{D}:\d+:\d+: component 'verify-ospf-neighbors' uses 'ospf-process' as its parser, but 'ospf-process' is a config_template"
        ],
    ),
    (
        "inventory-unknown-group",
        _edit("inventory/hosts.yaml", "groups: [core]", "groups: [core, spine]"),
        [r"inventory/hosts.yaml:\d+:\d+: unknown group 'spine'"],
    ),
    (
        "spec-missing",
        _edit(D, "spec: customer-spec.md", "spec: requirements.md"),
        [rf"{EXAMPLE}/requirements.md: spec file not found"],
    ),
    (
        "design-not-mapping",
        _write(D, "- just\n- a list\n"),
        [rf"{D}:1: a design is a YAML mapping"],
    ),
    (
        "targets-empty",
        _edit(D, "groups: [core]", "groups: []"),
        [rf"{D}:\d+:\d+: targets: targets must name at least one group or host"],
    ),
    # issue 11 item 3: the query is one JMESPath for every host, never a template
    (
        "templated-query",
        _edit(D, 'query: "routerId"', 'query: "[?routerId==`{{ host.data.loopback }}`]"'),
        [rf"{D}:\d+:\d+: .*expect.query is not templated .*move the per-host value"],
    ),
    # issue 11 item 4: the parser applies to command 0; a structured query on raw text
    (
        "structured-query-on-raw-command",
        _edit(
            D,
            'commands: ["show ip ospf json"]\n    parser: vtysh-json\n    depends_on: [ospf-config]\n'
            "    acceptance:\n      - id: AC-3\n",
            'commands: ["show ip ospf json", "show ip ospf json"]\n    parser: vtysh-json\n'
            "    depends_on: [ospf-config]\n    acceptance:\n      - id: AC-3\n        command: 1\n",
        ),
        [
            rf"{D}:\d+:\d+: check 'AC-3' queries 'routerId' on the raw text of command 1 "
            r"\(the parser 'vtysh-json' applies to command 0 only\)"
        ],
    ),
    (
        "check-on-missing-command",
        _edit(D, "      - id: AC-3\n", "      - id: AC-3\n        command: 3\n"),
        [rf"{D}:\d+:\d+: check 'AC-3' reads command 3, but 'verify-router-id' has 1 command"],
    ),
]


@pytest.mark.parametrize(("case", "mutate", "patterns"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_error(
    case: str, mutate: Mutator, patterns: list[str], example_repo: Path, cli: CliRun
) -> None:
    mutate(example_repo)
    result = cli("validate", example_repo / D, "--root", example_repo)
    output = result.stderr if result.stderr_bytes is not None else result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if not patterns:
        assert result.exit_code == 0, output
        return
    assert result.exit_code == 2, f"{case}: exit {result.exit_code}\n{result.output}"
    for pattern in patterns:
        assert re.search(pattern, output, re.M), f"{case}: /{pattern}/ not in:\n{output}"


def test_all_problems_are_listed_not_just_the_first(example_repo: Path, cli: CliRun) -> None:
    _chain(
        _edit(D, "version: 1\n", "version: 1\nowner: x\n"),
        _edit(D, "template: frr/ospf_process.j2", "template: frr/ospf_process.j2\n    colour: red"),
    )(example_repo)
    result = cli("validate", example_repo / D, "--root", example_repo)
    assert result.exit_code == 2
    assert "unknown key 'owner'" in result.stderr
    assert "unknown key 'colour'" in result.stderr


def test_validate_json_lists_problems(example_repo: Path, cli: CliRun) -> None:
    _edit(D, "depends_on: [ospf-config]", "depends_on: [ghost]")(example_repo)
    result = cli("validate", example_repo / D, "--root", example_repo, "--json")
    assert result.exit_code == 2
    import json

    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert any(
        p["file"] == D and isinstance(p["line"], int) and "ghost" in p["message"]
        for p in data["problems"]
    )


def test_design_not_found(tmp_path: Path, cli: CliRun) -> None:
    result = cli("validate", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "design file not found" in result.stderr
    assert "Traceback" not in result.output


def test_a_template_error_is_printed_once(example_repo: Path, cli: CliRun) -> None:
    """Issue 11 item 8: the golden render of a template that failed to render does not
    report the same template line again."""
    _edit("templates/frr/ospf_process.j2", "log-adjacency-changes", "{{ vars.nope }}")(example_repo)
    result = cli("validate", example_repo / D, "--root", example_repo)
    assert result.exit_code == 2
    lines = [x for x in result.stderr.splitlines() if "ospf_process.j2:4:" in x]
    assert lines == [
        "error: templates/frr/ospf_process.j2:4: host r1: undefined variable vars.nope "
        "('dict object' has no attribute 'nope')",
        "error: templates/frr/ospf_process.j2:4: component 'ospf-process': 2 more host(s) "
        "failed to render (r2, r3)",
    ]
