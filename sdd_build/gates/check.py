"""The gates that hold: Gate 1 (spec approved) and Gate 2 (design approved, nothing changed).

``check_gate1`` guards discovery, ``check_gate2`` guards a build; both raise ``GateError``
(exit 3) with one located problem per reason, and return the verified approval records that
an as-built record embeds. ``gate_status`` reports both gates without raising (for
``sdd-build gates check`` and CI). ``check_targets`` refuses hosts outside a design's targets.

What Gate 2 verifies, in one pass that reads every file once:

* both approval records exist, parse, and — if signed — their signature verifies over the
  canonical manifest; with ``approvers.yaml``, the approver is listed for the gate, signed
  with the listed key where signatures are required, and is not the author under four-eyes;
* every file bound by the design approval still has its approved sha256 (a changed file is
  named with the old and new hash prefixes; a deleted one is named);
* the files the design references *now* are exactly the bound ones (a template that gained an
  include, a new fixture: "not part of the approval");
* the spec approval is current (Gate 1).

Nothing here contacts a device.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sdd_build.design.loader import LoadedDesign, Repository, find_root, load_design
from sdd_build.design.models import Design
from sdd_build.design.source import Snapshot, lexical
from sdd_build.errors import DesignError, GateError, Problem, SddBuildError
from sdd_build.gates.chain import chain_problems, in_chain
from sdd_build.gates.models import ApproversFile, Gate
from sdd_build.gates.policy import APPROVERS_FILE, load_policy, policy_violations
from sdd_build.gates.records import Finding, GateApproval, approval_path, read_approval
from sdd_build.gates.references import design_references, repo_relative

if TYPE_CHECKING:
    from sdd_build.design.inventory import LoadedInventory
    from sdd_build.workspace import Workspace

__all__ = [
    "ApprovedBuild",
    "GateContext",
    "GateStatus",
    "GatesReport",
    "check_gate1",
    "check_gate2",
    "check_targets",
    "gate_error",
    "gate_hint",
    "gate_status",
    "spec_gate_status",
]

Status = Literal["approved", "missing", "stale", "invalid"]
_ROLE_ORDER = {"design": 0, "spec": 1}


def _short(digest: str | None) -> str:
    return digest[:12] if digest else "none"


@dataclass
class GateStatus:
    """One gate's verdict: the approval (when readable) and why it does not pass."""

    gate: Gate
    artifact: str
    record: str
    approval: GateApproval | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.approval is not None and not self.findings

    @property
    def status(self) -> Status:
        kinds = {f.kind for f in self.findings}
        if self.approval is None and not kinds:
            return "missing"
        if "missing" in kinds:
            return "missing"
        if "invalid" in kinds:
            return "invalid"
        if "stale" in kinds:
            return "stale"
        return "approved"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "artifact": self.artifact,
            "record": self.record,
            "problems": [{"kind": f.kind, **f.problem.as_dict()} for f in self.findings],
        }
        if self.approval is not None:
            out.update(self.approval.as_dict())
            out["status"] = self.status
        return out


