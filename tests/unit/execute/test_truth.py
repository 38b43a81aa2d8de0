"""execute/truth.py: when reconciliation asks the device's software, and what it remembers
(offline: a stand-in oracle; FRR's real answers are tested live in tests/lab)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sdd_build.execute.truth import VerdictCache, reconcile_host
from sdd_build.platforms import PLATFORMS

PRE = "frr version 8.4.4\nfrr defaults traditional\nhostname r1\n!\n"
BFD = "bfd\n profile p\n  detect-multiplier 3\n  transmit-interval 200\n exit\nexit\n"
POST = PRE + "bfd\n profile p\n  transmit-interval 200\n exit\n !\nexit\n"


class Oracle:
    def __init__(self, running: str | None = POST, unavailable: str | None = None) -> None:
        self.asked = 0
        self.running = running
        self.unavailable = unavailable

    def identity(self, running: str) -> tuple[str | None, str]:
        return ("8.4.4", "traditional") if "frr version 8.4.4" in running else (None, "traditional")

    def expected(self, base: str, configs: list[str], probe: Any = ()) -> dict[str, Any]:
        self.asked += 1
        effects = [{"path": list(p), "added": [], "removed": []} for p in probe]
        return {
            "running": self.running,
            "refused": [],
            "effects": effects,
            "source": "FRR 8.4.4 (stand-in)",
            "unavailable": self.unavailable,
        }


class Session:
    platform = PLATFORMS["frr"]

    def __init__(self, oracle: Oracle | None) -> None:
        self._oracle = oracle

    def oracle(self) -> Oracle | None:
        return self._oracle

    def expected(self, base: str, configs: list[str], probe: Any = ()) -> dict[str, Any] | None:
        return None if self._oracle is None else self._oracle.expected(base, configs, probe)


def test_nothing_unexplained_asks_nothing(tmp_path: Path) -> None:
    oracle = Oracle()
    findings, summary = reconcile_host(
        Session(oracle),  # type: ignore[arg-type]
        [("bfd", BFD.replace("  detect-multiplier 3\n", ""))],
        PRE,
        POST,
        cache=VerdictCache(tmp_path),
    )
    assert (findings, summary, oracle.asked) == ([], {}, 0)


def test_a_default_is_asked_once_then_remembered_without_its_text(tmp_path: Path) -> None:
    oracle = Oracle()
    session: Any = Session(oracle)
    cache = VerdictCache(tmp_path)
    first, summary = reconcile_host(session, [("bfd", BFD)], PRE, POST, cache=cache)
    assert [(f.kind, f.line) for f in first] == [
        ("default_elided", "bfd / profile p / detect-multiplier 3")
    ]
    assert summary["asked"] == "FRR 8.4.4 (stand-in)"
    again, summary = reconcile_host(session, [("bfd", BFD)], PRE, POST, cache=cache)
    assert [f.kind for f in again] == ["default_elided"]
    assert "remembered" in summary["asked"]
    assert oracle.asked == 1
    stored = cache.path.read_text()
    assert "detect-multiplier" not in stored
    assert "profile" not in stored


def test_nobody_to_ask_leaves_a_rejected_line_that_says_why(tmp_path: Path) -> None:
    session: Any = Session(Oracle(running=None, unavailable="the build machine runs FRR 9.1"))
    findings, summary = reconcile_host(
        session, [("bfd", BFD)], PRE, POST, cache=VerdictCache(tmp_path)
    )
    assert [f.kind for f in findings] == ["rejected_line"]
    assert "FRR 9.1" in findings[0].reason
    assert summary["asked"].startswith("nobody")
    findings, _ = reconcile_host(
        Session(None), [("bfd", BFD)], PRE, POST, cache=VerdictCache(tmp_path)
    )  # type: ignore[arg-type]
    assert [f.kind for f in findings] == ["rejected_line"]
