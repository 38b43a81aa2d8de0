"""Design variables declared secret (``secrets: [names]`` in solution-design.yaml).

A declared name is looked up as a key at any depth of the design's ``vars``, every component's
``vars`` and the inventory's data (hosts, groups, defaults): every value found under it (every
leaf, when the value is a mapping such as a per-host table) is registered with the process's
masker, which masks it by value in every artifact and line of output. Keys whose name says
secret (``password``, ``*_secret``, ``snmp_community``, ...) are treated the same without being
declared.

Refused at validate (exit 2): a declared name defined nowhere (a typo would silently leave the
secret unmasked), and a declared value shorter than ``MIN_LITERAL`` characters (too short to be
masked wherever it appears without masking common words).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sdd_build.design.inventory import LoadedInventory
from sdd_build.design.loader import LoadedDesign
from sdd_build.errors import Problem
from sdd_build.secrets import MIN_LITERAL, is_secret_key, register_secret_names, register_secrets

__all__ = ["register_design_secrets"]


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _under(data: Any, names: set[str]) -> Iterator[tuple[str, Any]]:
    """``(key, value)`` for every key in ``names`` or named like a secret, at any depth."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if isinstance(key, str) and (key in names or is_secret_key(key)):
                yield key, value
            yield from _under(value, names)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _under(value, names)


def register_design_secrets(loaded: LoadedDesign, inventory: LoadedInventory) -> list[Problem]:
    """Register the design's secret values with the masker; the problems with the declaration."""
    model = loaded.model
    names = set(model.secrets)
    register_secret_names(names)
    sources: list[Any] = [model.vars]
    sources += [getattr(comp, "vars", None) or {} for comp in model.components]
    sources += [f.data for f in inventory.files.values()]
    found: set[str] = set()
    short: set[str] = set()
    for source in sources:
        for key, value in _under(source, names):
            values = list(_leaves(value))
            register_secrets(values)
            if key in names:
                found.add(key)
                if any(len(v) < MIN_LITERAL for v in values):
                    short.add(key)
    problems: list[Problem] = []
    for index, name in enumerate(model.secrets):
        if name not in found:
            problems.append(
                loaded.problem(
                    ("secrets", index),
                    f"secret variable '{name}' is defined nowhere (design vars, component "
                    "vars, inventory data): a misspelt name would leave the secret unmasked",
                )
            )
        elif name in short:
            problems.append(
                loaded.problem(
                    ("secrets", index),
                    f"a value of secret variable '{name}' is shorter than {MIN_LITERAL} "
                    "characters: too short to be masked wherever it appears; use a longer one",
                )
            )
    return problems
