"""``customer-spec.md``: the requirements (Gate 1 input), parsed from plain Markdown.

The convention (documented in the README) is deliberately simple: a requirement is a list item
or a heading whose text starts with its id, ``REQ-<n>``, optionally in bold, then ``:`` or a
dash, then the requirement text::

    ## Requirements
    - **REQ-1**: Every core router forms an OSPF adjacency on every core link.
    - REQ-2: Each router originates its loopback into OSPF.
    ### REQ-3 — eBGP between every pair of routers

Text after the first line of a list item (indented continuation lines) belongs to it.
Everything else in the file is free prose for people. A ``## Amendments`` section may be
appended later; requirements in it count as well.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sdd_build.design.source import DiskSource, Source
from sdd_build.errors import DesignError, Problem

__all__ = ["Requirement", "Spec", "load_spec", "parse_spec"]

MAX_SPEC_BYTES = 5 * 1024 * 1024

_REQ_LINE = re.compile(
    r"^\s{0,3}(?:[-*+]|\d+[.)]|#{1,6})\s+(?:\*\*|__)?(?P<id>REQ-[0-9]+)(?:\*\*|__)?"
    r"\s*(?:[:\u2014\u2013-]\s*)?(?P<text>.*?)\s*$"
)
_LOOKS_LIKE_REQ = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)]|#{1,6})\s+(?:\*\*|__)?REQ[-_ ]?\S*", re.I)
_TITLE = re.compile(r"^#\s+(?P<title>.+?)\s*#*\s*$")


class Requirement(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    line: int


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    title: str | None
    requirements: list[Requirement]

    def ids(self) -> list[str]:
        return [r.id for r in self.requirements]


def parse_spec(text: str, *, file: str) -> Spec:
    """Parse requirements; raises ``DesignError`` listing every problem."""
    problems: list[Problem] = []
    requirements: list[Requirement] = []
    seen: dict[str, int] = {}
    title: str | None = None
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if title is None and (m := _TITLE.match(line)):
            title = m.group("title")
        match = _REQ_LINE.match(line)
        if match is None:
            if _LOOKS_LIKE_REQ.match(line) and not line.lstrip("#-*+ 0123456789.)").startswith(
                ("Req", "req")
            ):
                problems.append(
                    Problem(
                        "looks like a requirement but its id is not of the form REQ-<number>",
                        file,
                        number,
                    )
                )
            continue
        req_id, req_text = match.group("id"), match.group("text").strip("*_ ").strip()
        if not req_text:
            problems.append(Problem(f"{req_id} has no text; say what is required", file, number))
            continue
        if req_id in seen:
            problems.append(
                Problem(
                    f"duplicate requirement id {req_id} (first on line {seen[req_id]})",
                    file,
                    number,
                )
            )
            continue
        seen[req_id] = number
        requirements.append(Requirement(id=req_id, text=req_text, line=number))
    if not problems and not requirements:
        problems.append(
            Problem(
                "no requirements found; write each as a list item like '- REQ-1: <text>'",
                file,
                1 if text.strip() else None,
            )
        )
    if problems:
        raise DesignError.from_problems(problems)
    return Spec(file=file, title=title, requirements=requirements)


def load_spec(path: Path, *, display: str, source: Source | None = None) -> Spec:
    try:
        raw = (source or DiskSource()).read(path, display=display)
    except FileNotFoundError:
        raise DesignError(
            "spec file not found", file=display, hint="write the customer spec (sdd-build init)"
        ) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise DesignError(f"spec is larger than {MAX_SPEC_BYTES} bytes", file=display)
    if b"\x00" in raw:
        raise DesignError("binary file (contains NUL bytes), expected Markdown text", file=display)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DesignError("not UTF-8 text; save the spec as UTF-8", file=display) from None
    if not text.strip():
        raise DesignError(
            "spec is empty; list the requirements as '- REQ-1: <text>'", file=display, line=1
        )
    return parse_spec(text, file=display)
