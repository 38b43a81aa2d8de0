"""Where an agent may read and write: one confinement function for every MCP path argument.

``draft_target`` is the only way a drafting tool turns a path it was given into a file it
writes. A path is accepted only when all of these hold:

* lexically: a relative POSIX path of at most ``MAX_PATH`` characters, no NUL, no ``..`` or
  ``.`` segment, no empty segment, no backslash, no segment starting with a dot;
* it lies in a use case's folder (``designs/<use-case>/...``) or the asset library
  (``templates/...``, ``parsers/...``), and has a drafting extension;
* no segment is governance or output: ``approvals``, ``audit``, ``builds``, ``keys``, nor the
  files ``waivers.json``, ``approvers.yaml``, ``policy.yaml``, ``baseline.json``,
  ``feasibility.*``, ``as-built.*``;
* resolved: no existing segment is a symbolic link (checked with ``lstat`` from the repository
  root down), and the resolved parent is inside the resolved repository.

``read_target`` confines reads to the repository (lexical and resolved, no key files).
Refusals are ``AgentRefusal`` (exit 3): nothing is read or written.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from sdd_build.errors import AgentRefusal

__all__ = ["MAX_DRAFT_BYTES", "MAX_PATH", "draft_target", "read_target"]

MAX_PATH = 300
MAX_DRAFT_BYTES = 256 * 1024
DRAFT_AREAS = ("designs", "templates", "parsers")
DRAFT_SUFFIXES = frozenset(
    {".yaml", ".yml", ".md", ".j2", ".jinja", ".ttp", ".textfsm", ".txt", ".cfg", ".json"}
)
FORBIDDEN_DIRS = frozenset({"approvals", "audit", "builds", "keys", "history"})
FORBIDDEN_FILES = frozenset(
    {
        "waivers.json",
        "approvers.yaml",
        "policy.yaml",
        "baseline.json",
        "feasibility.json",
        "feasibility.md",
        "as-built.json",
        "as-built.md",
    }
)
SECRET_SUFFIXES = frozenset({".key", ".pem", ".pub", ".p12"})


def _segments(rel: object, what: str) -> tuple[str, ...]:
    if not isinstance(rel, str) or not rel:
        raise AgentRefusal(f"{what}: a non-empty relative path is required")
    if len(rel) > MAX_PATH:
        raise AgentRefusal(f"{what}: path longer than {MAX_PATH} characters")
    if "\x00" in rel or "\\" in rel or any(ord(c) < 32 for c in rel):
        raise AgentRefusal(f"{what}: control characters or backslashes in the path")
    if rel.startswith("/"):
        raise AgentRefusal(f"{what}: '{rel}' is absolute; give a path relative to the repository")
    parts = tuple(rel.split("/"))
    for part in parts:
        if part in ("", ".", ".."):
            raise AgentRefusal(f"{what}: '{rel}' has an empty, '.' or '..' segment")
        if part.startswith("."):
            raise AgentRefusal(f"{what}: '{rel}' names a hidden file or folder")
    return parts


def _no_symlinks(root: Path, parts: tuple[str, ...], rel: str, what: str) -> Path:
    """Walk from the root: no existing segment may be a symlink; the result stays inside."""
    current = root
    for part in parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            break
        if stat.S_ISLNK(mode):
            raise AgentRefusal(f"{what}: '{rel}' goes through a symbolic link; refused")
    target = root.joinpath(*parts)
    resolved_root = root.resolve()
    parent = target.parent.resolve() if target.parent.exists() else target.parent
    if not (parent == resolved_root or resolved_root in parent.parents):
        raise AgentRefusal(f"{what}: '{rel}' resolves outside the repository")
    return target


def draft_target(root: Path, rel: object) -> tuple[Path, str]:
    """The file a drafting tool may write for ``rel``, and its repository-relative name."""
    parts = _segments(rel, "draft refused")
    shown = "/".join(parts)
    if parts[0] not in DRAFT_AREAS or (parts[0] == "designs" and len(parts) < 3) or len(parts) < 2:
        raise AgentRefusal(
            f"draft refused: '{shown}' is outside a use case folder (designs/<use-case>/...) "
            "and the asset library (templates/, parsers/)"
        )
    lowered = [p.lower() for p in parts]
    if bad := [p for p in lowered[:-1] if p in FORBIDDEN_DIRS]:
        raise AgentRefusal(
            f"draft refused: '{shown}' is inside {bad[0]}/, which agents never write"
        )
    if lowered[-1] in FORBIDDEN_FILES:
        raise AgentRefusal(f"draft refused: {parts[-1]} is governance or output, never drafted")
    suffix = PurePosixPath(lowered[-1]).suffix
    if suffix not in DRAFT_SUFFIXES:
        raise AgentRefusal(
            f"draft refused: '{shown}' has no drafting extension "
            f"({', '.join(sorted(DRAFT_SUFFIXES))})"
        )
    target = _no_symlinks(root, parts, shown, "draft refused")
    if target.exists() and not target.is_file():
        raise AgentRefusal(f"draft refused: '{shown}' exists and is not a regular file")
    return target, shown


def read_target(root: Path, rel: object) -> tuple[Path, str]:
    """A file inside the repository an agent may read (never a key)."""
    parts = _segments(rel, "read refused")
    shown = "/".join(parts)
    if PurePosixPath(parts[-1].lower()).suffix in SECRET_SUFFIXES or "keys" in parts:
        raise AgentRefusal(f"read refused: '{shown}' looks like key material")
    target = _no_symlinks(root, parts, shown, "read refused")
    if not target.is_file():
        raise AgentRefusal(f"read refused: '{shown}' is not a file in the repository")
    return target, shown
