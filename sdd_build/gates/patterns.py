"""Policy-level autonomy: pre-approved patterns an agent may instantiate with no human.

``policy.yaml`` at the repository root is approved by a person like a gate
(``sdd-build policy approve``: approvers.yaml applies, signed where signatures are required;
the approval is a ``policy_approval`` entry of the audit chain holding the policy's sha256 and,
when signed, the signature over it). A pattern pins a design: its structure (the design's
canonical content without ``vars``), the sha256 of every file it references (spec, templates,
parsers, fixtures, inventory), a JSON Schema for the ``vars`` an agent may set, the hosts it
may target with a maximum blast radius, the acceptance checks that must be present, the agents
allowed, and the policy's expiry.

A design conforming to a pattern is approved at Gate 2 *by the policy*
(:func:`approve_by_policy`): the record's approver is ``policy:<id>`` and its ``policy`` block
names the policy sha256, the audit entry of its approval, the pattern, the agent and the
parameters. ``check_gate2`` does not trust that block: :func:`policy_findings` re-verifies, on
every gate check, that the policy file is unchanged, that its approval is an entry of the
verified chain by an authorised approver (signature verified where required), that it has not
expired, and that the design still conforms. Anything else is refused with the reasons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdd_build.audit.canonical import canonical_json, sha256_canonical
from sdd_build.design.source import read_file
from sdd_build.errors import DesignError, GateError, Problem
from sdd_build.gates.keys import fingerprint, parse_public_key, sign, verify_signature
from sdd_build.gates.models import ApproversFile
from sdd_build.gates.policy import policy_violations

if TYPE_CHECKING:
    from sdd_build.design.loader import LoadedDesign

__all__ = [
    "POLICY_FILE",
    "PolicyFile",
    "conformance",
    "load_policy_file",
    "policy_approval_entry",
    "structure_sha256",
]

POLICY_FILE = "policy.yaml"
MAX_POLICY_BYTES = 256 * 1024


class Pattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    design: str = Field(description="the pinned design, repository-relative")
    structure: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    pinned: dict[str, str] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(description="JSON Schema of the design's vars")
    hosts: list[str] = Field(min_length=1)
    max_hosts: int = Field(ge=1)
    checks: list[str] = Field(default_factory=list)


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    version: int = Field(ge=1)
    expires: dt.date
    agents: list[str] = Field(min_length=1)
    patterns: list[Pattern] = Field(min_length=1)

    def pattern_for(self, design_rel: str) -> Pattern | None:
        return next((p for p in self.patterns if p.design == design_rel), None)


def load_policy_file(root: Path) -> tuple[PolicyFile, str, bytes] | None:
    """``policy.yaml`` parsed, its sha256 and bytes; ``None`` when there is none."""
    path = root / POLICY_FILE
    try:
        data = read_file(path, display=POLICY_FILE, max_bytes=MAX_POLICY_BYTES)
    except FileNotFoundError:
        return None
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
        policy = PolicyFile.model_validate(raw)
        for pattern in policy.patterns:
            jsonschema.Draft202012Validator.check_schema(pattern.parameters)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DesignError(f"not YAML: {str(exc).splitlines()[0]}", file=POLICY_FILE) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise DesignError(f"{where}: {first['msg']}", file=POLICY_FILE) from None
    except jsonschema.SchemaError as exc:
        raise DesignError(
            f"parameters: not a JSON Schema: {exc.message}", file=POLICY_FILE
        ) from None
    return policy, hashlib.sha256(data).hexdigest(), data


def structure_sha256(loaded: LoadedDesign) -> str:
    """The design's content without the parameters an agent may set (``vars``)."""
    data = loaded.model.model_dump(mode="json", exclude={"vars"})
    return sha256_canonical(data)


def _manifest(policy_sha256: str, approver: str) -> bytes:
    return canonical_json({"policy_sha256": policy_sha256, "approver": approver})


