"""Per-device locks (sdd_build.execute.locks): keys, holders, refusal, waiting, crash release.

Contention is tested across real processes (flock is what the product relies on), each lock
directory private to the test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from nornir.core.inventory import ConnectionOptions, Host

from sdd_build.errors import HostLockedError, InventoryError
from sdd_build.execute.locks import Holder, device_keys, host_keys, host_locks, lock_dir

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "locks"
    monkeypatch.setenv("SDD_LOCK_DIR", str(path))
    return path


def _host(name: str, hostname: str = "127.0.0.1", port: int = 2201, **kw: object) -> Host:
    return Host(name=name, hostname=hostname, port=port, platform="frr", **kw)  # type: ignore[arg-type]


_HOLDER = textwrap.dedent(
    """
    import sys
    from sdd_build.execute.locks import Holder, host_locks
    keys = {"r1": sys.argv[1].split(",")}
    holder = Holder("build", design="core-bgp", build_id="B-1", repository="/repo/a")
    with host_locks(keys, holder):
        print("held", flush=True)
        sys.stdin.readline()
    print("released", flush=True)
    """
)


class _OtherProcess:
    """A process holding ``keys`` until told to let go (or killed)."""

    def __init__(self, keys: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, ",".join(keys)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "held"

    def release(self) -> None:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "released"
        self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def other() -> Iterator[list[_OtherProcess]]:
    started: list[_OtherProcess] = []
    yield started
    for o in started:
        o.close()


def test_a_held_device_refuses_naming_the_holder(locks: Path, other: list[_OtherProcess]) -> None:
    other.append(_OtherProcess(["addr:127.0.0.1:2201", "name:r1"]))
    me = Holder("build", design="ospf-underlay", build_id="B-2", repository="/repo/b")
    with pytest.raises(HostLockedError) as err, host_locks({"r1": ["name:r1"]}, me):
        pytest.fail("entered a held lock")
    message = str(err.value)
    assert err.value.exit_code == 3
    assert err.value.host == "r1"
    for part in ("build B-1", "design 'core-bgp'", "/repo/a", f"pid {other[0].proc.pid}"):
        assert part in message, message
    assert err.value.holder is not None
    assert err.value.holder["build_id"] == "B-1"


def test_all_or_nothing_free_keys_are_not_kept(locks: Path, other: list[_OtherProcess]) -> None:
    other.append(_OtherProcess(["name:r2"]))
    me = Holder("build")
    with pytest.raises(HostLockedError), host_locks({"r1": ["name:r1"], "r2": ["name:r2"]}, me):
        pass
    # r1 was free and tried first: it is free again after the refusal
    with host_locks({"r1": ["name:r1"]}, me):
        pass


def test_a_killed_holder_frees_its_locks(locks: Path, other: list[_OtherProcess]) -> None:
    other.append(_OtherProcess(["name:r1"]))
    other[0].proc.send_signal(signal.SIGKILL)
    other[0].close()
    with host_locks({"r1": ["name:r1"]}, Holder("build")):
        pass


def test_wait_lock_waits_for_the_holder_then_proceeds(
    locks: Path, other: list[_OtherProcess]
) -> None:
    other.append(_OtherProcess(["name:r1"]))
    entered = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with host_locks({"r1": ["name:r1"]}, Holder("build"), wait_s=60):
                entered.set()
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=second)
    t.start()
    assert not entered.wait(1.0), "entered while the other process held the lock"
    other[0].release()
    t.join(timeout=60)
    assert entered.is_set()
    assert not errors


def test_wait_lock_gives_up_after_its_time(locks: Path, other: list[_OtherProcess]) -> None:
    other.append(_OtherProcess(["name:r1"]))
    with (
        pytest.raises(HostLockedError, match=r"after waiting 0\.5 s"),
        host_locks({"r1": ["name:r1"]}, Holder("build"), wait_s=0.5),
    ):
        pass


def test_holder_record_is_written_and_cleared(locks: Path) -> None:
    me = Holder("discover", design="d", repository="/repo")
    with host_locks({"r1": ["name:r1"]}, me):
        (record,) = [json.loads(p.read_text()) for p in locks.iterdir()]
        assert record["command"] == "discover"
        assert record["pid"] == os.getpid()
        assert record["key"] == "name:r1"
    assert all(p.read_text() == "" for p in locks.iterdir())


def test_two_repositories_naming_one_device_differently_share_its_address_key() -> None:
    a = device_keys(_host("r1", "127.0.0.1", 2201))
    b = device_keys(_host("core-1", "127.0.0.1", 2201))
    assert set(a) & set(b) == {"addr:127.0.0.1:2201"}


def test_one_name_through_another_path_shares_the_name_key() -> None:
    direct = device_keys(_host("r1", "127.0.0.1", 2201))
    proxied = device_keys(_host("R1", "127.0.0.1", 40000))
    assert set(direct) & set(proxied) == {"name:r1"}


def test_the_address_is_what_the_plugin_dials_and_the_identity_what_is_checked() -> None:
    host = _host(
        "r1",
        "127.0.0.1",
        22,
        data={"identity": {"hostname": "core-r1.example"}},
        connection_options={
            "napalm": ConnectionOptions(extras={"optional_args": {"port": 2299}}),
        },
    )
    assert device_keys(host) == ["addr:127.0.0.1:2299", "name:core-r1.example"]


def test_names_and_addresses_are_canonical() -> None:
    v6 = device_keys(_host("r1", "0:0:0:0:0:0:0:1", 22))
    assert "addr:::1:22" in v6
    keys = host_keys([_host("r1", "LOCALHOST.", 22), _host("r2", "127.0.0.1", 22)])
    assert "addr:localhost:22" in keys["r1"]
    assert "addr:127.0.0.1:22" in keys["r1"], "a name is also locked under its addresses"
    assert "addr:127.0.0.1:22" in keys["r2"]


def test_a_lock_directory_others_can_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("SDD_LOCK_DIR", str(shared))
    with pytest.raises(InventoryError, match="writable only by you"):
        lock_dir()
    monkeypatch.setenv("SDD_LOCK_DIR", str(tmp_path / "fresh"))
    assert lock_dir().stat().st_mode & 0o777 == 0o700


def test_a_lock_file_planted_as_a_symlink_is_not_followed(locks: Path, tmp_path: Path) -> None:
    with host_locks({"r1": ["name:r1"]}, Holder("build")):
        (path,) = locks.iterdir()
    path.unlink()
    target = tmp_path / "victim"
    target.write_text("keep")
    path.symlink_to(target)
    with (
        pytest.raises(InventoryError, match="cannot open the device lock"),
        host_locks({"r1": ["name:r1"]}, Holder("build")),
    ):
        pass
    assert target.read_text() == "keep"
