"""The thin device shell: every operation the build performs on a device, with a timeout.

Platforms with a NAPALM driver (``frr`` through ``napalm_frr``, and NAPALM's own) get atomic
candidate semantics: load, compare, commit, restore. Platform knowledge is data
(``sdd_build.platforms``), not branches scattered through the build.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, Protocol

from nornir.core.task import Task

from sdd_build.platforms import PLATFORMS, Platform, lookup

__all__ = [
    "PATHS",
    "PLATFORMS",
    "ApplyOutcome",
    "CheckOutcome",
    "DeviceSession",
    "Oracle",
    "PlatformInfo",
    "RestoreOutcome",
    "Validation",
    "config_difference",
    "open_session",
    "preload_drivers",
]


#: the registry's rows (``sdd_build.platforms``): the engine's names for them
PlatformInfo = Platform


#: What ``import napalm`` executes eagerly and a build never uses: the bundled drivers
#: (napalm/__init__.py: a third of a second, mostly junos-eznc and requests, whichever platform
#: the build talks to) and ``invoke`` (paramiko.config imports it for ssh_config's ``Match
#: exec`` only; with unittest.mock and asyncio, ~30-60 ms). They execute on first use.
_DEFERRED = frozenset(
    f"napalm.{name}"
    for name in ("eos", "ios", "iosxr", "junos", "nxos", "nxos_ssh", "pyIOSXR", "nxapi_plumbing")
) | {"invoke"}

_DEFERRED_LOCK = threading.RLock()
_EXECUTING: set[int] = set()  # ids of deferred modules whose code runs now


class _DeferredModule(ModuleType):
    """A module that executes on its first attribute access, once, whichever thread asks:
    the others wait until it has run (``importlib.util.LazyLoader``'s module lets them read
    a half-executed module before Python 3.12)."""

    def __getattribute__(self, attr: str) -> Any:
        if type(self) is _DeferredModule:
            with _DEFERRED_LOCK:  # re-entrant: the executing code reads its own module
                if type(self) is _DeferredModule and id(self) not in _EXECUTING:
                    _EXECUTING.add(id(self))
                    try:
                        spec = ModuleType.__getattribute__(self, "__spec__")
                        spec.loader.exec_module(self)
                        object.__setattr__(self, "__class__", ModuleType)  # deferral over
                    finally:
                        _EXECUTING.discard(id(self))
        return ModuleType.__getattribute__(self, attr)


class _DeferredLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        assert module.__spec__ is not None
        module.__spec__.loader = module.__loader__ = self.loader  # the real one executes it
        object.__setattr__(module, "__class__", _DeferredModule)


class _DeferBundledDrivers(importlib.abc.MetaPathFinder):
    """Give the ``_DEFERRED`` modules a deferred loader: the module exists at once and
    executes on first attribute access."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in _DEFERRED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _DeferredLoader(spec.loader)
                return spec
        return None


def register_connections() -> None:
    """Register the two Nornir connection plugins a build drives devices through, by name.

    Not ``ConnectionPluginRegister.auto_register()`` (what ``InitNornir`` does): that imports
    every ``nornir.plugins.connections`` entry point of every installed distribution, so any
    package in the environment would run its code inside every build. A different plugin
    already registered under one of these names in this process is refused (exit 3: no
    device is contacted)."""
    from nornir.core.exceptions import PluginAlreadyRegistered
    from nornir.core.plugins.connections import ConnectionPluginRegister
    from nornir_napalm.plugins.connections import Napalm
    from nornir_netmiko.connections import Netmiko

    from sdd_build.errors import GateError

    for name, plugin in (("napalm", Napalm), ("netmiko", Netmiko)):
        try:
            ConnectionPluginRegister.register(name, plugin)
        except PluginAlreadyRegistered:
            raise GateError(
                f"the Nornir connection '{name}' is another plugin in this process "
                f"({ConnectionPluginRegister.available[name]!r}); sdd-build drives devices only "
                f"through {plugin.__module__}.{plugin.__name__}"
            ) from None


