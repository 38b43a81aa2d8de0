"""The audit chain as the root of trust for every record a command acts on.

Every command that acts (approve, waive, discover, build, recover, rollback) first verifies the
whole hash chain (``verified_chain``): a broken, torn or truncated log refuses with exit 3
before any device contact. Then every approval and waiver it relies on must be *in* that chain
(``in_chain``: an entry of that event carrying the record's sha256) — signed or not. A record
written by hand, or one whose log was deleted or cut, is not in the chain and is refused: an
unsigned forgery without ``approvers.yaml`` is as dead as a forged signature.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sdd_build.audit import AuditChainError, AuditLog, verify_log
from sdd_build.errors import Problem

__all__ = ["chain_problems", "in_chain", "verified_chain"]


def verified_chain(root: Path) -> list[dict[str, Any]]:
    """The entries of ``<root>/audit/audit.jsonl`` after verifying the whole chain.

    Raises ``AuditChainError`` (exit 3) for an edited, deleted, inserted, reordered or torn
    entry, a log cut at the end (its head file disagrees), or a log deleted beside its head.
    A repository that never had a log returns ``[]``: then no record can be in the chain.
    """
    report = verify_log(root)
    report.raise_for_problems()
    log = AuditLog(root)
    if not report.exists:
        records = _records_needing_a_log(root)
        if records:
            raise AuditChainError(
                f"the audit log is missing, but {records[0]} exists: the log was deleted",
                file="audit/audit.jsonl",
                hint="restore audit/ from a trusted copy; records outside the chain are void",
            )
        return []
    if report.entries and not log.head_path.exists():
        raise AuditChainError(
            "audit/audit.head.json is missing: entries cut from the end could not be detected",
            file="audit/audit.head.json",
            hint="restore audit/ from a trusted copy and investigate who changed it",
        )
    return report.verified  # the entries as verified, not a second read


_SKIP_DIRS = frozenset({".git", "node_modules", "builds", "__pycache__", ".venv", "audit"})
_MAX_WALK = 20_000  # directories looked at: bounded on a huge checkout


def _records_needing_a_log(root: Path) -> list[str]:
    """Records sdd-build writes only after logging them (approvals, waivers): if any exists,
    a log must exist too."""
    found: list[str] = []
    for seen, (current, dirs, files) in enumerate(os.walk(root), start=1):
        if seen > _MAX_WALK:
            break
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        here = Path(current)
        if here.name == "approvals" and any(f.endswith(".json") for f in files):
            found.append(here.relative_to(root).as_posix() + "/")
        if "waivers.json" in files:
            found.append((here / "waivers.json").relative_to(root).as_posix())
        if found:
            break
    return found


def chain_problems(root: Path) -> tuple[list[dict[str, Any]], list[Problem]]:
    """``verified_chain`` without raising: (entries, problems)."""
    try:
        return verified_chain(root), []
    except AuditChainError as exc:
        return [], list(exc.problems) or [Problem(str(exc), "audit/audit.jsonl")]


def in_chain(
    entries: Iterable[dict[str, Any]], event: str, record_sha256: str, **match: Any
) -> dict[str, Any] | None:
    """The chain entry that recorded a record with this sha256 (and ``match`` values)."""
    for entry in entries:
        if entry.get("event") != event or entry.get("record_sha256") != record_sha256:
            continue
        if all(entry.get(k) == v for k, v in match.items()):
            return entry
    return None
