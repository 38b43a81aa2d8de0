"""The approval policy: ``<repo root>/approvers.yaml``, loaded with located errors, and the
rules it imposes on an approval (listed approver, four eyes, signatures with the listed key).

Without an ``approvers.yaml`` anyone may approve and signatures are optional (but a signature
that is present must still verify). The file is the trust root of the gates: protect it as
you protect the code (code owners, branch protection).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from sdd_build.design.yamlpos import YamlLoadError, load_yaml
from sdd_build.errors import PolicyError, Problem
from sdd_build.gates.keys import fingerprint, parse_public_key
from sdd_build.gates.models import ApproversFile, Gate, same_person

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["APPROVERS_FILE", "PolicyError", "load_policy", "policy_violations"]

APPROVERS_FILE = "approvers.yaml"


def load_policy(root: Path) -> ApproversFile | None:
    """The repository's approval policy, or ``None`` when it has no ``approvers.yaml``."""
    path = Path(root) / APPROVERS_FILE
    if not path.exists():
        return None
    try:
        loaded = load_yaml(path, display=APPROVERS_FILE)
    except YamlLoadError as exc:
        raise PolicyError.from_problems([exc.problem]) from None
    if not isinstance(loaded.data, dict):
        raise PolicyError(
            "approvers.yaml is a mapping with require_signatures, four_eyes and approvers",
            file=APPROVERS_FILE,
            line=1,
        )
    try:
        return ApproversFile.model_validate(loaded.data)
    except ValidationError as exc:
        problems: list[Problem] = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown key '{loc[-1]}'"
            elif err["type"] == "missing":
                msg = f"missing required key '{loc[-1]}'"
            where = ".".join(str(p) for p in loc)
            problems.append(loaded.problem(loc, f"{where}: {msg}" if where else msg))
        raise PolicyError.from_problems(problems) from None


def policy_violations(
    policy: ApproversFile | None,
    *,
    gate: Gate,
    approver: str,
    author: str | None,
    signer: Ed25519PublicKey | None,
    signed: bool | None = None,
) -> list[str]:
    """What the policy forbids about this approval (empty: allowed).

    ``signer`` is the public key of a verified signature, or ``None``; ``signed`` says whether
    a signature was present at all (default: ``signer is not None``) — a present but invalid
    signature is reported by the caller, not again here as "unsigned". ``author`` is the
    design's author (design gate).
    """
    if signed is None:
        signed = signer is not None
    if policy is None:
        return []
    out: list[str] = []
    entry = policy.approver(approver)
    if entry is None:
        out.append(f"{approver} is not listed in {APPROVERS_FILE}")
    elif gate not in entry.gates:
        out.append(
            f"{approver} may not approve the {gate} gate (listed for: {', '.join(entry.gates)})"
        )
    if policy.four_eyes and gate == "design" and author is not None:
        author_entry = policy.approver(author)
        same_key = (
            signer is not None
            and author_entry is not None
            and author_entry.public_key is not None
            and fingerprint(parse_public_key(author_entry.public_key)) == fingerprint(signer)
        )
        if same_person(author, approver) or same_key:
            out.append(f"four-eyes policy: {approver} is the design's author ({author})")
    if signer is None:
        if policy.require_signatures and not signed:
            out.append(f"{APPROVERS_FILE} requires signed approvals and this one is unsigned")
    elif entry is not None and entry.public_key is not None:
        listed = parse_public_key(entry.public_key)
        if fingerprint(listed) != fingerprint(signer):
            out.append(
                f"signed with key {fingerprint(signer)}, which is not {approver}'s key in "
                f"{APPROVERS_FILE} ({fingerprint(listed)})"
            )
    return out
