"""The libyaml fast path gives the round-trip loader's data and positions, or steps aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdd_build.design.yamlfast import fast_load
from sdd_build.design.yamlpos import _round_trip
from sdd_build.errors import YamlLoadError

REPO = Path(__file__).resolve().parents[3]

SNIPPETS = [
    "a: 1\nb: [1, 2, {c: d}]\n",
    "# comment\n\nkey: value  # trailing\nlist:\n  - x\n  -   y\n  - - nested\n    - more\n",
    "yes: no\non: off\nnull_: ~\nempty:\nt: True\nf: FALSE\n",
    "i: 010\nj: 0o17\nk: 0x1F\nl: 1_000\nm: +1\nn: -0\no: 1.50\np: .inf\nq: 1e3\n",
    "d: 2001-12-14\n",
    "s: 'single ''quoted'''\nd: \"double \\t \\u00e9 \\/\"\n",
    "lit: |\n  line 1\n  line 2\nfold: >-\n  a\n  b\n\nkeep: |+\n  x\n\n",
    "plain: this is\n  folded over\n  lines\n",
    "a: &x 1\nb: *x\n",
    "base: &b {k: 1}\nderived:\n  <<: *b\n  j: 2\n",
    "a: 1\na: 2\n",
    "1: int key\ntrue: bool key\n",
    "1: a\ntrue: b\n",
    "? [complex]\n: key\n",
    "!!str 1: tagged\n",
    "v: !custom x\n",
    "--- \na: 1\n...\n",
    "a: 1\n---\nb: 2\n",
    "%YAML 1.2\n---\na: 1\n",
    "",
    "# only a comment\n",
    "- a\n- b: c\n  d: e\n-\n  - f\n",
    "{a: 1, b: [x, y], c: {d: e}}",
    '{"json": [1, 2.5, "x", true, null, {"k": "v"}]}',
    "a:\n\tb: tab\n",
    "a: b: c\n",
    "key: [unclosed\n",
    "1.5: float key\n",
    "~: null key\n",
    "a: 'x\n",
    "  indented: root\n  other: 1\n",
    "a: {b: 1,}\n",
    'a: "\\x41\\N\\_"\n',
    "é: ünïcode\n",
]


def _reference(text: str) -> tuple[object, dict[object, object]] | str:
    try:
        loaded = _round_trip(text, "t.yaml")
    except YamlLoadError as exc:
        return "error: " + str(exc.problem)
    return loaded.data, loaded.positions


def _compare(text: str) -> bool:
    fast = fast_load(text)
    if fast is None:
        return False
    assert fast == _reference(text), text
    assert [type(k) for k in fast[1]] == [type(k) for k in _reference(text)[1]]  # type: ignore[index]
    return True


@pytest.mark.parametrize("text", SNIPPETS)
def test_snippet(text: str) -> None:
    _compare(text)


def test_every_yaml_file_of_the_repository() -> None:
    files = [
        p
        for pattern in ("*.yaml", "*.yml")
        for p in REPO.rglob(pattern)
        if ".git" not in p.parts and "node_modules" not in p.parts
    ]
    assert len(files) > 10
    fast = sum(_compare(p.read_text(encoding="utf-8", errors="replace")) for p in files)
    assert fast > len(files) // 2  # most of them take the fast path


def test_plain_documents_take_the_fast_path() -> None:
    for text in (SNIPPETS[0], SNIPPETS[1], SNIPPETS[21], SNIPPETS[23]):
        assert fast_load(text) is not None, text
    for text in ("a: &x 1\nb: *x\n", "a: 1\na: 2\n", "%YAML 1.2\n---\na: 1\n", "d: 2001-12-14\n"):
        assert fast_load(text) is None, text
