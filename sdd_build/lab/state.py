"""The lab state file: the record ``down`` trusts to remove everything a lab made.

It lives in ``/var/lib/sdd-build/labs/<lab>/state.json`` (``SDD_LAB_STATE_DIR`` overrides the
root): a machine-wide place, because namespaces, users and FRR instances are machine-wide and
two topology files with the same lab name must not share them. ``down`` finds it from the
topology's ``name`` alone.

Every resource is recorded (and the file fsynced) *before* it is created, and updated with what
is only known after (a PID), so a crash or ``kill -9`` at any point leaves a file that names
everything that may exist. Teardown treats each record as "may exist" and is idempotent.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sdd_build.errors import LabError
from sdd_build.lab.provider import LabRuntimeError

__all__ = [
    "LabState",
    "NodeRecord",
    "Resource",
    "lab_lock",
    "labs_holding",
    "state_root",
]

ResourceKind = Literal["netns", "user", "frr_instance", "process", "workdir", "socat"]


class Resource(BaseModel):
    """One thing the lab made (or is about to make)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # as lab.topology._Strict

    kind: ResourceKind
    name: str
    node: str | None = None
    pid: int | None = None
    start_time: int | None = None  # /proc/<pid>/stat field 22: guards against PID reuse
    argv_marker: str | None = None  # an argv element that identifies our process (socat)


class NodeRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # as lab.topology._Strict

    name: str
    role: Literal["router", "host", "bridge"]
    netns: str
    frr_instance: str | None = None
    port: int | None = None
    hostname: str
    pid: int | None = None  # the holder of the node's mount and UTS namespaces
    start_time: int | None = None


class LabState(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # as lab.topology._Strict

    lab: str
    topology: str
    provider: str  # a name of sdd_build.lab.registry.PROVIDERS
    phase: Literal["creating", "up", "destroying"] = "creating"
    created: str = Field(default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat())
    owner_pid: int = Field(default_factory=os.getpid)
    workdir: str
    vty_user: str | None = None
    shell_user: str | None = None
    nodes: dict[str, NodeRecord] = Field(default_factory=dict)
    resources: list[Resource] = Field(default_factory=list)

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        from sdd_build.lab.registry import PROVIDERS

        if value not in PROVIDERS:
            raise ValueError(f"unknown lab provider {value!r}")
        return value

    # -- persistence ---------------------------------------------------------------------------

    @staticmethod
    def path_for(lab: str) -> Path:
        return state_root() / lab / "state.json"

    @classmethod
    def load(cls, lab: str) -> LabState | None:
        path = cls.path_for(lab)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return cls.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as exc:
            raise LabError(
                f"lab state file is unreadable: {exc.__class__.__name__}",
                file=str(path),
                hint="remove the lab's namespaces by hand (ip netns list) and delete this file",
            ) from None

    def save(self) -> None:
        """Atomically replace the state file and make it durable before returning."""
        path = self.path_for(self.lab)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        data = self.model_dump_json(indent=2).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def remove(self) -> None:
        """Forget the lab, its lock file too. Callers hold the lock and call this last: once
        the file is gone a waiter may lock a new one (see ``lab_lock``)."""
        path = self.path_for(self.lab)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(FileNotFoundError):
            _lock_path(self.lab).unlink()
        with contextlib.suppress(OSError):
            path.parent.rmdir()

    # -- records -------------------------------------------------------------------------------

    def add(self, resource: Resource) -> Resource:
        """Record a resource about to be created; durable before the caller creates it."""
        self.resources.append(resource)
        self.save()
        return resource

    def find(self, kind: ResourceKind, name: str) -> Resource | None:
        for res in self.resources:
            if res.kind == kind and res.name == name:
                return res
        return None


def state_root() -> Path:
    return Path(os.environ.get("SDD_LAB_STATE_DIR", "/var/lib/sdd-build/labs"))


def _lock_path(lab: str) -> Path:
    return state_root() / f".{lab}.lock"


@contextlib.contextmanager
def lab_lock(lab: str, *, timeout: float = 120.0) -> Iterator[None]:
    """Serialise up/down/impair of one lab across processes (an flock, released on any exit).

    ``down`` deletes the lock file while holding it (no litter per lab); a waiter that then
    gets the lock on the deleted file notices the path no longer names it and locks anew."""
    import time

    root = state_root()
    lock_path = _lock_path(lab)
    deadline = time.monotonic() + timeout
    while True:
        root.mkdir(parents=True, exist_ok=True, mode=0o755)
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            continue  # another lab's cleanup removed the empty root meanwhile: make it again
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() > deadline:
                raise LabRuntimeError(
                    f"lab {lab!r} is busy: another sdd-build process holds {lock_path}"
                ) from None
            time.sleep(0.2)
            continue
        try:
            current = os.stat(lock_path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)  # the file was removed by a down meanwhile: lock the new one
    try:
        yield
    finally:
        if not LabState.path_for(lab).exists():
            # no lab (a failed or refused up, a down): no lock file, no empty directories
            with contextlib.suppress(FileNotFoundError):
                lock_path.unlink()
            _remove_empty(root)
        os.close(fd)


def _remove_empty(root: Path) -> None:
    """The state root and its parent when empty (they exist only while a lab does; a
    ``SDD_LAB_STATE_DIR`` of the user's own is left)."""
    if "SDD_LAB_STATE_DIR" in os.environ:
        return
    for path in (root, root.parent):
        try:
            path.rmdir()
        except OSError:
            return


def labs_holding(hosts: Iterable[str]) -> list[tuple[str, str]]:
    """``(lab, topology)`` of every lab that is up and has a node named like one of ``hosts``:
    the hint for a build that forgot ``--lab`` (its hosts were tried at the inventory's
    addresses). Unreadable state files are skipped: this only ever feeds a hint."""
    wanted = set(hosts)
    found: list[tuple[str, str]] = []
    root = state_root()
    for path in sorted(root.glob("*/state.json")) if root.is_dir() else []:
        try:
            state = LabState.load(path.parent.name)
        except LabError:
            continue
        if state is not None and state.phase == "up" and wanted & set(state.nodes):
            found.append((state.lab, state.topology))
    return found
