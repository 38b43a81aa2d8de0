"""FRR configuration as a tree, and the diff between two trees (pure, no I/O).

FRR 8.4 has no candidate datastore for most of its daemons (the northbound transactions of
``configure private``/``commit`` cover only converted daemons and vtysh does not offer them),
so the driver keeps the candidate itself and computes what to send, the way FRR's own
``frr-reload.py`` does:

* :func:`parse` reads FRR configuration text (``show running-config`` or a user's file) into a
  tree of :class:`Node`. Indented text is scoped by indentation, text without any indentation by
  the context-opening keywords of :data:`napalm_frr.platform.CONTEXT_OPENERS` and ``exit``
  markers.
* :func:`merge` applies a merge candidate to a tree (``no X`` in a merge candidate removes X).
* :func:`diff` compares two trees; :meth:`ConfigDiff.commands` turns the result into vtysh
  configuration commands (deletions first, then additions, each inside its context) and
  :meth:`ConfigDiff.text` into the human diff ``compare_config`` returns.

Limits (the same class as frr-reload's): a changed line is a deletion plus an addition, so a
deletion that cascades (``no neighbor X remote-as N`` drops every ``neighbor X`` line) is made
up for by the driver re-sending the additions that are still missing after the first pass.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from napalm_frr import platform


@dataclass
class Node:
    """One configuration line; a context line has children."""

    line: str
    children: dict[str, Node] = field(default_factory=dict)

    def child(self, line: str) -> Node:
        """Return the child for ``line``, creating it at the end if needed."""
        node = self.children.get(line)
        if node is None:
            node = Node(line)
            self.children[line] = node
        return node

    def copy(self) -> Node:
        """Deep copy."""
        return Node(self.line, {k: v.copy() for k, v in self.children.items()})

    def render(self, indent: int = 0) -> Iterator[str]:
        """Yield the subtree as indented configuration lines (without exit markers)."""
        for node in self.children.values():
            yield " " * indent + node.line
            yield from node.render(indent + 1)


def _either(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str]:
    """One pattern that matches where any of ``patterns`` matches (their named groups made
    plain: only whether a line matches is asked of it), tried once per line instead of one
    pattern after the other."""
    named = re.compile(r"\(\?P<[A-Za-z_]\w*>")
    return re.compile("|".join(f"(?:{named.sub('(?:', p.pattern)})" for p in patterns))


_NOISE = _either(platform.VTYSH_NOISE)
_IGNORED = _either((*platform.IGNORED_LINES, *platform.VTYSH_NOISE))


def _ignored(line: str) -> bool:
    """A stripped line that is not configuration: a header of the read, or vtysh talking."""
    return _IGNORED.match(line) is not None


def is_noise(line: str) -> bool:
    """Whether ``line`` is vtysh talking (a warning, an answer), never configuration."""
    text = line.strip()
    return bool(text) and _NOISE.match(text) is not None


def noise(text: str) -> list[str]:
    """The lines of ``text`` that are vtysh talking, not configuration (see
    ``platform.VTYSH_NOISE``): a read holding any is incomplete, a candidate holding any is
    not configuration. :func:`parse` never turns them into configuration lines."""
    return [ln.strip() for ln in text.replace("\r", "").splitlines() if is_noise(ln)]


def lost_daemons(lines: list[str]) -> list[str]:
    """The daemons named by vtysh's noise lines (``Warning: connecting to ospfd...failed!``)."""
    found: list[str] = []
    for line in lines:
        for pattern in platform.VTYSH_NOISE:
            match = pattern.match(line)
            if match and "daemon" in match.groupdict() and match["daemon"] not in found:
                found.append(match["daemon"])
    return found


def _openers_for(path: list[str]) -> tuple[str, ...]:
    """Context openers allowed under the context path ``path`` (headers, outermost first)."""
    return _openers_under(path[-1] if path else None)


@functools.lru_cache(maxsize=4096)
def _openers_under(parent: str | None) -> tuple[str, ...]:
    """Context openers allowed inside the context ``parent`` (``None``: at the top)."""
    if parent is None:
        return platform.CONTEXT_OPENERS[""]
    found: list[str] = []
    for prefix, openers in platform.CONTEXT_OPENERS.items():
        if prefix and parent.startswith(prefix):
            found.extend(openers)
    return tuple(found)


