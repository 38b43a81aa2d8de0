"""The only way bytes leave sdd-build: artifact files, stdout and stderr, all masked.

Files: ``write_text``, ``write_json``, ``append_text``, ``LineLog`` (an fsynced append-only
JSON-lines file) and ``write_fd`` mask what they write with the process's masker. Bytes bound
by a hash or a signature (approval records, the audit chain) cannot be masked after the fact:
``write_bound`` refuses them if they would hold a secret (the writer masks the data before it
hashes or signs it).

Output: ``masked_output()`` replaces ``sys.stdout`` and ``sys.stderr`` for the duration of a
command with line-buffered masking streams (so ``print``, click, Rich, warnings and the error
lines are all masked, also text styled with terminal codes); ``console()`` is a Rich console
that also masks the strings, tables and code blocks it is given before it lays them out
(wrapping could otherwise split a secret over two lines). ``secrets_shown()`` lifts the masking
of stdout for an explicit ``--show-secrets``.

``tests/unit/secrets/test_no_bypass.py`` fails on any write or print anywhere else in the
package, bar an allow-list with a reason per entry.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import sys
import threading
import traceback
import types
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sdd_build.errors import SecretInBoundDataError
from sdd_build.secrets.masker import masker

__all__ = [
    "LineLog",
    "append_fd",
    "append_json",
    "append_text",
    "console",
    "console_line",
    "dumps_json",
    "err",
    "masked_excepthook",
    "masked_output",
    "mcp_wire",
    "out",
    "out_json",
    "secrets_shown",
    "sync_files",
    "write_bound",
    "write_bound_file",
    "write_fd",
    "write_json",
    "write_text",
]


# ----- files ------------------------------------------------------------------------------


#: a temporary file of our own: never an existing file, never through a symlink
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _atomic(path: Path | str, data: bytes, mode: int, *, sync: bool = True) -> Path:
    """A reader never sees half a file; a crash leaves the old one or the new one. Without
    ``sync`` the data is not fsynced here (a kill keeps it, a power loss may not): the caller
    syncs a batch of such files itself (``sync_files``) before anything refers to them.

    Few system calls per file (a build writes ~8 a host): the temporary file is opened with
    its mode and written straight from ``data``; its folder is created only when the open
    finds it missing (the first file of a host's evidence), not checked for every file."""
    where = os.fspath(path)
    folder, name = os.path.split(where)
    tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}")
    try:
        fd = os.open(tmp, _NEW_FILE, mode)
    except FileNotFoundError:
        Path(folder or ".").mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, _NEW_FILE, mode)
    try:
        try:
            os.fchmod(fd, mode)  # exactly ``mode``, whatever the umask took from it
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, where)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path if isinstance(path, Path) else Path(path)


def write_text(path: Path | str, text: str, *, mode: int = 0o644, sync: bool = True) -> Path:
    """Write ``text`` masked, atomically (fsynced unless ``sync`` is false, see ``_atomic``)."""
    return _atomic(path, masker().mask(text).encode("utf-8"), mode, sync=sync)


def sync_files(paths: Iterable[Path | str], *, workers: int = 8) -> None:
    """fsync ``paths`` and the folders holding them, several at once (the file system commits
    concurrent fsyncs together: one batch costs about what one fsync does, not one each).
    Raises the first ``OSError``."""
    files = sorted({os.fspath(p) for p in paths})
    folders = sorted({os.path.dirname(p) or "." for p in files})

    def one(path: str) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    if not files:
        return
    if workers <= 1:  # on the calling thread
        for path in [*files, *folders]:
            one(path)
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(files)))) as pool:
        list(pool.map(one, files))  # data first, then the names that point to it
        list(pool.map(one, folders))


def dumps_json(data: Any, **kwargs: Any) -> str:
    """``json.dumps`` of ``data`` masked (every string, every value under a secret key)."""
    kwargs.setdefault("default", str)
    return json.dumps(masker().mask_data(_plain(data)), **kwargs)


