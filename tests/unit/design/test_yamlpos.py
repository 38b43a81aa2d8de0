from __future__ import annotations

from pathlib import Path

import pytest

from sdd_build.design.yamlpos import YamlLoadError, load_yaml


def test_positions_of_keys_and_items(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("a: 1\nlist:\n  - x: 1\n    y: 2\n  - {z: 3}\n")
    loaded = load_yaml(f, display="a.yaml")
    assert loaded.data == {"a": 1, "list": [{"x": 1, "y": 2}, {"z": 3}]}
    assert loaded.positions[("a",)] == (1, 1)
    assert loaded.positions[("list", 0, "y")] == (4, 5)
    assert loaded.positions[("list", 1)] == (5, 5)
    # Unknown segments (pydantic union tags) are skipped, the deepest known prefix wins.
    assert loaded.locate(("list", 0, "config_template", "y")) == (4, 5)
    assert loaded.locate(("list", 7)) == (2, 1)


def test_aliases_expand_within_budget(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("base: &b {k: v}\nuse: *b\n")
    assert load_yaml(f, display="a.yaml").data == {"base": {"k": "v"}, "use": {"k": "v"}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a: 1\na: 2\n", "a.yaml:2:1: duplicate key"),
        (b"a: [1\n", "a.yaml:2:1: invalid YAML"),
        (b"\xff\xfe", "a.yaml:1: not UTF-8"),
        (b"a\x00b", "a.yaml: binary file"),
    ],
)
def test_hostile_input(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "a.yaml"
    f.write_bytes(content)
    with pytest.raises(YamlLoadError) as err:
        load_yaml(f, display="a.yaml")
    assert str(err.value.problem).startswith(message)


def test_size_cap(tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text("a: " + "x" * 100 + "\n")
    with pytest.raises(YamlLoadError, match="larger than the 50-byte limit"):
        load_yaml(f, display="a.yaml", max_bytes=50)


def test_fast_path_only_for_documents_that_declare_yaml_1_1(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text("a: on\nb: 1:20\n")
    loaded = load_yaml(plain, display="plain.yaml", positions=False)
    assert loaded.data == {"a": "on", "b": "1:20"}  # YAML 1.2, full path, with positions
    assert loaded.positions[("a",)] == (1, 1)
    declared = tmp_path / "declared.yaml"
    declared.write_text("# written by a machine\n%YAML 1.1\n---\na: 'on'\nb: 2\n")
    fast = load_yaml(declared, display="declared.yaml", positions=False)
    assert fast.data == {"a": "on", "b": 2}
    assert fast.positions == {}
    broken = tmp_path / "broken.yaml"
    broken.write_text("%YAML 1.1\n---\na: [1, 2\n")
    with pytest.raises(YamlLoadError) as info:
        load_yaml(broken, display="broken.yaml", positions=False)
    assert info.value.problem.file == "broken.yaml"
    assert info.value.problem.line is not None
