"""Waivers: a recorded, audited decision that one acceptance check may fail.

``sdd-build waive <design> --check AC-n [--host H] --by NAME --reason TEXT [--expires DATE]``
appends to ``<use-case>/waivers.json`` (a JSON list, append-only) and to the audit log. A build
treats a failing check covered by an active waiver as ``waived``: the deviation is recorded with
class ``waived`` (who, why, until when), the component is not failed, nothing is rolled back.
An expired waiver no longer applies. With an ``approvers.yaml``, the person waiving must be a
design-gate approver and, under four-eyes, not the design's author.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdd_build.design.loader import load_design
from sdd_build.errors import DesignError, GateError
from sdd_build.gates.policy import load_policy
from sdd_build.limits import json_loads

__all__ = ["WAIVERS_FILE", "Waiver", "active_waivers", "add_waiver", "load_waivers"]

WAIVERS_FILE = "waivers.json"


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str
    host: str | None = None
    by: str
    reason: str = Field(min_length=10)
    granted_at: str
    expires: date | None = None
    design: str
    design_version: int

    def active(self, today: date | None = None) -> bool:
        return self.expires is None or self.expires >= (today or datetime.now(UTC).date())

    def covers(self, check: str, host: str) -> bool:
        return self.check == check and (self.host is None or self.host == host)


def load_waivers(use_case_dir: Path) -> list[Waiver]:
    path = use_case_dir / WAIVERS_FILE
    if not path.is_file():
        return []
    try:
        raw = json_loads(path.read_text(encoding="utf-8"))
        return [Waiver.model_validate(item) for item in raw]
    except (json.JSONDecodeError, ValidationError, TypeError) as exc:
        raise DesignError(
            f"waivers file is not valid: {str(exc).splitlines()[0]}",
            file=str(path),
            hint="it is written by `sdd-build waive`; restore it from version control",
        ) from None


def active_waivers(use_case_dir: Path, today: date | None = None) -> list[Waiver]:
    return [w for w in load_waivers(use_case_dir) if w.active(today)]


def add_waiver(
    design_path: Path,
    *,
    check: str,
    by: str,
    reason: str,
    host: str | None = None,
    expires: date | None = None,
) -> Waiver:
    loaded = load_design(design_path)
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
    policy = load_policy(loaded.repo.root)
    if policy is not None:
        allowed = {a.name for a in policy.approvers if "design" in a.gates}
        if by not in allowed:
            raise GateError(
                f"{by} may not waive checks: not a design approver in approvers.yaml",
                file=str(loaded.repo.root / "approvers.yaml"),
            )
        if policy.four_eyes and by == model.author:
            raise GateError(f"four-eyes policy: {by} is the design's author and cannot waive")
    waiver = Waiver(
        check=check,
        host=host,
        by=by,
        reason=reason.strip(),
        granted_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        expires=expires,
        design=model.design,
        design_version=model.version,
    )
    path = loaded.directory / WAIVERS_FILE
    current = [w.model_dump(mode="json") for w in load_waivers(loaded.directory)]
    current.append(waiver.model_dump(mode="json"))
    fd, tmp = tempfile.mkstemp(dir=loaded.directory, prefix=".waivers.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(current, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)
    from sdd_build.audit import AuditLog

    AuditLog(loaded.repo.root).append(
        "waiver",
        actor=by,
        design=model.design,
        check=check,
        host=host,
        reason=waiver.reason,
        expires=str(expires) if expires else None,
    )
    return waiver