def preload_drivers(platforms: Iterable[str]) -> None:
    """Import the NAPALM drivers of ``platforms`` on the calling thread, and only those.

    NAPALM imports its bundled drivers eagerly so that threads resolving drivers at once do not
    deadlock; resolving every needed driver here, before the worker threads start, keeps that
    guarantee while the drivers nobody uses are never executed. NAPALM itself is imported here
    even when no platform needs it: the connection plugins registered next (nornir_napalm)
    import it anyway, and without the deferral it would execute every bundled driver (~0.3 s).
    """
    rows = [lookup(p) for p in platforms]
    needed = {r.napalm_driver for r in rows if r is not None and r.connection == "napalm"}
    needed.discard(None)
    if "napalm" not in sys.modules:
        finder = _DeferBundledDrivers()
        sys.meta_path.insert(0, finder)
        try:
            import napalm
        finally:
            sys.meta_path.remove(finder)
    else:
        import napalm
    for driver in sorted(d for d in needed if d):
        napalm.get_network_driver(driver)  # a deferred bundled driver executes here


class DriverProtocol(Protocol):
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


class _Extras(Protocol):
    """What a driver offers beyond NAPALM as ``driver.extras`` (napalm_frr does)."""

    expected_daemons: set[str] | None

    def read_complete(self) -> str: ...
    def restore_config(self, config: str) -> Any: ...


class Oracle(Protocol):
    """The device's own software, asked without changing the device (``PlatformInfo.oracle``).

    ``check``: ``diff``, ``commands`` of a candidate (queued for ``validate``); ``validate``:
    ``refused`` (per queued candidate, [{``path``, ``line``, ``reason``, ``kind``}]),
    ``validated_by``, ``unvalidated``; ``expected``: ``running`` (or ``None``), ``refused``,
    ``effects`` (of the probed lines it does not show: ``added``, ``removed``), ``version``,
    ``profile``, ``source``, ``unavailable``; ``identity``: (version, profile) named by a
    running config."""

    def identity(self, running: str) -> tuple[str | None, str]: ...
    def check(self, config: str, mode: str = ...) -> dict[str, Any]: ...
    def validate(self) -> dict[str, Any]: ...
    def expected(
        self, base: str, configs: list[str], probe: Iterable[tuple[str, ...]] = ...
    ) -> dict[str, Any]: ...


@dataclass
class CheckOutcome:
    """The dry run of one config on one host: its diff (``error``: it could not be loaded)."""

    diff: str
    error: str | None = None


@dataclass
class Validation:
    """What the device's own software says of the configs checked on a host, in order:
    the lines it would refuse, per config. ``unvalidated`` says why it could not be asked
    (then nothing is known about refusals)."""

    refused: list[list[dict[str, Any]]]
    validated_by: str | None = None
    unvalidated: str | None = None


@dataclass
class ApplyOutcome:
    diff: str
    committed: bool
    error: str | None = None


@dataclass
class RestoreOutcome:
    """A restore as the device shows it afterwards: ``verified`` only when a complete read of
    the running config, taken after the restore, equals the backup (normalised)."""

    verified: bool
    #: lines the device has and the backup does not, as "stanza / ... / line"
    left: list[str] = field(default_factory=list)
    #: lines of the backup the device lacks
    missing: list[str] = field(default_factory=list)
    #: the driver's strategies that ran (``replace``, ``negate``, ``default``, ``recreate``)
    strategies: list[str] = field(default_factory=list)
    #: each command batch a strategy sent and what the device refused of it
    attempts: list[dict[str, Any]] = field(default_factory=list)
    #: why the device could not be restored or read back (one line), when it could not
    error: str | None = None
    #: False when the device could not be read back at all: its state is unknown
    read_back: bool = True

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self, limit: int = 8) -> str:
        """One line: what is left, or why nothing is known."""
        if self.verified:
            how = ", ".join(self.strategies) or "nothing to send"
            return f"verified: the running config, read back, equals the backup ({how})"
        if not self.read_back:
            return f"the device could not be read back, its state is unknown: {self.error}"
        rows = [f"left: {r}" for r in self.left] + [f"missing: {r}" for r in self.missing]
        more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
        tried = ", ".join(self.strategies) or "none"
        return (
            f"{len(rows)} line(s) still differ from the backup after {tried}: "
            + "; ".join(rows[:limit])
            + more
        )