def is_opener(line: str, path: list[str]) -> bool:
    """Whether ``line`` opens a context when met inside ``path``."""
    return any(line == o.strip() or line.startswith(o) for o in _openers_for(path))


def parse(text: str) -> Node:
    """Parse FRR configuration text into a tree rooted at a node with an empty line."""
    raw_lines = [ln.rstrip() for ln in text.replace("\r", "").splitlines()]
    raw_lines = [ln for ln in raw_lines if ln.strip()]
    indented = any(ln[0] in " \t" for ln in raw_lines)
    root = Node("")
    # stack of (indent of the header, node); the root has indent -1
    stack: list[tuple[int, Node]] = [(-1, root)]
    for number, raw in enumerate(raw_lines):
        line = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        if _ignored(line):
            continue
        if line.startswith("!"):
            if indent == 0:
                del stack[1:]
            continue
        if line == platform.END_LINE:
            del stack[1:]
            continue
        if line in platform.EXIT_LINES:
            if indented:
                while len(stack) > 1 and stack[-1][0] >= indent:
                    stack.pop()
            elif len(stack) > 1:
                stack.pop()
            continue
        if indented:
            while len(stack) > 1 and stack[-1][0] >= indent:
                stack.pop()
        path = [n.line for _, n in stack[1:]]
        if not indented and len(stack) > 1 and _openers_for([]) and is_opener(line, []):
            # a new top-level context closes the open ones
            del stack[1:]
            path = []
        node = stack[-1][1].child(line)
        if indented:
            nxt = raw_lines[number + 1] if number + 1 < len(raw_lines) else ""
            nxt_indent = len(nxt) - len(nxt.lstrip())
            opens = bool(nxt) and nxt_indent > indent and nxt.strip() not in platform.EXIT_LINES
            if opens or is_opener(line, path):
                stack.append((indent, node))
        elif is_opener(line, path):
            stack.append((indent, node))
    for line in [k for k, v in root.children.items() if not v.children]:
        if line.startswith(platform.ABSENT_WHEN_EMPTY):
            del root.children[line]
    return root


def merge(running: Node, candidate: Node) -> Node:
    """Return ``running`` with a merge candidate applied (``no X`` removes X)."""
    result = running.copy()
    _merge_into(result, candidate)
    return result


def _merge_into(target: Node, candidate: Node) -> None:
    for line, node in candidate.children.items():
        if line.startswith("no ") and not node.children:
            positive = line[3:]
            if positive in target.children:
                del target.children[positive]
                continue
            if not _has_negated_default(line):
                continue
        _merge_into(target.child(line), node)


def _has_negated_default(line: str) -> bool:
    """Whether FRR keeps ``line`` (a ``no ...`` line) in its running config as it is."""
    return any(p.match(line) for p in platform.STORED_NEGATIONS)


def negate(line: str) -> str:
    """The command that removes ``line``."""
    if line.startswith("no "):
        return line[3:]
    for pattern, replacement in platform.NEGATION_OVERRIDES:
        if pattern.match(line):
            return pattern.sub(replacement, line)
    return f"no {line}"


def exit_command(header: str) -> str:
    """The command that leaves the context opened by ``header``."""
    for prefix, command in platform.EXIT_COMMAND.items():
        if header.startswith(prefix):
            return command
    return "exit"


def is_undeletable(header: str) -> bool:
    """Whether FRR refuses to delete the context ``header`` opens as a whole."""
    return header.startswith(platform.UNDELETABLE_CONTEXTS)


_undeletable = is_undeletable


@dataclass
class Change:
    """One line to delete or add, under the context path ``path``."""

    path: tuple[str, ...]
    line: str
    added: bool
    subtree: Node | None = None