@dataclass
class GatesReport:
    """Both gates of one design (``gates check``)."""

    design_path: Path
    display: str
    gate1: GateStatus
    gate2: GateStatus
    design: LoadedDesign | None = None
    snapshot: Snapshot | None = None  # the bytes this check read, each file once
    #: the audit chain this check verified (``None``: it verified none)
    chain: list[dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        return self.gate1.ok and self.gate2.ok

    def to_json(self) -> dict[str, Any]:
        model = self.design.model if self.design is not None else None
        return {
            "ok": self.ok,
            "design": {
                "path": self.display,
                "id": model.design if model else None,
                "version": model.version if model else None,
            },
            "gates": {"spec": self.gate1.to_json(), "design": self.gate2.to_json()},
        }


@dataclass(frozen=True)
class ApprovedBuild:
    """What a build may proceed with: the design as approved and the verified records."""

    design: LoadedDesign
    spec_approval: GateApproval
    design_approval: GateApproval
    files: dict[str, str]  # repository-relative path -> sha256, verified just now
    snapshot: Snapshot  # those files' bytes, read once: the only input of the build
    #: the audit chain the gate verified just now (the build's waivers are looked up in it)
    chain: list[dict[str, Any]] | None = None

    @property
    def repo(self) -> Repository:
        """The repository as the build must see it: every read served by the snapshot."""
        return self.design.repo.with_source(self.snapshot)

    @property
    def design_sha256(self) -> str:
        return self.design_approval.record.sha256

    @property
    def spec_sha256(self) -> str:
        return self.spec_approval.record.sha256

    def approvals(self) -> list[dict[str, Any]]:
        """The ``approvals`` list of an as-built record (spec first, then design)."""
        return [self.spec_approval.as_dict(), self.design_approval.as_dict()]


# -- shared ---------------------------------------------------------------------------------


class GateContext:
    """One check's repository and policy, and the bytes it read: every file is read at most
    once per check, and those very bytes are what is hashed, loaded and later built."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.policy: ApproversFile | None = load_policy(repo.root)
        self._files: dict[str, bytes] = {}
        self._unreadable: dict[str, str] = {}
        self._chain: tuple[list[dict[str, Any]], list[Problem]] | None = None

    def rel(self, path: Path) -> str:
        return repo_relative(self.repo, path) or str(path)

    def capture(self, rels: Iterable[str]) -> None:
        """Read every file of ``rels`` not read yet (once)."""
        todo = {r for r in rels if r not in self._files and r not in self._unreadable}
        if not todo:
            return
        snap, problems = Snapshot.capture(self.repo.root, todo)
        self._files.update(snap.files)
        self._unreadable.update(problems)

    def hash(self, rel: str) -> str | None:
        """sha256 of the captured bytes of ``rel`` (``None``: missing or unreadable)."""
        data = self._files.get(rel)
        return None if data is None else hashlib.sha256(data).hexdigest()

    def why_unreadable(self, rel: str) -> str:
        return self._unreadable.get(rel, "missing")

    def snapshot(self) -> Snapshot:
        return Snapshot(root=self.repo.root, files=self._files)

    def chain(self) -> tuple[list[dict[str, Any]], list[Problem]]:
        """The verified audit chain (once per check) and, if broken, why."""
        if self._chain is None:
            self._chain = chain_problems(self.repo.root)
        return self._chain

    def verified_chain(self) -> list[dict[str, Any]] | None:
        """The audit chain's entries if this check verified it and found it whole."""
        if self._chain is None or self._chain[1]:
            return None
        return self._chain[0]


def _policy_findings(
    ctx: GateContext, approval: GateApproval, *, author: str | None, had_signature_problem: bool
) -> list[Finding]:
    messages = policy_violations(
        ctx.policy,
        gate=approval.gate,
        approver=approval.record.approver,
        author=author,
        signer=approval.signer,
        signed=approval.record.signature is not None or had_signature_problem,
    )
    return [
        Finding("invalid", Problem(f"{m} ({APPROVERS_FILE})", approval.display)) for m in messages
    ]


def _content_findings(ctx: GateContext, approval: GateApproval, *, gate_name: str) -> list[Finding]:
    """Every bound file still has its approved hash."""
    record = approval.record
    findings: list[Finding] = []
    artifact_hash = record.files.get(record.artifact)
    if artifact_hash is None or artifact_hash.sha256 != record.sha256:
        findings.append(
            Finding(
                "invalid",
                Problem(
                    f"the record's hashes of {record.artifact} disagree: it was edited",
                    approval.display,
                ),
            )
        )

    def order(item: tuple[str, Any]) -> tuple[int, str]:
        rel, fh = item
        return (min(_ROLE_ORDER.get(r, 9) for r in fh.roles), rel)

    for rel, bound in sorted(record.files.items(), key=order):
        path = ctx.repo.confine(ctx.repo.root, rel)
        if path is None:
            findings.append(
                Finding(
                    "invalid",
                    Problem(f"binds '{rel}', a path outside the repository", approval.display),
                )
            )
            continue
        ctx.capture([rel])
        now = ctx.hash(rel)
        if now is None:
            why = ctx.why_unreadable(rel)
            findings.append(
                Finding(
                    "stale",
                    Problem(
                        f"deleted since the {gate_name} was approved "
                        f"(approved sha256 {_short(bound.sha256)})"
                        if why == "missing"
                        else f"cannot be read as approved: {why}",
                        rel,
                    ),
                )
            )
        elif now != bound.sha256:
            findings.append(
                Finding(
                    "stale",
                    Problem(
                        f"changed since the {gate_name} was approved (approved sha256 "
                        f"{_short(bound.sha256)}, now {_short(now)})",
                        rel,
                    ),
                )
            )
    return findings


# -- Gate 1 ---------------------------------------------------------------------------------


def _open_gate(
    ctx: GateContext, gate: Gate, artifact_rel: str, record_path: Path, to_approve: str
) -> tuple[GateStatus, bool]:
    """The gate's status with its approval record read; True when the record has a signature
    or format problem. A missing record is a ``missing`` finding that says how to approve."""
    status = GateStatus(gate=gate, artifact=artifact_rel, record=ctx.rel(record_path))
    approval, findings = read_approval(record_path, display=status.record, gate=gate)
    status.approval = approval
    status.findings.extend(findings)
    if approval is not None:
        status.findings.extend(_chain_findings(ctx, approval))
    if approval is None and not findings:
        number = 1 if gate == "spec" else 2
        status.findings.append(
            Finding(
                "missing",
                Problem(
                    f"the {gate} is not approved (Gate {number}): no {status.record}; {to_approve}",
                    artifact_rel,
                ),
            )
        )
    return status, bool(findings)


def _chain_findings(ctx: GateContext, approval: GateApproval) -> list[Finding]:
    """The audit chain verifies, and this approval record is one it recorded."""
    entries, broken = ctx.chain()
    if broken:
        first = broken[0]
        return [
            Finding(
                "invalid",
                Problem(
                    f"the audit chain does not verify ({first.message}); nothing acts on an "
                    "altered log",
                    first.file or "audit/audit.jsonl",
                    first.line,
                ),
            )
        ]
    if in_chain(entries, "approval", approval.record_sha256, gate=approval.gate) is None:
        return [
            Finding(
                "invalid",
                Problem(
                    "this approval record is not in the audit chain (no approval entry with "
                    f"its sha256 {approval.record_sha256[:12]}): written by hand, or the log "
                    "was cut or deleted",
                    approval.display,
                ),
            )
        ]
    return []


def _approves(status: GateStatus, approval: GateApproval, artifact_rel: str) -> bool:
    """Whether the approval is for this artifact (an ``invalid`` finding when it is not)."""
    if approval.record.artifact == artifact_rel:
        return True
    status.findings.append(
        Finding(
            "invalid",
            Problem(f"approves {approval.record.artifact}, not {artifact_rel}", approval.display),
        )
    )
    return False


def spec_gate_status(ctx: GateContext, spec_path: Path, use_case_dir: Path) -> GateStatus:
    spec_rel = ctx.rel(spec_path)
    status, signature_problem = _open_gate(
        ctx,
        "spec",
        spec_rel,
        approval_path(use_case_dir, "spec"),
        f"approve it with `sdd-build approve {spec_rel} --gate spec --by NAME`",
    )
    approval = status.approval
    if approval is None:
        return status
    if _approves(status, approval, spec_rel):
        status.findings.extend(_content_findings(ctx, approval, gate_name="spec"))
    status.findings.extend(
        _policy_findings(ctx, approval, author=None, had_signature_problem=signature_problem)
    )
    return status


def _resolve_gate1_target(path: Path, root: Path | None) -> tuple[Repository, Path, Path]:
    """(repository, spec path, use-case directory) for a spec or a design path."""
    if not path.exists():
        raise DesignError("file not found", file=str(path))
    if path.suffix in (".yaml", ".yml"):
        loaded = load_design(path, root=root)
        spec = loaded.repo.confine(loaded.directory, loaded.model.spec)
        if spec is None:
            raise DesignError(
                f"spec path '{loaded.model.spec}' escapes the repository",
                file=loaded.display,
                line=loaded.yaml.locate(("spec",))[0],
            )
        return loaded.repo, spec, loaded.directory
    repo = Repository((root or find_root(path.resolve().parent)).resolve())
    return repo, path.resolve(), path.resolve().parent


def check_gate1(spec_or_design: Path, *, root: Path | None = None) -> GateApproval:
    """Gate 1: the spec (given directly, or as the spec of a design) is approved and unchanged.

    The approval is looked up in ``approvals/spec.json`` beside the given file (the use-case
    folder). Raises ``GateError`` (exit 3); ``DesignError`` (exit 2) for a path that does not
    exist or a design that does not load.
    """
    repo, spec_path, use_case = _resolve_gate1_target(Path(spec_or_design), root)
    status = spec_gate_status(GateContext(repo), spec_path, use_case)
    if not status.ok:
        raise gate_error(status.findings, hint=gate_hint([status], str(spec_or_design)))
    assert status.approval is not None
    return status.approval


# -- Gate 2 ---------------------------------------------------------------------------------


def design_gate_status(
    ctx: GateContext, design_path: Path, loaded: LoadedDesign | None, load_problems: list[Problem]
) -> GateStatus:
    design_rel = ctx.rel(design_path)
    status, signature_problem = _open_gate(
        ctx,
        "design",
        design_rel,
        approval_path(design_path.parent, "design"),
        f"validate it and approve it with `sdd-build approve {design_rel} --gate design --by NAME`",
    )
    approval = status.approval
    if approval is None or not _approves(status, approval, design_rel):
        return status
    record = approval.record
    content = _content_findings(ctx, approval, gate_name="design")
    status.findings.extend(content)
    design_changed = any(f.problem.file == design_rel for f in content)
    if loaded is not None:
        refs = design_references(loaded)
        for rel in sorted(set(refs.paths) - set(record.files)):
            roles = ", ".join(sorted(refs.roles[rel]))
            status.findings.append(
                Finding(
                    "stale",
                    Problem(
                        f"referenced by the design now ({roles}) but not part of its approval",
                        rel,
                    ),
                )
            )
        for rel in sorted(set(record.files) - set(refs.paths)):
            status.findings.append(
                Finding(
                    "stale",
                    Problem("part of the approval but no longer referenced by the design", rel),
                )
            )
        status.findings.extend(Finding("stale", p) for p in refs.problems)
    elif not design_changed:
        # The approved bytes no longer load: the schema changed under them (a tool upgrade).
        status.findings.extend(Finding("invalid", p) for p in load_problems)
    author = loaded.model.author if loaded is not None else None
    if author is None and record.design is not None:
        author = record.design.author
    if record.policy is not None:  # approved by a pattern: re-verified, never trusted
        from sdd_build.gates.patterns import policy_findings

        status.findings.extend(policy_findings(ctx, approval, loaded))
    else:
        status.findings.extend(
            _policy_findings(ctx, approval, author=author, had_signature_problem=signature_problem)
        )
    if loaded is not None and record.design is not None and not design_changed:
        model = loaded.model
        if (record.design.id, record.design.version) != (model.design, model.version):
            status.findings.append(
                Finding(
                    "invalid",
                    Problem(
                        f"records design {record.design.id} v{record.design.version}, the file "
                        f"is {model.design} v{model.version}: it was edited",
                        approval.display,
                    ),
                )
            )
    return status


def gate_status(design_path: Path, *, root: Path | None = None) -> GatesReport:
    """Both gates of a design, without raising for gate problems.

    Raises ``DesignError`` (exit 2) only when ``design_path`` does not exist, and
    ``PolicyError`` (exit 2) for a malformed ``approvers.yaml``.
    """
    design_path = Path(design_path)
    if not design_path.is_file():
        raise DesignError(
            "design file not found", file=str(design_path), hint="give solution-design.yaml"
        )
    repo = Repository((root or find_root(design_path.resolve().parent)).resolve())
    design_path = _in_repo(design_path, repo)
    ctx = GateContext(repo)
    # Read every byte the approvals bind (and the design) once, now; the design is loaded, its
    # references are walked and (in a build) everything is rendered from these bytes only.
    for gate in ("design", "spec"):
        record_path = approval_path(design_path.parent, gate)
        with contextlib.suppress(SddBuildError, OSError, ValueError, RecursionError):
            approval, _ = read_approval(record_path, display=ctx.rel(record_path), gate=gate)
            if approval is not None:
                ctx.capture(rel for rel in approval.record.files if repo.confine(repo.root, rel))
    ctx.capture([ctx.rel(design_path)])
    snap_repo = repo.with_source(ctx.snapshot())
    loaded: LoadedDesign | None = None
    load_problems: list[Problem] = []
    try:
        loaded = load_design(design_path, repo=snap_repo)
    except SddBuildError as exc:
        load_problems = exc.problems
    gate2 = design_gate_status(ctx, design_path, loaded, load_problems)

    spec_path: Path | None = None
    if loaded is not None:
        spec_path = repo.confine(loaded.directory, loaded.model.spec)
    elif gate2.approval is not None:
        bound = [r for r, f in gate2.approval.record.files.items() if "spec" in f.roles]
        spec_path = repo.confine(repo.root, bound[0]) if bound else None
    if spec_path is None:
        gate1 = GateStatus(
            gate="spec", artifact="?", record=ctx.rel(approval_path(design_path.parent, "spec"))
        )
        gate1.findings.append(
            Finding(
                "invalid",
                Problem(
                    "cannot tell which spec this design is for: "
                    + "; ".join(str(p) for p in load_problems[:3]),
                    ctx.rel(design_path),
                ),
            )
        )
    else:
        gate1 = spec_gate_status(ctx, spec_path, design_path.parent)
    return GatesReport(
        design_path=design_path,
        display=ctx.rel(design_path),
        gate1=gate1,
        gate2=gate2,
        design=loaded,
        snapshot=ctx.snapshot(),
        chain=ctx.verified_chain(),
    )


def _in_repo(path: Path, repo: Repository) -> Path:
    """``path`` as named inside the repository (lexical), else resolved."""
    candidate = lexical(path)
    return candidate if repo_relative(repo, candidate) is not None else path.resolve()


def check_gate2(design_path: Path, *, root: Path | None = None) -> ApprovedBuild:
    """Gate 2: the design and its spec are approved, and nothing they bind has changed.

    Returns the verified approvals for the as-built record. Raises ``GateError`` (exit 3)
    naming every missing approval, changed/added/deleted file (with old and new hash
    prefixes), forged or unsigned record and policy violation.
    """
    report = gate_status(design_path, root=root)
    if not report.ok:
        findings = [*report.gate1.findings, *report.gate2.findings]
        raise gate_error(findings, hint=gate_hint([report.gate1, report.gate2], report.display))
    assert report.design is not None
    assert report.gate1.approval is not None
    assert report.gate2.approval is not None
    return ApprovedBuild(
        design=report.design,
        spec_approval=report.gate1.approval,
        design_approval=report.gate2.approval,
        files={rel: f.sha256 for rel, f in report.gate2.approval.record.files.items()},
        snapshot=_bound_only(report),
        chain=report.chain,
    )


def _bound_only(report: GatesReport) -> Snapshot:
    """The snapshot restricted to what the approvals bind (nothing else exists for a build)."""
    assert report.snapshot is not None
    assert report.gate2.approval is not None
    bound = set(report.gate2.approval.record.files)
    if report.gate1.approval is not None:
        bound |= set(report.gate1.approval.record.files)
    files = {rel: data for rel, data in report.snapshot.files.items() if rel in bound}
    return Snapshot(root=report.snapshot.root, files=files)


def gate_error(findings: list[Finding], *, hint: str | None) -> GateError:
    return GateError(
        findings[0].problem.message if findings else "refused by a gate",
        problems=[f.problem for f in findings],
        hint=hint,
    )


def gate_hint(statuses: Iterable[GateStatus], artifact: str) -> str | None:
    for status in statuses:
        if status.ok:
            continue
        if status.status == "missing":
            if status.gate == "spec":
                return "approve the spec first (Gate 1), then the design"
            return f"validate and approve the design: sdd-build approve {artifact} --gate design"
        if status.status == "stale":
            return (
                "an approved artifact changed: review the change, validate, and approve again "
                "(a new approval; builds never run on unapproved content)"
            )
        return (
            "the approval record was altered or breaks approvers.yaml; approve again with an "
            "authorised approver (and --key where signatures are required)"
        )
    return None


# -- targets --------------------------------------------------------------------------------


def check_targets(
    design: Workspace | LoadedDesign | Design,
    hosts: Iterable[str],
    *,
    inventory: LoadedInventory | None = None,
) -> list[str]:
    """Refuse any host outside the design's targets (its blast radius).

    ``design`` is a ``Workspace`` (targets already resolved against its inventory), or a
    design with the ``inventory`` to resolve target groups against. Returns the hosts, sorted.
    Raises ``GateError`` (exit 3) naming the hosts outside.
    """
    from sdd_build.design.inventory import resolve_targets

    wanted = sorted(set(hosts))
    display: str | None = None
    if isinstance(design, Design):
        model = design
    elif isinstance(design, LoadedDesign):
        model, display = design.model, design.display
    else:
        model, display = design.design.model, design.design.display
        if inventory is None:
            allowed = set(design.hosts)
            return _refuse_outside(wanted, allowed, model, display)
    if inventory is not None:
        allowed = set(resolve_targets(inventory, model.targets)[0])
    elif model.targets.groups:
        raise GateError(
            "cannot check targets by group without the inventory; refusing",
            file=display,
            hint="pass the inventory the build uses",
        )
    else:
        allowed = set(model.targets.hosts)
    return _refuse_outside(wanted, allowed, model, display)


def _refuse_outside(
    wanted: list[str], allowed: set[str], model: Design, display: str | None
) -> list[str]:
    outside = [h for h in wanted if h not in allowed]
    if outside:
        shown = ", ".join(outside[:20]) + (" ..." if len(outside) > 20 else "")
        targets = []
        if model.targets.groups:
            targets.append("groups " + ", ".join(model.targets.groups))
        if model.targets.hosts:
            targets.append("hosts " + ", ".join(model.targets.hosts))
        raise GateError(
            f"refused: {shown} {'is' if len(outside) == 1 else 'are'} outside the targets of "
            f"design {model.design} ({'; '.join(targets)})",
            file=display,
            hint="a design's targets are its blast radius; reaching other hosts needs a design "
            "change and a new approval",
        )
    return wanted
