"""The one deviation policy table (PRODUCT.md §6): every class has a row, and the build's
result, exit code, baseline and spec amendments follow from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sdd_build.execute.policy import (
    DEVIATION_CLASSES,
    POLICY,
    SEVERITIES,
    build_result,
    is_open,
    policy,
)

PRODUCT_CLASSES = {
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
}


def test_every_class_of_the_product_has_exactly_one_row() -> None:
    # PRODUCT §6 lists classes "at least"; beyond them: a dry run that could not validate
    assert set(DEVIATION_CLASSES) == PRODUCT_CLASSES | {"unvalidated"}
    assert set(POLICY) == set(DEVIATION_CLASSES)
    for row in POLICY.values():
        assert row.severity in SEVERITIES
        assert row.meaning
        assert not row.open or row.blocks_baseline, "an open deviation always blocks the baseline"


@pytest.mark.parametrize(
    ("classes", "statuses", "expected"),
    [
        ((), ("built",), "as_designed"),
        (("default_elided",), ("built",), "as_designed"),
        (("waived",), ("built",), "with_deviations"),
        (("rejected_line", "default_elided"), ("built",), "with_deviations"),
        (("rolled_back", "acceptance_failed"), ("failed", "rolled_back"), "failed"),
        (("rollback_failed",), ("failed",), "failed"),
        (("rollback_failed",), ("built",), "failed"),
        (("identity_mismatch", "blocked"), ("blocked",), "failed"),
        (("worker_lost",), (), "failed"),
        (("blocked",), ("blocked",), "with_deviations"),
        ((), ("failed",), "failed"),
        (("unexpected_change",), ("built",), "with_deviations"),
        (("apply_failed",), ("failed",), "checked"),
    ],
)
def test_build_result(classes: tuple[str, ...], statuses: tuple[str, ...], expected: str) -> None:
    dry_run = expected == "checked"
    assert build_result(classes, statuses, dry_run=dry_run) == expected


def test_open_classes() -> None:
    assert {c for c in DEVIATION_CLASSES if not is_open(c)} == {"waived", "default_elided"}
    assert {c for c, row in POLICY.items() if row.waivable} == {"acceptance_failed"}
    assert {c for c, row in POLICY.items() if row.amends_spec} == {"acceptance_failed", "waived"}
    assert policy("rollback_failed").severity == "critical"
    assert policy("rollback_failed").host_changed


def test_an_unknown_class_fails_rather_than_passing() -> None:
    row = policy("from_the_future")
    assert row.open
    assert row.blocks_baseline
    assert row.result == "failed"


def test_no_module_compares_class_names_outside_the_table() -> None:
    """Consumers look classes up in the table; only producers name a class (to record it)."""
    root = Path(__file__).resolve().parents[3] / "sdd_build"
    pattern = re.compile(r"""(\bclass_|\["class"\]|\.get\("class"\))\s*(==|!=|not in|in)\b""")
    offenders = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in root.rglob("*.py")
        if path.name != "policy.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