def write_json(
    path: Path | str,
    data: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = False,
    sync: bool = True,
) -> Path:
    """Write JSON ``data`` masked, atomically, with a final newline (fsynced unless ``sync``
    is false, see ``_atomic``). Masked once, as data (``dumps_json``): the text is not masked
    again."""
    text = dumps_json(data, indent=indent, sort_keys=sort_keys) + "\n"
    return _atomic(path, text.encode("utf-8"), 0o644, sync=sync)


def append_text(path: Path, text: str) -> None:
    """Append ``text`` masked to a text file (created if missing)."""
    with Path(path).open("a", encoding="utf-8") as fh:
        fh.write(masker().mask(text))


def write_fd(fd: int, text: str) -> None:
    """Write ``text`` masked to an open file descriptor (lock files: who holds the lock)."""
    view = memoryview(masker().mask(text).encode("utf-8"))
    while view:
        view = view[os.write(fd, view) :]


def append_fd(fd: int, text: str, *, sync: bool = True) -> None:
    """Append ``text`` masked to ``fd`` (opened O_APPEND) in one write, then fsync (unless
    ``sync`` is false): a short write is ``OSError(ENOSPC)``, never a silently partial line."""
    _append(fd, masker().mask(text).encode("utf-8"), sync=sync)


def append_json(fd: int, data: Any, *, lead: str = "", sync: bool = True) -> None:
    """Append ``data`` as one JSON line (keys sorted) to ``fd`` like ``append_fd``, after
    ``lead`` (text, masked). The data is masked once, as data (``dumps_json``): its line is not
    masked again."""
    line = masker().mask(lead) + dumps_json(data, sort_keys=True) + "\n"
    _append(fd, line.encode("utf-8"), sync=sync)


