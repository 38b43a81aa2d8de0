"""Post-apply reconciliation: intended lines versus what the device really stores. Pure.

Configurations are read as indentation hierarchies (IOS/FRR style): each line is identified by
its path of parent stanzas, so ``ip ospf area 0`` under ``interface eth1`` differs from the same
line under ``interface eth2``. Then, per host, an intended line the device does not show is:

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

from sdd_build.platforms.frr import FRR

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

_IGNORED = {"!", "exit", "end", "exit-address-family", "exit-vrf", "exit-vnc", "quit"}
_VOLATILE_PREFIXES = FRR.volatile_prefixes
_SIMILARITY = 0.6

ConfigPath = tuple[str, ...]
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


#: Top-level stanzas that configure nothing when empty: an empty ``interface X`` is what FRR
#: prints for an interface whose settings were all removed (and an active interface cannot be
#: deleted); an empty ``line vty`` is its default.
_EMPTY_MEANS_ABSENT = ("interface ", "line vty")


def config_paths(text: str) -> list[ConfigPath]:
    """Every meaningful line as its path of parent stanzas, in order, de-duplicated (an empty
    stanza that configures nothing, ``_EMPTY_MEANS_ABSENT``, is left out)."""
    paths = _paths(text)
    parents = {p[:1] for p in paths if len(p) > 1}
    return [
        p for p in paths if len(p) > 1 or p in parents or not p[0].startswith(_EMPTY_MEANS_ABSENT)
    ]


def _paths(text: str) -> list[ConfigPath]:
    stack: list[tuple[int, str]] = []
    seen: set[ConfigPath] = set()
    out: list[ConfigPath] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        stripped = raw.strip()
        if stripped in _IGNORED or stripped.startswith(("!", "#")):
            if stripped in _IGNORED and stripped != "!" and stack:
                stack.pop()  # 'exit' closes the innermost stanza
            continue
        if stripped.startswith(_VOLATILE_PREFIXES):
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


# Keywords whose attribute name spans more than one token ("ip ospf cost 10").
_COMPOUND = {"ip": 3, "ipv6": 3, "neighbor": 3, "bgp": 2, "ospf": 2, "no": 3}


def _attribute(line: str) -> str:
    """The attribute a line sets, without its value: 'description', 'ip ospf cost', ..."""
    tokens = line.split()
    return " ".join(tokens[: _COMPOUND.get(tokens[0], 1)]) if tokens else ""


def show_path(path: ConfigPath) -> str:
    """A config line with its parents, as reports show it: ``interface eth1 / ip ...``."""
    return " / ".join(path)


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

    @classmethod
    def read(cls, intended: Intended, pre: str, post: str) -> _Configs:
        paths: list[ConfigPath] = []
        owner: dict[ConfigPath, str | None] = {}
        for component, text in intended:
            for p in config_paths(text):
                if p not in owner:
                    owner[p] = component
                    paths.append(p)
        return cls(paths, owner, config_paths(pre), config_paths(post))


def _positive(path: ConfigPath) -> ConfigPath:
    return (*path[:-1], path[-1][3:])


def _questions(c: _Configs, strategy: str) -> Questions:
    post, pre, intended = set(c.post), set(c.pre), set(c.intended)
    missing = [p for p in c.intended if not p[-1].startswith("no ") and p not in post]
    new = [p for p in c.post if p not in pre and p not in intended]
    gone: list[ConfigPath] = []
    if strategy != "replace":  # a replace removes whatever it does not name, by design
        negated = {_positive(p) for p in c.intended if p[-1].startswith("no ")}
        superseded = {(*p[:-1], _attribute(p[-1])) for p in c.intended}
        for path in c.pre:
            if path in post or any(path[: len(n)] == n for n in negated):
                continue
            if (*path[:-1], _attribute(path[-1])) in superseded:
                continue  # a single-valued attribute the design set to a new value
            gone.append(path)
    return Questions(missing, new, gone)


def questions(intended: Intended, pre: str, post: str, strategy: str = "merge") -> Questions:
    """The lines reconciliation cannot explain from the configs alone (empty: nothing to ask)."""
    return _questions(_Configs.read(intended, pre, post), strategy)


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
) -> list[ConfigFinding]:
    """Compare the rendered configs applied to a host with its pre- and post-build configs.

    ``truth`` is what the device's software does with them (see :class:`Truth`)."""
    c = _Configs.read(intended, pre, post)
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
        if path[-1].startswith("no ") and _positive(path) in post_set:
            add(
                "rejected_line",
                path,
                "the device still has the line the design removes",
                expected=path,
                actual=_positive(path),
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
