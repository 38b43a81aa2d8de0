"""What reconciliation asks the device's own software, remembered per software version.

Reconciliation (``execute/reconcile.py``, pure) cannot tell from configs alone whether a line
the device does not show was refused, rewritten or left out because it is the default. The
platform's oracle (``DeviceSession.expected``: for FRR a scratch instance of the device's
version, see ``napalm_frr.dryrun``) can. It is asked only when something is unexplained, and
its verdicts on intended lines -- "leaves it out" (a default) or "shows it" -- are remembered
per (version, defaults profile, stanza path + line) in a small cache, so the next build of the
same lines needs no scratch instance at all.

The cache holds hashes and verdicts only (never a configuration line: lines can carry
secrets). It lives in ``$SDD_CACHE_DIR`` (default ``$XDG_CACHE_HOME/sdd-build`` or
``~/.cache/sdd-build``); losing it costs time, never correctness.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from sdd_build.execute.device import DeviceSession
from sdd_build.execute.reconcile import (
    ConfigFinding,
    ConfigPath,
    Intended,
    Truth,
    config_paths,
    questions,
    reconcile,
    show_path,
)
from sdd_build.limits import json_loads
from sdd_build.secrets.sink import write_json

__all__ = ["VerdictCache", "cache_dir", "reconcile_host"]

CACHE_ENV = "SDD_CACHE_DIR"
_FILE = "line-verdicts.json"


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sdd-build"


class VerdictCache:
    """``key -> "elided" | "kept"``; keys are hashes of (version, profile, path)."""

    _lock = threading.Lock()

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or cache_dir()) / _FILE

    @staticmethod
    def key(version: str, profile: str, path: ConfigPath) -> str:
        text = "\0".join((version, profile, *path))
        return hashlib.sha256(text.encode()).hexdigest()

    def _read(self) -> dict[str, str]:
        try:
            data = json_loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if v in ("elided", "kept")}

    def get(self, keys: list[str]) -> dict[str, str]:
        with self._lock:
            data = self._read()
        return {k: data[k] for k in keys if k in data}

    def put(self, verdicts: dict[str, str]) -> None:
        if not verdicts:
            return
        with self._lock, contextlib.suppress(OSError):
            data = {**self._read(), **verdicts}
            write_json(self.path, data, indent=None, sort_keys=True)  # atomic


def _truth(
    session: DeviceSession,
    intended: Intended,
    pre: str,
    post: str,
    strategy: str,
    cache: VerdictCache,
) -> tuple[Truth | None, tuple[str, str] | None]:
    """The :class:`Truth` to reconcile with (``None``: nothing to ask) and the (version,
    profile) its verdicts are remembered under."""
    q = questions(intended, pre, post, strategy, session.platform)
    if not q:
        return None, None
    oracle = session.oracle()
    if oracle is None:
        why = (
            f"{session.platform.description} leaves defaults out of its running config and "
            "has no way to ask its software which lines are defaults"
        )
        return Truth(unavailable=why), None
    version, profile = oracle.identity(post)
    ident = (version, profile) if version else None
    if ident is not None and not q.new and not q.gone:
        keys = {p: cache.key(version or "", profile, p) for p in q.missing}
        known = cache.get(list(keys.values()))
        if len(known) == len(keys):
            return Truth(
                source=f"FRR {version} (remembered from a scratch instance, defaults {profile})",
                elided=frozenset(p for p, k in keys.items() if known[k] == "elided"),
                kept=frozenset(p for p, k in keys.items() if known[k] == "kept"),
            ), ident
    res = session.expected(
        "" if strategy == "replace" else pre, [text for _c, text in intended], q.missing
    )
    if res is None or res.get("running") is None:
        why = (res or {}).get("unavailable") or "the device's software could not be asked"
        return Truth(unavailable=str(why)), None
    refused = {tuple(r["path"]): str(r["reason"]) for r in res.get("refused", [])}
    effects = {
        tuple(e["path"]): (
            frozenset(tuple(a) for a in e["added"]),
            frozenset(tuple(r) for r in e["removed"]),
        )
        for e in res.get("effects", [])
    }
    return Truth(
        source=str(res.get("source") or f"FRR {version}"),
        paths=frozenset(config_paths(str(res["running"]), session.platform)),
        refused=refused,
        effects=effects,
    ), ident


def reconcile_host(
    session: DeviceSession,
    intended: Intended,
    pre: str,
    post: str,
    *,
    strategy: str = "merge",
    cache: VerdictCache | None = None,
) -> tuple[list[ConfigFinding], dict[str, Any]]:
    """Reconcile one host, asking its software when the configs leave something unexplained.

    Returns the findings and a summary for the record: ``asked`` (who answered, or why
    nobody could), ``default_elided`` (how many lines)."""
    cache = cache or VerdictCache()
    truth, ident = _truth(session, intended, pre, post, strategy, cache)
    platform = session.platform
    findings = reconcile(intended, pre, post, strategy=strategy, truth=truth, platform=platform)
    if truth is not None and truth.paths is not None and ident is not None:
        elided = {f.line for f in findings if f.kind == "default_elided"}
        verdicts: dict[str, str] = {}
        for path in questions(intended, pre, post, strategy, platform).missing:
            if path in truth.refused:
                continue
            if path in truth.paths:
                verdicts[cache.key(*ident, path)] = "kept"
            elif show_path(path) in elided:
                verdicts[cache.key(*ident, path)] = "elided"
        cache.put(verdicts)
    summary: dict[str, Any] = {}
    if truth is not None:
        summary["asked"] = truth.source or f"nobody: {truth.unavailable}"
        summary["default_elided"] = sum(f.kind == "default_elided" for f in findings)
    return findings, summary
