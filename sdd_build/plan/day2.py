"""Day-2 diff: what a (new version of a) design changes relative to the reconciled baseline.

Pure: a baseline (from ``baseline.json``) and a build plan in, the delta out — components
added, changed (rendered config or commands differ on some host), removed, and per host the
unified diff of the intended configuration.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from sdd_build.plan.planner import BuildPlan
from sdd_build.secrets import mask_data

__all__ = ["DesignDelta", "design_delta"]


@dataclass
class DesignDelta:
    baseline_design: dict[str, Any]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    hosts_added: list[str] = field(default_factory=list)
    hosts_removed: list[str] = field(default_factory=list)
    host_diffs: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.removed or self.changed or self.hosts_added or self.hosts_removed
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline_design,
            "components": {
                "added": self.added,
                "changed": self.changed,
                "removed": self.removed,
                "unchanged": self.unchanged,
            },
            "hosts": {"added": self.hosts_added, "removed": self.hosts_removed},
            "config_delta": self.host_diffs,
        }


def _intended(components: dict[str, Any]) -> str:
    return "".join(c.get("config") or "" for c in components.values())


def design_delta(baseline: dict[str, Any], plan: BuildPlan) -> DesignDelta:
    base_hosts: dict[str, Any] = baseline.get("hosts", {})
    delta = DesignDelta(baseline_design=baseline.get("design", {}))
    # the baseline holds masked configs (it is an artifact): compare like with like
    new_by_host: dict[str, Any] = mask_data(
        {
            h: {
                s.component: {"kind": s.kind, "config": s.config, "commands": list(s.commands)}
                for s in steps
            }
            for h, steps in plan.hosts.items()
        }
    )
    base_ids = {c for comps in base_hosts.values() for c in comps["components"]}
    new_ids = {c for comps in new_by_host.values() for c in comps}
    delta.added = sorted(new_ids - base_ids)
    delta.removed = sorted(base_ids - new_ids)
    for cid in sorted(base_ids & new_ids):
        differs = any(
            base_hosts.get(h, {}).get("components", {}).get(cid) != new_by_host.get(h, {}).get(cid)
            for h in set(base_hosts) | set(new_by_host)
        )
        (delta.changed if differs else delta.unchanged).append(cid)
    delta.hosts_added = sorted(set(new_by_host) - set(base_hosts))
    delta.hosts_removed = sorted(set(base_hosts) - set(new_by_host))
    for host in sorted(set(base_hosts) | set(new_by_host)):
        before = _intended(base_hosts.get(host, {}).get("components", {}))
        after = _intended(new_by_host.get(host, {}))
        if before != after:
            delta.host_diffs[host] = "".join(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    fromfile=f"{host} baseline (build {baseline.get('build_id')})",
                    tofile=f"{host} design v{plan.design_version}",
                )
            )
    return delta
