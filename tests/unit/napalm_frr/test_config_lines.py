"""The FRR config reader's line tests, one alternation each, against the platform's patterns
tried one by one (what they replaced), on every line of the repository's FRR configs and
session captures plus vtysh's noise."""

from __future__ import annotations

from pathlib import Path

from napalm_frr import config as cfg
from napalm_frr import platform

ROOT = Path(__file__).resolve().parents[3]
NOISE = [
    "Warning: connecting to ospfd...failed!",
    "vtysh(): vtysh_client_run(): error reading from bgpd: Connection reset by peer (104)",
    "WARNING: something",
    "warning: lower case",
    "% Unknown command: ip ospf cst 5",
    "ospfd is not running",
    "Exiting: interrupted",
    "vtysh: could not connect",
    "Building configuration...",
    "Current configuration:",
    "frr version 8.4.4",
    "frr defaults traditional",
    "Building configuration... and more",
    " % indented answer",
    "hostname warningless",
    "interface vtysh0",
    "",
]


def _corpus() -> list[str]:
    lines = list(NOISE)
    for folder in (
        "tests/data",
        "configs",
        "labs",
        "designs",
        "templates",
        "tests/unit/napalm_frr",
    ):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in {".cfg", ".conf", ".txt", ".j2", ".yml", ""}:
                lines += path.read_text(errors="replace").splitlines()
    return lines


def test_one_alternation_decides_as_the_patterns_one_by_one() -> None:
    lines = _corpus()
    assert len(lines) > 500
    for raw in lines:
        text = raw.strip()
        one_by_one = bool(text) and any(p.match(text) for p in platform.VTYSH_NOISE)
        assert cfg.is_noise(raw) is one_by_one, raw
        ignored = any(p.match(text) for p in platform.IGNORED_LINES) or one_by_one
        assert cfg._ignored(text) is ignored, raw


def test_daemons_are_still_named_by_the_noise_lines() -> None:
    assert cfg.lost_daemons(NOISE) == ["ospfd", "bgpd"]
