"""audit: the append-only, hash-chained audit log (``<repo root>/audit/audit.jsonl``).

``AuditLog(root).append(event, actor=..., design=..., **data)`` records one event;
``verify_log(root)`` checks the chain and names every edited, deleted, inserted or reordered
entry. See :mod:`sdd_build.audit.log` for the entry format and the locking.
"""

from __future__ import annotations

from sdd_build.audit.canonical import canonical_json, sha256_canonical
from sdd_build.audit.log import (
    AUDIT_DIR,
    AUDIT_FILE,
    AUDIT_HEAD,
    GENESIS,
    AuditChainError,
    AuditError,
    AuditLog,
    AuditProblem,
    AuditReport,
    verify_log,
)

__all__ = [
    "AUDIT_DIR",
    "AUDIT_FILE",
    "AUDIT_HEAD",
    "GENESIS",
    "AuditChainError",
    "AuditError",
    "AuditLog",
    "AuditProblem",
    "AuditReport",
    "canonical_json",
    "sha256_canonical",
    "verify_log",
]
