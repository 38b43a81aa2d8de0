"""The coordinator's stand-in for a session held by a shard actor on another machine.

:class:`RemoteSession` is a :class:`~sdd_build.execute.device.DeviceSession` whose every
device operation is one call to the actor holding the real session (``REMOTE_OPS``); what
needs no device (``normalise``) runs here. The build uses it exactly as a local session, so
the journal, evidence, checks, rollback and reconciliation are the same code either way.

A device error on the worker comes back as the same error (its type name and words), so the
record reads as the local executor's would. Losing the worker is :class:`WorkerLostError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sdd_build.errors import (
    DeviceError,
    ExecutorError,
    RemoteError,
    SddBuildError,
    WorkerLostError,
)
from sdd_build.execute.device import (
    ApplyOutcome,
    CheckOutcome,
    DeviceSession,
    Oracle,
    PlatformInfo,
    RestoreOutcome,
    Validation,
)

__all__ = ["REMOTE_OPS", "Link", "RemoteSession", "raise_remote"]

#: every operation a shard actor performs for the coordinator (nothing else is callable)
REMOTE_OPS = frozenset(
    {
        "running_config",
        "apply",
        "backup",
        "read",
        "expect_daemons",
        "daemons",
        "restore",
        "check",
        "validate",
        "expected",
        "commands",
        "driver.get_config",
        "driver.get_facts",
        "driver.get_interfaces",
        "driver.load_merge_candidate",
        "driver.load_replace_candidate",
        "driver.compare_config",
        "driver.commit_config",
        "driver.discard_config",
        "driver.cli",
        "oracle.identity",
        "oracle.check",
        "oracle.validate",
        "oracle.expected",
    }
)


class Link(Protocol):
    """How a remote session reaches its actor: ``(value, device seconds so far)``."""

    def call(
        self, host: str, op: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, float]: ...


_STAND_INS: dict[str, type[RemoteError]] = {}


def raise_remote(host: str, kind: str, text: str, device_error: bool) -> None:
    """Raise, on the coordinator, the error a worker met: a ``DeviceError`` as itself, any
    other exception as a stand-in of the same name (``_oneline`` reads the same)."""
    if device_error:
        err = DeviceError.__new__(DeviceError)
        SddBuildError.__init__(err, text)
        err.host = host
        raise err
    cls = _STAND_INS.get(kind)
    if cls is None:
        cls = _STAND_INS.setdefault(kind, type(kind, (RemoteError,), {}))
    raise cls(text)


class _RemoteDriver:
    """The driver as far as the coordinator uses it (identity checks), over the link."""

    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._session.remote(f"driver.{name}", *args, **kwargs)

    def get_config(self, retrieve: str = "all") -> dict[str, str]:
        out: dict[str, str] = self._call("get_config", retrieve=retrieve)
        return out

    def get_facts(self) -> dict[str, Any]:
        out: dict[str, Any] = self._call("get_facts")
        return out

    def get_interfaces(self) -> dict[str, Any]:
        out: dict[str, Any] = self._call("get_interfaces")
        return out

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._call("load_merge_candidate", filename=filename, config=config)

    def load_replace_candidate(
        self, filename: str | None = None, config: str | None = None
    ) -> None:
        self._call("load_replace_candidate", filename=filename, config=config)

    def compare_config(self) -> str:
        return str(self._call("compare_config"))

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        self._call("commit_config", message=message, revert_in=revert_in)

    def discard_config(self) -> None:
        self._call("discard_config")

    def cli(self, commands: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = self._call("cli", list(commands))
        return out


class _RemoteOracle:
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def identity(self, running: str) -> tuple[str | None, str]:
        version, profile = self._session.remote("oracle.identity", running)
        return version, str(profile)

    def check(self, config: str, mode: str = "merge") -> dict[str, Any]:
        out: dict[str, Any] = self._session.remote("oracle.check", config, mode)
        return out

    def validate(self) -> dict[str, Any]:
        out: dict[str, Any] = self._session.remote("oracle.validate")
        return out

    def expected(
        self, base: str, configs: list[str], probe: Iterable[tuple[str, ...]] = ()
    ) -> dict[str, Any]:
        out: dict[str, Any] = self._session.remote("oracle.expected", base, configs, list(probe))
        return out


class RemoteSession(DeviceSession):
    """A host's session held by a shard actor; every device operation is one call to it."""

    def __init__(self, link: Link, platform: PlatformInfo, host: str) -> None:
        # no super().__init__: there is no driver in this process
        self.platform = platform
        self.host = host
        self.device_s = 0.0
        self._link = link
        self.driver = _RemoteDriver(self)
        self._oracle = _RemoteOracle(self) if platform.oracle else None
        self._unchecked = 0

    def remote(self, op: str, *args: Any, **kwargs: Any) -> Any:
        value, self.device_s = self._link.call(self.host, op, args, kwargs)
        return value

    def running_config(self) -> str:
        return str(self.remote("running_config"))

    def apply(self, config: str, *, strategy: str, commit: bool, message: str) -> ApplyOutcome:
        out: ApplyOutcome = self.remote(
            "apply", config, strategy=strategy, commit=commit, message=message
        )
        return out

    def backup(self) -> str:
        return str(self.remote("backup"))

    def read(self) -> str:
        return str(self.remote("read"))

    def expect_daemons(self, daemons: Iterable[str] | None) -> None:
        self.remote("expect_daemons", None if daemons is None else sorted(daemons))

    def daemons(self) -> list[str] | None:
        out: list[str] | None = self.remote("daemons")
        return out

    def restore(self, backup: str) -> RestoreOutcome:
        """As a local restore; a restore that cannot reach any worker holding the host is
        not verified and says the device's state is unknown."""
        try:
            out: RestoreOutcome = self.remote("restore", backup)
        except (WorkerLostError, ExecutorError) as exc:
            reason = f"no worker can reach the host to restore it: {exc}"
            return RestoreOutcome(False, error=reason, read_back=False)
        return out

    def oracle(self) -> Oracle | None:
        return self._oracle

    def check(self, config: str, *, strategy: str) -> CheckOutcome:
        out: CheckOutcome = self.remote("check", config, strategy=strategy)
        return out

    def validate(self) -> Validation:
        out: Validation = self.remote("validate")
        return out

    def expected(
        self, base: str, configs: list[str], probe: Iterable[tuple[str, ...]] = ()
    ) -> dict[str, Any] | None:
        out: dict[str, Any] | None = self.remote("expected", base, configs, list(probe))
        return out

    def commands(self, commands: list[str]) -> dict[str, str]:
        out: dict[str, str] = self.remote("commands", list(commands))
        return out
