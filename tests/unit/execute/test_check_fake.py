"""``build --check`` on fake devices: the engine's side of the dry run (result ``checked``, no
commit, not a build for time to value, and honest about a platform that cannot validate). What
FRR's parser refuses is tested live: tests/lab/test_reconcile_live.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdd_build.execute.policy import is_open
from tests.unit.execute import fakerepo
from tests.unit.execute.fakerepo import build, network


@pytest.fixture
def design(tmp_path: Path) -> Path:
    return fakerepo.write_repo(tmp_path)


def test_a_platform_that_cannot_validate_is_never_a_clean_dry_run(design: Path) -> None:
    net = network()
    before = {h: net[h].running for h in fakerepo.HOSTS}
    record, _ = build(design, net, check=True, spec_approved_at="2020-01-01T00:00:00Z")
    assert record.result == "checked"
    assert record.mode == "check"
    assert record.metrics.time_to_value_s is None
    for host in fakerepo.HOSTS:
        assert net[host].running == before[host]  # nothing committed
        summary = record.hosts[host]
        assert "cannot validate" in summary["unvalidated"]
        assert set(summary["diff"]) == {"base", "svc", "extra"}
        assert "base-id" in summary["diff"]["base"]
    unvalidated = [d for d in record.deviations if d.class_ == "unvalidated"]
    assert {(d.component, d.host) for d in unvalidated} == {
        (c, h) for c in ("base", "svc", "extra") for h in fakerepo.HOSTS
    }
    assert all(is_open(d.class_) for d in unvalidated)  # exit 1: nothing says it would work
