"""File formats of the gates: approval records and ``approvers.yaml`` (pydantic v2).

Approval record, ``<use-case>/approvals/<gate>.json`` (``spec.json`` / ``design.json``)::

    {
      "format": "sdd-build.approval/1",
      "gate": "design",                      # spec | design
      "artifact": "designs/ospf-underlay/solution-design.yaml",   # repository-relative
      "sha256": "<hex>",                     # of the artifact's bytes
      "files": {                             # every file the artifact depends on (and itself)
        "templates/frr/ospf_interfaces.j2": {"sha256": "<hex>", "roles": ["template"]},
        ...
      },
      "design": {"id": "ospf-underlay", "version": 1, "author": "j.doe"},   # null for spec
      "requirements": ["REQ-1", ...],        # spec gate: the requirement ids approved
      "spec_approval": {...},                # design gate: the spec approval it builds on
      "approver": "a.smith",
      "approved_at": "2025-01-31T09:15:02.123456Z",     # UTC ISO 8601
      "note": "reviewed in CAB-42",          # or null
      "tool": "sdd-build 0.1.0",
      "policy": {...},                       # design gate approved by a policy pattern only:
                                             # id, sha256, approval_hash, pattern, agent,
                                             # parameters (sdd_build.gates.patterns)
      "signature": {                         # only with --key
        "algorithm": "ed25519", "public_key": "<base64 raw 32 bytes>",
        "fingerprint": "SHA256:...", "value": "<base64 signature>"
      }
    }

Roles of a file: ``design``, ``spec``, ``template`` (config templates and every template they
include/import/extend), ``parser``, ``fixture`` (offline-test inputs and golden files),
``reuse`` (a pinned library asset) and ``inventory`` (``hosts.yaml``/``groups.yaml``/
``defaults.yaml`` of the design's inventory, which decide the rendered config).

The signature covers the *manifest*: the record as stored, without its ``signature`` key, in
canonical JSON (:mod:`sdd_build.audit.canonical`: sorted keys, no whitespace, UTF-8). Changing
any byte of meaning in the record — a hash, the approver, the time — breaks it.

``approvers.yaml`` at the repository root::

    require_signatures: true       # every approval must be signed with the listed key
    four_eyes: true                # a design's author may not approve that design
    approvers:
      - name: a.smith
        public_key: "MCowBQYDK2VwAyEA..."   # base64 raw, PEM or "ssh-ed25519 ..."
        gates: [spec, design]
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from sdd_build.gates.keys import parse_public_key

__all__ = [
    "APPROVAL_FORMAT",
    "Approval",
    "Approver",
    "ApproversFile",
    "DesignRef",
    "FileHash",
    "Gate",
    "PolicyRef",
    "Role",
    "Signature",
    "SpecApprovalRef",
]

APPROVAL_FORMAT = "sdd-build.approval/1"

Gate = Literal["spec", "design"]
Role = Literal["design", "spec", "template", "parser", "fixture", "reuse", "inventory"]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# Same alphabet as a design's ``author`` so that four-eyes compares like with like.
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,200}$")]
Timestamp = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileHash(_Strict):
    sha256: Sha256
    roles: list[Role] = Field(min_length=1)


class DesignRef(_Strict):
    id: str
    version: int
    author: str


class SpecApprovalRef(_Strict):
    """The spec approval a design approval was given on (for the reader; the binding itself is
    the spec's hash in ``files``)."""

    artifact: str
    sha256: Sha256
    approver: str
    approved_at: Timestamp
    record_sha256: Sha256


class PolicyRef(_Strict):
    """A Gate 2 approval given by a policy pattern (``policy.yaml``), not by a person: which
    policy (its sha256 and the audit entry of its human approval), which pattern, for which
    agent, with which parameters. ``check_gate2`` re-verifies all of it on every build."""

    id: str
    sha256: Sha256
    approval_hash: Sha256  # the ``policy_approval`` entry of the audit chain
    pattern: str
    agent: str
    parameters: dict[str, Any]


class Signature(_Strict):
    algorithm: Literal["ed25519"]
    public_key: str
    fingerprint: str
    value: str


class Approval(_Strict):
    """One gate approval record (see the module docstring)."""

    format: Literal["sdd-build.approval/1"]
    gate: Gate
    artifact: str = Field(min_length=1)
    sha256: Sha256
    files: dict[str, FileHash] = Field(min_length=1)
    design: DesignRef | None = None
    requirements: list[str] = Field(default_factory=list)
    spec_approval: SpecApprovalRef | None = None
    approver: Name
    approved_at: Timestamp
    note: str | None = None
    tool: str
    policy: PolicyRef | None = None
    signature: Signature | None = None


class Approver(_Strict):
    name: Name
    public_key: str | None = Field(
        default=None, description="Ed25519 public key: base64 raw 32 bytes, PEM or OpenSSH."
    )
    gates: list[Gate] = Field(min_length=1, description="Gates this person may approve.")

    @field_validator("public_key")
    @classmethod
    def _valid_key(cls, value: str | None) -> str | None:
        if value is not None:
            parse_public_key(value)  # ValueError -> a located validation error
        return value


def identity(name: str) -> str:
    """A person's name as identities compare: Unicode-normalised (NFKC), case-folded, without
    surrounding space. ``J.Doe``, ``j.doe`` and ``J.DOE`` are one person (four eyes)."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


def same_person(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and identity(a) == identity(b)


class ApproversFile(_Strict):
    """``approvers.yaml``: who may approve which gate, and how."""

    require_signatures: bool = False
    four_eyes: bool = False
    approvers: list[Approver] = Field(default_factory=list)

    @field_validator("approvers")
    @classmethod
    def _unique(cls, value: list[Approver]) -> list[Approver]:
        names = [identity(a.name) for a in value]
        dupes = sorted({a.name for a in value if names.count(identity(a.name)) > 1})
        if dupes:
            raise ValueError(
                "approver listed more than once (names compare without case): " + ", ".join(dupes)
            )
        keys = [a.public_key.strip() for a in value if a.public_key]
        shared = sorted(
            {a.name for a in value if a.public_key and keys.count(a.public_key.strip()) > 1}
        )
        if shared:
            raise ValueError(
                "one public key is listed for several approvers (one person, one key): "
                + ", ".join(shared)
            )
        return value

    @model_validator(mode="after")
    def _keys_when_required(self) -> ApproversFile:
        if self.require_signatures:
            keyless = [a.name for a in self.approvers if a.public_key is None]
            if keyless:
                raise ValueError(
                    "require_signatures is on, but these approvers have no public_key: "
                    + ", ".join(keyless)
                )
        return self

    def approver(self, name: str) -> Approver | None:
        """The listed approver ``name`` is, compared canonically (see ``identity``)."""
        wanted = identity(name)
        return next((a for a in self.approvers if identity(a.name) == wanted), None)
