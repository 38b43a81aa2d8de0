"""A scriptable fake device behind the engine's driver protocol — a TEST TOOL.

It makes the build's own logic (rollback, blocking of dependents, waivers, result
classification, metrics, the journal, recovery) testable in milliseconds, as httpx's
``MockTransport`` does for its client. It is *not* a model of FRR: what a real router accepts,
elides, rewrites or refuses is tested live on the FRR lab (``tests/lab``), never here. A test
that claims device behaviour must not use this module.

    network = FakeNetwork()
    r1 = network.add("r1", refuse={r"ip ospf cost 999": "% Unknown command"})
    attach(workspace, network)          # every host of the workspace talks to its fake
    run_build(report, opts)             # the real engine, through Nornir, on fake devices
    r1.running()                        # what the "device" holds now

Each ``FakeDevice`` keeps its configuration across sessions (a build, then ``--recover``, see
the same device). Behaviour is scripted per device:

* ``refuse`` — regex -> device message: a candidate line matching it is refused (at load,
  like ``napalm_frr``'s candidate check; nothing changes);
* ``elide`` — regexes of lines the device accepts but never shows (defaults);
* ``rewrite`` — regex -> replacement: the device stores the line in another form;
* ``sticky`` — regexes of lines that no replace or negation removes (FRR 8.4's BFD
  ``receive-interval``): a restore that does not bring the device back;
* ``outputs`` — command -> text, or a callable of the device returning text;
* ``faults`` — ``Fault(op, nth, when)``: the n-th call of a driver method drops the session
  (``before``: nothing done; ``after``: the call took effect, then the session died);
* ``unreachable`` — opening a session fails.

The connection plugin is registered under ``sdd_fake`` and the platform ``fake`` is added to
the engine's platform table when this module is imported; devices are per ``FakeNetwork``
instance (handed to each host in its connection options), never global.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from nornir.core.configuration import Config
from nornir.core.inventory import ConnectionOptions
from nornir.core.plugins.connections import ConnectionPluginRegister

from sdd_build.errors import FakeRefused, SessionDropped
from sdd_build.execute.reconcile import config_paths
from sdd_build.platforms import Platform, register

__all__ = [
    "CONNECTION",
    "PLATFORM",
    "FakeConnection",
    "FakeDevice",
    "FakeDriver",
    "FakeNetwork",
    "Fault",
    "attach",
]

PLATFORM = "fake"
CONNECTION = "sdd_fake"
VERSION_LINE = "frr version 0.0-fake"

Path_ = tuple[str, ...]
Output = str | Callable[["FakeDevice"], str]


@dataclass(frozen=True)
class Fault:
    op: str  # a driver method: load_merge_candidate, commit_config, cli, get_config, ...
    nth: int = 1  # the n-th call of that method on this device (across sessions)
    when: Literal["before", "after"] = "before"


@dataclass
class FakeDevice:
    name: str
    config: list[Path_] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    elide: list[str] = field(default_factory=list)
    rewrite: dict[str, str] = field(default_factory=dict)
    sticky: list[str] = field(default_factory=list)
    outputs: dict[str, Output] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    unreachable: bool = False
    log: list[tuple[str, str]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    commits: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    # -- what a test reads --------------------------------------------------------------------

    def running(self) -> str:
        """The running config as the device shows it (FRR layout)."""
        lines = [VERSION_LINE]
        for i, path in enumerate(self.config):
            lines.append(" " * (len(path) - 1) + path[-1])
            nxt = self.config[i + 1] if i + 1 < len(self.config) else None
            if len(path) > 1 and (nxt is None or len(nxt) == 1):
                lines += ["exit", "!"]
            elif len(path) == 1 and (nxt is None or len(nxt) == 1):
                lines.append("!")
        return "\n".join([*lines, "end"]) + "\n"

    def has(self, line: str) -> bool:
        """Whether a line (``"parent / child"`` or a bare line) is in the configuration."""
        path = tuple(p.strip() for p in line.split(" / "))
        return path in self.config or any(p[-1] == line for p in self.config)

    def set_config(self, text: str) -> None:
        self.config = self._store(config_paths(text))

    # -- config semantics ---------------------------------------------------------------------

    def _store(self, paths: Iterable[Path_]) -> list[Path_]:
        """What the device keeps of ``paths``: elided lines dropped, rewritten lines rewritten."""
        out: list[Path_] = []
        for path in paths:
            if path and path[0] == VERSION_LINE:
                continue
            if any(re.fullmatch(rx, path[-1]) for rx in self.elide):
                continue
            leaf = path[-1]
            for rx, repl in self.rewrite.items():
                leaf = re.sub(rx, repl, leaf)
            stored = (*path[:-1], leaf)
            if stored not in out:
                out.append(stored)
        return out

    def refused(self, text: str) -> list[str]:
        return [
            f"{path[-1]}: {msg}"
            for path in config_paths(text)
            for rx, msg in self.refuse.items()
            if re.fullmatch(rx, path[-1])
        ]

    def merged(self, text: str) -> list[Path_]:
        """The configuration after merging ``text`` (``no X`` removes X and its children)."""
        result = list(self.config)
        for path in config_paths(text):
            leaf = path[-1]
            if leaf.startswith("no "):
                gone = (*path[:-1], leaf[3:])
                if not any(re.fullmatch(rx, gone[-1]) for rx in self.sticky):
                    result = [p for p in result if p[: len(gone)] != gone]
                continue
            for stored in self._store([path]):
                if stored in result:
                    continue
                # after the parent's subtree, or at the end for a new top-level line
                at = len(result)
                parent = stored[:-1]
                if parent:
                    idx = [i for i, p in enumerate(result) if p[: len(parent)] == parent]
                    at = idx[-1] + 1 if idx else len(result)
                result.insert(at, stored)
        return result

    def replaced(self, text: str) -> list[Path_]:
        """The configuration after replacing it by ``text``; sticky lines stay."""
        target = self._store(config_paths(text))
        for path in self.config:
            if path not in target and any(re.fullmatch(rx, path[-1]) for rx in self.sticky):
                target.append(path)
        return target

    # -- faults -------------------------------------------------------------------------------

    def step(self, op: str, detail: str = "") -> Fault | None:
        """Count a call of ``op``; raise if a ``before`` fault fires, return an ``after``
        fault for the caller to fire once the call took effect."""
        with self.lock:
            n = self.calls[op] = self.calls.get(op, 0) + 1
            self.log.append((op, detail))
        for fault in self.faults:
            if fault.op == op and fault.nth == n:
                if fault.when == "before":
                    raise SessionDropped(f"{self.name}: session dropped before {op} #{n}")
                return fault
        return None


class FakeDriver:
    """One session to a ``FakeDevice``: the engine's ``DriverProtocol`` protocol."""

    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.alive = True
        self.candidate: list[Path_] | None = None

    def _enter(self, op: str, detail: str = "") -> Fault | None:
        if not self.alive:
            raise SessionDropped(f"{self.device.name}: the session is gone")
        try:
            return self.device.step(op, detail)
        except SessionDropped:
            self.alive = False
            raise

    def _leave(self, fault: Fault | None, op: str) -> None:
        if fault is not None:
            self.alive = False
            raise SessionDropped(f"{self.device.name}: session dropped after {op}")

    def get_config(
        self, retrieve: str = "all", full: bool = False, sanitized: bool = False
    ) -> dict[str, str]:
        fault = self._enter("get_config", retrieve)
        text = self.device.running()
        self._leave(fault, "get_config")
        return {"running": text, "startup": "", "candidate": ""}

    def get_facts(self) -> dict[str, Any]:
        """NAPALM-shaped facts: the host name from the running config (identity checks)."""
        fault = self._enter("get_facts")
        text = self.device.running()
        self._leave(fault, "get_facts")
        names = [ln.split()[1] for ln in text.splitlines() if ln.startswith("hostname ")]
        return {
            "hostname": names[0] if names else "",
            "serial_number": "",
            "vendor": "sdd-build fake",
            "model": "fake",
            "os_version": "0.0-fake",
        }

    def get_interfaces(self) -> dict[str, Any]:
        return {}

    def _load(self, op: str, config: str | None, replace: bool) -> None:
        fault = self._enter(op, config or "")
        refused = self.device.refused(config or "")
        if refused:
            self.candidate = None
            raise FakeRefused(f"{self.device.name}: candidate refused: " + "; ".join(refused))
        self.candidate = (
            self.device.replaced(config or "") if replace else self.device.merged(config or "")
        )
        self._leave(fault, op)

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._load("load_merge_candidate", config, replace=False)

    def load_replace_candidate(
        self, filename: str | None = None, config: str | None = None
    ) -> None:
        self._load("load_replace_candidate", config, replace=True)

    def compare_config(self) -> str:
        fault = self._enter("compare_config")
        if self.candidate is None:
            diff = ""
        else:
            before = self.device.running().splitlines()
            saved = self.device.config
            self.device.config = self.candidate
            after = self.device.running().splitlines()
            self.device.config = saved
            diff = "\n".join(
                line
                for line in difflib.unified_diff(before, after, lineterm="", n=0)
                if not line.startswith(("---", "+++", "@@"))
            )
        self._leave(fault, "compare_config")
        return diff

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        fault = self._enter("commit_config", message)
        if self.candidate is None:
            raise FakeRefused(f"{self.device.name}: no candidate loaded")
        with self.device.lock:
            self.device.config = self.candidate
            self.device.commits += 1
        self.candidate = None
        self._leave(fault, "commit_config")

    def discard_config(self) -> None:
        self._enter("discard_config")
        self.candidate = None

    def cli(self, commands: list[str]) -> dict[str, str]:
        fault = self._enter("cli", "; ".join(commands))
        out: dict[str, str] = {}
        for cmd in commands:
            given = self.device.outputs.get(cmd)
            if given is None:
                out[cmd] = (
                    self.device.running()
                    if cmd == "show running-config"
                    else f"% Unknown command: {cmd}"
                )
            else:
                out[cmd] = given(self.device) if callable(given) else given
        self._leave(fault, "cli")
        return out

    def close(self) -> None:
        self.alive = False


