"""The build journal and the per-design build lock.

The journal (``builds/<id>/journal.jsonl``) is written ahead: ``write_ahead`` appends an entry
and fsyncs it *before* the step it announces, and raises ``RecordError`` when it cannot —
then the step is not taken. The build announces three things that way: its start (before any
device contact), each intent to commit (before the commit: a commit whose intent could not be
written is never made) and its end. Every other entry is written best effort (``write``): a
full disk must not stop a rollback; a gap is counted and marked in the journal when writing
works again. Best-effort entries are not fsynced one by one (the kernel has them once written,
so they survive a kill); each write-ahead entry syncs them with it.

A build whose journal has no ``build_finished`` entry is unfinished: the next build refuses to
start blind over it and names it; ``build --recover <id>`` closes it, deciding from the
devices' state (each is compared with its backup), not from the journal alone.

The lock (``builds/.lock``, ``flock``) makes a second concurrent build of the same design
refuse cleanly instead of racing the first on the devices.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sdd_build.errors import GateError, RecordError
from sdd_build.limits import json_loads
from sdd_build.secrets.sink import append_json, write_fd

__all__ = ["Journal", "build_lock", "find_unfinished", "read_journal", "utcnow"]

JOURNAL = "journal.jsonl"


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Journal:
    """Append-only JSON lines, one ``write(2)`` and one fsync per entry; safe across threads.

    ``write_ahead`` raises ``RecordError`` when the entry is not on disk; ``write`` never
    raises, it counts the entries it lost (``lost``, ``error``). A write that failed part-way
    leaves a torn line: the next entry starts on a line of its own, and readers skip torn
    lines."""

    def __init__(self, build_dir: Path) -> None:
        self.path = build_dir / JOURNAL
        self._lock = threading.Lock()
        build_dir.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._torn = False
        self.lost = 0
        self._gap_noted = 0
        self.error: str | None = None

    def write_ahead(self, event: str, **data: Any) -> None:
        """Append and fsync ``event`` before the step it announces; ``RecordError`` if not."""
        try:
            self._append(event, data, sync=True)
        except OSError as exc:
            with self._lock:
                self.lost += 1
                self.error = f"{exc.strerror or exc}"
            raise RecordError(
                f"the build journal could not be written ({exc.strerror or exc}); "
                f"'{event}' not taken",
                file=str(self.path),
                hint="free space on the file system of builds/ (or make it writable)",
            ) from None

    def write(self, event: str, **data: Any) -> bool:
        """Append ``event`` best effort; ``False`` (and counted in ``lost``) if it failed.

        Not fsynced: the entry is in the kernel once written, so it survives the process being
        killed; the next ``write_ahead`` (at the latest ``build_finished``) syncs it to disk.
        An fsync per entry cost ~6 ms each, serialised, on every component of every host."""
        try:
            self._append(event, data, sync=False)
        except OSError as exc:
            with self._lock:
                self.lost += 1
                self.error = f"{exc.strerror or exc}"
            return False
        return True

    def _append(self, event: str, data: dict[str, Any], *, sync: bool) -> None:
        entry = {"ts": utcnow(), "event": event, **data}
        with self._lock:
            if self._fd is None:
                raise OSError(errno.EBADF, "the journal is closed")
            lead = ""
            if self.lost > self._gap_noted:
                gap = {"ts": entry["ts"], "event": "journal_gap", "lost": self.lost}
                lead = json.dumps(gap, sort_keys=True) + "\n"
            if self._torn:
                lead = "\n" + lead
            try:
                append_json(self._fd, entry, lead=lead, sync=False)  # masked, one write
            except OSError:
                self._torn = True
                raise
            self._torn = False
            self._gap_noted = self.lost
            fd = self._fd
        if sync:  # outside the lock: hosts writing ahead at once share one flush, not queue
            os.fsync(fd)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
                self._fd = None


def read_journal(build_dir: Path) -> list[dict[str, Any]]:
    """Entries of a journal; a torn last line (killed mid-write) is ignored."""
    path = build_dir / JOURNAL
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json_loads(line))
        except json.JSONDecodeError:
            continue
    return entries


def find_unfinished(builds_dir: Path) -> list[Path]:
    """Build folders whose journal never reached ``build_finished`` (crashed or killed)."""
    if not builds_dir.is_dir():
        return []
    unfinished = []
    for child in sorted(builds_dir.iterdir()):
        if not (child / JOURNAL).is_file() or _ends_finished(child / JOURNAL):
            continue
        events = {e.get("event") for e in read_journal(child)}
        if "build_finished" not in events:
            unfinished.append(child)
    return unfinished


#: how much of a journal's end :func:`_ends_finished` reads
_TAIL_BYTES = 8192


def _ends_finished(path: Path) -> bool:
    """Whether a whole entry near the end of the journal at ``path`` is ``build_finished``
    (the last entry a build writes): every earlier build is then known finished without
    reading its whole journal. ``False`` says nothing; the caller reads it all."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read(_TAIL_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    rows = tail.split("\n")
    if size > _TAIL_BYTES:
        rows = rows[1:]  # the first row may be the end of an entry, not a whole one
    for row in rows:
        if '"build_finished"' not in row:
            continue
        try:
            if json_loads(row).get("event") == "build_finished":
                return True
        except (json.JSONDecodeError, AttributeError):
            continue
    return False


@contextmanager
def build_lock(
    builds_dir: Path, design: str, wait_s: float = 0.0, build_id: str | None = None
) -> Iterator[None]:
    """Exclusive: a second build of the same design refuses (exit 3), or waits ``wait_s``."""
    builds_dir.mkdir(parents=True, exist_ok=True)
    path = builds_dir / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(0.0, wait_s)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                holder = path.read_text(encoding="utf-8").strip() or "another process"
                raise GateError(
                    f"another build of design '{design}' is running ({holder}); refusing to start",
                    file=str(path),
                    hint="wait for it to finish, or retry with --wait-lock SECONDS",
                ) from None
        label = f"build {build_id}, " if build_id else ""
        with contextlib.suppress(OSError):  # who holds it is information; a full disk is not
            os.ftruncate(fd, 0)  # a reason to refuse the lock (the journal decides that)
            write_fd(fd, f"{label}pid {os.getpid()} since {utcnow()}")
        yield
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)
