"""Waivers: a recorded, approved decision that one acceptance check may fail.

``sdd-build waive <design> --check AC-n [--host H] --by NAME --reason TEXT [--expires DATE]
[--key FILE]`` appends to ``<use-case>/waivers.json`` (a JSON list) and to the audit log. A
build treats a failing check covered by a *verified* waiver as ``waived``: the deviation is
recorded with class ``waived`` (who, why, until when), the component is not failed, nothing is
rolled back.

A waiver is an approval, and is verified exactly like one, at every build (``verify_waivers``):

* it is in the verified audit chain (a ``waiver`` entry with the sha256 of its canonical JSON):
  an entry written into ``waivers.json`` by hand is not;
* it names this design and this version, and a check the design has; it has not expired;
* ``approvers.yaml`` (when present): the person is a design-gate approver, is not the design's
  author under four eyes (names compare case-folded, keys by fingerprint), and signed it with
  their listed key where signatures are required; a present signature must verify.

Anything else is ignored with a loud warning, and the failure it would have covered stands.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdd_build.audit.canonical import canonical_json
from sdd_build.design.loader import load_design
from sdd_build.design.models import Design
from sdd_build.design.source import read_file
from sdd_build.errors import DesignError, GateError, SddBuildError
from sdd_build.gates.chain import in_chain, verified_chain
from sdd_build.gates.keys import (
    fingerprint,
    load_private_key,
    parse_public_key,
    public_key_b64,
    sign,
    verify_signature,
)
from sdd_build.gates.models import Signature
from sdd_build.gates.policy import APPROVERS_FILE, load_policy, policy_violations
from sdd_build.limits import json_loads
from sdd_build.secrets import mask
from sdd_build.secrets.sink import write_bound_file

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "WAIVERS_FILE",
    "IgnoredWaiver",
    "Waiver",
    "add_waiver",
    "load_waivers",
    "verify_waivers",
]

WAIVERS_FILE = "waivers.json"


class Waiver(BaseModel):
    # built on first use: a build of a design without waivers never validates one
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    check: str
    host: str | None = None
    by: str
    reason: str = Field(min_length=10)
    granted_at: str
    expires: date | None = None
    design: str
    design_version: int
    signature: Signature | None = None

    def record_sha256(self) -> str:
        """The sha256 the audit chain records for this waiver (canonical JSON, signed)."""
        return hashlib.sha256(canonical_json(self.model_dump(mode="json"))).hexdigest()

    def manifest(self) -> bytes:
        """The signed bytes: the waiver without its signature, as canonical JSON."""
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))

    def active(self, today: date | None = None) -> bool:
        return self.expires is None or self.expires >= (today or datetime.now(UTC).date())

    def covers(self, check: str, host: str) -> bool:
        return self.check == check and (self.host is None or self.host == host)


MAX_WAIVERS_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class IgnoredWaiver:
    """An entry of ``waivers.json`` that is not a verified waiver, and why."""

    index: int
    check: str | None
    by: str | None
    reason: str

    def message(self, file: str) -> str:
        who = f" by {self.by}" if self.by else ""
        what = f" of {self.check}" if self.check else ""
        return f"{file}: entry #{self.index + 1}{what}{who} is IGNORED: {self.reason}"


def _read_entries(use_case_dir: Path) -> tuple[list[Any], str | None]:
    """The raw entries of ``waivers.json`` (read once, bounded) and, if unreadable, why."""
    path = use_case_dir / WAIVERS_FILE
    try:
        raw = json_loads(read_file(path, display=WAIVERS_FILE, max_bytes=MAX_WAIVERS_BYTES))
    except FileNotFoundError:
        return [], None
    except (SddBuildError, ValueError, RecursionError) as exc:
        return [], f"not readable as a JSON list ({str(exc).splitlines()[0][:200]})"
    if not isinstance(raw, list):
        return [], "not a JSON list"
    return raw, None


def load_waivers(use_case_dir: Path) -> list[Waiver]:
    """The well-formed entries of ``waivers.json`` (not verified: see ``verify_waivers``)."""
    entries, problem = _read_entries(use_case_dir)
    if problem is not None:
        raise DesignError(
            f"waivers file is {problem}",
            file=str(use_case_dir / WAIVERS_FILE),
            hint="it is written by `sdd-build waive`; restore it from version control",
        )
    out: list[Waiver] = []
    for item in entries:
        try:
            out.append(Waiver.model_validate(item))
        except ValidationError:
            continue
    return out


def _signer(waiver: Waiver) -> tuple[Ed25519PublicKey | None, str | None]:
    """The verified signer, or why the signature does not verify."""
    sig = waiver.signature
    if sig is None:
        return None, None
    try:
        public = parse_public_key(sig.public_key)
    except ValueError as exc:
        return None, f"its signature's public key is invalid ({exc})"
    if fingerprint(public) != sig.fingerprint:
        return None, "its signature's fingerprint does not match its public key"
    if not verify_signature(public, sig.value, waiver.manifest()):
        return None, "its signature does not verify: it was changed after it was signed"
    return public, None


def verify_waivers(
    use_case_dir: Path,
    design: Design,
    root: Path,
    *,
    entries: list[dict[str, Any]] | None = None,
    today: date | None = None,
) -> tuple[list[Waiver], list[IgnoredWaiver]]:
    """The waivers a build of ``design`` may honour, and every entry it must ignore (why).

    ``entries`` is the verified audit chain (``verified_chain(root)`` when not given, which
    raises ``AuditChainError``, exit 3, on a broken log).
    """
    chain = verified_chain(root) if entries is None else entries
    policy = load_policy(root)
    raw, problem = _read_entries(use_case_dir)
    if problem is not None:
        return [], [IgnoredWaiver(0, None, None, f"{WAIVERS_FILE} is {problem}")]
    checks = {chk.id for _, chk in design.checks()}
    good: list[Waiver] = []
    ignored: list[IgnoredWaiver] = []
    for index, item in enumerate(raw):
        check = item.get("check") if isinstance(item, dict) else None
        by = item.get("by") if isinstance(item, dict) else None

        def ignore(reason: str, check: Any = check, by: Any = by, index: int = index) -> None:
            ignored.append(
                IgnoredWaiver(
                    index,
                    str(check) if check is not None else None,
                    str(by) if by is not None else None,
                    reason,
                )
            )

        try:
            waiver = Waiver.model_validate(item)
        except ValidationError as exc:
            ignore(f"malformed ({exc.errors(include_url=False)[0]['msg']})")
            continue
        if in_chain(chain, "waiver", waiver.record_sha256()) is None:
            ignore("not in the audit chain (written by hand, or the log was cut)")
            continue
        if (waiver.design, waiver.design_version) != (design.design, design.version):
            ignore(
                f"it waives design {waiver.design} v{waiver.design_version}, this is "
                f"{design.design} v{design.version}"
            )
            continue
        if waiver.check not in checks:
            ignore(f"design {design.design} has no acceptance check '{waiver.check}'")
            continue
        if not waiver.active(today):
            ignore(f"it expired on {waiver.expires}")
            continue
        signer, bad_signature = _signer(waiver)
        if bad_signature is not None:
            ignore(bad_signature)
            continue
        violations = policy_violations(
            policy,
            gate="design",
            approver=waiver.by,
            author=design.author,
            signer=signer,
            signed=waiver.signature is not None,
        )
        if violations:
            ignore("; ".join(violations) + f" ({APPROVERS_FILE})")
            continue
        good.append(waiver)
    return good, ignored


def add_waiver(
    design_path: Path,
    *,
    check: str,
    by: str,
    reason: str,
    host: str | None = None,
    expires: date | None = None,
    key: Path | None = None,
    root: Path | None = None,
) -> Waiver:
    loaded = load_design(design_path, root=root)
    model = loaded.model
    checks = {chk.id for _, chk in model.checks()}
    if check not in checks:
        raise DesignError(
            f"design '{model.design}' has no acceptance check '{check}'",
            file=loaded.display,
            hint=f"checks: {', '.join(sorted(checks)) or 'none'}",
        )
    if len(reason.strip()) < 10:
        raise DesignError("a waiver needs a reason of at least 10 characters")
    if expires is not None and expires < datetime.now(UTC).date():
        raise DesignError(f"the expiry date {expires} is in the past")
    signing_key: Ed25519PrivateKey | None = load_private_key(key) if key is not None else None
    violations = policy_violations(
        load_policy(loaded.repo.root),
        gate="design",
        approver=by,
        author=model.author,
        signer=signing_key.public_key() if signing_key is not None else None,
    )
    if violations:
        raise GateError(
            f"{by} may not waive checks: {violations[0]}",
            file=APPROVERS_FILE,
            hint="a waiver is an approval: it takes a design approver (and --key where "
            "approvers.yaml requires signatures)",
        )
    verified_chain(loaded.repo.root)  # exit 3 on an altered log: nothing is waived over it
    waiver = Waiver(
        check=check,
        host=host,
        by=by,
        reason=mask(reason.strip()),  # masked before it is signed and hashed
        granted_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        expires=expires,
        design=model.design,
        design_version=model.version,
    )
    if signing_key is not None:
        public = signing_key.public_key()
        waiver = waiver.model_copy(
            update={
                "signature": Signature(
                    algorithm="ed25519",
                    public_key=public_key_b64(public),
                    fingerprint=fingerprint(public),
                    value=sign(signing_key, waiver.manifest()),
                )
            }
        )
    path = loaded.directory / WAIVERS_FILE
    current, problem = _read_entries(loaded.directory)
    if problem is not None:
        raise DesignError(
            f"waivers file is {problem}",
            file=str(path),
            hint="it is written by `sdd-build waive`; restore it from version control",
        )
    current.append(waiver.model_dump(mode="json"))
    text = json.dumps(current, indent=2) + "\n"
    write_bound_file(path, text.encode("utf-8"), what=WAIVERS_FILE)  # signed entries
    from sdd_build.audit import AuditLog

    AuditLog(loaded.repo.root).append(
        "waiver",
        actor=by,
        design=model.design,
        check=check,
        host=host,
        reason=waiver.reason,
        expires=str(expires) if expires else None,
        version=model.version,
        record_sha256=waiver.record_sha256(),
        signed=waiver.signature is not None,
    )
    return waiver