class FakeConnection:
    """Nornir connection plugin ``sdd_fake``: the host's ``FakeDevice`` comes in ``extras``."""

    def __init__(self) -> None:
        self.connection: FakeDriver | None = None

    def open(
        self,
        hostname: str | None,
        username: str | None,
        password: str | None,
        port: int | None,
        platform: str | None,
        extras: dict[str, Any] | None = None,
        configuration: Config | None = None,
    ) -> None:
        device = (extras or {}).get("device")
        if not isinstance(device, FakeDevice):
            raise ConnectionError(f"{hostname}: no fake device attached (fake.attach)")
        if device.unreachable:
            raise ConnectionError(f"{device.name}: connection refused")
        device.sessions += 1
        self.connection = FakeDriver(device)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class FakeNetwork:
    """The fake devices of one test, by inventory host name."""

    def __init__(self) -> None:
        self.devices: dict[str, FakeDevice] = {}

    def add(self, name: str, config: str = "", **script: Any) -> FakeDevice:
        device = FakeDevice(name, **script)
        device.set_config(config or f"hostname {name}\n")
        self.devices[name] = device
        return device

    def __getitem__(self, name: str) -> FakeDevice:
        return self.devices[name]


def attach(workspace: Any, network: FakeNetwork) -> None:
    """Point every host of ``workspace``'s inventory at its fake device (added on first use
    with ``hostname <name>`` as its configuration)."""
    for name, host in workspace.inventory.inventory.hosts.items():
        device = network.devices.get(name) or network.add(name)
        host.platform = PLATFORM
        host.connection_options[CONNECTION] = ConnectionOptions(extras={"device": device})


def _register() -> None:
    register(
        Platform(
            PLATFORM,
            "in-memory test double (FRR-style configuration)",
            syntax="frr",
            volatile_prefixes=(VERSION_LINE,),
            plugin=CONNECTION,
        )
    )
    if CONNECTION not in ConnectionPluginRegister.available:
        ConnectionPluginRegister.register(CONNECTION, FakeConnection)


_register()

if TYPE_CHECKING:
    from sdd_build.execute.device import DriverProtocol

    def _conforms(device: FakeDevice) -> DriverProtocol:
        return FakeDriver(device)  # mypy proves the fake implements the engine's protocol
