"""Flat templates: text and guarded ``{{ a.b['c'] }}`` lookups, rendered without Jinja's runtime.

Most configuration and command templates are *flat*: literal text with expressions that only
look a value up in the context (``{{ host.data.iface.name }}``, ``{{ vars['tag'] }}``), no
``for``/``if``/``set``/filters/calls/includes. Jinja renders those through a new ``Context``, a
generator and the sandbox's ``getattr`` per lookup (an exception per dict key read as an
attribute): about 30 µs a render. A :class:`FlatProgram` does the same lookups on the plain
data directly: a few µs.

Exactness is by construction, not by imitation of every Jinja rule:

* the program is built from the *instrumented* Jinja tree (after the injection guard was
  wrapped in), so the literal text is exactly what Jinja's lexer produced (``trim_blocks``,
  ``lstrip_blocks``, newline normalisation, trailing newline all applied already);
* a lookup is done here only where Jinja's answer is certain: a ``dict`` (exactly, not a
  subclass) and a key that is present (read as an attribute: a key that is not also a ``dict``
  attribute such as ``items``), or a ``list`` and an ``int`` index in range; a value of type
  ``str`` (exactly) without a control character, or ``int``/``bool``/``float``/``None``;
* anything else (a missing key, another type, a control character, an output past the size
  bound) returns ``None``: the caller renders the template with Jinja, which produces the
  result or the located error exactly as before. The fast path never raises and never
  decides that a render fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes

__all__ = ["FlatProgram", "flat_program"]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # the guard's set (library._UNSAFE)
_MISSING = object()
_ATTR, _ITEM = 0, 1
_PLAIN = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class _Slot:
    index: int  # its place in FlatProgram.parts
    root: str
    steps: tuple[tuple[int, str | int], ...]  # (_ATTR | _ITEM, key)
    chain: int  # the same number for the same (root, steps) in every program


_CHAINS: dict[tuple[str, tuple[tuple[int, str | int], ...]], int] = {}


@dataclass(frozen=True, slots=True)
class FlatProgram:
    """Literal text and lookups, in output order; see the module docstring."""

    parts: tuple[str, ...]  # the literal text; "" where a slot's value goes
    slots: tuple[_Slot, ...]

    def render(
        self,
        context: Mapping[str, Any],
        limit: int,
        known: Mapping[str, dict[int, str]] | None = None,
    ) -> str | None:
        """The rendered text, or ``None`` when Jinja must render it (never raises).

        ``known`` maps a context root (``host``, ``vars``) to the text of lookups already done
        from it, by chain: the caller keeps one such dict per root *object* (e.g. per host:
        for every render of that host in a plan), so a chain read by 900 components is
        resolved once. Only text Jinja would output is kept; a failure is never stored.
        """
        out = list(self.parts)
        for slot in self.slots:
            cache = known.get(slot.root) if known is not None else None
            if cache is None:
                piece = _piece(context, slot)
                if piece is None:
                    return None
            else:
                piece = cache.get(slot.chain)
                if piece is None:
                    piece = _piece(context, slot)
                    if piece is None:
                        return None
                    cache[slot.chain] = piece
            out[slot.index] = piece
        text = "".join(out)
        return text if len(text) <= limit else None


def _piece(context: Mapping[str, Any], slot: _Slot) -> str | None:
    """The text Jinja outputs for the slot, or ``None`` if that is not certain here."""
    value = context.get(slot.root, _MISSING)
    for kind, key in slot.steps:
        cls = value.__class__
        if cls is dict:
            value = value.get(key, _MISSING)
        elif cls is list and kind == _ITEM and key.__class__ is int:
            if not -len(value) <= key < len(value):
                return None
            value = value[key]
        else:
            return None
    cls = value.__class__
    if cls is str:
        if not value.isprintable() and _UNSAFE.search(value) is not None:
            return None
        return value  # type: ignore[no-any-return]
    if cls is int or cls is bool or cls is float or value is None:
        return str(value)
    return None  # _MISSING among them


def flat_program(tree: nodes.Template, guard: str) -> FlatProgram | None:
    """The program of an instrumented template tree, or ``None`` if it is not flat."""
    parts: list[str | _Slot] = []
    for stmt in tree.body:
        if not isinstance(stmt, nodes.Output):
            return None
        for child in stmt.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
            elif isinstance(child, nodes.Const) and child.value.__class__ in _PLAIN:
                parts.append(str(child.value))
            elif isinstance(child, nodes.Filter) and child.name == guard:
                slot = _slot(child.node) if child.node is not None else None
                if slot is None:
                    return None
                parts.append(slot)
            else:
                return None
    texts: list[str] = []
    slots: list[_Slot] = []
    for part in parts:
        if isinstance(part, str):
            if texts and not (slots and slots[-1].index == len(texts) - 1):
                texts[-1] += part  # adjacent literals joined once, here
            else:
                texts.append(part)
        else:
            slots.append(
                _Slot(len(texts), part.root, part.steps, part.chain)  # its final place
            )
            texts.append("")
    return FlatProgram(tuple(texts), tuple(slots))


def _slot(expr: nodes.Node) -> _Slot | None:
    steps: list[tuple[int, str | int]] = []
    while True:
        if isinstance(expr, nodes.Getattr):
            if hasattr(dict, expr.attr):  # Jinja returns the dict's method: not flat
                return None
            steps.append((_ATTR, expr.attr))
        elif isinstance(expr, nodes.Getitem):
            arg = expr.arg
            if not isinstance(arg, nodes.Const) or arg.value.__class__ not in (str, int):
                return None
            steps.append((_ITEM, arg.value))
        elif isinstance(expr, nodes.Name) and expr.ctx == "load":
            key = (expr.name, tuple(reversed(steps)))
            chain = _CHAINS.setdefault(key, len(_CHAINS))
            return _Slot(-1, expr.name, key[1], chain)
        else:
            return None
        expr = expr.node
