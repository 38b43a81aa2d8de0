"""Device identity (sdd_build.execute.identity): what a device must answer as, offline.

The device side (a router answering as another through a wrong port) is tested live in
tests/security/test_locks_identity_live.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nornir.core.inventory import Host

from sdd_build.errors import DesignError
from sdd_build.execute.identity import (
    Identity,
    RecordedIdentities,
    check_identity,
    expected_identity,
    hostname_in_config,
    read_identity,
)

R3_CONFIG = "frr version 8.4.4\nfrr defaults traditional\nhostname r3\n!\ninterface eth1\nexit\n"


class DriverProtocol:
    """Counts the getters the identity read uses: no more round trips than needed."""

    def __init__(self, hostname: str = "r3", serial: str = "", macs: tuple[str, ...] = ()):
        self.calls: list[str] = []
        self.hostname, self.serial, self.macs = hostname, serial, macs

    def get_facts(self) -> dict[str, Any]:
        self.calls.append("get_facts")
        return {"hostname": self.hostname, "serial_number": self.serial}

    def get_interfaces(self) -> dict[str, Any]:
        self.calls.append("get_interfaces")
        found = {f"eth{i}": {"mac_address": m} for i, m in enumerate(self.macs)}
        return {**found, "lo": {"mac_address": "00:00:00:00:00:00"}}


def _host(name: str = "r3", data: dict[str, Any] | None = None) -> Host:
    return Host(name=name, hostname="127.0.0.1", platform="frr", data=data or {})


def test_the_hostname_comes_from_the_backup_read_without_a_round_trip() -> None:
    driver = DriverProtocol(hostname="unused")
    found = read_identity(driver, "frr", R3_CONFIG, serial=False, hardware=False)
    assert found.hostname == "r3"
    assert driver.calls == []


def test_a_config_without_a_hostname_line_asks_the_driver() -> None:
    driver = DriverProtocol(hostname="r3")
    found = read_identity(driver, "frr", "interface eth1\n", serial=False, hardware=False)
    assert found.hostname == "r3"
    assert driver.calls == ["get_facts"]


def test_recorded_hardware_is_read_only_when_needed() -> None:
    driver = DriverProtocol(macs=("7E:30:D7:58:5F:3C",))
    found = read_identity(driver, "frr", R3_CONFIG, serial=False, hardware=True)
    assert found.hardware == ("7e:30:d7:58:5f:3c",)
    assert driver.calls == ["get_interfaces"]


@pytest.mark.parametrize(
    ("platform", "config", "name"),
    [
        ("frr", R3_CONFIG, "r3"),
        ("ios", "!\nhostname core-1\n!\n", "core-1"),
        ("junos", "system {\n    host-name mx1;\n}\n", "mx1"),
        ("frr", "description hostname r9\n", None),
        ("frr", "hostname r4\nhostname r3\nhostname r4\n", "r4, r3"),
    ],
)
def test_hostname_patterns_are_platform_data(platform: str, config: str, name: str | None) -> None:
    assert hostname_in_config(platform, config) == name


def test_a_device_answering_as_another_host_is_refused() -> None:
    two = read_identity(
        DriverProtocol(), "frr", "hostname r3\nhostname r4\n", serial=False, hardware=False
    )
    assert check_identity(_host("r3"), two, RecordedIdentities()) is not None
    refused = check_identity(_host("r3"), Identity("r4"), RecordedIdentities())
    assert refused is not None
    reason, expected = refused
    assert "answers as 'r4', not 'r3'" in reason
    assert expected == {"hostname": "r3"}
    assert check_identity(_host("r3"), Identity("R3"), RecordedIdentities()) is None


def test_an_approved_identity_key_overrides_the_inventory_name() -> None:
    host = _host("site1-core", {"identity": {"hostname": "r3"}})
    assert expected_identity(host) == "r3"
    assert check_identity(host, Identity("r3"), RecordedIdentities()) is None
    assert check_identity(host, Identity("site1-core"), RecordedIdentities()) is not None


def test_recorded_serial_and_hardware_are_checked() -> None:
    recorded = RecordedIdentities(
        {
            "r3": {"hostname": "r3", "serial_number": "SN3", "hardware": ["aa:00:00:00:00:03"]},
            "r4": {"hostname": "r4", "hardware": ["aa:00:00:00:00:04"]},
        }
    )
    assert recorded.needs("r3") == (True, True)
    ok = Identity("r3", "SN3", ("aa:00:00:00:00:03", "aa:00:00:00:00:99"))
    assert check_identity(_host("r3"), ok, recorded) is None
    wrong_serial = check_identity(_host("r3"), Identity("r3", "SN4", ok.hardware), recorded)
    assert wrong_serial is not None
    assert "serial number 'SN4'" in wrong_serial[0]
    renamed_r4 = Identity("r3", "SN3", ("aa:00:00:00:00:04",))
    refused = check_identity(_host("r3"), renamed_r4, recorded)
    assert refused is not None
    assert "which discover recorded for r4" in refused[0]
    replaced = check_identity(_host("r3"), Identity("r3", "SN3", ("aa:00:00:00:00:77",)), recorded)
    assert replaced is not None
    assert "run `sdd-build discover` again" in replaced[0]


def test_feasibility_without_identities_checks_the_hostname_only(tmp_path: Path) -> None:
    (tmp_path / "feasibility.json").write_text(json.dumps({"hosts": {"r3": {"facts": {}}}}))
    recorded = RecordedIdentities.load(tmp_path)
    assert recorded.of("r3") is None
    assert recorded.needs("r3") == (False, False)
    assert RecordedIdentities.load(tmp_path / "nowhere").by_host == {}


def test_an_unreadable_feasibility_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "feasibility.json").write_text("{not json")
    with pytest.raises(DesignError, match=r"feasibility\.json") as err:
        RecordedIdentities.load(tmp_path)
    assert err.value.exit_code == 2
    (tmp_path / "feasibility.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DesignError):
        RecordedIdentities.load(tmp_path)
