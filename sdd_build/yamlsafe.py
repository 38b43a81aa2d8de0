"""YAML guards shared by every reader of user YAML (designs, policies, lab topologies).

A ruamel.yaml tree is turned into plain Python under a node budget (alias bombs: aliases are
expanded while counting), a depth limit (``sdd_build.limits``) and a recursion check, and raw
bytes are checked for size, NUL bytes and UTF-8 before parsing. Errors are ``YamlLoadError``
with the file (and line where known). This module imports no stage: ``design`` and ``lab`` use it.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sdd_build import limits
from sdd_build.errors import Problem, YamlLoadError

__all__ = ["MAX_NODES", "MAX_YAML_BYTES", "PathKey", "decode_yaml", "guarded_plain"]

MAX_YAML_BYTES = 20 * 1024 * 1024
MAX_NODES = 250_000

PathKey = tuple[str | int, ...]


def decode_yaml(raw: bytes, display: str, max_bytes: int = MAX_YAML_BYTES) -> str:
    """The text of a YAML file's bytes, or ``YamlLoadError`` (too large, binary, not UTF-8)."""
    if len(raw) > max_bytes:
        raise YamlLoadError(
            Problem(
                f"file is {len(raw)} bytes, larger than the {max_bytes}-byte limit; "
                "split it or check that this is the right file",
                display,
            )
        )
    if b"\x00" in raw:
        raise YamlLoadError(
            Problem("binary file (contains NUL bytes), expected YAML text", display)
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlLoadError(
            Problem("not UTF-8 text; save the file as UTF-8", display, line)
        ) from None


def guarded_plain(
    tree: Any, display: str, positions: dict[PathKey, tuple[int, int]] | None = None
) -> Any:
    """``tree`` (ruamel round-trip containers) as plain dicts/lists, within the node budget
    and depth limit; ``positions`` (if given) receives 1-based (line, column) per data path."""
    try:
        return _plain(tree, (), {} if positions is None else positions, [MAX_NODES], display,
                      set())  # fmt: skip
    except RecursionError:
        raise YamlLoadError(Problem("YAML nesting is too deep", display)) from None


def _plain(
    node: Any,
    path: PathKey,
    positions: dict[PathKey, tuple[int, int]],
    budget: list[int],
    display: str,
    stack: set[int],
) -> Any:
    if len(path) > limits.depth():  # a path holds one key per level
        raise YamlLoadError(
            Problem(f"YAML nested deeper than {limits.depth()} levels (SDD_MAX_DEPTH)", display)
        )
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlLoadError(
            Problem(
                f"YAML expands to more than {MAX_NODES} nodes (an alias bomb?); "
                "remove the nested aliases",
                display,
            )
        )
    if isinstance(node, CommentedMap):
        if id(node) in stack:
            raise YamlLoadError(Problem("recursive YAML alias", display))
        stack.add(id(node))
        out: dict[Any, Any] = {}
        for key, value in node.items():
            sub = (*path, key) if isinstance(key, str | int) else path
            try:
                line, col = node.lc.key(key)
                positions[sub] = (line + 1, col + 1)
            except (KeyError, TypeError):
                pass
            out[key if isinstance(key, str | int | float | bool) or key is None else str(key)] = (
                _plain(value, sub, positions, budget, display, stack)
            )
        stack.discard(id(node))
        return out
    if isinstance(node, CommentedSeq):
        if id(node) in stack:
            raise YamlLoadError(Problem("recursive YAML alias", display))
        stack.add(id(node))
        items: list[Any] = []
        for i, value in enumerate(node):
            sub = (*path, i)
            try:
                line, col = node.lc.item(i)
                positions[sub] = (line + 1, col + 1)
            except (KeyError, TypeError, IndexError):
                pass
            items.append(_plain(value, sub, positions, budget, display, stack))
        stack.discard(id(node))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node
