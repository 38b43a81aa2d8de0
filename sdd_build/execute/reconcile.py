"""Post-apply reconciliation: intended lines versus what the device really stores. Pure.

Configurations are read as hierarchies in the host platform's syntax family
(``sdd_build.platforms.configs``: FRR's indentation, hier_config's parsers for IOS, EOS, NX-OS,
IOS-XR and Junos): each line is identified by its path of parent stanzas, so ``ip ospf area 0``
under ``interface eth1`` differs from the same line under ``interface eth2``. Then, per host,
an intended line the device does not show is:

* ``default_elided`` (informational) when the device's own software, asked about it, leaves it
  out of its running config: the value is its default (BFD ``detect-multiplier 3``);
* ``rewritten_line`` when the device (or its software, asked) stores it in another form: a new
  line in the same stanza that resembles it (both forms recorded);
* ``rejected_line`` otherwise: refused, or silently dropped.

A line that changed between the pre- and post-build config that no component intended is an
``unexpected_change`` -- unless the device's software itself adds or removes it as a
consequence of the design (``neighbor X bfd profile P`` brings ``neighbor X bfd``).

What "the device's software itself does" is a :class:`Truth`: FRR's rendering of the same
configuration on the same version (a scratch instance, see ``execute/truth.py``), or verdicts
remembered from an earlier one. Without it, a missing line can only be called rejected or
rewritten, and the finding says why defaults could not be consulted.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sdd_build.platforms.configs import ConfigPath, Family, config_paths, family, show_path
from sdd_build.platforms.frr import FRR
from sdd_build.platforms.model import Platform

__all__ = [
    "ConfigFinding",
    "ConfigPath",
    "Intended",
    "Questions",
    "Truth",
    "config_paths",
    "questions",
    "reconcile",
    "show_path",
]

_SIMILARITY = 0.6
#: (component id, its rendered config), in the order the build applied them
Intended = Sequence[tuple[str | None, str]]


@dataclass(frozen=True)
class ConfigFinding:
    kind: str  # "rejected_line" | "rewritten_line" | "default_elided" | "unexpected_change"
    expected: str | None
    actual: str | None
    reason: str
    component: str | None = None
    #: the configuration line the finding is about, with its stanzas (``bfd / profile P / ...``)
    line: str | None = None


@dataclass(frozen=True)
class Truth:
    """What the device's own software does with the pre-build config plus the intended ones.

    ``paths``: its running config after applying them (a scratch instance), when it was asked;
    ``elided`` / ``kept``: paths known (remembered per software version) to be left out as
    defaults / shown; ``refused``: paths it refuses, with its words; ``unavailable``: why it
    could not be asked (then only the other fields, possibly empty, speak)."""

    source: str = ""
    paths: frozenset[ConfigPath] | None = None
    elided: frozenset[ConfigPath] = frozenset()
    kept: frozenset[ConfigPath] = frozenset()
    refused: Mapping[ConfigPath, str] = field(default_factory=dict)
    #: per line it does not show: the lines applying it adds and removes (none: a default)
    effects: Mapping[ConfigPath, tuple[frozenset[ConfigPath], frozenset[ConfigPath]]] = field(
        default_factory=dict
    )
    unavailable: str | None = None

    def shows(self, path: ConfigPath) -> bool | None:
        """Whether the software shows ``path`` after applying it; ``None``: unknown."""
        if path in self.refused:
            return False
        if self.paths is not None:
            return path in self.paths
        if path in self.elided:
            return False
        if path in self.kept:
            return True
        return None


@dataclass
class Questions:
    """What the configs alone cannot explain: the paths to ask the device's software about."""

    missing: list[ConfigPath]  # intended, not shown by the device
    new: list[ConfigPath]  # shown by the device, neither there before nor intended
    gone: list[ConfigPath]  # there before, no longer shown, not removed by the design

    def __bool__(self) -> bool:
        return bool(self.missing or self.new or self.gone)