def _append(fd: int, data: bytes, *, sync: bool) -> None:
    if os.write(fd, data) != len(data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if sync:
        os.fsync(fd)


def _check_bound(data: bytes, what: str) -> None:
    if masker().contains_secret(data.decode("utf-8", errors="replace")):
        raise SecretInBoundDataError(
            f"refusing to write {what}: it holds a secret (mask the data before hashing or "
            "signing it)"
        )


def write_bound_file(path: Path, data: bytes, *, what: str) -> Path:
    """Write, atomically, a file whose bytes a hash or signature covers (masking them now
    would break it): refused if they hold a secret the masker knows or recognises."""
    _check_bound(data, what)
    return _atomic(path, data, 0o644)


def write_bound(fd: int, data: bytes, *, what: str) -> None:
    """Write bytes a hash or signature covers to an open descriptor; see ``write_bound_file``."""
    _check_bound(data, what)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class LineLog:
    """An append-only text file, one masked line per ``write_line``, flushed and fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fh = self.path.open("a", encoding="utf-8")

    def write_line(self, line: str) -> None:
        text = masker().mask(line.rstrip("\n")).replace("\n", " ") + "\n"
        with self._lock:
            self._fh.write(text)
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def write_json(self, data: Any) -> None:
        self.write_line(dumps_json(data, sort_keys=True))

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()


def _plain(data: Any) -> Any:
    dump = getattr(data, "model_dump", None)  # pydantic models
    return dump(mode="json", by_alias=True) if callable(dump) else data


# ----- stdout / stderr ---------------------------------------------------------------------


class _MaskingStream(io.TextIOBase):
    """A text stream that masks each complete line before it reaches ``target``.

    It has no ``buffer``: code that would write bytes underneath it (click does when a stream
    offers one) writes text through it instead.
    """

    def __init__(self, target: TextIO, *, stdout: bool) -> None:
        self._target = target
        self._stdout = stdout
        self._pending = ""
        self._lock = threading.RLock()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._target, "errors", None)

    def isatty(self) -> bool:
        return bool(getattr(self._target, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self._target.fileno()

    def writable(self) -> bool:
        return True

    def _mask(self, text: str) -> str:
        if self._stdout and _SHOW.shown:
            return text
        return masker().mask(text)

    def write(self, s: str) -> int:
        with self._lock:
            self._pending += s
            if "\n" in self._pending:
                head, _, self._pending = self._pending.rpartition("\n")
                self._target.write(self._mask(head + "\n"))
        return len(s)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._target.write(self._mask(self._pending))
                self._pending = ""
            self._target.flush()


class _Shown(threading.local):
    shown = False


_SHOW = _Shown()


@contextlib.contextmanager
def secrets_shown() -> Iterator[None]:
    """Stdout unmasked for this thread (``plan --show-secrets``); files and stderr stay masked."""
    previous = _SHOW.shown
    _SHOW.shown = True
    try:
        yield
    finally:
        _SHOW.shown = previous


@contextlib.contextmanager
def masked_output() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` mask every line while inside."""
    old_out, old_err = sys.stdout, sys.stderr
    new_out = (
        old_out if isinstance(old_out, _MaskingStream) else _MaskingStream(old_out, stdout=True)
    )
    new_err = (
        old_err if isinstance(old_err, _MaskingStream) else _MaskingStream(old_err, stdout=False)
    )
    sys.stdout, sys.stderr = new_out, new_err
    try:
        yield
    finally:
        for stream in (new_out, new_err):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = old_out, old_err


def masked_excepthook(
    kind: type[BaseException], value: BaseException, tb: types.TracebackType | None
) -> None:
    """``sys.excepthook`` that masks the traceback of an unexpected error."""
    err("".join(traceback.format_exception(kind, value, tb)))


def out(text: str) -> None:
    """Write ``text`` masked to stdout (machine output: JSON, paths)."""
    stream = sys.stdout
    stream.write(
        text if (_SHOW.shown or isinstance(stream, _MaskingStream)) else masker().mask(text)
    )
    stream.flush()


def out_json(data: Any, *, indent: int | None = 2) -> None:
    """JSON ``data`` on stdout, masked (unless inside ``secrets_shown``)."""
    if _SHOW.shown:
        out(json.dumps(_plain(data), indent=indent, default=str) + "\n")
    else:
        out(dumps_json(data, indent=indent) + "\n")


def err(text: str) -> None:
    """Write ``text`` masked to stderr."""
    stream = sys.stderr
    stream.write(text if isinstance(stream, _MaskingStream) else masker().mask(text))
    stream.flush()


class _MaskedConsole(Console):
    """A Rich console that masks what it is given before laying it out."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if not (not self.stderr and _SHOW.shown):
            objects = tuple(_mask_renderable(o) for o in objects)
        super().print(*objects, **kwargs)


def _mask_renderable(obj: Any) -> Any:
    m = masker()
    if isinstance(obj, str):
        return m.mask(obj)
    if isinstance(obj, Text):
        masked = m.mask(obj.plain)
        return obj if masked == obj.plain else Text(masked, style=obj.style)
    # rich.syntax loads pygments (~10 ms): it is imported by whoever prints code, never here
    syntax = sys.modules.get("rich.syntax")
    if syntax is not None and isinstance(obj, syntax.Syntax):
        obj.code = m.mask(obj.code)
        return obj
    if isinstance(obj, Table):
        for column in obj.columns:
            column.header = _mask_renderable(column.header)
            column._cells = [_mask_renderable(c) for c in column._cells]
        if obj.title is not None:
            obj.title = _mask_renderable(obj.title)
        if obj.caption is not None:
            obj.caption = _mask_renderable(obj.caption)
        return obj
    return obj


def console(*, stderr: bool = False, **kwargs: Any) -> Console:
    """A Rich console on stdout (or stderr) that masks what it prints."""
    kwargs.setdefault("highlight", False)
    kwargs.setdefault("soft_wrap", True)
    return _MaskedConsole(stderr=stderr, **kwargs)


def console_line(console: Console, plain: str, styled: str | None = None) -> None:
    """One line on ``console``'s stream without Rich laying it out (progress lines from
    worker threads): ``styled`` (``plain`` with escape codes) unless masking changes
    ``plain``, then the masked plain text, unstyled (as the masking streams do)."""
    masked = plain if not console.stderr and _SHOW.shown else masker().mask(plain)
    line = (styled if styled is not None and masked == plain else masked) + "\n"
    stream = console.file
    stream.write(line)
    stream.flush()


def mcp_wire() -> tuple[TextIO, TextIO]:
    """The MCP stdio wire: the process's stdin, and its stdout as the masking stream (one
    JSON-RPC message a line, so each message passes the masker whole before it is written)."""
    return sys.stdin, sys.stdout
