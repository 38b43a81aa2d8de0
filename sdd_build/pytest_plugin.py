"""pytest plugin (entry point ``pytest11``): a design's layered tests as pytest items.

    pytest --sdd-design designs/ospf-underlay/solution-design.yaml \
        [--sdd-lab labs/triangle.clab.yml]

* the **offline layer**: one item per golden render / parser fixture, leaf-first;
* with ``--sdd-lab`` (or ``--sdd-inventory``): the **device layer**, one item per acceptance
  check per host, in layer order. The first device item runs the governed build once (gates
  included: the design must be approved); every item then reports its check from the as-built
  record. A check whose component was blocked (a dependency failed, the host was unreachable or
  rolled back) is skipped as ``blocked``; a waived failure is an expected failure (xfail).

``--junitxml`` works as usual. With ``--sdd-design`` the design's items are the whole run: no
test file is collected (run at a project's root, the project's own test suite is not run with
them). Without ``--sdd-design`` the plugin does nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import CheckMismatch
from sdd_build.secrets import mask, mask_data

__all__ = ["pytest_addoption", "pytest_collection_modifyitems", "pytest_ignore_collect"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sdd-build", "sdd-build design tests")
    group.addoption("--sdd-design", default=None, help="solution-design.yaml to test")
    group.addoption("--sdd-lab", default=None, help="running lab topology for device checks")
    group.addoption("--sdd-inventory", default=None, help="inventory folder for device checks")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``--sdd-design``, no test file is collected: the run is the design's items."""
    if config.getoption("--sdd-design") and collection_path.is_file():
        return True
    return None


class _Session:
    """Lazily validated design and, once asked for, one governed build shared by all items."""

    def __init__(self, config: pytest.Config) -> None:
        self.design = Path(config.getoption("--sdd-design"))
        lab = config.getoption("--sdd-lab")
        inventory = config.getoption("--sdd-inventory")
        self.lab = Path(lab) if lab else None
        self.inventory = Path(inventory) if inventory else None
        self._record: dict[str, Any] | None = None
        self._build_error: str | None = None

    def record(self) -> dict[str, Any]:
        if self._record is None and self._build_error is None:
            from sdd_build.app.service import build_service
            from sdd_build.errors import SddBuildError

            try:
                asbuilt, _path = build_service(self.design, lab=self.lab, inventory=self.inventory)
                self._record = mask_data(asbuilt.dump())  # the record as written
            except SddBuildError as exc:
                self._build_error = mask(f"build refused or failed (exit {exc.exit_code}): {exc}")
        if self._build_error is not None:
            pytest.fail(self._build_error, pytrace=False)
        assert self._record is not None
        return self._record


class OfflineItem(pytest.Item):
    def __init__(self, *, result: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result = result

    def runtest(self) -> None:
        if not self.result.passed:
            raise CheckMismatch(self.result.detail or "offline test failed")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        # pytest prints and writes (--junitxml) this: it passes the masker like all output
        if isinstance(excinfo.value, CheckMismatch):
            return mask(str(excinfo.value))
        return mask(str(super().repr_failure(excinfo)))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return Path(self.result.fixture), None, self.name


class CheckItem(pytest.Item):
    def __init__(
        self, *, sdd: _Session, component: str, check: str, host: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.sdd = sdd
        self.component = component
        self.check = check
        self.host = host

    def runtest(self) -> None:
        record = self.sdd.record()
        comp = next(c for c in record["components"] if c["id"] == self.component)
        rec = comp["hosts"].get(self.host)
        if rec is None:
            pytest.skip(mask(f"blocked: {self.component} did not run on {self.host}"))
        result = next((c for c in rec.get("checks", []) if c["check_id"] == self.check), None)
        if result is None:
            pytest.skip(mask(f"blocked: {rec.get('reason') or rec['status']}"))
        if result.get("waived"):
            waiver = result["waived"]
            pytest.xfail(mask(f"waived by {waiver['by']}: {waiver['reason']}"))
        if not result["passed"]:
            raise CheckMismatch(
                f"{self.check} on {self.host}: {result['reason']}\n"
                f"expected: {result['expected']!r}\nfound: {result['found']!r}\n"
                f"evidence: {result.get('input_ref')}"
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        # pytest prints and writes (--junitxml) this: it passes the masker like all output
        if isinstance(excinfo.value, CheckMismatch):
            return mask(str(excinfo.value))
        return mask(str(super().repr_failure(excinfo)))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.sdd.design, None, self.name


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("--sdd-design"):
        return
    from sdd_build.design.models import CommandTemplate
    from sdd_build.errors import SddBuildError
    from sdd_build.offline.check_tests import run_check_tests
    from sdd_build.offline.runner import run_offline
    from sdd_build.plan.validate import validate
    from sdd_build.workspace import connections_for

    sdd = _Session(config)
    try:
        connections = connections_for(sdd.lab, sdd.inventory)
    except SddBuildError as exc:
        raise pytest.UsageError(mask(f"sdd-build: {exc}")) from None
    report = validate(sdd.design, connections=connections, offline=False)
    if report.workspace is None or not report.ok:
        raise pytest.UsageError(
            mask(
                "sdd-build: the design does not validate:\n"
                + "\n".join(str(p) for p in report.problems[:20])
            )
        )
    ws = report.workspace
    try:
        offline, _problems = run_offline(ws)
        offline += run_check_tests(ws)[0]  # the checks on recorded outputs, per host
    except SddBuildError as exc:
        raise pytest.UsageError(mask(f"sdd-build: {exc}")) from None
    layer = ws.graph.layer_of
    new: list[pytest.Item] = []
    for res in sorted(offline, key=lambda r: (layer[r.component], r.component, r.index)):
        new.append(
            OfflineItem.from_parent(
                session,
                name=f"offline/L{layer[res.component]}/{res.component}"
                + ("/check" if res.kind == "check" else "")
                + f"[{res.index}]",
                result=res,
            )
        )
    if sdd.lab is not None or sdd.inventory is not None:
        by_id = {c.id: c for c in ws.design.model.components}
        for cid in ws.graph.order:
            comp = by_id[cid]
            if not isinstance(comp, CommandTemplate):
                continue
            for check in comp.acceptance:
                for host in ws.component_hosts.get(cid, []):
                    new.append(
                        CheckItem.from_parent(
                            session,
                            name=f"device/L{layer[cid]}/{cid}/{check.id}[{host}]",
                            sdd=sdd,
                            component=cid,
                            check=check.id,
                            host=host,
                        )
                    )
    if items:  # only a file named on the command line gets here: the design's run is its own
        config.hook.pytest_deselected(items=list(items))
    items[:] = new
