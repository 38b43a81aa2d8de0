"""Plain YAML documents read with libyaml's C parser, with the round-trip loader's exact result.

ruamel's round-trip loader (pure Python) is what gives every key its line and column, and it
is slow: a 1,000-component design and a 1,000-host inventory take about 2 s. Most documents
use nothing but mappings, sequences and scalars. For those, libyaml's event stream (PyYAML's C
parser) carries the same marks, and the scalars are resolved here by ruamel's own YAML 1.2
resolver, so the data and the positions are the ones ``load_yaml`` builds from ruamel's tree.

Anything outside that plain subset makes :func:`fast_load` return ``None`` and the caller
takes the round-trip loader, which gives the result or the located error as before: a
directive, several documents, an anchor or alias, an explicit tag, a key that is not a string
or an integer, a duplicate key, a scalar that resolves to anything but a string, null, a
boolean, a plain decimal integer or a plain decimal number, past the depth limit or the node
budget, or any error of libyaml's. The fast path never decides that a document is wrong.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from sdd_build import limits
from sdd_build.errors import NotPlainYaml
from sdd_build.yamlsafe import MAX_NODES, PathKey

__all__ = ["fast_load"]

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_DECIMAL_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+\Z")
_RESOLVER = VersionedResolver(version=(1, 2))
_IMPLICIT = (True, False)


def fast_load(text: str) -> tuple[Any, dict[PathKey, tuple[int, int]]] | None:
    """``(data, positions)`` as ``load_yaml`` builds them, or ``None`` (see module doc)."""
    loader = yaml.CSafeLoader(text) if hasattr(yaml, "CSafeLoader") else None
    if loader is None:
        return None
    positions: dict[PathKey, tuple[int, int]] = {}
    try:
        data = _Builder(loader, positions).document()
    except (NotPlainYaml, yaml.YAMLError, RecursionError, ValueError):
        return None
    finally:
        loader.dispose()
    return data, positions


class _Builder:
    def __init__(self, loader: Any, positions: dict[PathKey, tuple[int, int]]) -> None:
        self.loader = loader
        self.positions = positions
        self.budget = MAX_NODES
        self.depth = limits.depth()

    def document(self) -> Any:
        events = self.loader
        if not isinstance(events.get_event(), yaml.StreamStartEvent):
            raise NotPlainYaml
        start = events.get_event()
        if isinstance(start, yaml.StreamEndEvent):
            return None  # an empty document: ruamel gives None, no positions
        if not isinstance(start, yaml.DocumentStartEvent) or start.version or start.tags:
            raise NotPlainYaml
        first = events.get_event()
        if isinstance(first, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self.positions[()] = _at(first)
        data = self.node(first, ())
        if not isinstance(events.get_event(), yaml.DocumentEndEvent):
            raise NotPlainYaml
        if not isinstance(events.get_event(), yaml.StreamEndEvent):
            raise NotPlainYaml  # a second document
        return data

    def node(self, event: Any, path: PathKey) -> Any:
        if len(path) > self.depth:
            raise NotPlainYaml
        self.budget -= 1
        if self.budget < 0 or getattr(event, "anchor", None) is not None:
            raise NotPlainYaml
        if isinstance(event, yaml.ScalarEvent):
            return _scalar(event)
        if event.tag is not None and not event.implicit:
            raise NotPlainYaml
        get = self.loader.get_event
        if isinstance(event, yaml.MappingStartEvent):
            out: dict[Any, Any] = {}
            while True:
                key_event = get()
                if isinstance(key_event, yaml.MappingEndEvent):
                    return out
                if not isinstance(key_event, yaml.ScalarEvent) or key_event.anchor is not None:
                    raise NotPlainYaml
                key = _scalar(key_event)
                if key.__class__ not in (str, int, bool) or key in out:
                    raise NotPlainYaml  # other keys, duplicates: the round-trip loader says
                sub = (*path, key)
                self.positions[sub] = _at(key_event)
                out[key] = self.node(get(), sub)
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            while True:
                item = get()
                if isinstance(item, yaml.SequenceEndEvent):
                    return items
                sub = (*path, len(items))
                self.positions[sub] = _at(item)
                items.append(self.node(item, sub))
        raise NotPlainYaml  # an alias, or anything else


def _at(event: Any) -> tuple[int, int]:
    """1-based (line, column) where the event starts, as the round-trip loader records it."""
    mark = event.start_mark
    if mark is None:
        raise NotPlainYaml
    return mark.line + 1, mark.column + 1


def _scalar(event: Any) -> Any:
    if event.tag is not None or event.anchor is not None:
        raise NotPlainYaml
    value: str = event.value
    if event.style:  # quoted, literal or folded: a string (plain: None or "")
        return value
    tag = _RESOLVER.resolve(ScalarNode, value, _IMPLICIT)
    if tag == _STR:
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value.lower() == "true"
    if tag == _INT and _DECIMAL_INT.match(value):
        return int(value)
    if tag == _FLOAT and _DECIMAL_FLOAT.match(value):
        return float(value)
    raise NotPlainYaml
