"""Evidence files under ``builds/<id>/evidence/<host>/``, written through the masking sink.

Evidence is read by auditors and attached to reports: it never carries a secret. Every file is
written by ``sdd_build.secrets.sink`` (the platform's secret syntax and every literal secret
known to the process are masked); the literal credentials given here are registered with the
process's masker, so they are masked in every other artifact and line of output too. Backups
needed to roll a host back (which hold device secrets) are not evidence: they go to the private
state directory (``execute/private.py``), outside the repository.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sdd_build.secrets import MASK, mask, register_secrets
from sdd_build.secrets.sink import sync_files, write_json, write_text

__all__ = ["MASK", "EvidenceStore", "mask_secrets"]


def mask_secrets(text: str, literals: Iterable[str] = ()) -> str:
    """``text`` masked by the process's masker, after registering ``literals`` as secrets."""
    register_secrets(literals)
    return mask(text)


class EvidenceStore:
    """Evidence files, each written atomically. With ``defer_sync`` they are not fsynced one by
    one (a file a build writes per host and step: ~8 a host, each fsync queued on the disk) but
    all at once by :meth:`sync`, which the owner calls before a record refers to them."""

    def __init__(
        self, build_dir: Path, secrets: Iterable[str] = (), *, defer_sync: bool = False
    ) -> None:
        self.build_dir = build_dir
        self.root = build_dir / "evidence"
        register_secrets(secrets)
        self.root.mkdir(parents=True, exist_ok=True)
        self.defer_sync = defer_sync
        #: files written and not yet fsynced, by host folder (``_safe(host)``)
        self._unsynced: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def mask(self, text: str) -> str:
        return mask(text)

    def write(self, host: str, name: str, content: str | Any) -> str:
        """Write ``evidence/<host>/<name>``; returns the path relative to the build folder."""
        folder = _safe(host)
        relative = f"evidence/{folder}/{_safe(name)}"
        path = os.path.join(self.build_dir, relative)
        # its folder made on first use; data masked as data, once
        if isinstance(content, str):
            write_text(path, content, sync=not self.defer_sync)
        else:
            write_json(path, content, indent=2, sort_keys=True, sync=not self.defer_sync)
        if self.defer_sync:
            with self._lock:
                self._unsynced.setdefault(folder, set()).add(path)
        return relative

    def sync_host(self, host: str) -> None:
        """fsync the files written for ``host`` so far (and its folder) on the calling thread:
        a host that is done syncs its own evidence while the others still work, and
        :meth:`sync` is left with the rest; ``OSError`` (the files stay for :meth:`sync`)."""
        self._sync([_safe(host)], workers=1)

    def sync(self) -> None:
        """fsync every file written since the last call (and their folders); ``OSError``."""
        self._sync(None, workers=8)

    def _sync(self, folders: list[str] | None, *, workers: int) -> None:
        """fsync the unsynced files of ``folders`` (``None``: all); on ``OSError`` they stay
        unsynced, for a later call."""
        with self._lock:
            keys = list(self._unsynced) if folders is None else folders
            taken = {k: self._unsynced.pop(k) for k in keys if k in self._unsynced}
        try:
            sync_files([p for paths in taken.values() for p in paths], workers=workers)
        except OSError:
            with self._lock:
                for key, paths in taken.items():
                    self._unsynced.setdefault(key, set()).update(paths)
            raise


@functools.lru_cache(maxsize=4096)
def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name)[:200]


_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")
