"""Drafting for agents: a spec, a design, templates, parsers, fixtures — validated on write.

``write_draft`` confines the path (:func:`sdd_build.mcp.confine.draft_target`), bounds the
size, validates the content *before* anything touches the disk (from an in-memory snapshot:
the design's schema, the spec's requirements, a template's Jinja syntax, a parser template
through the same checks ``validate`` runs, YAML/JSON syntax and nesting), then writes it
atomically through the masking sink. A refused draft writes nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import yaml

from sdd_build.design.loader import Repository, load_design
from sdd_build.design.source import Snapshot
from sdd_build.design.spec import load_spec
from sdd_build.errors import AgentRefusal, DesignError, SddBuildError
from sdd_build.limits import json_loads, nesting_exceeds
from sdd_build.mcp.confine import MAX_DRAFT_BYTES, draft_target
from sdd_build.secrets.sink import write_text

__all__ = ["validate_draft", "write_draft"]


def _bytes_of(content: object) -> bytes:
    if not isinstance(content, str):
        raise AgentRefusal("draft refused: content must be text")
    data = content.encode("utf-8", errors="strict")
    if len(data) > MAX_DRAFT_BYTES:
        raise AgentRefusal(f"draft refused: {len(data)} bytes, more than {MAX_DRAFT_BYTES}")
    if b"\x00" in data:
        raise AgentRefusal("draft refused: NUL bytes in the content")
    return data


def validate_draft(root: Path, rel: str, data: bytes) -> str:
    """What kind of file ``rel`` is, after checking ``data`` as that kind (``DesignError``)."""
    name = PurePosixPath(rel).name.lower()
    suffix = PurePosixPath(name).suffix
    snap = Snapshot(root=root, files={rel: data})
    text = data.decode("utf-8")
    if name == "solution-design.yaml":
        load_design(root / rel, repo=Repository(root).with_source(snap))
        return "design"
    if rel.startswith("designs/") and name.endswith("spec.md"):
        spec = load_spec(root / rel, display=rel, source=snap)
        if not spec.requirements:
            raise DesignError("a spec needs at least one requirement", file=rel)
        return "spec"
    if suffix in (".j2", ".jinja"):
        try:
            jinja2.Environment(autoescape=False).parse(text)
        except jinja2.TemplateSyntaxError as exc:
            raise DesignError(
                f"template syntax: {exc.message}", file=rel, line=exc.lineno
            ) from None
        return "template"
    if suffix in (".textfsm", ".ttp"):
        from sdd_build.parse.engines import check_template

        check_template(suffix[1:], root / rel, display=rel, source=snap)
        return "parser"
    if suffix in (".yaml", ".yml"):
        try:
            loaded: Any = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DesignError(f"invalid YAML: {str(exc).splitlines()[0]}", file=rel) from None
        if nesting_exceeds(loaded):
            raise DesignError("YAML nested too deep", file=rel)
        return "data"
    if suffix == ".json":
        try:
            json_loads(data)
        except ValueError as exc:
            raise DesignError(f"invalid JSON: {str(exc)[:120]}", file=rel) from None
        return "data"
    return "text"


def write_draft(root: Path, rel: object, content: object) -> dict[str, Any]:
    """Validate and write one draft; returns what was written (path, kind, sha256, bytes)."""
    target, shown = draft_target(root, rel)
    data = _bytes_of(content)
    try:
        kind = validate_draft(root, shown, data)
    except SddBuildError as exc:
        raise DesignError.from_problems(exc.problems) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    # confined again after creating folders: nothing may have become a link meanwhile
    target, shown = draft_target(root, shown)
    write_text(target, data.decode("utf-8"))
    return {
        "path": shown,
        "kind": kind,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
