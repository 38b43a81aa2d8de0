"""Each device's last change: which build last changed it, and whether that build finished.

Locks keep two builds off one device at the same time; this ledger keeps a build off a device
*after* another one, when that would lose the other's work:

* A build marks a device ``changing`` before its first commit there (after journaling its
  intent) and ``settled`` when it ends normally (its record then says what the device holds:
  built, rolled back, or where a rollback failed). A build that crashed, was killed or could
  not write its record leaves ``changing`` behind.
* A build or dry run refuses (exit 3, before any contact) a device left ``changing`` by
  another build: that build must be recovered first (``build --recover``, in its repository).
  Across designs and repositories, as ``refuse_if_unfinished`` does within one design.
* ``build --recover`` and ``rollback`` of build X restore X's pre-build backups: they leave
  alone a device changed by another build since X took them (``changed_since``): a restore
  of X's backup would undo that build's committed change (and X cannot have changed the
  device after it: it would have kept the other build off). They mark a device ``changing``
  before they restore it.

The entries live beside the locks (``SDD_LOCK_DIR``), one small JSON file per device key,
written atomically by the holder of that key's lock only; a lost directory forgets the
ledger (and refuses nothing). Nothing secret is written.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from sdd_build.errors import RecordError
from sdd_build.execute.journal import utcnow
from sdd_build.limits import json_loads
from sdd_build.secrets.sink import sync_files, write_text

__all__ = ["Change", "HeldDevices", "read_change"]

State = Literal["changing", "settled"]


@dataclass(frozen=True)
class Change:
    """The last change made to a device by sdd-build."""

    build_id: str
    command: str
    state: State
    design: str | None = None
    repository: str | None = None
    pid: int = field(default_factory=os.getpid)
    ts: str = field(default_factory=utcnow)

    def describe(self) -> str:
        parts = [f"{self.command} {self.build_id}"]
        if self.design:
            parts.append(f"of design '{self.design}'")
        if self.repository:
            parts.append(f"in {self.repository}")
        return " ".join(parts) + f" (pid {self.pid}, {self.ts})"


def _path(lock_file: Path) -> Path:
    return lock_file.with_suffix(".last")


def read_change(lock_file: Path) -> Change | None:
    """The entry beside one key's lock file; an unreadable one counts as none."""
    try:
        data = json_loads(_path(lock_file).read_bytes())
        return Change(**{k: data[k] for k in data if k in Change.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None


def _write(lock_file: Path, change: Change, *, sync: bool = True) -> Path:
    path = _path(lock_file)
    try:
        # atomic; nothing secret
        write_text(path, json.dumps(asdict(change)), mode=0o600, sync=sync)
    except OSError as exc:
        raise RecordError(
            f"the device ledger {path} cannot be written ({exc.strerror}): nothing is pushed",
            file=str(path),
        ) from None
    return path


class HeldDevices:
    """The devices a holder has locked (``{host: lock files}``), and their ledger entries.

    Only a holder writes, and only for devices it holds: the ledger needs no lock of its own.
    """

    def __init__(
        self,
        files: Mapping[str, Iterable[Path]],
        *,
        build_id: str | None = None,
        command: str = "build",
        design: str | None = None,
        repository: str | None = None,
        restores_from: str | None = None,
    ) -> None:
        self.files = {h: sorted(fs) for h, fs in files.items()}
        # a recovery or rollback puts back backups taken at this time (journal timestamp)
        self.restores_from = restores_from
        self.build_id = build_id
        self.command = command
        self.design = design
        self.repository = repository
        self._changing: set[str] = set()
        self._closed = False  # settled by name: the default settle at the end is done

    def last_change(self, host: str) -> Change | None:
        """The most recent entry over the host's keys (they may disagree after a key change)."""
        found = [c for f in self.files.get(host, ()) if (c := read_change(f)) is not None]
        return max(found, key=lambda c: c.ts, default=None)

    def blocking(self) -> tuple[str, Change] | None:
        """A device this holder must not touch, with the change in the way (see the module
        docstring); ``None`` when every device is free to act on."""
        if self.build_id is None:  # discover: reads only
            return None
        for host in sorted(self.files):
            last = self.last_change(host)
            if last is None or last.build_id == self.build_id:
                continue
            if last.state == "changing":
                return host, last
        return None

    def changed_since(self, host: str) -> Change | None:
        """For a recovery or rollback: the change another build made to ``host`` since the
        backups being restored were taken (``restores_from``), if any. Restoring the backup
        would undo it. (This build cannot have changed the host meanwhile: it would have
        marked it ``changing`` first and kept the other build off.)"""
        last = self.last_change(host)
        if last is None or last.build_id == self.build_id or self.restores_from is None:
            return None
        return last if last.ts > self.restores_from else None

    def changing(self, host: str) -> None:
        """Record, before the first change to ``host``, that this build is changing it;
        ``RecordError`` when it cannot be recorded (then nothing may be pushed)."""
        if self.build_id is None or host in self._changing or host not in self.files:
            return
        change = self._change("changing")
        for f in self.files[host]:
            _write(f, change)
        self._changing.add(host)

    def settle(self, hosts: Iterable[str] | None = None) -> None:
        """The record now accounts for these devices. By default (as ``host_locks`` does when
        its body ends normally): every device this holder marked ``changing``. A recovery or
        rollback names the ``hosts`` it decided instead (also those an earlier, interrupted
        run of the same build left ``changing``); the others stay ``changing``, and the
        default settle at the end then does nothing. Best effort: a device left
        ``changing`` only asks for a recovery that finds nothing to do."""
        if self.build_id is None or self._closed:
            return
        todo = set(self._changing)
        if hosts is not None:
            self._closed = True
            todo = set()
            for host in hosts:
                last = self.last_change(host)
                left = last is not None and (last.build_id, last.state) == (
                    self.build_id,
                    "changing",
                )
                if host in self._changing or left:
                    todo.add(host)
        change = self._change("settled")
        written: list[Path] = []
        for host in sorted(todo & set(self.files)):
            for f in self.files[host]:
                with contextlib.suppress(RecordError):
                    written.append(_write(f, change, sync=False))
        # one batch of fsyncs, not one per device on the build's critical path
        with contextlib.suppress(OSError):
            sync_files(written)

    def _change(self, state: State) -> Change:
        assert self.build_id is not None
        return Change(
            build_id=self.build_id,
            command=self.command,
            state=state,
            design=self.design,
            repository=self.repository,
        )


#: For code paths that take no locks (unit tests of the build's own logic on fake devices).
NO_DEVICES = HeldDevices({})
