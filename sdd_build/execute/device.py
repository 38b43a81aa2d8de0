"""The thin device shell: every operation the build performs on a device, with a timeout.

Platforms with a NAPALM driver (``frr`` through ``napalm_frr``, and NAPALM's own) get atomic
candidate semantics: load, compare, commit, restore. Platform knowledge is data
(``PLATFORMS``), not branches scattered through the build.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import re
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, Protocol

from nornir.core.task import Task

__all__ = [
    "PLATFORMS",
    "ApplyOutcome",
    "DeviceSession",
    "PlatformInfo",
    "open_session",
    "preload_drivers",
]


#: ``hostname NAME`` at the top level: how most platforms' running configs name the device
HOSTNAME_LINE = re.compile(r"^hostname\s+(\S+)\s*$", re.M)


@dataclass(frozen=True)
class PlatformInfo:
    connection: str  # nornir connection plugin
    volatile_prefixes: tuple[str, ...]
    hostname: re.Pattern[str] = HOSTNAME_LINE  # names the device in its running config


PLATFORMS: dict[str, PlatformInfo] = {
    "frr": PlatformInfo(
        "napalm", ("frr version", "Building configuration", "Current configuration")
    ),
    "ios": PlatformInfo("napalm", ("Building configuration", "Current configuration", "!Time:")),
    "eos": PlatformInfo("napalm", ("! Command:", "! device:", "! boot system")),
    "junos": PlatformInfo(
        "napalm", ("## Last commit",), re.compile(r"^\s*host-name\s+([^;\s]+);", re.M)
    ),
    "nxos": PlatformInfo("napalm", ("!Command:", "!Time:")),
}


#: The drivers ``import napalm`` executes eagerly (napalm/__init__.py): a third of a second,
#: mostly junos-eznc and requests, on every build, whichever platform it talks to.
_NAPALM_BUNDLED = frozenset(
    f"napalm.{name}"
    for name in ("eos", "ios", "iosxr", "junos", "nxos", "nxos_ssh", "pyIOSXR", "nxapi_plumbing")
)


class _DeferBundledDrivers(importlib.abc.MetaPathFinder):
    """Give NAPALM's bundled drivers a lazy loader (``importlib.util.LazyLoader``): the module
    exists at once and executes on first attribute access."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in _NAPALM_BUNDLED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def preload_drivers(platforms: Iterable[str]) -> None:
    """Import the NAPALM drivers of ``platforms`` on the calling thread, and only those.

    NAPALM imports its bundled drivers eagerly so that threads resolving drivers at once do not
    deadlock; resolving every needed driver here, before the worker threads start, keeps that
    guarantee while the drivers nobody uses are never executed.
    """
    needed = {p for p in platforms if p in PLATFORMS and PLATFORMS[p].connection == "napalm"}
    if not needed:
        return
    if "napalm" not in sys.modules:
        finder = _DeferBundledDrivers()
        sys.meta_path.insert(0, finder)
        try:
            import napalm
        finally:
            sys.meta_path.remove(finder)
    else:
        import napalm
    for platform in sorted(needed):
        napalm.get_network_driver(platform)  # a deferred bundled driver executes here


class _Driver(Protocol):
    def get_config(self, retrieve: str = ...) -> dict[str, str]: ...
    def load_merge_candidate(
        self, filename: str | None = ..., config: str | None = ...
    ) -> None: ...
    def load_replace_candidate(
        self, filename: str | None = ..., config: str | None = ...
    ) -> None: ...
    def compare_config(self) -> str: ...
    def commit_config(self, message: str = ..., revert_in: int | None = ...) -> None: ...
    def discard_config(self) -> None: ...
    def cli(self, commands: list[str]) -> dict[str, Any]: ...


@dataclass
class ApplyOutcome:
    diff: str
    committed: bool
    error: str | None = None


