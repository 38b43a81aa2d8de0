"""gates: approvals bound to content hashes, and the checks that enforce them.

SDD's two gates made structural:

* **Gate 1** — the customer spec is approved and unchanged before discovery
  (:func:`check_gate1`).
* **Gate 2** — the solution design is approved, and neither it nor anything it references
  (spec, templates and their includes, parsers, fixtures, reused assets, design-data
  inventory) changed since, before a build (:func:`check_gate2`).

Approvals are written by :func:`approve` (``sdd-build approve``), optionally signed with an
Ed25519 key and governed by ``approvers.yaml``. Every refusal is a ``GateError`` (exit 3).
File formats: :mod:`sdd_build.gates.models`.
"""

from __future__ import annotations

from sdd_build.gates.approve import ApprovalResult, approve
from sdd_build.gates.check import (
    ApprovedBuild,
    GatesReport,
    GateStatus,
    check_gate1,
    check_gate2,
    check_targets,
    gate_status,
)
from sdd_build.gates.keys import (
    KeyFileError,
    PublicKeyInfo,
    fingerprint,
    generate_key,
    load_private_key,
    parse_public_key,
)
from sdd_build.gates.models import APPROVAL_FORMAT, Approval, Approver, ApproversFile
from sdd_build.gates.policy import APPROVERS_FILE, PolicyError, load_policy
from sdd_build.gates.records import APPROVALS_DIR, HISTORY_DIR, Finding, GateApproval
from sdd_build.gates.references import References, design_references

__all__ = [
    "APPROVALS_DIR",
    "APPROVAL_FORMAT",
    "APPROVERS_FILE",
    "HISTORY_DIR",
    "Approval",
    "ApprovalResult",
    "ApprovedBuild",
    "Approver",
    "ApproversFile",
    "Finding",
    "GateApproval",
    "GateStatus",
    "GatesReport",
    "KeyFileError",
    "PolicyError",
    "PublicKeyInfo",
    "References",
    "approve",
    "check_gate1",
    "check_gate2",
    "check_targets",
    "design_references",
    "fingerprint",
    "gate_status",
    "generate_key",
    "load_policy",
    "load_private_key",
    "parse_public_key",
]