def approve_policy(
    root: Path, *, by: str, key_path: Path | None, approvers: ApproversFile | None
) -> dict[str, Any]:
    """A person approves the current ``policy.yaml`` (an audit entry; signed with ``key``)."""
    from sdd_build.audit.log import AuditLog
    from sdd_build.gates.chain import verified_chain
    from sdd_build.gates.keys import load_private_key

    loaded = load_policy_file(root)
    if loaded is None:
        raise DesignError(f"no {POLICY_FILE} at the repository root {root}")
    policy, digest, _ = loaded
    key = load_private_key(key_path) if key_path is not None else None
    signer = key.public_key() if key is not None else None
    violations = policy_violations(
        approvers, gate="design", approver=by, author=None, signer=signer
    )
    if violations:
        raise GateError(violations[0], problems=[Problem(v, "approvers.yaml") for v in violations])
    verified_chain(root)  # nothing is approved over an altered log
    return AuditLog(root).append(
        "policy_approval",
        actor=by,
        policy=policy.policy,
        version=policy.version,
        sha256=digest,
        expires=policy.expires.isoformat(),
        signed=key is not None,
        fingerprint=fingerprint(signer) if signer is not None else None,
        signature=sign(key, _manifest(digest, by)) if key is not None else None,
    )


def policy_approval_entry(
    entries: list[dict[str, Any]], digest: str, approvers: ApproversFile | None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The latest ``policy_approval`` of the chain for this policy sha256, and what is wrong."""
    found = [
        e for e in entries if e.get("event") == "policy_approval" and e.get("sha256") == digest
    ]
    if not found:
        return None, [f"{POLICY_FILE} (sha256 {digest[:12]}) was never approved by a person"]
    entry = found[-1]
    approver = str(entry.get("actor"))
    signer = None
    if entry.get("signature"):
        listed = approvers.approver(approver) if approvers is not None else None
        if listed is None or listed.public_key is None:
            return entry, [f"the policy approval by {approver} is signed with an unlisted key"]
        public = parse_public_key(listed.public_key)
        if not verify_signature(public, str(entry["signature"]), _manifest(digest, approver)):
            return entry, [f"the signature of the policy approval by {approver} does not verify"]
        signer = public
    problems = policy_violations(
        approvers, gate="design", approver=approver, author=None, signer=signer
    )
    return entry, [f"policy approval: {p}" for p in problems]


def conformance(
    root: Path,
    policy: PolicyFile,
    loaded: LoadedDesign,
    design_rel: str,
    references: dict[str, str | None],
    hosts: list[str],
    *,
    agent: str,
    today: dt.date | None = None,
) -> tuple[Pattern | None, list[str]]:
    """Why this design is *not* an instance of a pattern of ``policy`` (empty: it conforms).

    ``references`` maps every file the design references now to its sha256 (``None``:
    unreadable); ``hosts`` are its resolved targets.
    """
    pattern = policy.pattern_for(design_rel)
    if pattern is None:
        return None, [f"no pattern of policy {policy.policy} pins {design_rel}"]
    reasons: list[str] = []
    today = today or dt.datetime.now(dt.UTC).date()
    if today > policy.expires:
        reasons.append(f"policy {policy.policy} expired on {policy.expires.isoformat()}")
    if agent not in policy.agents:
        reasons.append(f"agent {agent} is not allowed by policy {policy.policy}")
    outside = sorted(set(hosts) - set(pattern.hosts))
    if outside:
        reasons.append(
            f"target {', '.join(outside)} outside pattern {pattern.id} "
            f"(allowed: {', '.join(pattern.hosts)})"
        )
    if len(hosts) > pattern.max_hosts:
        reasons.append(f"{len(hosts)} hosts exceed the pattern's blast radius {pattern.max_hosts}")
    params = loaded.model.vars or {}
    for err in sorted(
        jsonschema.Draft202012Validator(pattern.parameters).iter_errors(params), key=str
    ):
        where = "/".join(str(p) for p in err.absolute_path) or "vars"
        reasons.append(f"parameter {where}: {err.message}")
    if pattern.structure is None or structure_sha256(loaded) != pattern.structure:
        reasons.append(f"the design differs from pattern {pattern.id} beyond its parameters")
    others = {rel: h for rel, h in references.items() if rel != design_rel}
    for rel in sorted(set(others) | set(pattern.pinned)):
        want, now = pattern.pinned.get(rel), others.get(rel)
        if want is None:
            reasons.append(f"{rel} is referenced but not pinned by pattern {pattern.id}")
        elif now is None:
            reasons.append(f"{rel} is pinned by pattern {pattern.id} but not referenced")
        elif now != want:
            reasons.append(
                f"{rel} changed since the pattern pinned it (pinned {want[:12]}, now {now[:12]})"
            )
    acceptance = {
        a.id for c in loaded.model.components for a in (getattr(c, "acceptance", None) or [])
    }
    missing = sorted(set(pattern.checks) - acceptance)
    if missing:
        reasons.append(f"checks the pattern requires are missing: {', '.join(missing)}")
    return pattern, reasons


def design_conformance(
    ctx: Any, loaded: LoadedDesign, *, agent: str
) -> tuple[PolicyFile | None, str | None, Pattern | None, dict[str, Any] | None, list[str]]:
    """(policy, its sha256, pattern, its approval entry, reasons) for ``loaded`` as read by
    the gate-check context ``ctx`` (every file hashed from the bytes the check read)."""
    from sdd_build.gates.references import design_references, repo_relative

    root = ctx.repo.root
    try:
        found = load_policy_file(root)
    except DesignError as exc:
        return None, None, None, None, [str(p) for p in exc.problems]
    if found is None:
        return None, None, None, None, [f"no {POLICY_FILE} at the repository root"]
    policy, digest, _ = found
    design_rel = repo_relative(loaded.repo, loaded.path) or str(loaded.path)
    refs = design_references(loaded)
    ctx.capture(refs.paths)
    hashes = {rel: ctx.hash(rel) for rel in refs.paths}
    reasons = [str(p) for p in refs.problems]
    if loaded.model.targets.groups:
        reasons.append("a pattern's design names its target hosts (no groups)")
    pattern, more = conformance(
        root, policy, loaded, design_rel, hashes, list(loaded.model.targets.hosts), agent=agent
    )
    reasons += more
    entries, broken = ctx.chain()
    if broken:
        return policy, digest, pattern, None, [*reasons, "the audit chain does not verify"]
    entry, problems = policy_approval_entry(entries, digest, ctx.policy)
    return policy, digest, pattern, entry, [*reasons, *problems]


def policy_findings(ctx: Any, approval: Any, loaded: LoadedDesign | None) -> list[Any]:
    """Gate 2 of a record approved by a policy: everything re-verified, nothing trusted."""
    from sdd_build.gates.records import Finding

    ref = approval.record.policy
    display = approval.display

    def finding(message: str) -> Finding:
        return Finding("invalid", Problem(f"approved by policy {ref.id}: {message}", display))

    if loaded is None:
        return [finding("the design does not load")]
    policy, digest, pattern, entry, reasons = design_conformance(ctx, loaded, agent=ref.agent)
    out = [finding(r) for r in reasons]
    if digest is not None and digest != ref.sha256:
        out.append(
            finding(f"{POLICY_FILE} changed since (was {ref.sha256[:12]}, now {digest[:12]})")
        )
    if entry is not None and entry.get("hash") != ref.approval_hash:
        out.append(finding("the policy approval it names is not the chain's approval of it"))
    if pattern is not None and pattern.id != ref.pattern:
        out.append(finding(f"records pattern {ref.pattern}, the design is {pattern.id}'s"))
    if (loaded.model.vars or {}) != ref.parameters:
        out.append(finding("the design's parameters differ from the approved ones"))
    if policy is not None and approval.record.approver != f"policy:{policy.policy}":
        out.append(finding(f"approver {approval.record.approver} is not policy:{policy.policy}"))
    return out


def pin_pattern(root: Path, pattern_id: str) -> dict[str, Any]:
    """A person pins a pattern to its design as it is now (structure and every referenced
    file's sha256), rewriting ``policy.yaml``; the policy then needs approving again."""
    from sdd_build.design.loader import Repository, load_design
    from sdd_build.gates.references import design_references, repo_relative
    from sdd_build.secrets.sink import write_text

    found = load_policy_file(root)
    if found is None:
        raise DesignError(f"no {POLICY_FILE} at the repository root {root}")
    _, _, data = found
    raw = yaml.safe_load(data.decode("utf-8"))
    entry = next((p for p in raw["patterns"] if p.get("id") == pattern_id), None)
    if entry is None:
        raise DesignError(f"no pattern {pattern_id!r}", file=POLICY_FILE)
    repo = Repository(root)
    loaded = load_design(root / entry["design"], repo=repo)
    refs = design_references(loaded)
    if refs.problems:
        raise DesignError.from_problems(refs.problems)
    design_rel = repo_relative(repo, loaded.path)
    pinned = {}
    for rel in sorted(refs.paths):
        if rel != design_rel:
            pinned[rel] = hashlib.sha256(read_file(root / rel, display=rel)).hexdigest()
    entry["structure"] = structure_sha256(loaded)
    entry["pinned"] = pinned
    write_text(root / POLICY_FILE, yaml.safe_dump(raw, sort_keys=False))
    return {"pattern": pattern_id, "structure": entry["structure"], "pinned": len(pinned)}