class DeviceSession:
    """One SSH session per host for the whole build (opened once, reused by every layer)."""

    def __init__(self, driver: _Driver, platform: PlatformInfo) -> None:
        self.driver = driver
        self.platform = platform
        self.device_s = 0.0

    def _timed(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.device_s += time.perf_counter() - start

    def running_config(self) -> str:
        return str(self._timed(self.driver.get_config, retrieve="running")["running"])

    def apply(self, config: str, *, strategy: str, commit: bool, message: str) -> ApplyOutcome:
        """Load a candidate, diff it, and (unless dry run) commit it; the driver restores the
        running config itself when the device refuses a line."""
        load = (
            self.driver.load_replace_candidate
            if strategy == "replace"
            else self.driver.load_merge_candidate
        )
        try:
            self._timed(load, config=config)
            diff = str(self._timed(self.driver.compare_config))
        except (
            Exception
        ) as exc:  # the driver's Merge/ReplaceConfigException carry the device's words
            self._discard()
            return ApplyOutcome(diff="", committed=False, error=_words(exc))
        if not commit or not diff.strip():
            self._discard()
            return ApplyOutcome(diff=diff, committed=False)
        try:
            self._timed(self.driver.commit_config, message=message)
        except Exception as exc:
            self._discard()
            return ApplyOutcome(diff=diff, committed=False, error=_words(exc))
        return ApplyOutcome(diff=diff, committed=True)

    def restore(self, backup: str) -> str | None:
        """Replace the running config with ``backup``; ``None`` when it matches afterwards."""
        try:
            self._timed(self.driver.load_replace_candidate, config=backup)
            diff = str(self._timed(self.driver.compare_config))
            if diff.strip():
                self._timed(self.driver.commit_config, message="sdd-build rollback")
            else:
                self._discard()
        except Exception as exc:
            self._discard()
            return _words(exc)
        now = self.running_config()
        if self.normalise(now) != self.normalise(backup):
            return "the running config differs from the backup after restore"
        return None

    def commands(self, commands: list[str]) -> dict[str, str]:
        out = self._timed(self.driver.cli, list(commands))
        return {cmd: str(out.get(cmd, "")) for cmd in commands}

    def normalise(self, config: str) -> str:
        return "\n".join(
            line.rstrip()
            for line in config.splitlines()
            if line.strip() and not line.startswith(self.platform.volatile_prefixes)
        )

    def _discard(self) -> None:
        # Nothing loaded, or the session is gone: nothing to discard either way.
        with contextlib.suppress(Exception):
            self._timed(self.driver.discard_config)


def _words(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def open_session(task: Task, timeout_s: float) -> DeviceSession:
    """Open (or reuse) the host's connection through Nornir's plugin for its platform."""
    platform = task.host.platform or ""
    info = PLATFORMS.get(platform)
    if info is None:
        from sdd_build.errors import DeviceError

        raise DeviceError(
            f"platform '{platform}' has no driver in sdd-build (known: {', '.join(PLATFORMS)})",
            host=task.host.name,
        )
    params = task.host.get_connection_parameters(info.connection)
    extras = dict(params.extras or {})
    extras["timeout"] = int(max(1, timeout_s))
    optional = dict(extras.get("optional_args") or {})
    optional.setdefault("timeout", timeout_s)
    if platform == "frr":
        # compare and commit reuse the backup read; no read after each commit: the closing
        # reconciliation reads afresh and reports lines refused or rewritten (rejected_line,
        # rewritten_line) and anything changed meanwhile (unexpected_change)
        optional.setdefault("running_cache_s", 10)
        optional.setdefault("verify_commit", False)
    extras["optional_args"] = optional
    params.extras = extras
    task.host.connection_options[info.connection] = params
    start = time.perf_counter()
    driver = task.host.get_connection(info.connection, task.nornir.config)
    session = DeviceSession(driver, info)
    session.device_s = time.perf_counter() - start  # the SSH handshake is device time too
    return session
