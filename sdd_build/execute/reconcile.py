"""Post-apply reconciliation: intended lines versus what the device really stores. Pure.

Configurations are read as indentation hierarchies (IOS/FRR style): each line is identified by
its path of parent stanzas, so ``ip ospf area 0`` under ``interface eth1`` differs from the same
line under ``interface eth2``. Then, per host:

* an intended line absent from the running config, with a *new* line in the same stanza that
  resembles it, was **rewritten** by the device (both forms are recorded);
* otherwise it was **rejected** (silently dropped, or refused);
* a line that changed between the pre-build and post-build config and that no component
  intended is an **unexpected change** (a default the device added, or someone else's change).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = ["Finding", "config_paths", "reconcile", "show_path"]

_IGNORED = {"!", "exit", "end", "exit-address-family", "exit-vrf", "exit-vnc", "quit"}
_VOLATILE_PREFIXES = ("frr version", "Building configuration", "Current configuration")
_SIMILARITY = 0.6

ConfigPath = tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    kind: str  # "rejected_line" | "rewritten_line" | "unexpected_change"
    expected: str | None
    actual: str | None
    reason: str


def config_paths(text: str) -> list[ConfigPath]:
    """Every meaningful line as its path of parent stanzas, in order, de-duplicated."""
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


def reconcile(intended: list[str], pre: str, post: str) -> list[Finding]:
    """Compare the rendered configs applied to a host with its pre- and post-build configs."""
    post_paths = config_paths(post)
    post_set = set(post_paths)
    pre_set = set(config_paths(pre))
    intended_paths: list[ConfigPath] = []
    for text in intended:
        intended_paths.extend(p for p in config_paths(text) if p not in intended_paths)
    intended_set = set(intended_paths)
    new_lines = [p for p in post_paths if p not in pre_set and p not in intended_set]
    claimed: set[ConfigPath] = set()
    findings: list[Finding] = []

    for path in intended_paths:
        leaf = path[-1]
        if leaf.startswith("no "):
            positive = (*path[:-1], leaf[3:])
            if positive in post_set:
                findings.append(
                    Finding(
                        "rejected_line",
                        show_path(path),
                        show_path(positive),
                        "the device still has the line the design removes",
                    )
                )
            continue
        if path in post_set:
            continue
        siblings = [p for p in new_lines if p[:-1] == path[:-1] and p not in claimed]
        best, score = None, 0.0
        for candidate in siblings:
            ratio = difflib.SequenceMatcher(None, leaf, candidate[-1]).ratio()
            if ratio > score:
                best, score = candidate, ratio
        if best is not None and score >= _SIMILARITY:
            claimed.add(best)
            findings.append(
                Finding(
                    "rewritten_line",
                    show_path(path),
                    show_path(best),
                    "the device stored the line in another form",
                )
            )
        else:
            findings.append(
                Finding(
                    "rejected_line",
                    show_path(path),
                    None,
                    "the line is not in the running configuration after apply",
                )
            )

    for path in new_lines:
        if path in claimed:
            continue
        # A new child under a stanza the design created is the device's rendering of it
        # only when claimed above; anything else is outside the design.
        findings.append(
            Finding(
                "unexpected_change",
                None,
                show_path(path),
                "line appeared in the running configuration but no component intended it",
            )
        )
    negated = {(*p[:-1], p[-1][3:]) for p in intended_paths if p[-1].startswith("no ")}
    superseded = {(*p[:-1], _attribute(p[-1])) for p in intended_paths}
    for path in config_paths(pre):
        if path not in post_set and path not in negated and path[:-1] not in negated:
            if any(path[: len(n)] == n for n in negated):
                continue
            if (*path[:-1], _attribute(path[-1])) in superseded:
                continue  # a single-valued attribute the design set to a new value
            findings.append(
                Finding(
                    "unexpected_change",
                    show_path(path),
                    None,
                    "line disappeared from the running configuration; no component removed it",
                )
            )
    return findings
