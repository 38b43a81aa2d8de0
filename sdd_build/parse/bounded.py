"""Regular expressions that stop at a deadline, on any thread.

CPython's ``re`` can only be interrupted by a signal, and signals reach the main thread only:
a pattern with catastrophic backtracking in a Nornir worker would hang the build. Parser
templates (TextFSM rules, TTP lines) and ``matches`` checks therefore run on the ``regex``
engine (``V0``: ``re``'s syntax and semantics) with a timeout taken from the deadline of the
parse in progress (:func:`deadline`, ``SDD_PARSE_SECONDS``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import regex

from sdd_build import limits
from sdd_build.errors import ParseError, ParseTimeout

__all__ = ["TimedPattern", "deadline"]

_local = threading.local()


def _remaining() -> float:
    current: limits.Deadline | None = getattr(_local, "deadline", None)
    if current is None:
        return limits.parse_seconds()
    left = current.remaining()
    if left <= 0:
        raise ParseTimeout
    return left


@contextmanager
def deadline(what: str, *, file: str | None = None) -> Iterator[limits.Deadline]:
    """Bound the regular-expression time of everything in the block (one parse).

    A pattern still running at the deadline ends the block with a ``ParseError`` naming
    ``what`` (the template and the input), located at ``file``.
    """
    seconds = limits.parse_seconds()
    outer = getattr(_local, "deadline", None)
    _local.deadline = limits.Deadline(seconds)
    try:
        yield _local.deadline
    except TimeoutError:
        raise ParseError(
            f"{what}: its regular expressions ran longer than {seconds:g} s "
            "(catastrophic backtracking?); simplify the pattern (SDD_PARSE_SECONDS)",
            file=file,
        ) from None
    finally:
        _local.deadline = outer


class TimedPattern:
    """A compiled pattern whose every match stops at the current deadline (``TimeoutError``).

    Offers what TextFSM and TTP call on their patterns: ``match``, ``search``, ``finditer``
    (a list: matching is done before returning) and ``pattern``.
    """

    __slots__ = ("_compiled", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        re.compile(pattern, flags)  # re's errors for re's syntax, as before
        self.pattern = pattern
        try:
            self._compiled = regex.compile(pattern, flags | regex.V0)
        except regex.error as exc:  # pragma: no cover - V0 follows re
            raise re.error(f"not supported by the time-bounded engine: {exc}") from None

    def match(self, string: str, pos: int = 0) -> Any:
        return self._compiled.match(string, pos, timeout=_remaining())

    def search(self, string: str, pos: int = 0) -> Any:
        return self._compiled.search(string, pos, timeout=_remaining())

    def finditer(self, string: str) -> list[Any]:
        return list(self._compiled.finditer(string, timeout=_remaining()))

    def __repr__(self) -> str:
        return f"TimedPattern({self.pattern!r})"