@dataclass
class _Configs:
    intended: list[ConfigPath]
    owner: dict[ConfigPath, str | None]
    pre: list[ConfigPath]
    post: list[ConfigPath]
    syntax: Family

    @classmethod
    def read(cls, intended: Intended, pre: str, post: str, platform: Platform) -> _Configs:
        paths: list[ConfigPath] = []
        owner: dict[ConfigPath, str | None] = {}
        for component, text in intended:
            for p in config_paths(text, platform):
                if p not in owner:
                    owner[p] = component
                    paths.append(p)
        pre_paths, post_paths = config_paths(pre, platform), config_paths(post, platform)
        return cls(paths, owner, pre_paths, post_paths, family(platform))

    def positive(self, path: ConfigPath) -> ConfigPath | None:
        """The line a negation in the design removes (``None``: ``path`` is no negation)."""
        line = self.syntax.positive(path[-1])
        return None if line is None else (*path[:-1], line)


def _removed_by(path: ConfigPath, negated: set[ConfigPath]) -> bool:
    """A negation removes its line, the stanza's lines below it, and the line with its value
    (``no ip ospf cost`` removes ``ip ospf cost 10``; ``delete interfaces ge-0/0/2`` every
    ``set interfaces ge-0/0/2 ...``)."""
    for n in negated:
        if path[: len(n)] == n:
            return True
        if path[:-1] == n[:-1] and path[-1].startswith(n[-1] + " "):
            return True
    return False


def _questions(c: _Configs, strategy: str) -> Questions:
    post, pre, intended = set(c.post), set(c.pre), set(c.intended)
    missing = [p for p in c.intended if c.positive(p) is None and p not in post]
    new = [p for p in c.post if p not in pre and p not in intended]
    gone: list[ConfigPath] = []
    if strategy != "replace":  # a replace removes whatever it does not name, by design
        negated = {n for n in map(c.positive, c.intended) if n is not None}
        attribute = c.syntax.attribute
        superseded = {(*p[:-1], attribute(p[-1])) for p in c.intended}
        for path in c.pre:
            if path in post or _removed_by(path, negated):
                continue
            if (*path[:-1], attribute(path[-1])) in superseded:
                continue  # a single-valued attribute the design set to a new value
            gone.append(path)
    return Questions(missing, new, gone)


def questions(
    intended: Intended,
    pre: str,
    post: str,
    strategy: str = "merge",
    platform: Platform | None = None,
) -> Questions:
    """The lines reconciliation cannot explain from the configs alone (empty: nothing to ask).
    ``platform``: whose syntax the configs are in (``None``: FRR)."""
    return _questions(_Configs.read(intended, pre, post, platform or FRR), strategy)


def _similar(path: ConfigPath, candidates: list[ConfigPath]) -> ConfigPath | None:
    best, score = None, 0.0
    for candidate in candidates:
        if candidate[:-1] != path[:-1]:
            continue
        ratio = difflib.SequenceMatcher(None, path[-1], candidate[-1]).ratio()
        if ratio > score:
            best, score = candidate, ratio
    return best if score >= _SIMILARITY else None


