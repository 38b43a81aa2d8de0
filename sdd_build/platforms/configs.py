"""Configurations read as hierarchies, per syntax family: every meaningful line as its path of
parent stanzas (``interface eth1 / ip ospf area 0``), and what the family says about negating
and superseding a line. Pure; the reconciliation, the restore check and drift all read configs
through :func:`config_paths`.

* ``frr``: FRR's vtysh text, read by indentation here (FRR's own tooling, ``frr-reload.py`` in
  napalm_frr, computes its remediation);
* every other family is a hier_config platform (``hier_config.Platform``): its driver parses
  the text (IOS ``!``/``exit`` handling, NX-OS and EOS indentation, IOS-XR ``root``, Junos
  braces turned into ``set`` commands) and computes remediation (:func:`remediation`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from sdd_build.platforms.model import Platform

if TYPE_CHECKING:
    from hier_config import HConfig

__all__ = [
    "ConfigPath",
    "Family",
    "config_paths",
    "family",
    "merged",
    "predicted",
    "remediation",
    "rollback",
    "show_path",
]

ConfigPath = tuple[str, ...]


def show_path(path: ConfigPath) -> str:
    """A config line with its parents, as reports show it: ``interface eth1 / ip ...``."""
    return " / ".join(path)


@dataclass(frozen=True)
class Family:
    """How one syntax family reads: its lines as paths, its negation, its attributes."""

    name: str
    #: the text as paths, with the platform's volatile lines left out
    read: Callable[[str, tuple[str, ...]], list[ConfigPath]]
    #: the prefix that removes a line (``no ``, ``delete ``) and the one it replaces (``set ``)
    negation: str = "no "
    declaration: str = ""
    #: the attribute a line sets, without its value ("ip ospf cost 10" -> "ip ospf cost")
    attribute: Callable[[str], str] = lambda line: line

    def positive(self, line: str) -> str | None:
        """The line a negation removes (``None``: ``line`` is no negation)."""
        if not line.startswith(self.negation):
            return None
        return self.declaration + line[len(self.negation) :]


# ----- FRR: indentation, read here -----------------------------------------------------------

_FRR_IGNORED = {"!", "exit", "end", "exit-address-family", "exit-vrf", "exit-vnc", "quit"}
#: Top-level stanzas that configure nothing when empty: an empty ``interface X`` is what FRR
#: prints for an interface whose settings were all removed (and an active interface cannot be
#: deleted); an empty ``line vty`` is its default.
_EMPTY_MEANS_ABSENT = ("interface ", "line vty")
# Keywords whose attribute name spans more than one token ("ip ospf cost 10").
_COMPOUND = {"ip": 3, "ipv6": 3, "neighbor": 3, "bgp": 2, "ospf": 2, "no": 3}


def _frr_read(text: str, volatile: tuple[str, ...]) -> list[ConfigPath]:
    """Every meaningful line as its path, in order, de-duplicated (an empty stanza that
    configures nothing, ``_EMPTY_MEANS_ABSENT``, is left out)."""
    paths = _indented(text, volatile)
    parents = {p[:1] for p in paths if len(p) > 1}
    return [
        p for p in paths if len(p) > 1 or p in parents or not p[0].startswith(_EMPTY_MEANS_ABSENT)
    ]


def _indented(text: str, volatile: tuple[str, ...]) -> list[ConfigPath]:
    stack: list[tuple[int, str]] = []
    seen: set[ConfigPath] = set()
    out: list[ConfigPath] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        stripped = raw.strip()
        if stripped in _FRR_IGNORED or stripped.startswith(("!", "#")):
            if stripped in _FRR_IGNORED and stripped != "!" and stack:
                stack.pop()  # 'exit' closes the innermost stanza
            continue
        if stripped.startswith(volatile):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        line = " ".join(stripped.split())
        path = (*[s for _, s in stack], line)
        if path not in seen:
            seen.add(path)
            out.append(path)
        stack.append((indent, line))
    return out


def _frr_attribute(line: str) -> str:
    tokens = line.split()
    return " ".join(tokens[: _COMPOUND.get(tokens[0], 1)]) if tokens else ""


_FRR = Family("frr", _frr_read, attribute=_frr_attribute)


# ----- hier_config families --------------------------------------------------------------


def _without_value(line: str) -> str:
    """A hier_config family's attribute: the line without its last word (its value)."""
    return line.rsplit(" ", 1)[0] if " " in line else line


