"""The state file: durable, atomic, private; and the per-lab lock."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path

import pytest

from sdd_build.errors import LabError
from sdd_build.lab.state import LabState, Resource, lab_lock


def test_add_is_durable_before_creation(private_state: Path) -> None:
    st = LabState(lab="x", topology="/t.clab.yml", provider="netns", workdir="/w/clab-x")
    st.add(Resource(kind="netns", name="clab-x-r1", node="r1"))
    path = private_state / "x" / "state.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    on_disk = json.loads(path.read_text())
    assert on_disk["resources"][0] == {
        "kind": "netns",
        "name": "clab-x-r1",
        "node": "r1",
        "pid": None,
        "start_time": None,
        "argv_marker": None,
    }
    assert on_disk["phase"] == "creating"
    again = LabState.load("x")
    assert again is not None
    assert again.find("netns", "clab-x-r1") is not None
    again.remove()
    assert LabState.load("x") is None
    assert not path.parent.exists()


def test_corrupt_state_is_a_clear_error(private_state: Path) -> None:
    (private_state / "y").mkdir(parents=True)
    (private_state / "y" / "state.json").write_text("{not json")
    with pytest.raises(LabError, match="unreadable"):
        LabState.load("y")


def test_lock_serialises(monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []

    def other() -> None:
        with lab_lock("z"):
            order.append("other")

    with lab_lock("z"):
        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.5)
        order.append("first")
    t.join(5)
    assert order == ["first", "other"]


def test_lock_timeout_is_a_runtime_error() -> None:
    with lab_lock("w"), pytest.raises(LabError, match="busy") as info:  # noqa: SIM117
        with lab_lock("w", timeout=0.3):
            pass
    assert info.value.exit_code == 1


def test_remove_deletes_the_lock_file_and_waiters_relock(private_state: Path) -> None:
    st = LabState(lab="v", topology="/t.clab.yml", provider="netns", workdir="/w/clab-v")
    seen: list[object] = []

    def waiter() -> None:
        with lab_lock("v", timeout=5):
            # the waiter runs only after down's last act (remove) and holds a live lock file
            seen.append(LabState.load("v"))
            seen.append((private_state / ".v.lock").exists())

    with lab_lock("v"):
        st.save()
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.4)
        assert seen == []
        st.remove()  # down's last act, inside the lock
    t.join(5)
    assert seen == [None, True]
    st.remove()
    assert not (private_state / ".v.lock").exists()
