"""What FRR would do with configuration lines, asked of FRR itself (a scratch instance).

Two uses, both through :class:`napalm_frr.scratch.Scratch` (the build machine's FRR, checked
to be the device's version):

* :func:`validate` -- the honest dry run: the device's running config is replayed on a scratch
  instance, then exactly the commands a commit would send; every line FRR refuses comes back
  with FRR's words, and every line whose owning daemon does not run on the device (``show
  daemons``) comes back as ``daemon_not_running`` (on the device, vtysh would answer ``bfdd is
  not running``, or drop the line without a word). The device is never changed.
* :func:`expected` -- what ``show running-config`` shows after a base config plus the intended
  ones on this FRR version: a line absent there that FRR did not refuse is one FRR elides
  (its default); a line present there and not intended is one FRR adds itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from napalm_frr import config as cfg
from napalm_frr import platform, scratch
from napalm_frr.transport import LineResult

__all__ = [
    "Expected",
    "Refusal",
    "Validation",
    "config_paths",
    "expected",
    "identity",
    "line_paths",
    "parse_daemons",
    "unavailable_for",
    "validate",
]

Path = tuple[str, ...]

_EXIT = {*platform.EXIT_LINES, platform.END_LINE}


@dataclass(frozen=True)
class Refusal:
    """A line FRR refuses (or would silently drop), with its stanza path (line last)."""

    path: Path
    reason: str
    kind: str

    def as_dict(self) -> dict[str, object]:
        return {
            "path": list(self.path),
            "line": self.path[-1],
            "reason": self.reason,
            "kind": self.kind,
        }


@dataclass
class Validation:
    """The dry run of one candidate: what would be sent, and what FRR would refuse."""

    commands: list[str]
    refused: list[Refusal] = field(default_factory=list)


@dataclass
class Expected:
    """FRR's own rendering of ``base`` + the intended configs, the lines it refused, and for
    each probed line it does not show, what applying that line changes in its rendering
    (``added``, ``removed`` paths): nothing at all for a default it elides, other lines for
    one it stores elsewhere (``router ospf / passive-interface lo`` becomes ``interface lo /
    ip ospf passive``)."""

    running: str
    paths: set[Path]
    refused: dict[Path, Refusal]
    effects: dict[Path, tuple[set[Path], set[Path]]] = field(default_factory=dict)


def config_paths(text: str) -> list[Path]:
    """Every configuration line of ``text`` as its stanza path (FRR's text, indented or not)."""
    out: list[Path] = []

    def walk(node: cfg.Node, path: Path) -> None:
        for line, child in node.children.items():
            out.append((*path, line))
            walk(child, (*path, line))

    walk(cfg.parse(text), ())
    return out


def line_paths(lines: list[str]) -> list[Path | None]:
    """The stanza path of each line of a vtysh command list (``None`` for exit markers).

    Indented text is scoped by its indentation, flat text by FRR's context openers and exit
    lines -- the same rules as :func:`napalm_frr.config.parse`."""
    indented = any(ln[:1] in (" ", "\t") for ln in lines if ln.strip())
    stack: list[tuple[int, str]] = []
    out: list[Path | None] = []
    for raw in lines:
        line = " ".join(raw.split())
        indent = len(raw) - len(raw.lstrip())
        if not line or line.startswith("!"):
            out.append(None)
            continue
        if line in _EXIT:
            if line == platform.END_LINE:
                stack.clear()
            elif indented:
                while stack and stack[-1][0] >= indent:
                    stack.pop()
            elif stack:
                stack.pop()
            out.append(None)
            continue
        if indented:
            while stack and stack[-1][0] >= indent:
                stack.pop()
        elif stack and cfg.is_opener(line, []):
            stack.clear()  # a new top-level context closes the open ones
        parents = [s for _, s in stack]
        out.append((*parents, line))
        if cfg.is_opener(line, parents) or indented:
            stack.append((indent, line))
    return out


_DAEMON = re.compile(r"\b([a-z0-9]+d|zebra)\b")


def parse_daemons(show_daemons: str) -> set[str]:
    """The daemons ``show daemons`` names (``zebra ospfd bgpd staticd``)."""
    return set(_DAEMON.findall(show_daemons))


_FRR_VERSION = re.compile(r"^frr version (\S+)", re.M)
_FRR_DEFAULTS = re.compile(r"^frr defaults (\S+)", re.M)
_SHOW_VERSION = re.compile(r"FRRouting (\S+)")


def identity(running: str, show_version: str = "") -> tuple[str | None, str]:
    """(FRR version, ``frr defaults`` profile) of a device, from its running config (or
    ``show version``); the profile is ``traditional`` when the config does not name one."""
    version = _FRR_VERSION.search(running) or _SHOW_VERSION.search(show_version)
    profile = _FRR_DEFAULTS.search(running)
    return (version[1] if version else None), (profile[1] if profile else "traditional")


def unavailable_for(device_version: str | None) -> str | None:
    """Why the build machine's FRR cannot answer for a device running ``device_version``."""
    reason = scratch.unavailable()
    if reason:
        return reason
    local = scratch.local_version()
    if local is None:
        return "the build machine's FRR version is unknown"
    if device_version is None:
        return "the device's FRR version is unknown (no 'frr version' line)"
    if local != device_version:
        return (
            f"the build machine runs FRR {local}, the device FRR {device_version}: install "
            f"FRR {device_version} on the build machine to ask the device's own version"
        )
    return None


def _refusals(answers: Iterable[tuple[int, LineResult]], lines: list[str]) -> list[Refusal]:
    paths = line_paths(lines)
    out = []
    for index, result in answers:
        path = paths[index] or (" ".join(result.line.split()),)
        out.append(Refusal(path, result.output.strip(), result.kind or "refused"))
    return out


def _owners(instance: scratch.Scratch) -> dict[str, set[Path]]:
    """Per daemon of the scratch instance, the stanza paths of its own running config."""
    args: list[str] = []
    for daemon in instance.running_daemons:
        args += ["-c", f"show running-config {daemon}"]
    out = instance.vtysh(*args)
    parts = out.split("Building configuration...")[1:]
    return {
        daemon: set(config_paths(text))
        for daemon, text in zip(instance.running_daemons, parts, strict=False)
    }


def validate(
    base: str, batches: list[list[str]], *, profile: str, device_daemons: set[str] | None
) -> list[Validation]:
    """Every line of each command list in ``batches`` (vtysh commands, as commits would send
    them one after the other after ``base``, the device's running config) that FRR would
    refuse, without touching the device: one scratch instance for them all."""
    results = [Validation(commands=list(commands)) for commands in batches]
    if not any(batches):
        return results
    with scratch.borrow(profile) as instance:
        instance.load(base)
        sent_by: list[list[str]] = []
        for result in results:
            # typed as the driver types them into the device: the same answers, classified alike
            answers = instance.session(result.commands)
            sent_by.append(result.commands)
            refused = [(i, a) for i, a in enumerate(answers) if a.failed]
            result.refused = _refusals(refused, result.commands)
        if device_daemons is None:
            return results
        owners = _owners(instance)
    running = set().union(*(p for d, p in owners.items() if d in device_daemons))
    missing = {d: p for d, p in owners.items() if d not in device_daemons}
    for result, sent in zip(results, sent_by, strict=True):
        already = {r.path for r in result.refused}
        orphaned: dict[Path, str] = {}  # a stanza whose daemon is missing: its lines go too
        for path in line_paths(sent):
            if path is None or path in already:
                continue
            parent = next(
                (orphaned[path[:n]] for n in range(1, len(path)) if path[:n] in orphaned), None
            )
            absent = " / ".join(sorted(d for d, paths in missing.items() if path in paths))
            if parent is None and (path in running or not absent):
                continue
            why = parent or f"{absent} is not running on the device"
            already.add(path)
            orphaned[path] = why
            result.refused.append(Refusal(path, why, "daemon_not_running"))
    return results


def _render(node: cfg.Node, indent: int = 0) -> Iterator[str]:
    """A tree as vtysh input: indented, each context left with its own exit command."""
    for child in node.children.values():
        yield " " * indent + child.line
        if child.children:
            yield from _render(child, indent + 1)
            yield " " * indent + cfg.exit_command(child.line)


def _without(text: str, paths: set[Path]) -> str:
    """``text`` without the lines at ``paths`` (and what they contain)."""
    tree = cfg.parse(text)

    def prune(node: cfg.Node, at: Path) -> None:
        for line in list(node.children):
            if (*at, line) in paths:
                del node.children[line]
            else:
                prune(node.children[line], (*at, line))

    prune(tree, ())
    return "\n".join(_render(tree)) + "\n"


def _context(path: Path) -> str:
    """One line inside its stanzas, as vtysh input."""
    lines = [" " * depth + line for depth, line in enumerate(path)]
    lines += [
        " " * depth + cfg.exit_command(path[depth]) for depth in reversed(range(len(path) - 1))
    ]
    return "\n".join(lines) + "\n"


def expected(
    base: str, configs: list[str], *, profile: str, probe: Iterable[Path] = ()
) -> Expected:
    """``show running-config`` of this FRR version after ``base`` and then ``configs``; and
    for each line of ``probe`` it does not show (nor refuse), the effect of that line alone,
    applied last on an instance holding everything else."""
    with scratch.borrow(profile) as instance:
        instance.load(base)
        refused: dict[Path, Refusal] = {}
        for text in configs:
            sent, answers = instance.load(text)
            for refusal in _refusals(answers, sent):
                refused.setdefault(refusal.path, refusal)
        running = instance.running()
    result = Expected(running=running, paths=set(config_paths(running)), refused=refused)
    suspects = [p for p in dict.fromkeys(probe) if p not in result.paths and p not in refused]
    if not suspects:
        return result
    with scratch.borrow(profile) as instance:
        instance.load(base)
        for text in configs:
            instance.load(_without(text, set(suspects)))
        before = set(config_paths(instance.running()))
        steps: list[tuple[set[Path], set[Path]]] = []
        for path in suspects:
            instance.load(_context(path))
            after = set(config_paths(instance.running()))
            steps.append((after - before, before - after))
            before = after
    # a line a later probe replaced lives on in that probe's lines: 'lsp-gen-interval 3' and
    # 'lsp-refresh-interval 6' both end up as 'lsp-timers gen-interval 3 refresh-interval 6 ...'
    final: list[set[Path]] = [set() for _ in steps]
    for k in reversed(range(len(steps))):
        for line in steps[k][0]:
            if line in before:
                final[k].add(line)
                continue
            later = next((j for j in range(k + 1, len(steps)) if line in steps[j][1]), None)
            if later is not None:
                final[k] |= final[later]
    for path, (added, removed), stored in zip(suspects, steps, final, strict=True):
        result.effects[path] = (stored if added else set(), removed)
    return result
