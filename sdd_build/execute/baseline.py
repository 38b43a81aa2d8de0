"""The reconciled baseline: the Day-2 starting point (``<use-case>/baseline.json``).

A build whose deviations do not block it (``execute.policy``: waived checks, elided defaults)
becomes the baseline: per host, the configuration each component intended and the device's
reconciled running config (masked, as in the evidence). ``drift`` compares devices with it;
``diff`` compares a new design version with it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sdd_build.errors import DesignError
from sdd_build.execute.policy import blocks_baseline, is_open
from sdd_build.execute.results import AsBuilt
from sdd_build.limits import json_loads
from sdd_build.plan.planner import BuildPlan
from sdd_build.secrets.sink import write_json

__all__ = ["BASELINE_FILE", "load_baseline", "qualifies", "write_baseline"]

BASELINE_FILE = "baseline.json"
FORMAT = "sdd-build.baseline/1"


def qualifies(asbuilt: AsBuilt) -> bool:
    """No deviation whose class blocks the baseline (``execute.policy``: waived and
    informational ones do not); never a dry run or a recovery."""
    if asbuilt.mode != "build" or asbuilt.result == "failed":
        return False
    return not any(blocks_baseline(d.class_) for d in asbuilt.deviations)


def write_baseline(use_case_dir: Path, asbuilt: AsBuilt, plan: BuildPlan, build_dir: Path) -> Path:
    hosts: dict[str, Any] = {}
    for host, steps in plan.hosts.items():
        if asbuilt.hosts.get(host, {}).get("role") == "check":
            continue  # a check target holds no configuration of the design: nothing to drift
        post = build_dir / "evidence" / host / "post.cfg"
        running = post.read_text(encoding="utf-8") if post.is_file() else ""
        hosts[host] = {
            "components": {
                s.component: {
                    "kind": s.kind,
                    "config": s.config,
                    "commands": list(s.commands),
                }
                for s in steps
            },
            "running": running,
            "running_sha256": hashlib.sha256(running.encode()).hexdigest(),
        }
    data = {
        "format": FORMAT,
        "design": asbuilt.design,
        "spec": asbuilt.spec,
        "build_id": asbuilt.build_id,
        "finished": asbuilt.finished,
        "result": asbuilt.result,
        "record": str(build_dir.relative_to(use_case_dir) / "as-built.json"),
        "layers": asbuilt.layers,
        "acceptance": asbuilt.acceptance,
        # what the build recorded without it being open (waived checks, elided defaults)
        "accepted": [d.dump() for d in asbuilt.deviations if not is_open(d.class_)],
        "hosts": hosts,
    }
    path = use_case_dir / BASELINE_FILE
    # rendered configs hold the design's secrets: masked like every artifact (diff compares
    # a masked render with it)
    return write_json(path, data)


def load_baseline(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DesignError(
            f"no reconciled baseline at {path}",
            hint="a build that ends as designed writes it; build the design first",
        )
    try:
        data = json_loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DesignError(
            f"baseline is not JSON: {exc.msg}", file=str(path), line=exc.lineno
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DesignError(f"not a {FORMAT} file", file=str(path))
    return data
