"""Time and size bounds of a render, on any thread (``SDD_RENDER_SECONDS``,
``SDD_MAX_RENDER_BYTES``).

A template is data, but Jinja is a language: nested ``range(100000)`` loops, ``9 ** 9 ** 9`` or
``"x" * 10 ** 10`` would hang or exhaust a build. Signals cannot stop a Nornir worker, so the
bounds are built into the compiled template instead:

* every ``{% for %}`` iterates through :func:`loop_guard`, which ends the render at its
  deadline (the loop's line is reported);
* the sandbox intercepts ``*`` and ``**`` (:func:`binop`): a repeated string or list larger
  than the output bound, or a power with a huge result, is refused before it is computed;
* :func:`run` counts the output as it is produced and stops past the size bound.
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jinja2 import Template

from sdd_build import limits
from sdd_build.errors import RenderLimit

__all__ = ["LOOP_FILTER", "binop", "loop_guard", "run"]

LOOP_FILTER = "_sdd_loop"
_local = threading.local()


def _deadline() -> limits.Deadline | None:
    current: limits.Deadline | None = getattr(_local, "deadline", None)
    return current


def loop_guard(iterable: Iterable[Any], line: int) -> Iterable[Any]:
    """The filter every ``{% for %}`` iterates through (wrapped in at compile time)."""
    items = iter(iterable)  # errors of the iterable itself (undefined) stay at the loop
    deadline = _deadline()
    if deadline is None:
        return items
    return _guarded(items, deadline, line)


def _guarded(items: Iterator[Any], deadline: limits.Deadline, line: int) -> Iterator[Any]:
    for item in items:
        if deadline.expired():
            raise RenderLimit(
                f"rendering took longer than {deadline.seconds:g} s in the loop at line {line}",
                line,
            )
        yield item


_MAX_POWER_BITS = 64 * 1024  # 2**65536: far beyond any number a config holds


def binop(operator_name: str, left: Any, right: Any) -> Any:
    """``*`` and ``**`` as the sandbox computes them, refused when the result would be huge."""
    if operator_name == "**":
        huge = (
            isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right * math.log2(abs(left)) > _MAX_POWER_BITS
        )
        if huge:
            raise RenderLimit(f"{left} ** {right} is too large a number to compute")
        return operator.pow(left, right)
    for seq, times in ((left, right), (right, left)):
        sized = isinstance(seq, str | list | tuple) and isinstance(times, int)
        if sized and len(seq) * times > limits.render_bytes():
            raise RenderLimit(
                f"repeating a {type(seq).__name__} of {len(seq)} {times} times exceeds the "
                f"{limits.render_bytes()}-character output bound (SDD_MAX_RENDER_BYTES)"
            )
    return operator.mul(left, right)


def run(template: Template, context: Mapping[str, Any]) -> str:
    """Render ``template`` within the time and size bounds; ``RenderLimit`` when broken."""
    limit = limits.render_bytes()
    outer = _deadline()
    _local.deadline = limits.Deadline(limits.render_seconds())
    try:
        size = 0
        parts: list[str] = []
        for chunk in template.generate(context):
            size += len(chunk)
            if size > limit:
                raise RenderLimit(
                    f"the rendered text exceeds {limit} characters (SDD_MAX_RENDER_BYTES)"
                )
            parts.append(chunk)
        return "".join(parts)
    finally:
        _local.deadline = outer
