"""The platform registry is the only place platform knowledge lives (issue 13, item 1)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sdd_build.platforms import PLATFORMS, SHIPPED, Platform, lookup

REPO = Path(__file__).resolve().parents[3]
SCANNED = ("sdd_build", "napalm_frr")


def _names_platform(node: ast.expr) -> bool:
    """``platform``, ``host.platform``, ``platform_name``, ``info.name`` of a platform ..."""
    if isinstance(node, ast.Name):
        return "platform" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return "platform" in node.attr.lower() or _names_platform(node.value)
    if isinstance(node, ast.Call):
        return _names_platform(node.func)
    return False


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_literal(e) for e in node.elts)
    return False


def _branches(tree: ast.AST) -> list[int]:
    """Lines that compare a platform with a literal name (``==``, ``!=``, ``in``) or match on
    one: a branch on the platform outside the registry."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_platform(o) for o in operands) and any(_is_literal(o) for o in operands):
                found.append(node.lineno)
        elif isinstance(node, ast.Match) and _names_platform(node.subject):
            found.append(node.lineno)
    return found


def test_no_code_outside_the_registry_branches_on_a_platform_name() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{line}"
        for package in SCANNED
        for path in sorted((REPO / package).rglob("*.py"))
        for line in _branches(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == [], "branch on a platform name; make it a field of the registry row"


@pytest.mark.parametrize(
    "source",
    [
        'if platform == "frr": pass',
        'if host.platform != "eos": pass',
        'x = task.host.platform in ("ios", "nxos")',
        'match platform:\n    case "junos": pass',
    ],
)
def test_the_scan_finds_a_branch_on_a_platform(source: str) -> None:
    assert _branches(ast.parse(source))


def test_every_row_is_named_as_registered_and_reachable() -> None:
    assert {"frr", "ios", "eos", "nxos", "iosxr", "junos", "linux"} <= {p.name for p in SHIPPED}
    for row in SHIPPED:
        name = row.name
        assert PLATFORMS[name] is row
        assert lookup(name) is row
        for alias in row.aliases:
            assert lookup(alias) is row
        assert row.napalm_driver or row.netmiko_device_type, name
        assert row.connection in {"napalm", "netmiko"} or row.plugin, name


def test_aliases_name_one_platform_each() -> None:
    names = [a for row in SHIPPED for a in (row.name, *row.aliases)]
    assert len(names) == len(set(names))


def test_the_netmiko_device_types_exist_in_netmiko() -> None:
    from netmiko.ssh_dispatcher import CLASS_MAPPER

    for row in SHIPPED:
        if row.netmiko_device_type:
            assert row.netmiko_device_type in CLASS_MAPPER, row.name


def test_the_syntax_families_exist_in_hier_config() -> None:
    from hier_config import Platform as HierPlatform

    for row in SHIPPED:
        if row.syntax not in (None, "frr"):
            assert row.syntax in HierPlatform.__members__, row.name


def test_a_configured_platform_can_be_backed_up_and_told_refusals() -> None:
    for row in SHIPPED:
        if row.check_only:
            assert row.defaults == "none", row.name
            continue
        assert row.backup_command, row.name
        assert row.refusals, row.name
        assert row.secrets, row.name
        assert row.hostname.groups >= 1, row.name


def test_frr_refusals_are_napalm_frrs() -> None:
    from napalm_frr import platform as frr_driver_data

    frr = PLATFORMS["frr"]
    assert frr_driver_data.ERROR_PATTERNS is frr.refusals
    assert frr.refusal("% Unknown command: foo") == "unknown_command"
    assert frr.refusal("% Unknown command: terminal width 511") is None  # session noise
    assert frr.refusal("anything else") == "unexpected_output"  # vtysh is silent on success


def test_refusal_of_a_platform_that_prints_notices() -> None:
    ios = PLATFORMS["ios"]
    assert ios.refusal("                 ^\n% Invalid input detected at '^' marker.") == (
        "invalid_input"
    )
    assert ios.refusal("") is None
    assert ios.refusal("Enter configuration commands, one per line.") is None


def test_a_registered_row_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    from sdd_build import platforms

    monkeypatch.setattr(platforms, "PLATFORMS", dict(PLATFORMS))
    row = Platform("acme", "ACME OS", netmiko_device_type="linux", hostname=re.compile("(x)"))
    assert platforms.register(row) is row
    assert platforms.lookup("acme") is row


def test_the_readme_table_names_every_shipped_platform() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Platforms: one registry", 1)[1].split("\n## ", 1)[0]
    for row in SHIPPED:
        assert f"| `{row.name}` |" in table, row.name


def test_a_section_given_twice_is_read_once_merged() -> None:
    from sdd_build.platforms.configs import config_paths, remediation

    ios = PLATFORMS["ios"]
    text = "interface Lo1\n description a\n!\ninterface Lo1\n ip address 1.1.1.1 255.255.255.255\n"
    assert config_paths(text, ios) == [
        ("interface Lo1",),
        ("interface Lo1", "description a"),
        ("interface Lo1", "ip address 1.1.1.1 255.255.255.255"),
    ]
    assert remediation("", text, ios) == [
        "interface Lo1",
        "  description a",
        "  ip address 1.1.1.1 255.255.255.255",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "key 1 key-string Dev-Key-6666",  # discover's stanza lines: a key chain's key joined
        " key 7 key-string Dev-Key-6666",
        '{"key chain kc1": ["key 1", "key 1 key-string Dev-Key-6666"]}',
        "key chain kc1\n key 7\n  key-string Dev-Key-6666\n",
    ],
)
def test_one_platforms_row_does_not_hide_anothers_secret(text: str) -> None:
    """Every platform's rows are tried together: the first to match must not take a word of
    another statement for the secret and leave the real one."""
    from sdd_build.secrets import Masker

    assert "Dev-Key-6666" not in Masker().mask(text)
