"""One deviation policy: what each class of deviation means for a build (PRODUCT.md §6).

Every place that decides something from a deviation's class — the build's result, the exit
code, the baseline, waivers, ``diff --amend-spec``, the colours of the terminal and the
reports — looks the class up here. A new class is one row of ``POLICY``; no code elsewhere
compares class names.

Columns:

* ``result`` — the build result this class alone implies (the build's result is the worst
  over its deviations and host statuses): ``failed`` > ``with_deviations`` > ``as_designed``.
* ``open`` — an open deviation: the build exits 1 and the record says so. Waived and
  informational deviations are recorded but not open.
* ``waivable`` — a recorded, approved waiver (``sdd-build waive --check ID``) turns it into
  ``waived``.
* ``blocks_baseline`` — a build recording it writes no reconciled baseline.
* ``amends_spec`` — ``diff --amend-spec`` writes a dated amendment for the requirement its
  check covers.
* ``host_changed`` — the device may be left neither at its backup nor at its intended config.
* ``stage`` — where it comes from (``connect``, ``apply``, ``check``, ``waiver``,
  ``reconcile``, ``restore``, ``executor``); reports attach ``restore`` and ``waiver``
  deviations to the component they concern.
* ``derived`` — a consequence of another deviation (shown with its cause; live progress
  output leaves it out).
* ``severity`` — for display: ``critical`` (the device needs a human now) > ``error`` >
  ``warning`` > ``info``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "DEVIATION_CLASSES",
    "POLICY",
    "RESULTS",
    "SEVERITIES",
    "ClassPolicy",
    "DeviationClass",
    "Outcome",
    "Result",
    "Severity",
    "Stage",
    "amends_spec",
    "blocks_baseline",
    "build_result",
    "is_open",
    "policy",
    "worst_result",
]

DeviationClass = Literal[
    "apply_failed",
    "acceptance_failed",
    "blocked",
    "rejected_line",
    "rewritten_line",
    "default_elided",
    "unexpected_change",
    "unreachable",
    "identity_mismatch",
    "waived",
    "rolled_back",
    "rollback_failed",
    "worker_lost",
    "unvalidated",
]
DEVIATION_CLASSES: tuple[str, ...] = get_args(DeviationClass)

#: ``checked`` is the result of a dry run (``build --check``): it changed nothing.
Result = Literal["as_designed", "with_deviations", "failed", "checked"]
RESULTS: tuple[str, ...] = get_args(Result)
#: what a build that ran can end as (a class implies one of these)
Outcome = Literal["as_designed", "with_deviations", "failed"]
_RESULT_RANK = {"as_designed": 0, "with_deviations": 1, "failed": 2}

Severity = Literal["info", "warning", "error", "critical"]
#: where a deviation comes from: reaching the device, applying, checking, a waiver, the
#: closing reconciliation, a restore, the executor
Stage = Literal["connect", "apply", "check", "waiver", "reconcile", "restore", "executor"]
SEVERITIES: tuple[str, ...] = get_args(Severity)  # mildest first


@dataclass(frozen=True, slots=True)
class ClassPolicy:
    result: Outcome
    open: bool
    waivable: bool
    blocks_baseline: bool
    amends_spec: bool
    severity: Severity
    stage: Stage
    host_changed: bool = False
    derived: bool = False
    meaning: str = ""


def _row(
    result: Outcome,
    severity: Severity,
    stage: Stage,
    meaning: str,
    *,
    open: bool = True,
    waivable: bool = False,
    blocks_baseline: bool | None = None,
    amends_spec: bool = False,
    host_changed: bool = False,
    derived: bool = False,
) -> ClassPolicy:
    return ClassPolicy(
        result=result,
        open=open,
        waivable=waivable,
        blocks_baseline=open if blocks_baseline is None else blocks_baseline,
        amends_spec=amends_spec,
        severity=severity,
        stage=stage,
        host_changed=host_changed,
        derived=derived,
        meaning=meaning,
    )


POLICY: dict[str, ClassPolicy] = {
    # class              result             severity    stage        meaning
    "unreachable": _row("failed", "error", "connect", "the device could not be reached or read"),
    "identity_mismatch": _row(
        "failed", "error", "connect", "the device answered as another host; nothing was pushed"
    ),
    "apply_failed": _row("failed", "error", "apply", "the device refused the component's config"),
    "blocked": _row(
        "with_deviations",
        "warning",
        "apply",
        "not run: a dependency or the host failed",
        derived=True,
    ),
    "acceptance_failed": _row(
        "failed",
        "error",
        "check",
        "an acceptance check failed",
        waivable=True,
        amends_spec=True,
    ),
    "waived": _row(
        "with_deviations",
        "info",
        "waiver",
        "a failed check covered by a recorded, approved waiver",
        open=False,
        amends_spec=True,
    ),
    "rejected_line": _row(
        "with_deviations", "warning", "reconcile", "an intended line is not in the running config"
    ),
    "rewritten_line": _row(
        "with_deviations", "warning", "reconcile", "the device stored a line differently"
    ),
    "default_elided": _row(
        "as_designed",
        "info",
        "reconcile",
        "the device does not show the line because it is its default",
        open=False,
    ),
    "unexpected_change": _row(
        "with_deviations", "warning", "reconcile", "a line changed that no component intended"
    ),
    "rolled_back": _row(
        "failed", "warning", "restore", "the host was restored to its backup and verified"
    ),
    "rollback_failed": _row(
        "failed",
        "critical",
        "restore",
        "the restore left the device differing from its backup",
        host_changed=True,
    ),
    "unvalidated": _row(
        "with_deviations",
        "warning",
        "apply",
        "a dry run could not ask the device's own parser about the lines",
    ),
    "worker_lost": _row(
        "failed",
        "error",
        "executor",
        "the executor lost the worker holding the host",
        host_changed=True,
    ),
}


def policy(cls: str) -> ClassPolicy:
    """The row of ``cls``; an unknown class (a record from a newer version) counts as an open,
    failing error rather than passing silently."""
    return POLICY.get(cls) or _row(
        "failed", "error", "executor", f"unknown deviation class '{cls}'"
    )


def is_open(cls: str) -> bool:
    return policy(cls).open


def blocks_baseline(cls: str) -> bool:
    return policy(cls).blocks_baseline


def amends_spec(cls: str) -> bool:
    return policy(cls).amends_spec


def worst_result(results: Iterable[Outcome]) -> Outcome:
    """``failed`` > ``with_deviations`` > ``as_designed`` (nothing: ``as_designed``)."""
    return max(results, key=_RESULT_RANK.__getitem__, default="as_designed")


def build_result(
    classes: Iterable[str], statuses: Iterable[str], *, dry_run: bool = False
) -> Result:
    """The build's result from its deviation classes and its component-host statuses.

    A dry run is ``checked`` whatever it found (what it found are open deviations: exit 1).
    Otherwise the worst of what each class implies; a component that ``failed`` on a host
    fails the build (a waived check leaves its component ``built``).
    """
    if dry_run:
        return "checked"
    implied = [policy(c).result for c in classes]
    if "failed" in set(statuses):
        implied.append("failed")
    return worst_result(implied)
