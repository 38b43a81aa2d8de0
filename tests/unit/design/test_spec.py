from __future__ import annotations

import pytest

from sdd_build.design.spec import parse_spec
from sdd_build.errors import DesignError

SPEC = """\
# Title here

Prose that mentions REQ-9 in passing is not a requirement.

## Requirements
- REQ-1: first thing
* **REQ-2**: second thing
1. REQ-3 — third thing
### REQ-4: a heading requirement

```
- REQ-5: inside a code fence, ignored
```
"""


def test_conventions_are_recognised() -> None:
    spec = parse_spec(SPEC, file="spec.md")
    assert spec.title == "Title here"
    assert [(r.id, r.text, r.line) for r in spec.requirements] == [
        ("REQ-1", "first thing", 6),
        ("REQ-2", "second thing", 7),
        ("REQ-3", "third thing", 8),
        ("REQ-4", "a heading requirement", 9),
    ]


def test_duplicate_id_is_located() -> None:
    with pytest.raises(DesignError) as err:
        parse_spec("- REQ-1: a\n- REQ-1: b\n", file="s.md")
    assert str(err.value) == "s.md:2: duplicate requirement id REQ-1 (first on line 1)"


def test_requirement_without_text() -> None:
    with pytest.raises(DesignError, match=r"s.md:1: REQ-1 has no text"):
        parse_spec("- REQ-1:\n", file="s.md")


def test_malformed_id_is_reported() -> None:
    with pytest.raises(DesignError, match=r"s.md:1: looks like a requirement"):
        parse_spec("- REQ1: missing dash\n- REQ-2: ok\n", file="s.md")


def test_no_requirements() -> None:
    with pytest.raises(DesignError, match="no requirements found"):
        parse_spec("# only a title\n", file="s.md")
