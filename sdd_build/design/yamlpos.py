"""YAML loading that remembers where every key and item came from.

ruamel.yaml's round-trip loader keeps line/column marks on mappings and sequences. We convert
its tree to plain Python (for pydantic) and build a map from data paths, e.g.
``("components", 2, "template")``, to 1-based ``(line, column)`` so that any validation
error can point at the offending key.

Guards against hostile input: a size cap, binary content, duplicate keys, and alias bombs
(a node budget counted while aliases are expanded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from sdd_build import limits
from sdd_build.design.source import Source, read_file
from sdd_build.design.yamlfast import fast_load
from sdd_build.errors import Problem, SddBuildError, YamlLoadError
from sdd_build.yamlsafe import MAX_NODES, MAX_YAML_BYTES, PathKey, decode_yaml, guarded_plain

__all__ = ["MAX_NODES", "MAX_YAML_BYTES", "LoadedYaml", "PathKey", "YamlLoadError", "load_yaml"]


@dataclass
class LoadedYaml:
    data: Any
    file: str
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: PathKey) -> tuple[int | None, int | None]:
        """Line and column of the deepest known prefix of ``path``.

        pydantic's error locations may contain union tags (``'config_template'``) or
        synthetic segments; segments that are not in the data are skipped.
        """
        node: Any = self.data
        real: list[str | int] = []
        best = self.positions.get((), (None, None))
        for seg in path:
            in_map = isinstance(node, dict) and seg in node
            in_seq = isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)
            if in_map or in_seq:
                node = node[seg]
            else:
                continue
            real.append(seg)
            pos = self.positions.get(tuple(real))
            if pos is not None:
                best = pos
        return best

    def problem(self, path: PathKey, message: str) -> Problem:
        line, col = self.locate(path)
        return Problem(message, self.file, line, col)


def _read_text(path: Path, display: str, max_bytes: int, source: Source | None) -> str:
    try:
        if source is None:
            raw = read_file(path, display=display, max_bytes=max_bytes)
        else:
            raw = source.read(path, display=display)
    except FileNotFoundError:
        raise YamlLoadError(Problem("file not found", display)) from None
    except SddBuildError as exc:
        raise YamlLoadError(exc.problems[0]) from None
    return decode_yaml(raw, display, max_bytes)


#: A document that declares YAML 1.1 before anything else (comments aside).
_DECLARES_YAML_1_1 = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)*%YAML 1\.1[ \t]*\n")


def load_yaml(
    path: Path,
    *,
    display: str,
    max_bytes: int = MAX_YAML_BYTES,
    positions: bool = True,
    source: Source | None = None,
) -> LoadedYaml:
    """Load one YAML document with positions. Raises ``YamlLoadError``.

    ``positions=False`` is for files sdd-build wrote itself as ``%YAML 1.1`` documents (a lab's
    inventory): those are read with libyaml, an order of magnitude faster than the pure-Python
    round-trip parser, and their problems carry no line numbers. Any other document takes the
    full path whatever ``positions`` says: for YAML 1.2 the two parsers disagree on scalars such
    as ``on`` or ``1:20``.
    """
    text = _read_text(path, display, max_bytes, source)
    if not positions and _DECLARES_YAML_1_1.match(text):
        return _load_machine_written(text, display)
    fast = fast_load(text)  # libyaml, same result; None: not plain, read below
    if fast is not None:
        return LoadedYaml(data=fast[0], file=display, positions=fast[1])
    return _round_trip(text, display)


def _round_trip(text: str, display: str) -> LoadedYaml:
    """The reference reader: ruamel's round-trip parser (pure Python), every error located."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except DuplicateKeyError as exc:
        key = (exc.problem or "").replace("found duplicate key", "").strip()
        message = f"duplicate key {key}".strip() + "; each key may appear once"
        raise _located(message, display, exc.problem_mark) from None
    except MarkedYAMLError as exc:
        what = exc.problem or exc.context or "invalid YAML"
        raise _located(
            f"invalid YAML: {what}", display, exc.problem_mark or exc.context_mark
        ) from None
    except YAMLError as exc:
        raise YamlLoadError(Problem(f"invalid YAML: {exc}", display)) from None
    except RecursionError:
        raise YamlLoadError(Problem("YAML nesting is too deep", display)) from None

    loaded = LoadedYaml(data=None, file=display)
    loaded.data = guarded_plain(tree, display, loaded.positions)
    if isinstance(tree, CommentedMap | CommentedSeq):
        loaded.positions[()] = (tree.lc.line + 1, tree.lc.col + 1)
    return loaded


def _located(message: str, display: str, mark: Any) -> YamlLoadError:
    """A load error at a parser's mark (ruamel's and PyYAML's count lines and columns from 0)."""
    if mark is None:
        return YamlLoadError(Problem(message, display))
    return YamlLoadError(Problem(message, display, mark.line + 1, mark.column + 1))


def _load_machine_written(text: str, display: str) -> LoadedYaml:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # a safe loader (C or Python)
    except yaml.MarkedYAMLError as exc:
        what = exc.problem or exc.context or exc
        raise _located(
            f"invalid YAML: {what}", display, exc.problem_mark or exc.context_mark
        ) from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(Problem(f"invalid YAML: {exc}", display)) from None
    except RecursionError:
        too_deep = True
    else:
        too_deep = limits.nesting_exceeds(data)
    if too_deep:
        raise YamlLoadError(
            Problem(f"YAML nested deeper than {limits.depth()} levels (SDD_MAX_DEPTH)", display)
        )
    return LoadedYaml(data=data, file=display)
