"""Evidence and device-ledger settles are fsynced in one batch, never one by one, and the
batch is on disk before the record that refers to it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdd_build.execute import ledger
from sdd_build.execute.evidence import EvidenceStore
from sdd_build.execute.ledger import HeldDevices
from sdd_build.secrets import sink
from tests.unit.execute import fakerepo
from tests.unit.execute.fakerepo import build, network


class FsyncLog:
    """Every fsync, by path (``/proc/self/fd`` names the file an fd is open on)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = os.fsync

        def fsync(fd: int) -> None:
            self.paths.append(os.readlink(f"/proc/self/fd/{fd}"))
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)


def test_deferred_evidence_is_written_at_once_and_synced_in_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = FsyncLog(monkeypatch)
    store = EvidenceStore(tmp_path, defer_sync=True)
    refs = [store.write(f"r{i}", "pre.cfg", f"hostname r{i}\n") for i in range(3)]
    assert [(tmp_path / r).read_text() for r in refs] == [f"hostname r{i}\n" for i in range(3)]
    assert log.paths == []  # nothing synced while the build runs
    store.sync()
    files = {str((tmp_path / r).resolve()) for r in refs}
    folders = {str((tmp_path / r).resolve().parent) for r in refs}
    assert set(log.paths) == files | folders
    log.paths.clear()
    store.sync()  # nothing new: nothing to sync
    assert log.paths == []


def test_evidence_is_synced_one_by_one_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = FsyncLog(monkeypatch)
    EvidenceStore(tmp_path).write("r1", "x.txt", "x")
    assert len(log.paths) == 1


def test_a_failed_batch_keeps_its_files_for_the_next_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EvidenceStore(tmp_path, defer_sync=True)
    store.write("r1", "x.txt", "x")

    def broken(paths: object, **_kw: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr("sdd_build.execute.evidence.sync_files", broken)
    with pytest.raises(OSError, match="I/O error"):
        store.sync()
    monkeypatch.undo()
    log = FsyncLog(monkeypatch)
    store.sync()
    assert any(p.endswith("x.txt") for p in log.paths)


def test_build_syncs_its_evidence_before_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = fakerepo.write_repo(tmp_path)
    log = FsyncLog(monkeypatch)
    record, bdir = build(design, network())
    assert record.result == "as_designed"
    evidence = sorted(str(p.resolve()) for p in (bdir / "evidence").rglob("*") if p.is_file())
    assert evidence
    record_at = next(i for i, p in enumerate(log.paths) if "/.as-built.json." in p)  # its temp file
    synced_before = set(log.paths[:record_at])
    assert set(evidence) <= synced_before
    # one fsync per evidence file in all (the batch), not one per write plus the batch
    assert sum(p in set(evidence) for p in log.paths) == len(evidence)


def test_settle_writes_every_entry_then_syncs_them_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {h: [tmp_path / f"{h}.lock"] for h in ("r1", "r2", "r3")}
    held = HeldDevices(files, build_id="b1", design="d")
    for h in files:
        held.changing(h)  # write-ahead: each synced before its first change
    log = FsyncLog(monkeypatch)
    synced: list[list[Path]] = []
    real = sink.sync_files

    def batch(paths: list[Path], **kw: object) -> None:
        synced.append(list(paths))
        real(paths)

    monkeypatch.setattr(ledger, "sync_files", batch)
    held.settle()
    assert len(synced) == 1
    assert len(synced[0]) == 3
    for h in files:
        change = held.last_change(h)
        assert change is not None
        assert change.state == "settled"
    assert len(log.paths) == 3 + 1  # three entries and their one folder, once each


def test_a_hosts_evidence_is_synced_by_that_host_and_the_rest_by_the_closing_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    store = EvidenceStore(tmp_path, defer_sync=True)
    store.write("r1", "pre.cfg", "a")
    store.write("r1", "post.cfg", "b")
    store.write("r2", "pre.cfg", "c")
    monkeypatch.setattr(os, "fsync", spy)
    store.sync_host("r1")
    r1 = str(tmp_path / "evidence" / "r1")
    assert sorted(synced) == sorted([f"{r1}/post.cfg", f"{r1}/pre.cfg", r1])
    synced.clear()
    store.sync()
    r2 = str(tmp_path / "evidence" / "r2")
    assert sorted(synced) == sorted([f"{r2}/pre.cfg", r2])