@dataclass
class ConfigDiff:
    """Differences between two configuration trees."""

    deletions: list[Change]
    additions: list[Change]

    def __bool__(self) -> bool:
        return bool(self.deletions or self.additions)

    def commands(self, additions_only: bool = False) -> list[str]:
        """vtysh configuration commands that turn the old tree into the new one."""
        out: list[str] = []
        if not additions_only:
            # deepest contexts first and, inside a context, last line first: the lines of an
            # address family go before the neighbor they name, "neighbor X description"
            # before "neighbor X remote-as" (whose removal takes every neighbor X line along)
            groups = sorted(_group(self.deletions), key=lambda g: -len(g[0]))
            for path, group in groups:
                _enter(out, path)
                out.extend(negate(c.line) for c in reversed(group))
                _leave(out, path)
        for path, group in _group(self.additions):
            _enter(out, path)
            for change in group:
                out.append(change.line)
                if change.subtree is not None and change.subtree.children:
                    _emit_subtree(out, change.subtree)
                    out.append(exit_command(change.line))
            _leave(out, path)
        return out

    def text(self) -> str:
        """Human-readable diff: each context once, its ``-`` lines, then its ``+`` lines."""
        by_path: dict[tuple[str, ...], list[Change]] = {}
        for change in [*self.deletions, *self.additions]:
            by_path.setdefault(change.path, []).append(change)
        out: list[str] = []
        last_path: tuple[str, ...] = ()
        for path, changes in by_path.items():
            common = 0
            while common < min(len(last_path), len(path)) and last_path[common] == path[common]:
                common += 1
            out.extend("  " + " " * depth + path[depth] for depth in range(common, len(path)))
            last_path = path
            indent = " " * len(path)
            for change in changes:
                sign = "+" if change.added else "-"
                out.append(f"{sign} {indent}{change.line}")
                if change.subtree is not None:
                    out.extend(f"{sign} {indent}{ln}" for ln in change.subtree.render(1))
        return "\n".join(out) + ("\n" if out else "")


def _group(changes: Iterable[Change]) -> Iterator[tuple[tuple[str, ...], list[Change]]]:
    """Consecutive changes sharing a context path."""
    current: tuple[str, ...] | None = None
    group: list[Change] = []
    for change in changes:
        if change.path != current and group:
            yield current or (), group
            group = []
        current = change.path
        group.append(change)
    if group:
        yield current or (), group


def _enter(out: list[str], path: tuple[str, ...]) -> None:
    out.extend(path)


def _leave(out: list[str], path: tuple[str, ...]) -> None:
    out.extend(exit_command(header) for header in reversed(path))


def _emit_subtree(out: list[str], node: Node) -> None:
    for child in node.children.values():
        out.append(child.line)
        if child.children:
            _emit_subtree(out, child)
            out.append(exit_command(child.line))


def diff(old: Node, new: Node) -> ConfigDiff:
    """What changes when ``old`` becomes ``new``."""
    result = ConfigDiff([], [])
    _diff(old, new, (), result)
    return result


def _diff(old: Node, new: Node, path: tuple[str, ...], result: ConfigDiff) -> None:
    for line, node in old.children.items():
        if line in new.children or any(p.match(line) for p in platform.KEPT_ON_REPLACE):
            continue
        if node.children and _undeletable(line):
            # keep the header, remove what is inside it
            _diff(node, Node(line), (*path, line), result)
        else:
            result.deletions.append(Change(path, line, added=False, subtree=node))
    for line, node in new.children.items():
        counterpart = old.children.get(line)
        if counterpart is None:
            result.additions.append(Change(path, line, added=True, subtree=node))
        else:
            _diff(counterpart, node, (*path, line), result)


def normalize(text: str) -> str:
    """Configuration text without the non-configuration lines of ``show running-config``."""
    lines = [ln.rstrip() for ln in text.replace("\r", "").splitlines()]
    kept = [
        ln
        for ln in lines
        if not any(p.match(ln) for p in platform.IGNORED_LINES[:2])  # header noise only
    ]
    while kept and not kept[0].strip():
        kept.pop(0)
    # a prompt Netmiko did not strip (the session's prompt was renamed under it)
    while kept and (not kept[-1].strip() or _TRAILING_PROMPT.match(kept[-1])):
        kept.pop()
    return "\n".join(kept) + "\n"


_TRAILING_PROMPT = re.compile(r"^[^\s!]*#$")