def _hconfig(syntax: str, text: str, volatile: tuple[str, ...]) -> HConfig:
    from hier_config import Platform as HierPlatform
    from hier_config import get_hconfig
    from hier_config.exceptions import DuplicateChildError

    kept = [line for line in text.splitlines() if not line.strip().startswith(volatile or ("\0",))]
    try:
        return get_hconfig(HierPlatform[syntax], "\n".join(kept))
    except DuplicateChildError:
        # the same section twice (two components, a device that prints a stanza twice):
        # read each top-level block alone and merge them, as the device would
        merged = get_hconfig(HierPlatform[syntax])
        for block in _blocks(kept):
            for child in get_hconfig(HierPlatform[syntax], block).all_children_sorted():
                merged.add_children_deep(child.path())
        return merged


def _blocks(lines: list[str]) -> list[str]:
    """The text as top-level blocks: an unindented line and the indented ones under it."""
    blocks: list[list[str]] = []
    for line in lines:
        if not blocks or (line[:1].strip() and not line.startswith("}")):
            blocks.append([])
        blocks[-1].append(line)
    return ["\n".join(b) for b in blocks]


def _hier_paths(config: HConfig) -> list[ConfigPath]:
    out: list[ConfigPath] = []
    seen: set[ConfigPath] = set()
    for child in config.all_children_sorted():
        path = tuple(" ".join(part.split()) for part in child.path())
        if path not in seen:
            seen.add(path)
            out.append(path)
    return out


@cache
def _hier_family(syntax: str) -> Family:
    from hier_config import Platform as HierPlatform
    from hier_config import get_hconfig_driver

    driver = get_hconfig_driver(HierPlatform[syntax])

    def read(text: str, volatile: tuple[str, ...]) -> list[ConfigPath]:
        return _hier_paths(_hconfig(syntax, text, volatile))

    declaration = str(getattr(driver, "declaration_prefix", ""))
    return Family(syntax, read, driver.negation_prefix, declaration, _without_value)


def family(platform: Platform) -> Family:
    """The syntax family ``platform``'s configs are read with."""
    if platform.syntax is None:
        raise ValueError(f"platform '{platform.name}' has no configuration to read")
    return _FAMILIES.get(platform.syntax) or _hier_family(platform.syntax)


_FAMILIES: dict[str, Family] = {"frr": _FRR}


def config_paths(text: str, platform: Platform | None = None) -> list[ConfigPath]:
    """Every meaningful line of ``text`` as its path of parent stanzas, in order,
    de-duplicated; ``platform``'s volatile lines are left out (``None``: FRR)."""
    from sdd_build.platforms.frr import FRR

    row = platform or FRR
    return list(_read(text, family(row), row.volatile_prefixes))


@lru_cache(maxsize=64)
def _read(text: str, syntax: Family, volatile: tuple[str, ...]) -> tuple[ConfigPath, ...]:
    """One text's paths, remembered for the last few texts: a host's reconciliation reads its
    intended, pre-build and post-build configs twice each (its questions, then its verdict)."""
    return tuple(syntax.read(text, volatile))


def _workflow(running: str, intended: str, platform: Platform) -> tuple[HConfig, HConfig]:
    if platform.syntax is None or platform.syntax in _FAMILIES:
        raise ValueError(
            f"platform '{platform.name}' has no hier_config syntax: its own tooling remediates"
        )
    run = _hconfig(platform.syntax, running, platform.volatile_prefixes)
    want = _hconfig(platform.syntax, intended, platform.volatile_prefixes)
    return run, want


def _lines(config: HConfig) -> list[str]:
    return [child.cisco_style_text() for child in config.all_children_sorted()]


def remediation(running: str, intended: str, platform: Platform) -> list[str]:
    """The configuration lines (indented under their stanzas) that take a device of
    ``platform`` from ``running`` to ``intended`` (hier_config's remediation)."""
    from hier_config import WorkflowRemediation

    return _lines(WorkflowRemediation(*_workflow(running, intended, platform)).remediation_config)


def rollback(running: str, intended: str, platform: Platform) -> list[str]:
    """The lines that take the device back from ``intended`` to ``running``."""
    from hier_config import WorkflowRemediation

    return _lines(WorkflowRemediation(*_workflow(running, intended, platform)).rollback_config)


def merged(running: str, config: str, platform: Platform) -> str:
    """The running config a device of ``platform`` shows once ``config`` is merged into
    ``running`` (hier_config's prediction; FRR: the texts one after the other)."""
    if platform.syntax in _FAMILIES:
        return running.rstrip("\n") + "\n" + config
    run, change = _workflow(running, config, platform)
    return "\n".join(_lines(run.future(change)))


def predicted(running: str, intended: str, platform: Platform) -> list[ConfigPath]:
    """The running config hier_config predicts once :func:`remediation` is applied to
    ``running``: a remediation is right when this equals ``intended``'s paths."""
    from hier_config import WorkflowRemediation

    run, want = _workflow(running, intended, platform)
    return _hier_paths(run.future(WorkflowRemediation(run, want).remediation_config))
