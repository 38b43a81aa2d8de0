"""A small use case for the engine's unit tests on fake devices (``sdd_build.testing.fake``).

Three hosts, two branches: ``base`` -> ``svc`` -> ``verify-svc`` (AC-1) and the independent
``extra`` -> ``verify-extra`` (AC-2). The checks read JSON the fake devices compute from their
own configuration, so a refused or lost line fails its check as it would on a router.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sdd_build.execute.build import RunOptions, run_build
from sdd_build.execute.results import AsBuilt
from sdd_build.plan.validate import ValidationReport, validate
from sdd_build.testing.fake import FakeDevice, FakeNetwork, attach

HOSTS = ("r1", "r2", "r3")
DESIGN = "designs/demo/solution-design.yaml"

FILES = {
    "inventory/hosts.yaml": "".join(
        f"{h}:\n  hostname: 127.0.0.1\n  groups: [core]\n  data: {{n: {i}}}\n"
        for i, h in enumerate(HOSTS, 1)
    ),
    "inventory/groups.yaml": "core:\n  data: {area: 0}\n",
    "inventory/defaults.yaml": "platform: fake\n",
    "templates/fake/base.j2": "router demo\n base-id {{ host.data.n }}\nexit\n",
    "templates/fake/svc.j2": "router demo\n svc enable\n svc area {{ host.data.area }}\nexit\n",
    "templates/fake/extra.j2": "extra {{ host.data.n }}\n",
    "designs/demo/spec.md": (
        "# Demo\n\n## Requirements\n\n- REQ-1: the service is up.\n- REQ-2: extra is set.\n"
    ),
    DESIGN: """\
design: demo
version: 1
author: j.doe
spec: spec.md
targets: {groups: [core]}
components:
  - id: base
    kind: config_template
    template: fake/base.j2
  - id: svc
    kind: config_template
    template: fake/svc.j2
    depends_on: [base]
  - id: extra
    kind: config_template
    template: fake/extra.j2
  - id: json
    kind: parser
    engine: json
  - id: verify-svc
    kind: command_template
    commands: ["show svc json"]
    parser: json
    depends_on: [svc]
    acceptance:
      - id: AC-1
        covers: [REQ-1]
        expect: {query: "state", eq: "up"}
  - id: verify-extra
    kind: command_template
    commands: ["show extra json"]
    parser: json
    depends_on: [extra]
    acceptance:
      - id: AC-2
        covers: [REQ-2]
        expect: {query: "count", gte: 1}
build: {strategy: merge, rollback: on_failure, workers: 3, timeout_s: 5}
""",
}


def svc_state(device: FakeDevice) -> str:
    return json.dumps({"state": "up" if device.has("router demo / svc enable") else "down"})


def extra_count(device: FakeDevice) -> str:
    return json.dumps({"count": sum(1 for p in device.config if p[0].startswith("extra "))})


def write_repo(root: Path, **replace: str) -> Path:
    """The use case under ``root``; ``replace`` edits the design text (old=new pairs are
    given as ``{"old": "new"}`` via ``edits``)."""
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / DESIGN


def network(**scripts: dict[str, Any]) -> FakeNetwork:
    """Fake r1-r3 answering the demo's show commands; ``scripts[host]`` adds behaviour."""
    net = FakeNetwork()
    for host in HOSTS:
        script = dict(scripts.get(host, {}))
        outputs = {"show svc json": svc_state, "show extra json": extra_count}
        outputs.update(script.pop("outputs", {}))
        net.add(host, outputs=outputs, **script)
    return net


def validated(design: Path, net: FakeNetwork) -> ValidationReport:
    report = validate(design)
    assert report.ok, [p.message for p in report.problems]
    assert report.workspace is not None
    attach(report.workspace, net)
    return report


def build(
    design: Path,
    net: FakeNetwork,
    events: list[tuple[str, dict[str, Any]]] | None = None,
    **options: Any,
) -> tuple[AsBuilt, Path]:
    emit: Callable[..., None] = (
        (lambda event, **data: events.append((event, data))) if events is not None else None
    ) or (lambda event, **data: None)
    return run_build(validated(design, net), RunOptions(emit=emit, **options))
