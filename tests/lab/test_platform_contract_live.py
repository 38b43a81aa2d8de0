"""The platform contract (tests/platformkit.py) live on FRR: one real FRR 8.4 router, driven the
way the engine drives it (napalm_frr behind ``DeviceSession``), observed with vtysh in its
namespace. The recorded-data run of the same contract for every platform row is
tests/unit/platforms/test_contract.py.

* identity: the device's name from its live running config (the backup read);
* diff: the component applied (merge, commit), the router's config read with vtysh differs
  from the backup by exactly the component's lines (``config_difference``);
* reconciliation classes, the router's software asked (a scratch FRR, ``reconcile_host``): no
  deviation for the component as applied; ``rejected_line`` when the router drops an intended
  line, ``rewritten_line`` when it holds it in another form, ``unexpected_change`` when a line
  nobody intended appears (each change made on the router with vtysh, behind the engine);
* masking: a password set on the router is masked in the backup as read;
* restore: ``DeviceSession.restore`` brings the backup back, the router (vtysh) holds it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sdd_build.execute.device import DeviceSession, config_difference
from sdd_build.execute.identity import hostname_in_config
from sdd_build.execute.reconcile import ConfigFinding
from sdd_build.execute.truth import VerdictCache, reconcile_host
from sdd_build.lab import LabHandle
from sdd_build.platforms import PLATFORMS
from sdd_build.secrets import MASK, Masker
from tests import platformkit
from tests.lab.conftest import require_lab
from tests.labkit import one_router, running

pytestmark = pytest.mark.lab

FRR = PLATFORMS["frr"]
COMPONENT = "interface lo\n description sdd-build contract\nexit\n!\nip route 192.0.2.0/24 Null0\n"
TOPOLOGY = """name: {name}
topology:
  nodes:
    r1:
      kind: linux
      image: quay.io/frrouting/frr:8.4.1
      startup-config: triangle/r1.conf
      labels: {{sdd.daemons: "staticd"}}
"""


@dataclass
class Router:
    handle: LabHandle
    session: DeviceSession
    backup: str
    post: str
    cache: VerdictCache


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    require_lab()
    root = tmp_path_factory.mktemp("contract")
    with one_router(root, TOPOLOGY, f"pc{os.getpid() % 100000}") as (handle, session):
        backup = session.backup()
        done = session.apply(COMPONENT, strategy="merge", commit=True, message="contract")
        assert done.committed, done.error
        post = running(handle, "r1")
        yield Router(handle, session, backup, post, VerdictCache(root / "cache"))


def _reconcile(r: Router, post: str) -> list[ConfigFinding]:
    findings, _summary = reconcile_host(
        r.session, [("c", COMPONENT)], r.backup, post, cache=r.cache
    )
    return findings


def _changed(r: Router, *commands: str) -> str:
    """The router's config after ``commands`` (vtysh, behind the engine's back), then undone."""
    r.handle.hosts["r1"].vtysh("configure terminal", *commands)
    return running(r.handle, "r1")


def test_identity_from_the_live_running_config(router: Router) -> None:
    assert hostname_in_config(FRR.name, router.backup) == "r1"


def test_diff_is_the_component(router: Router) -> None:
    platformkit.check_diff(FRR, router.backup, router.post, COMPONENT)


def test_reconciliation_classes_live(router: Router) -> None:
    assert _reconcile(router, router.post) == []
    node = router.handle.hosts["r1"]
    try:
        dropped = _changed(router, "interface lo", "no description")
        assert [f.kind for f in _reconcile(router, dropped)] == ["rejected_line"]
        other = _changed(router, "interface lo", "description sdd-build contract-v2")
        found = _reconcile(router, other)
        assert [f.kind for f in found] == ["rewritten_line"], found
        extra = _changed(
            router,
            "interface lo",
            "description sdd-build contract",
            "exit",
            "ip route 192.0.2.128/25 Null0",
        )
        found = _reconcile(router, extra)
        assert [(f.kind, f.line) for f in found] == [
            ("unexpected_change", "ip route 192.0.2.128/25 Null0")
        ], found
    finally:
        node.vtysh(
            "configure terminal",
            "interface lo",
            "description sdd-build contract",
            "exit",
            "no ip route 192.0.2.128/25 Null0",
            check=False,
        )


def test_masking_of_a_live_backup(router: Router) -> None:
    node = router.handle.hosts["r1"]
    node.vtysh("configure terminal", "password Contract-Vty-7")
    try:
        read = router.session.read()
        assert "password Contract-Vty-7" in read  # the device holds it, the backup must too
        masked = Masker(FRR.name).mask(read)
        assert "Contract-Vty-7" not in masked
        assert f"password {MASK}" in masked
    finally:
        node.vtysh("configure terminal", "no password", check=False)


def test_restore_to_the_backup_is_verified_on_the_router(router: Router) -> None:
    outcome = router.session.restore(router.backup)
    assert outcome.verified, outcome.summary()
    assert config_difference(running(router.handle, "r1"), router.backup, FRR) == ([], [])
