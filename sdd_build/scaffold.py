"""``sdd-build init <dir>``: scaffold a use case (spec + design skeleton), never overwriting."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sdd_build.errors import DesignError
from sdd_build.secrets.sink import write_text

__all__ = ["scaffold"]

_SPEC = """\
# {name}: customer requirements

Write each requirement as a list item that starts with its id. These ids are what the
design's acceptance checks cover (Gate 2 refuses a design that leaves one uncovered).

## Requirements

- REQ-1: <what must be true on the network when this is built>
"""

_DESIGN = """\
# yaml-language-server: $schema=./solution-design.schema.json   (sdd-build schema > ...)
design: {name}
version: 1
author: {author}
spec: customer-spec.md
targets:
  groups: [{groups}]
components:
  - id: example-config
    kind: config_template
    template: frr/example.j2          # relative to templates/
    tests: []                         # golden renders: {{host: r1, expect: fixtures/r1.cfg}}
  - id: verify-example
    kind: command_template
    commands: ["show running-config"]
    depends_on: [example-config]
    acceptance:
      - id: AC-1
        covers: [REQ-1]
        expect: {{query: "@", matches: "hostname"}}
  - id: {name}
    kind: workflow
    steps: [example-config, verify-example]
build:
  strategy: merge
  rollback: on_failure
  workers: 20
"""


def scaffold(directory: Path, *, author: str, groups: Sequence[str] = ("core",)) -> list[Path]:
    """Write the spec and design skeletons (targets: every group of ``groups``, in order)."""
    name = directory.resolve().name.lower()
    spec = directory / "customer-spec.md"
    design = directory / "solution-design.yaml"
    existing = [p for p in (spec, design) if p.exists()]
    if existing:
        raise DesignError(
            f"{existing[0]} already exists; init never overwrites an artifact",
            hint="pick a new directory for a new use case",
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fixtures").mkdir(exist_ok=True)
    write_text(spec, _SPEC.format(name=name))
    write_text(
        design, _DESIGN.format(name=name, author=author, groups=", ".join(dict.fromkeys(groups)))
    )
    return [spec, design, directory / "fixtures"]
