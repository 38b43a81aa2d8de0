"""A commit parses the running config and the candidate once each (it used to parse them up to
four times each: load, compare, target, diff), and a new text is never answered from an old."""

from __future__ import annotations

from typing import Any

import pytest

from napalm_frr import config as cfg
from napalm_frr.frr import FRRDriver
from napalm_frr.transport import LineResult

RUNNING = "Building configuration...\n\nCurrent configuration:\n!\nhostname r1\n!\nend"


class Device:
    """A vtysh login that stores what is configured at the top level."""

    timeout = 5.0

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sent: list[list[str]] = []

    def show(self, command: str, timeout: float | None = None) -> str:
        assert command == "show running-config"
        return RUNNING.replace("!\nend", "".join(f"{ln}\n" for ln in self.lines) + "!\nend")

    def configure(self, lines: list[str], timeout: float | None = None) -> list[LineResult]:
        self.sent.append(list(lines))
        self.lines += [ln for ln in lines if not ln.startswith("no ")]
        return []


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    texts: list[str] = []
    real = cfg.parse

    def counting(text: str) -> cfg.Node:
        texts.append(text)
        return real(text)

    monkeypatch.setattr(cfg, "parse", counting)
    return texts


def driver(device: Device, **args: Any) -> FRRDriver:
    drv = FRRDriver("r1", "u", "p", optional_args={"running_cache_s": 10, **args})
    drv._transport = device
    return drv


def test_a_commit_parses_each_text_once(parsed: list[str]) -> None:
    device = Device()
    drv = driver(device, verify_commit=False)
    drv.load_merge_candidate(config="ip forwarding\n")
    assert drv.compare_config().strip() == "+ ip forwarding"
    drv.commit_config()
    assert device.sent == [["ip forwarding"]]
    assert sorted(set(parsed)) == sorted(parsed), "a text was parsed twice"
    assert len(parsed) == 2  # the running config and the candidate
    assert drv._trees == {}  # nothing kept after the commit: a session lives a whole build


def test_a_new_text_is_parsed_anew(parsed: list[str]) -> None:
    device = Device()
    drv = driver(device)  # verify_commit: the running config is read again after the commit
    drv.load_merge_candidate(config="ip forwarding\n")
    drv.commit_config()
    drv.load_merge_candidate(config="ipv6 forwarding\n")
    assert drv.compare_config().strip() == "+ ipv6 forwarding"  # the device as it is now
    drv.commit_config()
    assert device.sent == [["ip forwarding"], ["ipv6 forwarding"]]
    assert drv._trees == {}
