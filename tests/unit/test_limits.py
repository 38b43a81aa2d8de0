"""The input bounds in one table (sdd_build.limits): env overrides, JSON and YAML nesting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sdd_build import limits
from sdd_build.design.yamlpos import YamlLoadError, load_yaml
from sdd_build.errors import SddBuildError

PACKAGE = Path(limits.__file__).parent


def test_every_limit_has_a_documented_env_override() -> None:
    doc = limits.__doc__ or ""
    for limit in limits.LIMITS.values():
        assert limit.env.startswith("SDD_")
        assert f"``{limit.env}``" in doc, f"{limit.env} is not in the limits table"
        assert limit.value() == limit.default


def test_env_override_and_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDD_MAX_DEPTH", "7")
    assert limits.depth() == 7
    monkeypatch.setenv("SDD_MAX_DEPTH", "-3")
    with pytest.raises(SddBuildError, match="SDD_MAX_DEPTH='-3' is not a positive number"):
        limits.depth()


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 5_000 + "1" + "}" * 5_000,
        "1" * 5_000,  # int() refuses a 5,000-digit literal with a bare ValueError
    ],
    ids=["deep-array", "deep-object", "long-number"],
)
def test_json_loads_refuses_as_invalid_json(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        limits.json_loads(text)


def test_json_loads_counts_brackets_outside_strings_only() -> None:
    text = json.dumps({"a": ["[" * 500, {"b": '}}}\\"[[['}]})
    assert limits.json_loads(text) == json.loads(text)
    assert limits.json_loads(text.encode("utf-16")) == json.loads(text)
    assert limits.json_loads("[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(json.JSONDecodeError, match="nested deeper than 2 levels"):
        limits.json_loads("[[[1]]]", max_depth=2)


def test_nesting_exceeds_is_iterative_and_follows_aliases() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(50_000):
        child: list[object] = []
        node.append(child)
        node = child
    assert limits.nesting_exceeds(deep)
    shared = [[[1]]]
    assert not limits.nesting_exceeds([shared, [shared]], 5)
    assert limits.nesting_exceeds([shared, [shared]], 4)


def test_no_module_calls_json_loads_directly() -> None:
    """Every JSON input goes through the bounded reader (lab/ parses `ip -j` output only)."""
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "limits.py" and "lab" not in path.relative_to(PACKAGE).parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bjson\.loads?\(", line)
    ]
    assert offenders == []


@pytest.mark.parametrize("positions", [True, False])
def test_yaml_nesting_is_bounded(tmp_path: Path, positions: bool) -> None:
    path = tmp_path / "deep.yaml"
    head = "%YAML 1.1\n---\n" if not positions else ""
    path.write_text(head + "a: " + "[" * 150 + "]" * 150 + "\n")
    with pytest.raises(YamlLoadError) as info:
        load_yaml(path, display="deep.yaml", positions=positions)
    assert "nested deeper than 100 levels" in info.value.problem.message
    path.write_text(head + "a: " + "[" * 50 + "]" * 50 + "\n")
    assert load_yaml(path, display="deep.yaml", positions=positions).data is not None
