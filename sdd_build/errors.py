"""The one error hierarchy of sdd-build.

Every error a user can cause or meet is an ``SddBuildError``; the CLI turns it into one clear
message per problem (``file:line:column: message``) and the exit code it carries. Nothing
else escapes the CLI as a traceback.

    SddBuildError                 exit 2 unless said otherwise
    ├── DesignError               design / spec file: YAML, schema, references
    │   ├── YamlLoadError         a YAML file cannot be read or parsed
    │   └── GraphError            cycles, unknown ids, layering
    ├── InventoryError            Nornir inventory files, targets
    ├── RenderError               Jinja2 templates, command injection
    ├── ParseError                TextFSM / TTP / ntc-templates / JSON parsers
    ├── CheckError                acceptance check definitions (not failed checks)
    ├── OfflineTestError          golden render / parser fixture mismatches
    ├── GateError                 exit 3: unapproved, stale or tampered artifacts
    │   ├── HostLockedError       a target device is held by another build (nothing contacted)
    │   ├── AuditChainError       the audit log was edited, deleted, inserted or reordered
    │   └── AgentRefusal          an MCP agent's request crosses a boundary the platform keeps
    ├── LabError                  lab topologies and the lab runtime
    │   ├── LabRuntimeError       exit 1: not root, a daemon failed, not converged
    │   └── LabInputError         the topology or the request is wrong
    ├── StateError                the private state directory (backups): unusable or unsafe
    ├── RecordError               exit 1: the journal or record could not be written (disk full)
    ├── ExecutorError             the distributed executor cannot start (scheduler, workers)
    ├── DeviceError(host=...)     exit 1: a device refused, timed out or was unreachable
    │   └── WorkerLostError       the executor lost the worker holding the host (worker_lost)
    ├── AuditError                an audit entry cannot be written as asked
    ├── PolicyError               approvers.yaml or an approval request is malformed
    ├── KeyFileError              a key file or public key is unusable
    └── SecretInBoundDataError    bytes bound by a hash or signature hold a secret

Signals inside one stage. None reaches a user: each is caught where it is raised and becomes
the stage's error above (the arrow), or stands in for a library's own exception:

    ValueError
    ├── JSONLimitError            (a json.JSONDecodeError) JSON refused for a bound, not its
    │                             syntax: callers' "invalid JSON" handling covers it
    └── FilterError               a template filter got input it cannot handle -> RenderError
    Exception
    ├── InjectionError            a value would inject a command, inside a template -> RenderError
    ├── RenderLimit               a render broke a bound (time, size, number) -> RenderError
    ├── FakeRefused               the fake device (sdd_build.testing) refused candidate lines
    ├── NotPlainYaml              a document leaves libyaml's fast path -> the round-trip loader
    ├── RemoteError               a worker's non-sdd-build exception, raised again on the
    │                             coordinator under its own name (dask executor)
    └── NetmikoRefused            the device refused a line pushed on the Netmiko path
                                  (like napalm_frr's MergeRejected) -> apply_failed
    TimeoutError
    └── ParseTimeout              one parse's regular expressions used up its time -> ParseError
    ConnectionError
    └── SessionDropped            the fake device's SSH session went away (a scripted fault)
    AssertionError
    └── CheckMismatch             an acceptance check failed: a failed item of the pytest plugin
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "AgentRefusal",
    "AuditChainError",
    "AuditError",
    "CheckError",
    "CheckMismatch",
    "DesignError",
    "DeviceError",
    "ExecutorError",
    "FakeRefused",
    "FilterError",
    "GateError",
    "GraphError",
    "HostLockedError",
    "InjectionError",
    "InventoryError",
    "JSONLimitError",
    "KeyFileError",
    "LabError",
    "LabInputError",
    "LabRuntimeError",
    "NetmikoRefused",
    "NotPlainYaml",
    "OfflineTestError",
    "ParseError",
    "ParseTimeout",
    "PolicyError",
    "Problem",
    "RecordError",
    "RemoteError",
    "RenderError",
    "RenderLimit",
    "SddBuildError",
    "SecretInBoundDataError",
    "SessionDropped",
    "StateError",
    "WorkerLostError",
    "YamlLoadError",
]

EXIT_OK = 0
EXIT_DEVIATIONS = 1
EXIT_BAD_INPUT = 2
EXIT_GATE = 3


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, located as precisely as we know."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def location(self) -> str:
        if self.file is None:
            return ""
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class SddBuildError(Exception):
    """Root of every sdd-build error. Carries one or more located problems and an exit code."""

    exit_code: int = EXIT_BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
        problems: Iterable[Problem] | None = None,
    ) -> None:
        self.hint = hint
        self.problems: list[Problem] = (
            list(problems) if problems is not None else [Problem(message, file, line, column)]
        )
        super().__init__(message)

    @classmethod
    def from_problems(
        cls, problems: Iterable[Problem], *, hint: str | None = None
    ) -> SddBuildError:
        probs = list(problems)
        summary = f"{len(probs)} problem(s)" if len(probs) != 1 else probs[0].message
        return cls(summary, problems=probs, hint=hint)

    def __str__(self) -> str:
        text = "\n".join(str(p) for p in self.problems)
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class DesignError(SddBuildError):
    """A design or spec file is malformed, invalid or references something missing."""


class YamlLoadError(DesignError):
    """A YAML file cannot be read or parsed; carries the one located problem (callers usually
    re-raise it as their own stage's error)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.message, problems=[problem])


class GraphError(DesignError):
    """The component graph is not a DAG or references unknown components."""


class InventoryError(SddBuildError):
    """The Nornir inventory is missing, malformed, or does not hold the design's targets."""


class RenderError(SddBuildError):
    """A template does not compile or render, or a variable would inject a command."""


class ParseError(SddBuildError):
    """A parser template is invalid, or a parser fails / yields nothing on non-empty input."""


class CheckError(SddBuildError):
    """An acceptance check is ill-defined (bad JMESPath, bad regex, bad expected value)."""


class OfflineTestError(SddBuildError):
    """An offline test (golden render or parser fixture) does not match."""


class GateError(SddBuildError):
    """Refused by a gate: unapproved, stale or tampered artifact, host outside targets."""

    exit_code = EXIT_GATE


class HostLockedError(GateError):
    """A target device is locked by another build, recovery, rollback or discovery."""

    def __init__(
        self, message: str, *, host: str, holder: dict[str, object] | None, **kwargs: object
    ) -> None:
        self.host = host
        self.holder = holder
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class LabError(SddBuildError):
    """A lab topology is invalid, or the lab runtime could not do what was asked."""


class LabRuntimeError(LabError):
    """The lab runtime could not do what was asked (exit 1): not root, a daemon failed, ..."""

    exit_code = EXIT_DEVIATIONS


class LabInputError(LabError):
    """The topology or the request is wrong (exit 2)."""

    exit_code = EXIT_BAD_INPUT


class StateError(SddBuildError):
    """The private state directory (pre-build backups) is unusable or unsafe to write."""


class RecordError(SddBuildError):
    """The build's journal or record could not be written (disk full, read-only file system).
    No commit is made without its journaled intent; devices changed before are compared with
    their backups by ``build --recover``."""

    exit_code = EXIT_DEVIATIONS


class DeviceError(SddBuildError):
    """A device operation failed (refused, timed out, unreachable). ``deviation``: the
    deviation class it records, when it is not the one the failing step records by default."""

    exit_code = EXIT_DEVIATIONS
    deviation: str | None = None

    def __init__(self, message: str, *, host: str, **kwargs: object) -> None:
        self.host = host
        super().__init__(f"{host}: {message}", **kwargs)  # type: ignore[arg-type]


class WorkerLostError(DeviceError):
    """The distributed executor lost the worker holding the host's session (the process died,
    or it stopped answering): recorded as ``worker_lost``, never retried blindly."""

    deviation = "worker_lost"


class ExecutorError(SddBuildError):
    """The distributed executor cannot start: no scheduler at the address, no worker offers a
    shard's resource, or an executor this installation does not provide (exit 2, before any
    device contact)."""


class AuditError(SddBuildError):
    """An audit entry cannot be written as asked (bad event name, a secret, non-JSON data)."""


class AuditChainError(GateError):
    """The audit log is damaged: an entry was edited, deleted, inserted or reordered."""


class PolicyError(SddBuildError):
    """``approvers.yaml`` or an approval request (``--by``, ``--note``) is malformed (exit 2)."""


class KeyFileError(SddBuildError):
    """A key file or public key is missing, malformed, encrypted or not Ed25519 (exit 2)."""


class SecretInBoundDataError(SddBuildError):
    """Bytes bound by a hash or signature hold a secret: they were not masked before binding."""


class AgentRefusal(GateError):
    """An agent's request crosses a boundary the platform enforces (exit 3)."""


# --- signals inside one stage (see the second tree above) -----------------------------------


class JSONLimitError(json.JSONDecodeError):
    """JSON refused for a bound (nesting, number length), not for its syntax."""


class FilterError(ValueError):
    """A template filter was given input it cannot handle."""


class InjectionError(Exception):
    """Raised by the guard inside a template; mapped to a RenderError by the library."""

    def __init__(self, label: str, line: int, value: str) -> None:
        super().__init__(label)
        self.label = label
        self.line = line
        self.value = value


class RenderLimit(Exception):
    """A render broke a bound; mapped to a located ``RenderError`` by the library."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class NotPlainYaml(Exception):
    """A YAML document leaves the plain subset libyaml reads fast (design/yamlfast.py): the
    round-trip loader reads it instead, with its result or its located error."""


class ParseTimeout(TimeoutError):
    """The regular expressions of one parse used up its time."""


class CheckMismatch(AssertionError):
    """An acceptance check failed: the pytest plugin reports its item as failed."""


class SessionDropped(ConnectionError):
    """The fake device's SSH session went away (scripted by a ``testing.fake.Fault``)."""


class FakeRefused(Exception):
    """The fake device refused candidate lines (like ``napalm_frr.MergeRejected``)."""


class RemoteError(Exception):
    """Base of the stand-ins for a worker-side exception that is not an sdd-build error: the
    coordinator raises a subclass of the same name with the same words, so the record reads
    as the local executor's would (``execute.executors.remote.raise_remote``)."""


class NetmikoRefused(Exception):
    """The device refused a line pushed on the Netmiko path (``execute.netmiko_path``); the
    running config was put back and read back first (``restored`` says whether it matched)."""

    def __init__(self, message: str, refused: Sequence[object], restored: bool) -> None:
        super().__init__(message)
        self.refused = list(refused)
        self.restored = restored