def _missing(
    path: ConfigPath, c: _Configs, truth: Truth, device_new: list[ConfigPath], post: set[ConfigPath]
) -> tuple[str, str, list[ConfigPath]]:
    """(class, reason, the lines the device shows instead) for an intended line it does not
    show."""
    source = truth.source or "the device's software"
    refusal = truth.refused.get(path)
    if refusal is not None:
        return "rejected_line", f"{source} refuses the line: {refusal}", []
    effect = truth.effects.get(path)
    if effect is not None and truth.shows(path) is False:
        added, removed = effect
        if not added and not removed:
            # a stanza header alone changes nothing; when its lines are stored under another
            # header ('int lo' is 'interface lo'), the header is stored as that one
            moved = _moved_header(path, c, truth)
            if moved and moved <= post:
                shown = sorted(moved)
                return "rewritten_line", f"{source} stores the stanza as {_lines(shown)}", shown
            reason = f"{source} shows nothing for it after applying it: the value is its default"
            return "default_elided", reason, []
        if added and added <= post:
            shown = sorted(added)
            return "rewritten_line", f"{source} stores the line as {_lines(shown)}", shown
        reason = f"{source} stores the line as {_lines(sorted(added))}; the device shows neither"
        return "rejected_line", reason, []
    shows = truth.shows(path)
    if shows is False and truth.paths is not None:
        # the software itself may store it in another form: look among its own new lines
        own = _similar(path, [p for p in truth.paths if p not in c.pre and p not in c.owner])
        if own is not None and own in device_new:
            return "rewritten_line", f"{source} stores the line in another form", [own]
        if own is not None:
            reason = f"{source} stores it as '{own[-1]}'; the device shows neither"
            return "rejected_line", reason, []
    if shows is False:
        reason = f"{source} leaves it out of the running config after applying it: its default"
        return "default_elided", reason, []
    rewritten = _similar(path, device_new)
    if rewritten is not None:
        return "rewritten_line", "the device stored the line in another form", [rewritten]
    if shows is True:
        reason = (
            f"{source} shows the line after applying it; the device does not: refused or dropped"
        )
        return "rejected_line", reason, []
    reason = (
        "the line is not in the running configuration after apply (whether it is a default "
        f"could not be checked: {truth.unavailable})"
    )
    return "rejected_line", reason, []


def _moved_header(path: ConfigPath, c: _Configs, truth: Truth) -> set[ConfigPath]:
    """The stanzas the lines inside ``path`` are stored under, when not under ``path``."""
    depth = len(path)
    headers: set[ConfigPath] = set()
    for child in c.intended:
        if len(child) > depth and child[:depth] == path and child in truth.effects:
            headers |= {a[:depth] for a in truth.effects[child][0] if len(a) > depth}
    return headers if headers and path not in headers else set()


def _lines(paths: list[ConfigPath]) -> str:
    return "; ".join(f"'{show_path(p)}'" for p in paths) or "nothing"


def reconcile(
    intended: Intended,
    pre: str,
    post: str,
    *,
    strategy: str = "merge",
    truth: Truth | None = None,
    platform: Platform | None = None,
) -> list[ConfigFinding]:
    """Compare the rendered configs applied to a host with its pre- and post-build configs.

    ``truth`` is what the device's software does with them (see :class:`Truth`); ``platform``
    whose syntax family reads the configs (``None``: FRR)."""
    c = _Configs.read(intended, pre, post, platform or FRR)
    q = _questions(c, strategy)
    post_set = set(c.post)
    truth = truth or Truth(unavailable="the device's software was not asked")
    findings: list[ConfigFinding] = []
    claimed: set[ConfigPath] = set()

    def add(
        kind: str,
        path: ConfigPath,
        reason: str,
        *,
        expected: ConfigPath | None = None,
        actual: ConfigPath | None = None,
        component: str | None = None,
    ) -> None:
        findings.append(
            ConfigFinding(
                kind,
                None if expected is None else show_path(expected),
                None if actual is None else show_path(actual),
                reason,
                component,
                show_path(path),
            )
        )

    for path in c.intended:
        removed = c.positive(path)
        if removed is not None and removed in post_set:
            add(
                "rejected_line",
                path,
                "the device still has the line the design removes",
                expected=path,
                actual=removed,
                component=c.owner[path],
            )
    for path in q.missing:
        free = [p for p in q.new if p not in claimed]
        kind, reason, actual = _missing(path, c, truth, free, post_set)
        claimed.update(actual)
        findings.append(
            ConfigFinding(
                kind,
                show_path(path),
                "; ".join(show_path(a) for a in actual) or None,
                reason,
                c.owner[path],
                show_path(path),
            )
        )
    for path in q.new:
        if path in claimed or (truth.paths is not None and path in truth.paths):
            continue  # the device's rendering of an intended line, or its own consequence
        add(
            "unexpected_change",
            path,
            "line appeared in the running configuration but no component intended it",
            actual=path,
        )
    for path in q.gone:
        if truth.paths is not None and path not in truth.paths:
            continue  # the device's software removes it too: a consequence of the design
        add(
            "unexpected_change",
            path,
            "line disappeared from the running configuration; no component removed it",
            expected=path,
        )
    return findings