def config_difference(
    now: str, backup: str, platform: Platform | None = None
) -> tuple[list[str], list[str]]:
    """(lines only on the device, lines only in the backup), each as "stanza / ... / line":
    the comparison every restore is judged by (order and separators do not count), in
    ``platform``'s syntax family (``None``: FRR)."""
    from sdd_build.platforms.configs import config_paths, show_path

    now_paths, backup_paths = config_paths(now, platform), config_paths(backup, platform)
    now_set, backup_set = set(now_paths), set(backup_paths)
    return (
        [show_path(p) for p in now_paths if p not in backup_set],
        [show_path(p) for p in backup_paths if p not in now_set],
    )


class DeviceSession:
    """One SSH session per host for the whole build (opened once, reused by every layer)."""

    def __init__(self, driver: DriverProtocol, platform: PlatformInfo, host: str = "") -> None:
        self.driver = driver
        self.platform = platform
        self.host = host
        self.device_s = 0.0
        self._oracle: Oracle | None = None
        self._unchecked = 0  # configs checked without an oracle since the last validate()

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

    def backup(self) -> str:
        """The running config as a faithful backup: a complete read (a driver that can tell,
        like napalm_frr's, refuses a read vtysh's warnings or a down daemon make partial)."""
        from sdd_build.errors import DeviceError

        try:
            return self.read()
        except Exception as exc:
            raise DeviceError(
                f"no faithful backup ({_words(exc)}); nothing was changed on this host",
                host=self.host,
            ) from exc

    @property
    def _extras(self) -> _Extras | None:
        extras: _Extras | None = getattr(self.driver, "extras", None)
        return extras

    def read(self) -> str:
        """The running config, complete (``extras.read_complete`` where the driver has it)."""
        if self._extras is None:
            return self.running_config()
        return str(self._timed(self._extras.read_complete))

    def expect_daemons(self, daemons: Iterable[str] | None) -> None:
        """A complete read must reach these daemons (those running when the backup was read)."""
        if daemons is not None and self._extras is not None:
            self._extras.expected_daemons = set(daemons)

    def daemons(self) -> list[str] | None:
        """The daemons a complete read reaches (known after the first one), where the driver
        can tell."""
        found = self._extras.expected_daemons if self._extras is not None else None
        return sorted(found) if found is not None else None

    def restore(self, backup: str) -> RestoreOutcome:
        """Bring the running config back to ``backup`` and read it back. ``verified`` only when
        that complete read equals the backup: no strategy, the driver's or FRR's, is trusted
        on its word. A lost session is opened again once for the restore."""
        strategies: list[str] = []
        attempts: list[dict[str, Any]] = []
        error: str | None = None
        try:
            self._reopen_if_dead()
        except Exception as exc:
            reason = f"cannot log in again to restore: {_words(exc)}"
            return RestoreOutcome(False, error=reason, read_back=False)
        try:
            if self._extras is not None:
                report = self._timed(self._extras.restore_config, backup)
                strategies = list(report.strategies)
                attempts = [asdict(a) for a in report.attempts]
            else:
                self._timed(self.driver.load_replace_candidate, config=backup)
                if str(self._timed(self.driver.compare_config)).strip():
                    strategies = ["replace"]
                    self._timed(self.driver.commit_config, message="sdd-build rollback")
                else:
                    self._discard()
        except Exception as exc:
            self._discard()
            error = _words(exc)
        try:
            now = self.read()
        except Exception as exc:
            reason = f"{error}; then: {_words(exc)}" if error else _words(exc)
            return RestoreOutcome(
                False, strategies=strategies, attempts=attempts, error=reason, read_back=False
            )
        left, missing = config_difference(now, backup, self.platform)
        return RestoreOutcome(
            not left and not missing, left, missing, strategies, attempts, error=error
        )

    def _reopen_if_dead(self) -> None:
        """A NAPALM driver whose session died (``is_alive``) logs in again, once."""
        alive = getattr(self.driver, "is_alive", None)
        reopen = getattr(self.driver, "open", None)
        if alive is None or reopen is None:
            return
        try:
            ok = bool(alive().get("is_alive"))
        except Exception:
            ok = False
        if not ok:
            with contextlib.suppress(Exception):
                getattr(self.driver, "close", lambda: None)()
            self._timed(reopen)

    def oracle(self) -> Oracle | None:
        """The platform's :class:`Oracle` around this session's driver (``None``: none)."""
        if self._oracle is None and self.platform.oracle:
            module, _, name = self.platform.oracle.partition(":")
            self._oracle = getattr(importlib.import_module(module), name)(self.driver)
        return self._oracle

    def check(self, config: str, *, strategy: str) -> CheckOutcome:
        """Dry run of one config: its diff; the device is only read. The platform's
        :class:`Oracle` queues it for :meth:`validate`."""
        oracle = self.oracle()
        if oracle is None:
            out = self.apply(config, strategy=strategy, commit=False, message="")
            self._unchecked += 1
            return CheckOutcome(out.diff, error=out.error)
        try:
            res = self._timed(oracle.check, config, strategy)
        except Exception as exc:  # a device read failed: the driver's words
            return CheckOutcome("", error=_words(exc))
        return CheckOutcome(str(res["diff"]))

    def validate(self) -> Validation:
        """The lines the device's own software would refuse, for every config :meth:`check`
        saw since the last call (in that order)."""
        oracle = self.oracle()
        if oracle is None:
            count, self._unchecked = self._unchecked, 0
            reason = "this platform's driver cannot validate lines without applying them"
            return Validation([[] for _ in range(count)], unvalidated=reason)
        res = oracle.validate()
        return Validation(
            [list(r) for r in res["refused"]],
            validated_by=res.get("validated_by"),
            unvalidated=res.get("unvalidated"),
        )

    def expected(
        self, base: str, configs: list[str], probe: Iterable[tuple[str, ...]] = ()
    ) -> dict[str, Any] | None:
        """The device software's own running config after ``base`` + ``configs`` (asked of a
        stand-in, never the device), with the effect of each ``probe`` line it does not show;
        ``None`` when the platform has no :class:`Oracle`."""
        oracle = self.oracle()
        return None if oracle is None else oracle.expected(base, configs, probe)

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


