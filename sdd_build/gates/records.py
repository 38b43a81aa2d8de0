"""Reading and writing approval records (``<use-case>/approvals/<gate>.json``) and their
signatures.

History: every approval is written twice — as the current record ``approvals/<gate>.json``
(what the gates check) and as an immutable copy ``approvals/history/<gate>-<UTC time>.json``
that is never rewritten, so re-approving a changed artifact keeps the whole trail. Both writes
are atomic (temporary file + rename): a crash leaves the old record or the new one, never half.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from sdd_build.audit.canonical import canonical_json
from sdd_build.design.source import read_file
from sdd_build.errors import Problem, SddBuildError
from sdd_build.gates.keys import (
    fingerprint,
    parse_public_key,
    public_key_b64,
    sign,
    verify_signature,
)
from sdd_build.gates.models import Approval, Gate
from sdd_build.limits import json_loads
from sdd_build.secrets import mask_data
from sdd_build.secrets.sink import write_bound_file

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "APPROVALS_DIR",
    "HISTORY_DIR",
    "Finding",
    "GateApproval",
    "approval_path",
    "read_approval",
    "render_record",
    "write_record",
]

APPROVALS_DIR = "approvals"
MAX_RECORD_BYTES = 4 * 1024 * 1024  # an approval binding tens of thousands of files
HISTORY_DIR = "history"

FindingKind = Literal["missing", "stale", "invalid"]


@dataclass(frozen=True)
class Finding:
    """Why a gate does not pass: ``missing`` (no approval), ``stale`` (a bound file changed,
    appeared or disappeared), ``invalid`` (a tampered, forged or policy-violating record)."""

    kind: FindingKind
    problem: Problem


@dataclass(frozen=True)
class GateApproval:
    """An approval record as read from disk, with its signature checked.

    ``signer`` is set only when a signature is present *and* verifies.
    """

    gate: Gate
    path: Path
    display: str
    record: Approval
    record_sha256: str
    signer: Ed25519PublicKey | None

    @property
    def signed(self) -> bool:
        return self.signer is not None

    @property
    def fingerprint(self) -> str | None:
        return fingerprint(self.signer) if self.signer is not None else None

    def as_dict(self) -> dict[str, Any]:
        """The summary an as-built record embeds (``approvals`` list)."""
        rec = self.record
        return {
            "gate": rec.gate,
            "artifact": rec.artifact,
            "sha256": rec.sha256,
            "approver": rec.approver,
            "approved_at": rec.approved_at,
            "note": rec.note,
            "signed": self.signed,
            "fingerprint": self.fingerprint,
            "record": self.display,
            "record_sha256": self.record_sha256,
            "files": len(rec.files),
            **({"policy": rec.policy.model_dump(mode="json")} if rec.policy else {}),
        }


def approval_path(use_case_dir: Path, gate: Gate) -> Path:
    return Path(use_case_dir) / APPROVALS_DIR / f"{gate}.json"


def _manifest(raw: dict[str, Any]) -> bytes:
    """The signed bytes: the record without ``signature``, as canonical JSON."""
    return canonical_json({k: v for k, v in raw.items() if k != "signature"})


def read_approval(
    path: Path, *, display: str, gate: Gate
) -> tuple[GateApproval | None, list[Finding]]:
    """Read and authenticate one record. ``None`` with findings when it cannot be trusted."""
    try:
        data = read_file(path, display=display, max_bytes=MAX_RECORD_BYTES)
    except FileNotFoundError:
        return None, []
    except SddBuildError as exc:
        return None, [Finding("invalid", exc.problems[0])]
    digest = hashlib.sha256(data).hexdigest()

    def invalid(message: str) -> tuple[None, list[Finding]]:
        return None, [Finding("invalid", Problem(message, display))]

    try:
        raw = json_loads(data)
    except ValueError:
        return invalid("approval record is not valid JSON: it was edited")
    if not isinstance(raw, dict):
        return invalid("approval record is not a JSON object: it was edited")
    try:
        record = Approval.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        return invalid(f"approval record is malformed ({where}: {err['msg']}): it was edited")
    if record.gate != gate:
        return invalid(f"holds a {record.gate} approval, not a {gate} approval")
    signer: Ed25519PublicKey | None = None
    findings: list[Finding] = []
    if record.signature is not None:
        try:
            public = parse_public_key(record.signature.public_key)
        except ValueError as exc:
            public = None
            findings.append(Finding("invalid", Problem(f"signature public key: {exc}", display)))
        if public is not None:
            if not verify_signature(public, record.signature.value, _manifest(raw)):
                findings.append(
                    Finding(
                        "invalid",
                        Problem(
                            "signature does not verify: the record was changed after it was "
                            "signed (forged or edited)",
                            display,
                        ),
                    )
                )
            elif fingerprint(public) != record.signature.fingerprint:
                findings.append(
                    Finding(
                        "invalid",
                        Problem("signature fingerprint does not match its public key", display),
                    )
                )
            else:
                signer = public
    approval = GateApproval(
        gate=gate,
        path=path,
        display=display,
        record=record,
        record_sha256=digest,
        signer=signer,
    )
    return approval, findings


def render_record(record: dict[str, Any], key: Ed25519PrivateKey | None) -> bytes:
    """The file bytes of a record, signed with ``key`` when given (see models docstring)."""
    record = mask_data(dict(record))  # what is signed is what is written: masked first
    record.pop("signature", None)
    if key is not None:
        public = key.public_key()
        record["signature"] = {
            "algorithm": "ed25519",
            "public_key": public_key_b64(public),
            "fingerprint": fingerprint(public),
            "value": sign(key, _manifest(record)),
        }
    text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def _atomic_write(path: Path, data: bytes) -> None:
    write_bound_file(path, data, what=f"the approval record {path.name}")


def write_record(use_case_dir: Path, gate: Gate, data: bytes, *, stamp: str) -> tuple[Path, Path]:
    """Write the current record and its history copy; return ``(current, history)``."""
    directory = Path(use_case_dir) / APPROVALS_DIR
    history_dir = directory / HISTORY_DIR
    history_dir.mkdir(parents=True, exist_ok=True)
    history = history_dir / f"{gate}-{stamp}.json"
    n = 1
    while history.exists():  # two approvals in the same microsecond: never overwrite history
        n += 1
        history = history_dir / f"{gate}-{stamp}-{n}.json"
    _atomic_write(history, data)
    current = approval_path(use_case_dir, gate)
    _atomic_write(current, data)
    return current, history
