"""Every bound sdd-build puts on what it reads and runs, in one table.

An input is refused, with one located line and exit 2 (3 for approval records), when it breaks
a bound, never with a traceback or a hang. Each bound can be changed for one run with its
environment variable (a positive number):

=======================  ============  ===========================================================
variable                 default       bounds
=======================  ============  ===========================================================
``SDD_MAX_FILE_BYTES``   16 MiB        the size of any input file (design, spec, inventory,
                                       templates, parser templates, fixtures, records)
``SDD_MAX_DEPTH``        100 levels    the nesting of YAML and JSON data (fixtures, expected
                                       outputs, parsed device output, approval records, ...)
``SDD_RENDER_SECONDS``   10 s          the time one template render may take (loops included)
``SDD_MAX_RENDER_BYTES`` 8 MiB         the text one template render may produce
``SDD_PARSE_SECONDS``    5 s           the regular-expression time of one parse (TextFSM, TTP,
                                       on one output) and of one ``matches`` check
=======================  ============  ===========================================================

Only regular files are read (a FIFO, a device node or a directory is refused, never waited
on), and text inputs must be UTF-8 without NUL bytes: see ``sdd_build.design.source``.

How the times are enforced, on any thread (Nornir's workers included): regular expressions of
parser templates and checks run on the ``regex`` engine with a timeout (CPython's ``re`` cannot
be interrupted outside the main thread); every loop of a Jinja template checks the render's
deadline at each iteration, and the output is counted as it is produced.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from typing import Any

from sdd_build.errors import JSONLimitError, SddBuildError

__all__ = [
    "LIMITS",
    "Deadline",
    "Limit",
    "depth",
    "file_bytes",
    "json_loads",
    "nesting_exceeds",
    "parse_seconds",
    "render_bytes",
    "render_seconds",
]


@dataclass(frozen=True, slots=True)
class Limit:
    """One bound: its environment variable, default and unit."""

    env: str
    default: float
    unit: str
    what: str

    def value(self) -> float:
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            number = float(raw)
        except ValueError:
            number = -1.0
        if not number > 0 or number == float("inf"):
            raise SddBuildError(
                f"{self.env}={raw!r} is not a positive number of {self.unit}; "
                f"unset it for the default ({self.default:g} {self.unit})"
            )
        return number


LIMITS: dict[str, Limit] = {
    "file_bytes": Limit("SDD_MAX_FILE_BYTES", 16 * 1024 * 1024, "bytes", "size of an input file"),
    "depth": Limit("SDD_MAX_DEPTH", 100, "levels", "nesting of YAML and JSON data"),
    "render_seconds": Limit("SDD_RENDER_SECONDS", 10, "seconds", "time of one render"),
    "render_bytes": Limit("SDD_MAX_RENDER_BYTES", 8 * 1024 * 1024, "bytes", "output of a render"),
    "parse_seconds": Limit("SDD_PARSE_SECONDS", 5, "seconds", "regex time of one parse"),
}


def file_bytes() -> int:
    return int(LIMITS["file_bytes"].value())


def depth() -> int:
    return int(LIMITS["depth"].value())


def render_seconds() -> float:
    return LIMITS["render_seconds"].value()


def render_bytes() -> int:
    return int(LIMITS["render_bytes"].value())


def parse_seconds() -> float:
    return LIMITS["parse_seconds"].value()


class Deadline:
    """A point in (monotonic) time; ``remaining()`` is never negative."""

    __slots__ = ("end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 0.0)

    def expired(self) -> bool:
        return time.monotonic() >= self.end


# -- nesting ---------------------------------------------------------------------------------

# A JSON string (escapes included) or one bracket: strings are skipped whole, so brackets in
# them do not count. Linear: a string ends at the next unescaped quote.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def _json_too_deep(text: str, limit: int) -> int | None:
    """The offset where ``text`` nests deeper than ``limit``, or ``None``."""
    if text.count("[") + text.count("{") <= limit:  # cannot nest deeper than it opens
        return None
    level = 0
    for token in _JSON_TOKEN.finditer(text):
        char = token.group()[0]
        if char in "[{":
            level += 1
            if level > limit:
                return token.start()
        elif char in "]}":
            level -= 1
    return None


def json_loads(text: str | bytes | bytearray, *, max_depth: int | None = None) -> Any:
    """``json.loads`` for input sdd-build did not produce in this process.

    Data nested deeper than :func:`depth` levels, and numbers too long to convert, raise
    ``json.JSONDecodeError`` (a ``ValueError``) like any other invalid JSON, so a caller's
    "invalid JSON" handling covers them; ``json.loads`` itself would raise ``RecursionError``
    (deep data) or a bare ``ValueError`` (a 5,000-digit number).
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
    limit = depth() if max_depth is None else max_depth
    where = _json_too_deep(text, limit)
    if where is not None:
        raise JSONLimitError(f"data nested deeper than {limit} levels (SDD_MAX_DEPTH)", text, where)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        raise JSONLimitError(str(exc).splitlines()[0], text, 0) from None


def nesting_exceeds(data: Any, limit: int | None = None) -> bool:
    """Whether lists/dicts in ``data`` nest deeper than ``limit`` (default :func:`depth`).

    Iterative, so it is safe on data of any depth; a shared (aliased) container is walked again
    only when it is met deeper than before.
    """
    bound = depth() if limit is None else limit
    stack: list[tuple[Any, int]] = [(data, 0)]
    seen: dict[int, int] = {}
    while stack:
        item, level = stack.pop()
        if not isinstance(item, dict | list | tuple):
            continue
        if level + 1 > bound:
            return True
        if seen.get(id(item), -1) >= level:
            continue
        seen[id(item)] = level
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children)
    return False
