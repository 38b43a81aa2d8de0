"""What a build produced: per component, per host, deviations, metrics (PRODUCT.md §6).

These models are the ``as-built.json`` machine contract; the report stage renders them.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sdd_build.execute.policy import DEVIATION_CLASSES, DeviationClass, Result

__all__ = [
    "DEVIATION_CLASSES",
    "AsBuilt",
    "ComponentRecord",
    "Deviation",
    "DeviationLog",
    "HostRecord",
    "HostStatus",
    "Metrics",
    "attention",
]

HostStatus = Literal["built", "failed", "blocked", "skipped", "rolled_back"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Deviation(_Model):
    """Anything the design did not foresee, with evidence. Never adapted silently.

    What a class means for the build (fails it, can be waived, blocks the baseline, ...) is
    ``sdd_build.execute.policy``; ``check`` is the acceptance check id where a check failed
    or was waived; ``line`` the configuration line (with its stanzas, ``bfd / profile P /
    detect-multiplier 3``) where the deviation is about one."""

    id: str
    component: str | None
    host: str | None
    class_: DeviationClass = Field(alias="class")
    check: str | None = None
    line: str | None = None
    expected: Any = None
    actual: Any = None
    reason: str
    evidence: list[str] = Field(default_factory=list)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")

    @property
    def subject(self) -> str | None:
        """What the deviation is about on its component and host: the check or the line."""
        return self.check or self.line


class DeviationLog:
    """Deviations numbered in the order they happen (``DEV-001``, ...), safe across Nornir's
    worker threads. Build, recovery and drift all record through one of these."""

    def __init__(self, prefix: str = "DEV") -> None:
        self.prefix = prefix
        self.items: list[Deviation] = []
        self._lock = threading.Lock()

    def add(
        self,
        cls: str,
        component: str | None,
        host: str | None,
        reason: str,
        expected: Any = None,
        actual: Any = None,
        evidence: list[str] | None = None,
        check: str | None = None,
        line: str | None = None,
    ) -> Deviation:
        with self._lock:
            dev = Deviation.model_validate(
                {
                    "id": f"{self.prefix}-{len(self.items) + 1:03d}",
                    "component": component,
                    "host": host,
                    "class": cls,
                    "expected": expected,
                    "actual": actual,
                    "reason": reason,
                    "evidence": evidence or [],
                    "check": check,
                    "line": line,
                }
            )
            self.items.append(dev)
        return dev


class HostRecord(_Model):
    status: HostStatus
    changed: bool = False
    checks: list[dict[str, Any]] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    attempts: int = 0
    reason: str | None = None
    duration_s: float = 0.0


class ComponentRecord(_Model):
    id: str
    kind: str
    layer: int
    reuse: bool = False
    hosts: dict[str, HostRecord] = Field(default_factory=dict)


class Metrics(_Model):
    deviation_rate: float
    reuse_rate: float
    reconciliation: float
    time_to_value_s: float | None
    governance_s: float = 0.0  # critical-path time not on a device nor in declared waiting
    device_s: float = 0.0  # device round trips, summed over hosts
    wall_s: float = 0.0


def attention(build_id: str, hosts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """What needs a human now, first in every report format: each host left ``changed``
    (it differs, or may differ, from its pre-build backup and nobody verified otherwise),
    with the lines left and the command that retries the restore."""
    out = []
    for host, summary in sorted(hosts.items()):
        if summary.get("state") != "changed":
            continue
        left, missing = list(summary.get("left") or []), list(summary.get("missing") or [])
        if summary.get("read_back") is False or not (left or missing):
            what = "its running config could not be read back: its state is unknown"
        else:
            what = f"{len(left) + len(missing)} line(s) differ from its pre-build backup"
        out.append(
            {
                "host": host,
                "class": "rollback_failed",
                "message": f"{host} is left changed: {what}",
                "left": left,
                "missing": missing,
                "repair": f"sdd-build rollback {build_id} --host {host}",
            }
        )
    return out


class AsBuilt(_Model):
    attention: list[dict[str, Any]] = Field(
        default_factory=list,
        description="hosts left changed (rollback_failed): lines left, how to repair",
    )
    build_id: str
    mode: Literal["build", "check", "recover"] = "build"
    design: dict[str, Any]
    spec: dict[str, Any]
    approvals: list[dict[str, Any]] = Field(default_factory=list)
    agent: dict[str, Any] | None = Field(
        default=None,
        description="the agent that ran the build through sdd-build mcp (name, client), if any",
    )
    started: str
    finished: str | None = None
    result: Result
    hosts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    layers: list[list[str]] = Field(default_factory=list)
    edges: list[list[str]] = Field(
        default_factory=list, description="[dependency, dependent] pairs of the design graph"
    )
    requirements: list[dict[str, Any]] = Field(
        default_factory=list, description="the spec's requirements: id, text, line"
    )
    acceptance: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the design's acceptance checks: id, component, covers, description",
    )
    components: list[ComponentRecord] = Field(default_factory=list)
    deviations: list[Deviation] = Field(default_factory=list)
    metrics: Metrics
    rollbacks: list[dict[str, Any]] = Field(
        default_factory=list,
        description="restores retried later with `sdd-build rollback`, verified per host",
    )

    def dump(self) -> dict[str, Any]:
        data = self.model_dump(by_alias=True, mode="json")
        if data.get("agent") is None:  # a build without an agent: the record as before
            data.pop("agent", None)
        return data
