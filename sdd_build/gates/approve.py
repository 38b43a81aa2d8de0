"""``approve``: record a gate approval bound to the content hashes of everything it covers.

* ``--gate spec``: the artifact is the customer spec; it must parse with at least one
  requirement. A design (YAML) named with ``--gate spec``, or a spec with ``--gate design``, is
  refused as "wrong gate for this artifact" before anything is read or written (exit 2). The
  record binds the spec's bytes and lists the requirement ids.
* ``--gate design``: the design must pass ``validate`` (exit 2 with its problems otherwise) and
  Gate 1 must hold (a current spec approval, exit 3 otherwise). The record binds the design
  and every file it references (:mod:`sdd_build.gates.references`).

In both cases ``approvers.yaml`` is applied (exit 3 when it forbids the approval), the record
is signed when a key is given, written as ``approvals/<gate>.json`` plus an immutable history
copy, and an ``approval`` entry is appended to the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdd_build import __version__
from sdd_build.audit.log import AuditLog
from sdd_build.design.loader import LoadedDesign, Repository, find_root, load_design
from sdd_build.design.source import Snapshot
from sdd_build.design.spec import load_spec
from sdd_build.errors import DesignError, GateError, Problem
from sdd_build.gates.chain import in_chain, verified_chain
from sdd_build.gates.check import GateContext, gate_error, gate_hint, spec_gate_status
from sdd_build.gates.keys import fingerprint, load_private_key
from sdd_build.gates.models import APPROVAL_FORMAT, Gate
from sdd_build.gates.policy import APPROVERS_FILE, PolicyError, policy_violations
from sdd_build.gates.records import (
    GateApproval,
    approval_path,
    read_approval,
    render_record,
    write_record,
)
from sdd_build.gates.references import design_references, repo_relative

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sdd_build.workspace import Workspace

__all__ = [
    "ApprovalResult",
    "approve",
    "base_record",
    "commit_approval",
    "design_record",
    "utc_now",
    "validated_once",
]

_NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,200}$")
MAX_NOTE = 4000


@dataclass(frozen=True)
class ApprovalResult:
    """What ``approve`` wrote: the record (as re-read and verified), its history copy and
    the audit entry."""

    approval: GateApproval
    history: Path
    audit_entry: dict[str, Any]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def approve(
    artifact: Path,
    *,
    gate: Gate,
    by: str,
    key: Path | None = None,
    note: str | None = None,
    root: Path | None = None,
) -> ApprovalResult:
    """Approve ``artifact`` for ``gate`` as ``by``; sign with the private key file ``key``.

    Raises:
        DesignError: the artifact is missing or invalid (exit 2).
        PolicyError: a malformed ``approvers.yaml``, ``--by`` or ``--note`` (exit 2).
        KeyFileError: an unreadable or non-Ed25519 key file (exit 2).
        GateError: Gate 1 does not hold (design gate), or the policy forbids it (exit 3).
    """
    if gate not in ("spec", "design"):
        raise PolicyError(f"unknown gate {gate!r}; use spec or design")
    if not _NAME.match(by):
        raise PolicyError(
            f"approver name {by!r} is not valid: letters, digits and '_.:@-', "
            "at most 200 characters"
        )
    if note is not None and len(note) > MAX_NOTE:
        raise PolicyError(f"--note is longer than {MAX_NOTE} characters")
    artifact = Path(artifact)
    if not artifact.is_file():
        raise DesignError("file not found", file=str(artifact))
    is_design = artifact.suffix.lower() in (".yaml", ".yml")
    if is_design == (gate == "spec"):
        right, kind = ("design", "a solution design") if is_design else ("spec", "a customer spec")
        raise DesignError(
            f"wrong gate for this artifact: it is {kind}, --gate {gate} approves "
            + ("a customer spec" if gate == "spec" else "a solution design"),
            file=str(artifact),
            hint=f"sdd-build approve {artifact} --gate {right}; nothing was approved",
        )
    if gate == "spec":
        return _approve_spec(artifact, by=by, key=key, note=note, root=root)
    return _approve_design(artifact, by=by, key=key, note=note, root=root)


def base_record(
    gate: Gate, artifact: str, digest: str, *, by: str, note: str | None, now: dt.datetime
) -> dict[str, Any]:
    return {
        "format": APPROVAL_FORMAT,
        "gate": gate,
        "artifact": artifact,
        "sha256": digest,
        "approver": by,
        "approved_at": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "note": note,
        "tool": f"sdd-build {__version__}",
        "design": None,
        "requirements": [],
        "spec_approval": None,
    }


def _approve_spec(
    artifact: Path, *, by: str, key: Path | None, note: str | None, root: Path | None
) -> ApprovalResult:
    spec_path = artifact.resolve()
    use_case = spec_path.parent
    repo = Repository((root or find_root(use_case)).resolve())
    spec_rel = repo_relative(repo, spec_path)
    if spec_rel is None:
        raise DesignError(f"the spec is outside the repository {repo.root}", file=str(spec_path))
    ctx = GateContext(repo)
    ctx.capture([spec_rel])  # read once: the bytes checked are the bytes approved
    spec = load_spec(spec_path, display=spec_rel, source=ctx.snapshot())  # >= 1 requirement

    signing_key = load_private_key(key) if key is not None else None
    _enforce_policy(ctx, gate="spec", by=by, author=None, signing_key=signing_key)

    digest = ctx.hash(spec_rel)
    assert digest is not None  # load_spec just read it
    record = base_record("spec", spec_rel, digest, by=by, note=note, now=utc_now())
    record["files"] = {spec_rel: {"sha256": digest, "roles": ["spec"]}}
    record["requirements"] = spec.ids()
    return commit_approval(ctx, use_case, "spec", record, signing_key, design_id=None)


def validated_once(
    artifact: Path, *, root: Path | None, hint: str | None = None
) -> tuple[GateContext, Snapshot, Workspace]:
    """Read every file the design references once into a snapshot and validate those bytes:
    what is approved is exactly what was validated. ``DesignError`` (with ``hint``) if not
    valid. Shared by a person's approval and a policy's."""
    from sdd_build.plan.validate import validate  # the whole offline pipeline: load lazily

    on_disk = load_design(artifact, root=root)
    ctx = GateContext(on_disk.repo)
    ctx.capture(design_references(on_disk).paths)
    ctx.capture([repo_relative(on_disk.repo, on_disk.path) or ""])
    snapshot = ctx.snapshot()
    report = validate(on_disk.path, repo=on_disk.repo.with_source(snapshot))
    if not report.ok or report.workspace is None:
        raise DesignError.from_problems(report.problems, hint=hint)
    return ctx, snapshot, report.workspace


def design_record(
    ws: Workspace,
    snapshot: Snapshot,
    spec_approval: GateApproval,
    *,
    by: str,
    note: str | None,
) -> dict[str, Any]:
    """The Gate-2 record of a validated design: every file it references bound by the sha256
    of the snapshot's bytes, the design's id/version/author, the requirements and the spec
    approval it builds on."""
    loaded = ws.design
    refs = design_references(loaded)
    if refs.problems:
        raise DesignError.from_problems(refs.problems)
    files: dict[str, dict[str, Any]] = {}
    for rel in sorted(refs.paths):
        digest = snapshot.hashes.get(rel)
        if digest is None:
            raise DesignError(
                "referenced file not found (or it changed while being approved: try again)",
                file=rel,
            )
        files[rel] = {"sha256": digest, "roles": sorted(refs.roles[rel])}
    design_rel = repo_relative(loaded.repo, loaded.path)
    assert design_rel is not None
    assert design_rel in files
    spec_rec = spec_approval.record
    record = base_record(
        "design", design_rel, files[design_rel]["sha256"], by=by, note=note, now=utc_now()
    )
    record["files"] = files
    record["design"] = {
        "id": loaded.model.design,
        "version": loaded.model.version,
        "author": loaded.model.author,
    }
    record["requirements"] = ws.spec.ids()
    record["spec_approval"] = {
        "artifact": spec_rec.artifact,
        "sha256": spec_rec.sha256,
        "approver": spec_rec.approver,
        "approved_at": spec_rec.approved_at,
        "record_sha256": spec_approval.record_sha256,
    }
    return record


def _approve_design(
    artifact: Path, *, by: str, key: Path | None, note: str | None, root: Path | None
) -> ApprovalResult:
    ctx, snapshot, ws = validated_once(
        artifact,
        root=root,
        hint="only a valid design can be approved; fix it (sdd-build validate) first",
    )
    loaded: LoadedDesign = ws.design
    signing_key = load_private_key(key) if key is not None else None

    spec_path = loaded.repo.confine(loaded.directory, loaded.model.spec)
    assert spec_path is not None  # validate() confined it
    gate1 = spec_gate_status(ctx, spec_path, loaded.directory)
    if not gate1.ok:
        raise gate_error(
            gate1.findings,
            hint="Gate 1 first: approve the spec (sdd-build approve <spec> --gate spec), "
            "then the design"
            if gate1.status == "missing"
            else gate_hint([gate1], loaded.display),
        )
    assert gate1.approval is not None
    _enforce_policy(ctx, gate="design", by=by, author=loaded.model.author, signing_key=signing_key)
    record = design_record(ws, snapshot, gate1.approval, by=by, note=note)
    return commit_approval(
        ctx, loaded.directory, "design", record, signing_key, design_id=loaded.model.design
    )


def _enforce_policy(
    ctx: GateContext,
    *,
    gate: Gate,
    by: str,
    author: str | None,
    signing_key: Ed25519PrivateKey | None,
) -> None:
    signer = signing_key.public_key() if signing_key is not None else None
    violations = policy_violations(ctx.policy, gate=gate, approver=by, author=author, signer=signer)
    if violations:
        unsigned = signer is None and ctx.policy is not None and ctx.policy.require_signatures
        raise GateError(
            violations[0],
            problems=[Problem(v, APPROVERS_FILE) for v in violations],
            hint="sign the approval with --key FILE (the key listed for you in approvers.yaml)"
            if unsigned
            else "approvals are governed by approvers.yaml at the repository root",
        )


def commit_approval(
    ctx: GateContext,
    use_case: Path,
    gate: Gate,
    record: dict[str, Any],
    signing_key: Ed25519PrivateKey | None,
    *,
    design_id: str | None,
) -> ApprovalResult:
    # exit 3 on an altered log, or on a current record the log never recorded (forged, or the
    # log was cut): nothing is approved over either
    entries = verified_chain(ctx.repo.root)
    for current_gate in ("spec", "design"):
        path = approval_path(use_case, current_gate)
        if not path.exists():
            continue
        existing, _ = read_approval(path, display=ctx.rel(path), gate=current_gate)
        if existing is None or in_chain(entries, "approval", existing.record_sha256) is None:
            raise GateError(
                f"the current {current_gate} approval record is not in the audit chain "
                "(forged, edited, or the log was cut)",
                file=ctx.rel(path),
                hint="investigate; restore audit/ and approvals/ from a trusted copy, or "
                "remove the record if it is known to be forged",
            )
    data = render_record(record, signing_key)
    record_sha256 = hashlib.sha256(data).hexdigest()
    stamp = record["approved_at"].replace("-", "").replace(":", "")
    # Audit first: if the log refuses (damaged), nothing is approved. If writing the record
    # then fails, the log shows an approval the gates cannot find, which fails closed.
    entry = AuditLog(ctx.repo.root).append(
        "approval",
        actor=record["approver"],
        design=design_id,
        gate=gate,
        use_case=ctx.rel(use_case),
        artifact=record["artifact"],
        sha256=record["sha256"],
        files=len(record["files"]),
        record_sha256=record_sha256,
        signed=signing_key is not None,
        fingerprint=fingerprint(signing_key.public_key()) if signing_key is not None else None,
        note=record["note"],
    )
    current, history = write_record(use_case, gate, data, stamp=stamp)
    approval, findings = read_approval(current, display=ctx.rel(current), gate=gate)
    if approval is None or findings:  # we just wrote it: this would be a bug, fail loudly
        raise GateError("the approval record just written does not verify", file=ctx.rel(current))
    return ApprovalResult(approval=approval, history=history, audit_entry=entry)
