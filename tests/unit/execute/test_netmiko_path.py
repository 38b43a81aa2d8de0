"""The Netmiko path offline: the refusal pattern Netmiko gets, the results of a stopped push,
remediation per syntax family, the path chosen per host. Device behaviour is tested live
(tests/lab/test_build_live.py, test_rollback_live.py, test_reconcile_live.py by path)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from netmiko.exceptions import ConfigInvalidException

from napalm_frr import config as cfg
from sdd_build.execute.netmiko_path import (
    NetmikoDriver,
    NetmikoRefused,
    _refused_at,
    error_pattern,
)
from sdd_build.execute.remediation import FrrSyntax, HierSyntax, NoConfig, syntax_for
from sdd_build.platforms import PLATFORMS, SHIPPED, lookup

FRR = PLATFORMS["frr"]


def _netmiko_finds(output: str) -> str | None:
    """What Netmiko's send_config_set does with ``error_pattern`` (re.search, re.M)."""
    match = re.search(error_pattern(FRR), output, flags=re.M)
    return match.group(0) if match else None


@pytest.mark.parametrize(
    "answer",
    [
        "% Unknown command: ip ospf bogus-option 7",
        "% Command incomplete: ip ospf cost",
        "% Ambiguous command: ip ospf a 0.0.0.0",
        "% Invalid input detected",
        "WARNING: this command is deprecated",
        "r1 is not running",
        "% Configuration failed.",
    ],
)
def test_every_frr_refusal_stops_netmiko_with_the_whole_row(answer: str) -> None:
    transcript = f"r1(config-if)# ip ospf x\n{answer}\nr1(config-if)#"
    assert _netmiko_finds(transcript) == answer


@pytest.mark.parametrize(
    "output",
    [
        "r1(config)# interface eth1\nr1(config-if)# ip ospf cost 10\nr1(config-if)#",
        "% Unknown command: terminal width 511",
        "% Echo mode works correctly for IPv4, but only works when the peer is also IPv4\nr1#",
        "The route-map 'RM' does not exist.\nr1(config-router)#",
    ],
)
def test_accepted_lines_and_session_noise_do_not_stop_netmiko(output: str) -> None:
    assert _netmiko_finds(output) is None


def test_a_stopped_push_applied_the_lines_before_the_refused_one_only() -> None:
    lines = ["interface eth1", " ip ospf cost 10", " ip ospf bogus 7", "exit"]
    message = (
        "Invalid input detected at command:  ip ospf bogus 7, matched error: "
        "% Unknown command: ip ospf bogus 7"
    )
    results = _refused_at(lines, message, FRR)
    assert [r.line for r in results] == lines[:3]
    assert [r.failed for r in results] == [False, False, True]
    assert results[-1].output == "% Unknown command: ip ospf bogus 7"


RUNNING = """frr version 8.4.4
frr defaults traditional
hostname r1
!
interface eth1
 ip address 10.1.12.0/31
 ip ospf cost 20
exit
!
router ospf
 ospf router-id 10.0.0.1
exit
!
"""

CANDIDATE = """interface eth1
 ip ospf cost 10
 ip ospf network point-to-point
exit
router ospf
 passive-interface lo
exit
"""


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_frr_remediation_is_napalm_frrs_own(mode: str) -> None:
    now, cand = cfg.parse(RUNNING), cfg.parse(CANDIDATE)
    target = cfg.merge(now, cand) if mode == "merge" else cand
    change = cfg.diff(now, target)
    syntax = syntax_for("frr")
    assert isinstance(syntax, FrrSyntax)
    assert syntax.commands(RUNNING, CANDIDATE, mode) == change.commands()
    assert syntax.diff(RUNNING, CANDIDATE, mode) == change.text()
    # once applied, nothing of the candidate is missing
    after = "\n".join(target.render()) + "\n"
    assert syntax.missing(after, CANDIDATE, mode) == []
    assert syntax.missing(RUNNING, CANDIDATE, mode)


IOS_RUNNING = """hostname sw1
interface GigabitEthernet1
 description old
 ip address 10.0.0.1 255.255.255.0
!
router ospf 1
 network 10.0.0.0 0.0.0.255 area 0
"""


