"""Live lab fixtures: real FRR routers in network namespaces (root, frr, openssh-server, socat).

Fixtures (session scope, shared by every lab test of the run):

* ``triangle_lab`` -> ``sdd_build.lab.LabHandle`` for ``labs/triangle.clab.yml`` (r1-r3, base
  configs: hostname + addresses, no routing), brought up once, ready (every router answers SSH,
  every link interface up). Shared by the session: tests that push config change it for the
  tests after them.
* ``converged_lab`` -> ``LabHandle`` for ``labs/triangle-converged.clab.yml`` after
  ``up(wait=True)``: OSPF Full, BGP Established and the loopback routes are there.

Both bring their lab ``down`` at the end of the session, also when bring-up or a test failed. A
lab that was already up before the session (someone else's run) is used and left up.

Without root or FRR the lab tests are skipped with the reason, unless ``SDD_REQUIRE_LAB=1``
(CI), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle

REPO = Path(__file__).resolve().parents[2]
LABS = REPO / "labs"

_NEEDS = ("/usr/lib/frr/zebra", "/usr/lib/frr/watchfrr", "/usr/bin/vtysh", "/usr/sbin/sshd")


def lab_unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "lab tests need root (network namespaces, FRR instances, users)"
    missing = [p for p in _NEEDS if not Path(p).exists()]
    missing += [b for b in ("socat", "ip", "tc") if shutil.which(b) is None]
    if missing:
        return f"lab tests need FRR/openssh-server/socat/iproute2; missing: {', '.join(missing)}"
    return None


def require_lab() -> None:
    reason = lab_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("SDD_REQUIRE_LAB") == "1":
        pytest.fail(f"SDD_REQUIRE_LAB=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _lab_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    require_lab()
    # these tests are about the namespace provider, whatever else is on PATH
    monkeypatch.setenv("SDD_LAB_PROVIDER", "netns")


def _session_lab(topology: Path, *, wait: bool) -> Iterator[LabHandle]:
    require_lab()
    os.environ["SDD_LAB_PROVIDER"] = "netns"
    made_here = True
    try:
        handle = lab.up(topology, wait=wait, timeout=90)
        made_here = handle.result is None or not handle.result.already_up
        yield handle
    finally:
        if made_here:
            lab.down(topology)


@pytest.fixture(scope="session")
def triangle_lab() -> Iterator[LabHandle]:
    yield from _session_lab(LABS / "triangle.clab.yml", wait=True)


@pytest.fixture(scope="session")
def converged_lab() -> Iterator[LabHandle]:
    yield from _session_lab(LABS / "triangle-converged.clab.yml", wait=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/lab is a lab test (``-m "not lab"`` leaves them all out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.lab)
