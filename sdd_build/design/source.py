"""Where a run's bytes come from: the disk (before approval) or an approved snapshot.

Every byte of a design's inputs (the design, its spec, the inventory's design data, templates
and everything they include, parser templates, fixtures, reused assets) is read through a
``Source``:

* ``DiskSource`` reads files as they are now, with ``read_file`` (regular files only, bounded
  in size, never blocking on a FIFO). ``validate``, ``plan`` and ``approve`` use it.
* ``Snapshot`` is immutable: the gate check reads every bound file **once** into it, verifies
  the approved hashes on those very bytes, and from then on validate, the offline layer,
  render, parse, the checks, the build and the record read only the snapshot. A path that is
  not in it does not exist for the run. A file swapped or a symlink retargeted on disk after
  the gate check changes nothing that is pushed.

Paths are *lexical* inside a repository (``templates/frr/x.j2`` stays that name even when it
is a symlink): an approval binds the names the design uses, and a snapshot answers for those
names only, so retargeting a symlink cannot swap one approved file for another.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from sdd_build.errors import DesignError
from sdd_build.limits import file_bytes

__all__ = [
    "DiskSource",
    "Snapshot",
    "Source",
    "lexical",
    "read_file",
]


def lexical(path: Path) -> Path:
    """``path`` made absolute and normalised without touching the disk (no symlinks)."""
    return Path(os.path.normpath(os.path.abspath(path)))


def read_file(path: Path, *, display: str | None = None, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, read once.

    Raises ``FileNotFoundError`` when there is no such file, and ``DesignError`` (exit 2) for
    anything that is not a regular file (a FIFO never blocks: it is opened non-blocking and
    refused), a file larger than ``max_bytes``, or one that cannot be read.
    """
    shown = display or str(path)
    if max_bytes is None:
        max_bytes = file_bytes()  # SDD_MAX_FILE_BYTES (sdd_build.limits)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(shown) from None
    except IsADirectoryError:
        raise DesignError("is a directory, expected a file", file=shown) from None
    except OSError as exc:
        raise DesignError(f"cannot read: {exc.strerror}", file=shown) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "not a regular file"
            if stat.S_ISDIR(info.st_mode):
                kind = "a directory"
            raise DesignError(f"is {kind}; only regular files are read", file=shown)
        if info.st_size > max_bytes:
            raise DesignError(
                f"file is {info.st_size} bytes, larger than the {max_bytes}-byte limit",
                file=shown,
                hint="check that this is the right file (SDD_MAX_FILE_BYTES raises the limit)",
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise DesignError(
                    f"file grew past the {max_bytes}-byte limit while being read", file=shown
                )
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise DesignError(f"cannot read: {exc.strerror}", file=shown) from None
    finally:
        os.close(fd)


class Source(Protocol):
    """Bytes by path, for one run."""

    def read(self, path: Path, *, display: str | None = None) -> bytes:
        """The file's bytes; ``FileNotFoundError`` when the run has no such file."""
        ...

    def is_file(self, path: Path) -> bool: ...


class DiskSource:
    """The files as they are on disk now (validate, plan, approve)."""

    def read(self, path: Path, *, display: str | None = None) -> bytes:
        return read_file(path, display=display)

    def is_file(self, path: Path) -> bool:
        return path.is_file()

    def __repr__(self) -> str:
        return "DiskSource()"


@dataclass(frozen=True)
class Snapshot:
    """An immutable, content-addressed set of files of one repository, read once.

    ``files`` maps repository-relative POSIX paths to bytes. ``digest`` is the sha256 of the
    sorted manifest (path and sha256 of every file): two snapshots with the same digest hold
    the same bytes under the same names.
    """

    root: Path
    files: Mapping[str, bytes]
    hashes: Mapping[str, str] = field(init=False)
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        frozen = MappingProxyType(dict(self.files))
        hashes = {rel: hashlib.sha256(data).hexdigest() for rel, data in frozen.items()}
        manifest = "".join(f"{rel}\0{hashes[rel]}\n" for rel in sorted(hashes))
        object.__setattr__(self, "files", frozen)
        object.__setattr__(self, "hashes", MappingProxyType(hashes))
        object.__setattr__(self, "digest", hashlib.sha256(manifest.encode()).hexdigest())

    @classmethod
    def capture(cls, root: Path, rels: list[str] | set[str]) -> tuple[Snapshot, dict[str, str]]:
        """Read each of ``rels`` (repository-relative) once. Returns the snapshot of the files
        that could be read and, per file that could not, why (missing, not a regular file, ...).
        """
        files: dict[str, bytes] = {}
        problems: dict[str, str] = {}
        for rel in sorted(set(rels)):
            path = lexical(root / rel)
            if not _inside(root, path) or not _inside(root, path.resolve()):
                problems[rel] = "outside the repository"
                continue
            try:
                files[rel] = read_file(path, display=rel)
            except FileNotFoundError:
                problems[rel] = "missing"
            except DesignError as exc:
                problems[rel] = exc.problems[0].message if exc.problems else str(exc)
        return cls(root=root, files=files), problems

    def rel(self, path: Path) -> str | None:
        absolute = lexical(path)
        if not _inside(self.root, absolute):
            return None
        return absolute.relative_to(self.root).as_posix()

    def read(self, path: Path, *, display: str | None = None) -> bytes:
        rel = self.rel(path)
        if rel is None or rel not in self.files:
            raise FileNotFoundError(display or str(path))
        return self.files[rel]

    def is_file(self, path: Path) -> bool:
        rel = self.rel(path)
        return rel is not None and rel in self.files

    def __repr__(self) -> str:
        return f"Snapshot({len(self.files)} files, {self.digest[:12]})"


def _inside(root: Path, path: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