def test_ios_remediation_by_hier_config() -> None:
    syntax = syntax_for("CISCO_IOS")
    assert isinstance(syntax, HierSyntax)
    candidate = "interface GigabitEthernet1\n description new\n"
    replace = syntax.commands(IOS_RUNNING, candidate + "hostname sw1\n", "replace")
    assert "router ospf 1" not in replace  # hier_config negates it: 'no router ospf 1'
    assert "no router ospf 1" in replace
    assert "  no ip address 10.0.0.1 255.255.255.0" in replace
    merge = syntax.commands(IOS_RUNNING, candidate, "merge")
    assert not any(line.strip().startswith("no ") for line in merge), merge
    assert "  description new" in merge
    assert syntax.missing(IOS_RUNNING, candidate, "merge") == [
        "interface GigabitEthernet1",
        "  description new",
    ]


class _ScriptedIOS:
    """A Netmiko connection's calls, scripted: the running config, and a line it refuses
    (the logic of the driver only; the device behaviour is the lab's)."""

    def __init__(self, running: str, refuse: str | None = None) -> None:
        self.running = running
        self.refuse = refuse
        self.pushed: list[list[str]] = []

    def send_command(self, command: str, **kwargs: Any) -> str:
        assert kwargs["read_timeout"] > 0  # every operation has a timeout
        return self.running

    def send_config_set(self, lines: list[str], **kwargs: Any) -> str:
        assert kwargs["read_timeout"] > 0
        assert kwargs["error_pattern"]
        self.pushed.append(list(lines))
        for line in lines:
            if self.refuse is not None and line.strip() == self.refuse:
                raise ConfigInvalidException(
                    f"Invalid input detected at command: {line}, matched error: % Invalid input"
                )
        return ""

    def exit_config_mode(self) -> str:
        return ""


def test_a_refused_line_is_raised_with_the_devices_words_after_a_restore() -> None:
    conn = _ScriptedIOS(IOS_RUNNING, refuse="ip ospf bogus")
    driver = NetmikoDriver(conn, PLATFORMS["ios"], "sw1", 5)
    driver.load_merge_candidate(config="interface GigabitEthernet1\n ip ospf bogus\n")
    assert "ip ospf bogus" in driver.compare_config()
    with pytest.raises(NetmikoRefused, match=r"'ip ospf bogus': % Invalid input") as info:
        driver.commit_config()
    assert info.value.restored  # the device (scripted) still shows its backup
    assert not hasattr(driver, "extras")  # hier_config platforms restore by remediation


@pytest.mark.parametrize("platform", SHIPPED, ids=lambda p: p.name)
def test_every_registry_row_has_a_netmiko_path(platform: Any) -> None:
    """Every platform the registry ships has a Netmiko device type, a refusal pattern Netmiko
    can take, and a remediation (a check target's refuses every candidate)."""
    assert platform.netmiko_device_type
    re.compile(error_pattern(platform) if platform.refusals else "")
    syntax = syntax_for(platform.syntax)
    if platform.syntax is None:
        assert isinstance(syntax, NoConfig)
        with pytest.raises(ValueError, match="check target"):
            syntax.check_candidate("hostname x\n", "merge")


class _Host:
    def __init__(self, platform: str) -> None:
        self.name = "h1"
        self.platform = platform


class _Task:
    def __init__(self, platform: str) -> None:
        self.host = _Host(platform)


def test_a_forced_path_the_platform_lacks_is_one_clear_error_before_any_contact() -> None:
    from sdd_build.errors import DeviceError
    from sdd_build.execute.device import open_session
    from sdd_build.platforms import Platform, register

    register(Platform(name="nodriver", description="neither NAPALM nor Netmiko"))
    try:
        assert lookup("nodriver") is not None
        with pytest.raises(DeviceError, match="no NAPALM driver: use --path auto or netmiko"):
            open_session(_Task("nodriver"), 5, "napalm")  # type: ignore[arg-type]
        with pytest.raises(DeviceError, match="no Netmiko device type"):
            open_session(_Task("nodriver"), 5, "auto")  # type: ignore[arg-type]
    finally:
        PLATFORMS.pop("nodriver", None)
