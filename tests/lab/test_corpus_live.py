"""Reconciliation and rollback on a corpus of real FRR configurations (issue 10, "Prove it on a
corpus"), on a real FRR router.

The corpus (``tests/lab/corpus/``, README there): router configs from FRR's own topotests
(OSPF, OSPFv3, BGP with address families, route-maps, prefix-lists, community lists, BFD
profiles and peers, IS-IS, static routes, interface settings) as their authors wrote them
(abbreviations, missing exits, a stanza twice), and configs written here with FRR's defaults
spelled out (BFD, OSPF, OSPFv3, BGP), key chains and interface settings.

For each pair A -> B, on one router running every daemon the corpus needs, the way the engine
builds (napalm_frr driver behind ``DeviceSession``):

1. A is put on the router (``replace``), its running config read: the backup;
2. B is built over A (``replace``; the additive configs also ``merge``);
3. reconciliation must report no false deviation: no ``rejected_line``, no
   ``unexpected_change``; every ``default_elided`` line is really absent from the router and
   every ``rewritten_line``'s stored form really present;
4. ``DeviceSession.restore`` rolls back; the router (read with vtysh in its namespace) must hold
   A again, normalised.

Corpus size and pass rate: ``pytest -m slow tests/lab/test_corpus_live.py -rA`` (one case a
pair). Marked ``slow``: about two and a half minutes.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sdd_build.execute.device import DeviceSession
from sdd_build.execute.reconcile import config_paths, show_path
from sdd_build.execute.truth import VerdictCache, reconcile_host
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import one_router, running, strip_volatile

pytestmark = [pytest.mark.lab, pytest.mark.slow]

CORPUS = Path(__file__).parent / "corpus"
DAEMONS = "bgpd,ospfd,ospf6d,isisd,bfdd,staticd,ripd"
#: configs that only add to what is there: also built with ``merge`` over a topotests config
ADDITIVE = ("hand-interfaces", "hand-keychain-rip", "hand-static", "hand-defaults-bfd")

TOPOLOGY = f"""name: {{name}}
topology:
  nodes:
    r1:
      kind: linux
      image: quay.io/frrouting/frr:8.4.1
      startup-config: triangle/r1.conf
      labels: {{{{sdd.daemons: "{DAEMONS}"}}}}
"""


def corpus() -> list[str]:
    return sorted(p.stem for p in CORPUS.glob("*.conf"))


def _pairs() -> list[tuple[str, str, str]]:
    names = corpus()
    chain = [("base", names[0], "replace")]
    chain += [(a, b, "replace") for a, b in itertools.pairwise(names)]
    topo = [n for n in names if not n.startswith("hand-")]
    chain += [(topo[i * 3 % len(topo)], b, "merge") for i, b in enumerate(ADDITIVE)]
    return chain


def config(name: str) -> str:
    return (CORPUS / f"{name}.conf").read_text()


@dataclass
class Router:
    handle: LabHandle
    session: DeviceSession
    base: str
    cache: VerdictCache


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    require_lab()
    root = tmp_path_factory.mktemp("corpus")
    with one_router(root, TOPOLOGY, f"cps{os.getpid() % 100000}") as (handle, session):
        yield Router(handle, session, running(handle, "r1"), VerdictCache(root / "cache"))


def normalised(text: str) -> list[str]:
    return [show_path(p) for p in config_paths(strip_volatile(text))]


@pytest.mark.parametrize(("a", "b", "strategy"), _pairs(), ids=str)
def test_build_b_over_a_reconciles_and_rolls_back(
    router: Router, a: str, b: str, strategy: str
) -> None:
    session = router.session
    # 1. A on the router, as a build would put it there
    target_a = router.base if a == "base" else config(a)
    put = session.apply(target_a, strategy="replace", commit=True, message=f"corpus: {a}")
    assert put.error is None, f"putting {a} on the router: {put.error}"
    backup = session.running_config()
    # 2. B over A
    built = session.apply(config(b), strategy=strategy, commit=True, message=f"corpus: {b}")
    assert built.error is None, f"building {b} over {a}: {built.error}"
    post = session.running_config()
    # 3. no false deviation
    findings, _summary = reconcile_host(
        session, [(b, config(b))], backup, post, strategy=strategy, cache=router.cache
    )
    post_lines = set(normalised(post))
    false = [f for f in findings if f.kind not in ("default_elided", "rewritten_line")]
    assert not false, "\n".join(f"{f.kind}: {f.line}: {f.reason}" for f in false)
    for f in findings:
        if f.kind == "default_elided":
            assert f.line not in post_lines, f"{f.line} is on the router, not elided"
        else:
            assert f.actual, f.line
            assert set(f.actual.split("; ")) <= post_lines, f"{f.actual}: not on the router"
    # 4. roll back: the router holds A again
    session.restore(backup)
    now = running(router.handle, "r1")
    assert normalised(now) == normalised(backup), f"rollback of {b} over {a}"
