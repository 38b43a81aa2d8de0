"""FRR's default for a configuration value, learnt from the device itself (no hand list).

Some values FRR will not negate (``no receive-interval`` under ``bfd`` / ``profile X`` is
``% Unknown command`` on 8.4); setting the default explicitly removes the line again. The
default comes from two read-only answers of the device, so it matches the device's version:

* its YANG schema, ``show yang module <module> compiled <daemon>``: each leaf's ``default``;
* its configuration as YANG data, ``show yang operational-data <xpath> with-config <daemon>``:
  which leaf of the line's context holds the line's value, and in which unit (the CLI takes
  ``receive-interval 200`` in milliseconds, the leaf ``required-receive-interval`` holds
  ``200000`` microseconds).

Only northbound-converted daemons have YANG data; which CLI context belongs to which module is
platform data (``platform.YANG_CONTEXTS``). When the answers do not name exactly one leaf, there
is no default here (``None``) and the restore goes on to its next strategy. Whatever this
returns is only a candidate: the restore reads the device back before it believes anything.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from napalm_frr import platform

__all__ = ["default_line", "find_entry", "leaf_defaults"]

_LEAF = re.compile(r"^(?P<indent>\s*)leaf (?P<name>[\w-]+) \{\s*$")
_DEFAULT = re.compile(r'^\s*default "?(?P<value>[^";]*)"?;\s*$')
_SCALES = (1, 1000, 1000000)
_MIN_SIMILARITY = 0.5


def leaf_defaults(module_text: str) -> dict[str, str]:
    """Leaf name -> its ``default``, for names whose every occurrence has the same default."""
    seen: dict[str, set[str]] = {}
    lines = module_text.replace("\r", "").splitlines()
    for number, row in enumerate(lines):
        match = _LEAF.match(row)
        if not match:
            continue
        closing = match["indent"] + "}"
        value = None
        for inner in lines[number + 1 :]:
            if inner.rstrip() == closing:
                break
            found = _DEFAULT.match(inner)
            if found and len(inner) - len(inner.lstrip()) == len(match["indent"]) + 2:
                value = found["value"]
        seen.setdefault(match["name"], set()).add(value or "")
    return {
        name: next(iter(vals)) for name, vals in seen.items() if len(vals) == 1 and "" not in vals
    }


def _dicts(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON tree, breadth first."""
    queue = [node]
    while queue:
        current = queue.pop(0)
        if isinstance(current, dict):
            yield current
            queue.extend(current.values())
        elif isinstance(current, list):
            queue.extend(current)


def find_entry(data: Any, headers: tuple[str, ...]) -> dict[str, Any] | None:
    """The YANG list entry for the CLI context ``headers`` (below the top one): at each level
    the first object holding one of the header's arguments (``profile p1`` -> ``"p1"``)."""
    node: Any = data
    for header in headers:
        keys = set(header.split()[1:])
        found = next(
            (
                d
                for d in _dicts(node)
                if d is not node and any(isinstance(v, str) and v in keys for v in d.values())
            ),
            None,
        )
        if found is None:
            return None
        node = found
    return node if isinstance(node, dict) else None


def _number(token: str) -> int | None:
    return int(token) if token.isdigit() else None


def default_line(show: Callable[[str], str], path: tuple[str, ...], line: str) -> str | None:
    """``line`` with its value replaced by FRR's default, or ``None`` when the device's own
    schema and data do not name exactly one leaf for it."""
    if not path:
        return None
    module = next(
        (row for prefix, row in platform.YANG_CONTEXTS.items() if path[0].startswith(prefix)),
        None,
    )
    tokens = line.split()
    numbers = [(i, n) for i, t in enumerate(tokens) if (n := _number(t)) is not None]
    if module is None or len(numbers) != 1:
        return None
    index, value = numbers[0]
    daemon, name, xpath = module
    try:
        data = json.loads(show(f"show yang operational-data {xpath} with-config {daemon}"))
    except ValueError:
        return None
    entry = find_entry(data, path[1:])
    if entry is None:
        return None
    defaults = leaf_defaults(show(f"show yang module {name} compiled {daemon}"))
    keyword = "-".join(tokens[:index])
    best: tuple[float, str, int] | None = None
    for leaf, current in entry.items():
        if leaf not in defaults or isinstance(current, bool) or not isinstance(current, int):
            continue
        for scale in _SCALES:
            if current != value * scale:
                continue
            score = difflib.SequenceMatcher(None, keyword, leaf).ratio()
            if score >= _MIN_SIMILARITY and (best is None or score > best[0]):
                best = (score, leaf, scale)
    if best is None:
        return None
    default = _number(defaults[best[1]])
    if default is None or default % best[2]:
        return None
    return " ".join([*tokens[:index], str(default // best[2]), *tokens[index + 1 :]])
