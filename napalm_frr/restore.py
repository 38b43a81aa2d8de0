"""Bring a running configuration back to a target (a backup, a pre-commit snapshot), verified.

FRR cannot negate every line it accepts (measured on 8.4: under ``bfd`` / ``profile X`` both
``no receive-interval 200`` and ``no receive-interval`` are ``% Unknown command``), and its own
``frr-reload.py`` logs "Failed to execute" and goes on as if done. So a restore here is a
sequence of strategies, each judged only by reading the device back:

1. ``replace`` -- the hierarchical diff (running -> target) as one batch, deletions first,
   then the additions a cascading deletion took with it, once more (what a replace commit and
   ``frr-reload.py`` do);
2. ``negate`` -- per line still left: the shorter ``no`` forms (``no receive-interval 200`` ->
   ``no receive-interval``), and the target's lines still missing, sent again in their context;
3. ``default`` -- per line still left whose value FRR will not negate: set the value FRR uses
   when the line is absent (``receive-interval 300``), learnt from the device itself
   (:mod:`napalm_frr.defaults`: its YANG schema's ``default`` and its operational data);
4. ``recreate`` -- per line still different: delete the smallest enclosing context the target
   also has (``no profile X``) and send the target's stanza for it again.

After each strategy the device is read again (a read that vtysh's warnings show incomplete
raises, it never becomes configuration) and the next strategy only sees what is still
different. What is left at the end is reported line by line with its stanza path; nothing here
claims success without that last read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from napalm_frr import config as cfg
from napalm_frr.transport import LineResult

__all__ = [
    "STRATEGIES",
    "Attempt",
    "RestoreReport",
    "Target",
    "negations",
    "restore",
    "show_change",
]

STRATEGIES = ("replace", "negate", "default", "recreate")


class Target(Protocol):
    """What a restore needs from a session to the device."""

    def read(self) -> str:
        """The complete running configuration (raises when the read is incomplete)."""
        ...

    def configure(self, lines: list[str]) -> list[LineResult]: ...

    def default_line(self, path: tuple[str, ...], line: str) -> str | None:
        """The line that sets what ``line`` sets to FRR's default, or ``None``."""
        ...


@dataclass
class Attempt:
    """Commands one strategy sent and what FRR refused of them (its words)."""

    strategy: str
    commands: list[str]
    refused: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    """How a restore went: each strategy's commands, and what still differs at the end."""

    attempts: list[Attempt] = field(default_factory=list)
    #: lines the device still has and the target does not ("stanza / ... / line")
    left: list[str] = field(default_factory=list)
    #: lines of the target the device still lacks
    missing: list[str] = field(default_factory=list)
    #: the strategies that ran, in order, until the device matched (or all of them)
    strategies: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.left and not self.missing


def show_change(change: cfg.Change) -> Iterator[str]:
    """A change as "stanza / ... / line" rows: the line, then each line of its subtree."""
    yield " / ".join((*change.path, change.line))
    if change.subtree is not None:
        yield from _subtree_rows((*change.path, change.line), change.subtree)


def _subtree_rows(path: tuple[str, ...], node: cfg.Node) -> Iterator[str]:
    for child in node.children.values():
        yield " / ".join((*path, child.line))
        yield from _subtree_rows((*path, child.line), child)


def restore(device: Target, target_text: str) -> RestoreReport:
    """Bring the device to ``target_text``, strategy after strategy, until a read-back matches."""
    target = cfg.parse(target_text)
    report = RestoreReport()
    steps: dict[str, Callable[[cfg.ConfigDiff, cfg.Node, Target], list[list[list[str]]]]] = {
        "replace": _replace,
        "negate": _negate,
        "default": _default,
        "recreate": _recreate,
    }
    change = cfg.diff(cfg.parse(device.read()), target)
    for name in STRATEGIES:
        if not change:
            break
        report.strategies.append(name)
        # per line (or context) its alternatives, in order, until FRR accepts one
        for alternatives in steps[name](change, target, device):
            for commands in alternatives:
                attempt = Attempt(name, commands, _send(device, commands))
                report.attempts.append(attempt)
                if not attempt.refused:
                    break
        if name == "replace":
            # a deletion can take lines with it (no neighbor X remote-as N drops every
            # neighbor X line): the additions still missing, once more
            again = cfg.diff(cfg.parse(device.read()), target).commands(additions_only=True)
            if again:
                report.attempts.append(Attempt(name, again, _send(device, again)))
        change = cfg.diff(cfg.parse(device.read()), target)
    report.left = [row for c in change.deletions for row in show_change(c)]
    report.missing = [row for c in change.additions for row in show_change(c)]
    return report


