"""NAPALM's own driver contract suite, replayed from vtysh outputs recorded on FRR 8.4 routers.

Wired the way NAPALM's drivers do it (``test/<driver>/conftest.py`` + ``PatchedDriver``), in
one module so that this folder needs no ``conftest.py`` or ``__init__.py`` of its own (an
``__init__.py`` here would make pytest import this folder as a package named ``napalm_frr``).
The recordings come from ``record_mocked_data.py``; each ``mocked_data/<test>/<case>/``
holds the raw output of every command the getter sends and what it must return.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from napalm.base.test import conftest as parent_conftest
from napalm.base.test.double import BaseTestDouble
from napalm.base.test.getters import BaseTestGetters

from napalm_frr import FRRDriver


class FakeFRRTransport(BaseTestDouble):
    """Replays ``mocked_data/<test>/<case>/<command>.txt`` for every vtysh show."""

    timeout = 60.0

    def show(self, command: str, timeout: float | None = None) -> str:
        filename = f"{self.sanitize_text(command)}.txt"
        return str(self.read_txt_file(self.find_file(filename))).rstrip("\n")

    def configure(self, lines, timeout=None):
        raise AssertionError("the contract suite must not configure anything")

    def is_alive(self) -> bool:
        return True

    def close(self) -> None:
        pass


class PatchedFRRDriver(FRRDriver):
    """The real driver with its SSH transport replaced by the replaying double."""

    def __init__(self, hostname, username, password, timeout=60, optional_args=None):
        super().__init__(hostname, username, password, timeout, optional_args)
        self.patched_attrs = ["_transport"]
        self._transport = FakeFRRTransport()

    def open(self) -> None:
        pass


@pytest.fixture(scope="class")
def set_device_parameters(request):
    request.cls.driver = FRRDriver
    request.cls.patched_driver = PatchedFRRDriver
    request.cls.vendor = "frr"
    parent_conftest.set_device_parameters(request)
    yield
    request.cls.device.close()


def pytest_generate_tests(metafunc):
    parent_conftest.pytest_generate_tests(metafunc, __file__)


@pytest.mark.usefixtures("set_device_parameters")
class TestFRRGetters(BaseTestGetters):
    """Every getter the driver implements, against every recorded case."""


MOCKED = Path(__file__).parent / "mocked_data"


def test_every_implemented_getter_has_recorded_cases():
    # a getter without recordings would be skipped by the suite, not tested
    for test in (
        "test_get_facts",
        "test_get_interfaces",
        "test_get_interfaces_ip",
        "test_get_bgp_neighbors",
        "test_get_route_to",
        "test_get_route_to_longer",
        "test_get_config",
        "test_get_config_filtered",
        "test_get_config_sanitized",
        "test_get_config_sanitized_filtered",
        "test_is_alive",
    ):
        cases = [p for p in (MOCKED / test).iterdir() if p.is_dir()]
        assert cases, test


def test_sanitized_recordings_hold_no_secret():
    for path in MOCKED.glob("test_get_config_sanitized*/*/expected_result.json"):
        assert "s3cret" not in path.read_text(), path
    raw = (MOCKED / "test_get_config_sanitized/r1/show_running_config.txt").read_text()
    assert "password s3cretKey" in raw  # the recording does exercise sanitizing