#: ``--path``: ``auto`` (the platform's own connection: NAPALM where it has a driver, Netmiko
#: otherwise), or one forced for every host
PATHS = ("auto", "napalm", "netmiko")


def open_session(task: Task, timeout_s: float, path: str = "auto") -> DeviceSession:
    """Open (or reuse) the host's connection through Nornir's plugin for its platform, on the
    configuration ``path`` (see :data:`PATHS`)."""
    from sdd_build.errors import DeviceError

    platform = task.host.platform or ""
    info = lookup(platform)
    if info is None:
        raise DeviceError(
            f"platform '{platform}' has no driver in sdd-build (known: {', '.join(PLATFORMS)})",
            host=task.host.name,
        )
    if path == "netmiko" or (path == "auto" and info.connection == "netmiko"):
        from sdd_build.execute.netmiko_path import open_netmiko

        return open_netmiko(task, info, timeout_s)
    if path == "napalm" and info.connection != "napalm":
        raise DeviceError(
            f"platform '{platform}' has no NAPALM driver: use --path auto or netmiko",
            host=task.host.name,
        )
    params = task.host.get_connection_parameters(info.connection)
    extras = dict(params.extras or {})
    extras["timeout"] = int(max(1, timeout_s))
    optional = dict(extras.get("optional_args") or {})
    optional.setdefault("timeout", timeout_s)
    for key, value in info.napalm_options:  # the platform's own defaults (the user's win)
        optional.setdefault(key, value)
    extras["optional_args"] = optional
    if info.connection == "napalm" and params.platform in (None, platform):
        params.platform = info.napalm_driver  # an inventory's alias names the NAPALM driver
    params.extras = extras
    task.host.connection_options[info.connection] = params
    start = time.perf_counter()
    driver = task.host.get_connection(info.connection, task.nornir.config)
    session = DeviceSession(driver, info, task.host.name)
    session.device_s = time.perf_counter() - start  # the SSH handshake is device time too
    return session
