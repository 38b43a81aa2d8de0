"""The fake device itself: its scripted behaviour is what the engine's unit tests rely on."""

from __future__ import annotations

import pytest

from sdd_build.errors import FakeRefused, SessionDropped
from sdd_build.testing.fake import FakeDriver, FakeNetwork, Fault

CONFIG = "hostname r1\n!\nrouter demo\n base-id 1\nexit\n!\n"


def test_merge_replace_negation_and_the_diff() -> None:
    dev = FakeNetwork().add("r1", CONFIG)
    drv = FakeDriver(dev)
    drv.load_merge_candidate(config="router demo\n svc enable\nexit\nextra 1\n")
    diff = drv.compare_config()
    assert "+ svc enable" in diff
    assert "+extra 1" in diff
    assert dev.running().count("svc enable") == 0  # not committed yet
    drv.commit_config()
    assert dev.running().splitlines()[3:6] == ["router demo", " base-id 1", " svc enable"]
    drv.load_merge_candidate(config="router demo\n no svc enable\nexit\n")
    drv.commit_config()
    assert not dev.has("router demo / svc enable")
    drv.load_replace_candidate(config="hostname r1\n")
    drv.commit_config()
    assert dev.config == [("hostname r1",)]


def test_refused_elided_rewritten_and_sticky_lines() -> None:
    dev = FakeNetwork().add(
        "r1",
        CONFIG,
        refuse={r"bad .*": "% Unknown command"},
        elide=[r"timer 300"],
        rewrite={r"^svc on$": "svc enable"},
        sticky=[r"timer \d+"],
    )
    drv = FakeDriver(dev)
    with pytest.raises(FakeRefused, match="bad line: % Unknown command"):
        drv.load_merge_candidate(config="bad line\n")
    drv.load_merge_candidate(config="router demo\n timer 300\n timer2 5\n svc on\nexit\n")
    drv.commit_config()
    assert not dev.has("timer 300")
    assert dev.has("router demo / svc enable")
    drv.load_merge_candidate(config="router demo\n timer 200\nexit\n")
    drv.commit_config()
    drv.load_replace_candidate(config=CONFIG)
    drv.commit_config()
    assert dev.has("router demo / timer 200")  # no replace removes it


def test_faults_drop_the_session_before_or_after_the_call() -> None:
    dev = FakeNetwork().add(
        "r1", CONFIG, faults=[Fault("commit_config", 1, "after"), Fault("get_config", 2)]
    )
    drv = FakeDriver(dev)
    drv.get_config()
    drv.load_merge_candidate(config="extra 1\n")
    with pytest.raises(SessionDropped, match="after commit_config"):
        drv.commit_config()
    assert dev.has("extra 1")  # the commit took effect before the session died
    with pytest.raises(SessionDropped, match="gone"):
        drv.get_config()
    again = FakeDriver(dev)  # a new session: the second get_config fault fires now
    with pytest.raises(SessionDropped, match="before get_config #2"):
        again.get_config()
    assert FakeDriver(dev).get_config()["running"] == dev.running()
