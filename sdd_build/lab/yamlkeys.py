"""Mapping keys as containerlab reads them.

containerlab decodes a topology into Go ``map[string]...`` fields, so a mapping key is its text:
a node named ``001`` (kjan99/containerlab-dwdm-stub names its routers ``001``..``011``) stays
``001``, and its link endpoints ``"001:ppp_osc1"`` find it. A YAML 1.2 reader makes such a key
the number 1 (``010`` -> 10, ``1e3`` -> 1000.0, ``true`` -> True). Here every plain key that YAML
would read as something else than a string gets back its source text, found by its position in
the composed tree; the round-trip tree keeps its positions, so problems still name lines.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["keys_as_text", "plain_key_texts"]


def plain_key_texts(node: Node | None) -> dict[tuple[int, int], str]:
    """The source text of every plain mapping key that YAML would read as something else than a
    string (``001``, ``1e3``, ``true``), by its (line, column); each composed node once."""
    found: dict[tuple[int, int], str] = {}
    stack, seen = [node], set()
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, MappingNode):
            for key, value in cur.value:
                if isinstance(key, ScalarNode) and not str(key.tag).endswith(":str"):
                    found[(key.start_mark.line, key.start_mark.column)] = key.value
                stack.extend((key, value))
        elif isinstance(cur, SequenceNode):
            stack.extend(cur.value)
    return found


def keys_as_text(data: Any, texts: dict[tuple[int, int], str]) -> None:
    """Mapping keys as containerlab reads them (Go ``map[string]``: the key's text), so a node
    named ``001`` stays ``001`` (YAML 1.2 makes it the number 1); positions are kept for lines."""
    stack, seen = [data], set()
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, CommentedMap):
            if any(not isinstance(k, str) for k in cur):
                items, lines = list(cur.items()), dict(cur.lc.data)
                cur.clear()
                for key, value in items:
                    pos = lines.get(key)
                    text = texts.get((pos[0], pos[1])) if pos else None
                    new = text if text is not None and not isinstance(key, str) else key
                    cur[new] = value
                    if pos is not None:
                        cur.lc.data[new] = pos
            stack.extend(cur.values())
        elif isinstance(cur, CommentedSeq):
            stack.extend(cur)
