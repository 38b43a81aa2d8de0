"""The build journal and the per-design build lock.

The journal (``builds/<id>/journal.jsonl``) is written and fsynced *before* each device step
and after it, so that a crash or ``kill -9`` leaves a record saying exactly which hosts were
changed and how. A build whose journal has no ``build_finished`` entry is unfinished: the next
build refuses to start blind over it and names it; ``build --recover <id>`` closes it.

The lock (``builds/.lock``, ``flock``) makes a second concurrent build of the same design
refuse cleanly instead of racing the first on the devices.
"""

from __future__ import annotations

import contextlib
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

from sdd_build.errors import GateError
from sdd_build.limits import json_loads

__all__ = ["Journal", "build_lock", "find_unfinished", "read_journal", "utcnow"]

JOURNAL = "journal.jsonl"


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Journal:
    """Append-only JSON lines, flushed and fsynced per entry; safe across threads."""

    def __init__(self, build_dir: Path) -> None:
        self.path = build_dir / JOURNAL
        self._lock = threading.Lock()
        build_dir.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")

    def write(self, event: str, **data: Any) -> None:
        entry = {"ts": utcnow(), "event": event, **data}
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()


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
        if not (child / JOURNAL).is_file():
            continue
        events = {e.get("event") for e in read_journal(child)}
        if "build_finished" not in events:
            unfinished.append(child)
    return unfinished


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
        os.ftruncate(fd, 0)
        label = f"build {build_id}, " if build_id else ""
        os.write(fd, f"{label}pid {os.getpid()} since {utcnow()}".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)
