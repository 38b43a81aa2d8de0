"""What a lab provider does, and the small helpers every provider shares.

Two providers realise a topology: ``netns`` (FRR instances in Linux network namespaces, this
package's own runtime) and ``containerlab`` (delegation to the ``containerlab`` binary). The
public API in ``sdd_build.lab`` picks one and talks to it through ``LabProvider``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sdd_build.errors import (
    LabInputError,
    LabRuntimeError,
)

if TYPE_CHECKING:
    from sdd_build.lab.impair import Impairment
    from sdd_build.lab.topology import LabTopology

__all__ = [
    "LabInputError",
    "LabProvider",
    "LabRuntimeError",
    "NodeStatus",
    "Progress",
    "UpResult",
    "run",
]

Progress = Callable[[str], None]


@dataclass(slots=True)
class NodeStatus:
    name: str
    role: str
    netns: str | None
    port: int | None
    alive: dict[str, bool] = field(default_factory=dict)  # process name -> alive
    ospf_full: int | None = None
    bgp_established: int | None = None
    interfaces_up: int | None = None
    interfaces_total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "netns": self.netns,
            "port": self.port,
            "alive": dict(self.alive),
            "ospf_full": self.ospf_full,
            "bgp_established": self.bgp_established,
            "interfaces_up": self.interfaces_up,
            "interfaces_total": self.interfaces_total,
            **self.extra,
        }


@dataclass(slots=True)
class UpResult:
    already_up: bool
    provider: str
    ready_s: float = 0.0
    converged_s: float | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. an image's FRR is not this one


class LabProvider(Protocol):
    name: str

    def up(
        self, topo: LabTopology, *, wait: bool, timeout: float, progress: Progress
    ) -> UpResult: ...

    def down(self, lab: str, topology_path: str, *, progress: Progress) -> bool: ...

    def status(self, topo: LabTopology) -> list[NodeStatus]: ...

    def impair(self, topo: LabTopology, impairment: Impairment) -> str: ...


def run(
    argv: Sequence[str],
    *,
    timeout: float = 15.0,
    check: bool = True,
    input: str | None = None,
    env: dict[str, str] | None = None,
    what: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command (never through a shell) with a timeout; failures become LabRuntimeError.

    ``input`` may hold secrets (chpasswd): it is never part of an error message.
    """
    try:
        proc = subprocess.run(
            list(argv),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LabRuntimeError(f"{what or argv[0]}: timed out after {timeout:.0f}s") from None
    except FileNotFoundError:
        raise LabRuntimeError(f"{argv[0]}: command not found") from None
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        tail = detail[-1] if detail else f"exit status {proc.returncode}"
        raise LabRuntimeError(f"{what or ' '.join(argv[:4])}: {tail}")
    return proc
