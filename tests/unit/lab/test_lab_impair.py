"""Fault requests: validation and the tc commands they become."""

from __future__ import annotations

import pytest

from sdd_build.lab.impair import Impairment, netem_argv, parse_target
from sdd_build.lab.provider import LabInputError


def test_parse_target() -> None:
    assert parse_target("r1") == ("r1", None)
    assert parse_target("r1:eth1") == ("r1", "eth1")
    with pytest.raises(LabInputError):
        parse_target("r1:eth1:x")
    with pytest.raises(LabInputError):
        parse_target(":eth1")


def test_netem_command() -> None:
    imp = Impairment("r1", "eth1", delay="200ms", jitter="20ms", loss=10)
    imp.validate()
    assert netem_argv("ns", imp) == [
        "tc", "-n", "ns", "qdisc", "replace", "dev", "eth1", "root", "netem",
        "delay", "200ms", "20ms", "loss", "10%",
    ]  # fmt: skip


def test_rate_alone_uses_tbf_and_clear_deletes() -> None:
    assert netem_argv("ns", Impairment("r1", "eth1", rate="1mbit"))[8] == "tbf"
    assert netem_argv("ns", Impairment("r1", "eth1", clear=True))[3:5] == ["qdisc", "del"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "nothing to do"),
        ({"link": "down", "interface": None}, "need an interface"),
        ({"delay": "200"}, "use a time like"),
        ({"jitter": "5ms"}, "--jitter needs --delay"),
        ({"loss": 150.0}, "0 to 100"),
        ({"rate": "fast"}, "use a rate like"),
        ({"clear": True, "delay": "1ms"}, "cannot be combined"),
        ({"daemon": "bgpd"}, "needs --stop or --start"),
        ({"daemon": "sshd", "daemon_action": "stop"}, "one of zebra"),
    ],
)
def test_bad_requests(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"interface": "eth1", **kwargs}
    with pytest.raises(LabInputError, match=message) as info:
        Impairment("r1", **args).validate()  # type: ignore[arg-type]
    assert info.value.exit_code == 2