def _send(device: Target, commands: list[str]) -> list[str]:
    if not commands:
        return []
    return [f"{r.line.strip()}: {r.output.strip() or r.kind}" for r in device.configure(commands)
            if r.failed]  # fmt: skip


def _in_context(path: tuple[str, ...], lines: list[str]) -> list[str]:
    return [*path, *lines, *(cfg.exit_command(h) for h in reversed(path))]


def _replace(change: cfg.ConfigDiff, target: cfg.Node, device: Target) -> list[list[list[str]]]:
    return [[change.commands()]]


def negations(line: str) -> list[str]:
    """The ``no`` forms of ``line``, longest first: ``no a b c``, ``no a b``, ``no a`` (what
    ``frr-reload.py`` tries too). The first FRR accepts is the one used."""
    tokens = cfg.negate(line).split()
    if tokens[0] != "no":
        return [" ".join(tokens)]
    return [" ".join(tokens[:n]) for n in range(len(tokens), 1, -1)]


def _negate(change: cfg.ConfigDiff, target: cfg.Node, device: Target) -> list[list[list[str]]]:
    out = []
    for c in change.deletions:
        out.append([_in_context(c.path, [variant]) for variant in negations(c.line)])
    for c in change.additions:
        lines = [c.line]
        if c.subtree is not None and c.subtree.children:
            lines += [*_render_subtree(c.subtree), cfg.exit_command(c.line)]
        out.append([_in_context(c.path, lines)])
    return out


def _default(change: cfg.ConfigDiff, target: cfg.Node, device: Target) -> list[list[list[str]]]:
    out = []
    for c in change.deletions:
        if c.subtree is not None and c.subtree.children:
            continue  # a context, not a value
        line = device.default_line(c.path, c.line)
        if line is not None and line != c.line:
            out.append([_in_context(c.path, [line])])
    return out


def _recreate(change: cfg.ConfigDiff, target: cfg.Node, device: Target) -> list[list[list[str]]]:
    """Per enclosing context (once each): ``no <context>``, then the target's stanza."""
    done: set[tuple[str, ...]] = set()
    out = []
    for c in [*change.deletions, *change.additions]:
        context = _smallest_context(c.path, target)
        if context is None or context in done:
            continue
        done.add(context)
        node = _node(target, context)
        assert node is not None
        parent, header = context[:-1], context[-1]
        stanza = [cfg.negate(header), header, *_render_subtree(node), cfg.exit_command(header)]
        out.append([_in_context(parent, stanza)])
    return out


def _smallest_context(path: tuple[str, ...], target: cfg.Node) -> tuple[str, ...] | None:
    """The deepest prefix of ``path`` that the target has and FRR can delete whole."""
    for depth in range(len(path), 0, -1):
        context = path[:depth]
        if _node(target, context) is not None and not cfg.is_undeletable(context[-1]):
            return context
    return None


def _node(root: cfg.Node, path: tuple[str, ...]) -> cfg.Node | None:
    node: cfg.Node | None = root
    for header in path:
        node = node.children.get(header) if node is not None else None
    return node


def _render_subtree(node: cfg.Node) -> list[str]:
    out: list[str] = []
    for child in node.children.values():
        out.append(child.line)
        if child.children:
            out += _render_subtree(child)
            out.append(cfg.exit_command(child.line))
    return out
