"""Each device's last change (sdd_build.execute.ledger), on fake devices: a build of another
design or repository never starts over a device an interrupted build left half-changed, and a
recovery never puts back a backup over another build's later change.

The cross-repository attack on real routers (two designs at once, one waiting, its rollback)
runs live in tests/security/test_locks_identity_live.py.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import HostLockedError, RecordError
from sdd_build.execute import build as build_mod
from sdd_build.execute.build import RunOptions, run_build
from sdd_build.execute.journal import Journal, find_unfinished
from sdd_build.execute.ledger import Change, HeldDevices, read_change
from sdd_build.execute.locks import Holder, host_locks
from sdd_build.execute.recover import recover_build
from sdd_build.testing.fake import FakeNetwork
from tests.unit.execute import fakerepo
from tests.unit.execute.fakerepo import build, network, validated

BASE = {h: f"frr version 0.0-fake\nhostname {h}\n!\nend\n" for h in fakerepo.HOSTS}


def _full(*_: Any, **__: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _hosts(*names: str) -> str:
    """Inventory hosts as distinct devices: each its own port (the address key)."""
    return "".join(
        f"{h}:\n  hostname: 127.0.0.1\n  port: {2200 + i}\n  groups: [core]\n  data: {{n: {i}}}\n"
        for i, h in enumerate(fakerepo.HOSTS, 1)
        if h in names
    )


def _repo(root: Path, design_id: str, **edits: str) -> Path:
    """The demo use case under ``root`` as design ``design_id``; ``edits``: file -> text."""
    design = fakerepo.write_repo(root)
    design.write_text(design.read_text().replace("design: demo\n", f"design: {design_id}\n"))
    (root / "inventory/hosts.yaml").write_text(_hosts(*fakerepo.HOSTS))
    for rel, text in edits.items():
        (root / rel).write_text(text)
    return design


def _interrupted(design: Path, net: FakeNetwork, monkeypatch: pytest.MonkeyPatch) -> str:
    """A build that changed its hosts, then could not write its record (stays unfinished)."""
    with monkeypatch.context() as m:
        m.setattr(build_mod, "write_record", _full)
        with pytest.raises(RecordError, match="stays unfinished"):
            run_build(validated(design, net), RunOptions())
    (unfinished,) = find_unfinished(design.parent / "builds")
    return unfinished.name


def test_an_interrupted_build_keeps_other_repositories_off_until_recovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    first = _repo(tmp_path / "a", "demo")
    first_id = _interrupted(first, net, monkeypatch)
    sessions = {h: net[h].sessions for h in fakerepo.HOSTS}
    other = _repo(tmp_path / "b", "other-design")
    with pytest.raises(HostLockedError) as err:
        build(other, net)
    message = str(err.value)
    assert err.value.exit_code == 3
    assert f"left half-changed by build {first_id} of design 'demo'" in message
    assert f"--recover {first_id}` in {tmp_path / 'a'}" in message
    assert {h: net[h].sessions for h in fakerepo.HOSTS} == sessions  # no contact
    assert not list((tmp_path / "b/designs/demo/builds").glob("*/journal.jsonl"))

    recover_build(validated(first, net), first_id, accept=False)
    assert all(net[h].running() == BASE[h] for h in fakerepo.HOSTS)
    record, _ = build(other, net)
    assert record.result == "as_designed"


def test_recovery_never_puts_a_backup_back_over_a_later_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    first = _repo(tmp_path / "a", "demo")
    real = Journal._append

    def no_intent_on_r3(self: Journal, event: str, data: dict[str, Any], **kw: Any) -> None:
        if event == "commit_intent" and data.get("host") == "r3":
            _full()
        real(self, event, data, **kw)

    with monkeypatch.context() as m:
        m.setattr(Journal, "_append", no_intent_on_r3)
        first_id = _interrupted(first, net, monkeypatch)
    assert net["r3"].running() == BASE["r3"]  # never changed by the first build
    # another repository builds r3 only, with a config of its own
    later = _repo(
        tmp_path / "b",
        "other-design",
        **{"inventory/hosts.yaml": _hosts("r3"), "templates/fake/extra.j2": "extra 99\n"},
    )
    record, _ = build(later, net)
    assert record.result == "as_designed"
    assert net["r3"].has("extra 99")
    recovered, _ = recover_build(validated(first, net), first_id, accept=False)
    # r1, r2: put back; r3: the later build's change stays, said why
    assert net["r1"].running() == BASE["r1"]
    assert net["r2"].running() == BASE["r2"]
    assert net["r3"].has("extra 99")
    assert recovered.hosts["r3"]["state"] == "untouched"
    assert "changed since by build" in recovered.hosts["r3"]["detail"]


def test_a_ledger_that_cannot_be_written_pushes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    design = _repo(tmp_path / "a", "demo")

    def full(*_: Any, **__: Any) -> None:
        raise RecordError("the device ledger cannot be written: nothing is pushed")

    monkeypatch.setattr(HeldDevices, "changing", full)
    record, _ = build(design, net)
    assert record.result == "failed"
    for host in fakerepo.HOSTS:
        assert net[host].running() == BASE[host]
        assert net[host].commits == 0


def test_a_finished_build_settles_and_read_only_commands_pass(tmp_path: Path) -> None:
    net = network()
    design = _repo(tmp_path / "a", "demo")
    record, _ = build(design, net)
    locks = Path(os.environ["SDD_LOCK_DIR"])
    entries = [c for f in locks.glob("*.lock") if (c := read_change(f)) is not None]
    assert len(entries) == 2 * len(fakerepo.HOSTS)  # an address and a name key per host
    assert {(c.build_id, c.state, c.design) for c in entries} == {
        (record.build_id, "settled", "demo")
    }
    # a half-changed device refuses builds, never a read-only discover
    keys = {"r1": ["name:r1"]}

    def dies_half_way() -> None:
        with host_locks(keys, Holder("build", build_id="X")) as devices:
            devices.changing("r1")
            raise RuntimeError("the build dies half-way")  # so it does not settle

    with pytest.raises(RuntimeError, match="dies"):
        dies_half_way()
    with pytest.raises(HostLockedError), host_locks(keys, Holder("build", build_id="Y")):
        pass
    with host_locks(keys, Holder("discover")):
        pass


def test_changed_since_is_only_another_build_after_the_backup(tmp_path: Path) -> None:
    lock = tmp_path / "k.lock"
    devices = HeldDevices({"r1": [lock]}, build_id="X", restores_from="2026-01-01T10:00:00.000Z")
    assert devices.changed_since("r1") is None
    (tmp_path / "k.last").write_text(
        '{"build_id": "W", "command": "build", "state": "settled", "ts": "2026-01-01T09:00:00.000Z"}'
    )
    assert devices.changed_since("r1") is None  # before the backup: part of it
    later = Change(build_id="Y", command="build", state="settled", ts="2026-01-01T11:00:00.000Z")
    (tmp_path / "k.last").write_text(
        '{"build_id": "Y", "command": "build", "state": "settled", "ts": "2026-01-01T11:00:00.000Z"}'
    )
    assert devices.changed_since("r1") == later
    (tmp_path / "k.last").write_text("{torn")
    assert devices.changed_since("r1") is None


def test_a_recovery_settles_only_what_it_decided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = network()
    first = _repo(tmp_path / "a", "demo")
    first_id = _interrupted(first, net, monkeypatch)
    net["r3"].unreachable = True
    recover_build(validated(first, net), first_id, accept=False)
    net["r3"].unreachable = False
    only = {
        h: _repo(tmp_path / h, f"only-{h}", **{"inventory/hosts.yaml": _hosts(h)})
        for h in ("r1", "r3")
    }
    record, _ = build(only["r1"], net)  # decided (restored): free again
    assert record.result == "as_designed"
    with pytest.raises(HostLockedError, match=f"host r3 was left half-changed by build {first_id}"):
        build(only["r3"], net)  # undecided: still the first build's until it is recovered


def test_rollback_never_undoes_a_later_build_of_another_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from sdd_build.app import rollback as rollback_mod
    from sdd_build.app.rollback import rollback_service
    from sdd_build.errors import GateError
    from sdd_build.testing.fake import attach

    net = network(
        r1={"sticky": [r"svc area .*"], "outputs": {"show svc json": '{"state": "down"}'}}
    )
    first = _repo(tmp_path / "a", "demo")
    record, bdir = build(first, net)
    assert record.hosts["r1"]["state"] == "changed"  # its restore failed: a rollback retries
    net["r1"].sticky = []
    net["r1"].outputs["show svc json"] = fakerepo.svc_state
    other = _repo(
        tmp_path / "b",
        "other-design",
        **{"inventory/hosts.yaml": _hosts("r1"), "templates/fake/extra.j2": "extra 99\n"},
    )
    later, _ = build(other, net)  # commits on r1 (and keeps it: its checks pass)
    assert net["r1"].has("extra 99")
    real = rollback_mod._inventory
    monkeypatch.setattr(
        rollback_mod,
        "_inventory",
        lambda *a: (inv := real(*a), attach(SimpleNamespace(inventory=inv), net))[0],
    )
    sessions = net["r1"].sessions
    with pytest.raises(
        GateError, match=f"changed since by another build: r1 \\(build {later.build_id}"
    ):
        rollback_service(bdir.name, hosts=["r1"], root=tmp_path / "a")
    assert net["r1"].sessions == sessions  # no device contact
    assert net["r1"].has("extra 99")
