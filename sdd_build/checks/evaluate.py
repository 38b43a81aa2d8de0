"""Declarative acceptance checks: a JMESPath query over parsed output and one comparison.

No ``eval``: the design can only choose a query and an operator from a fixed table.

Numeric coercion (after the expected value is templated, e.g. ``"{{ host.data.ospf_peers }}"``
renders to the string ``"2"``):

* ``lt``/``lte``/``gt``/``gte``: both sides must be numbers; a string that reads as a number
  (``"2"``, ``" -1.5 "``, ``"1e3"``) on either side is converted (TextFSM yields strings).
  Anything else (``None``, ``"Full"``, a list, a bool) fails the check with a reason.
* ``length``: the expected value is converted the same way and must be a whole number; the
  found value must have a length (list, string, object).
* ``eq``/``ne``: when one side is a number and the other a numeric string, both are compared
  as numbers; otherwise values are compared as they are (``"1" != 1`` only when neither side
  is a number). ``True``/``False`` are never treated as numbers.
* ``contains``: found list: an element equals expected (numbers and numeric strings compare
  equal, as for ``eq``); found string: ``str(expected)`` is a substring; found object: expected
  is a key.
* ``matches``: ``re.search(expected, found)`` on the found string; a non-string found value is
  matched in its JSON form; ``None`` fails.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field

from sdd_build.design.models import COMPARISON_OPS, AcceptanceCheck
from sdd_build.errors import CheckError
from sdd_build.parse.bounded import TimedPattern

__all__ = ["EXCERPT_LIMIT", "OPERATORS", "CheckResult", "Operator", "evaluate", "validate_check"]

EXCERPT_LIMIT = 2048  # characters of evidence kept with a result
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$")
_compiled: dict[str, Any] = {}
_compiled_lock = threading.Lock()


class CheckResult(BaseModel):
    """The outcome of one acceptance check on one host, with its evidence."""

    model_config = ConfigDict(frozen=True)

    check_id: str
    host: str
    passed: bool
    op: str
    query: str
    expected: Any = Field(description="The expected value after templating and coercion.")
    found: Any = Field(description="What the query returned (None when it found nothing).")
    reason: str = Field(description="Human text: what was expected, what was found.")
    input_ref: str | None = Field(
        default=None, description="Where the input came from: output file, host and command."
    )
    input_excerpt: str | None = Field(
        default=None, description=f"The start of the input, at most {EXCERPT_LIMIT} characters."
    )


def _compile(query: str) -> Any:
    """Compiled JMESPath expression, cached by source (raises JMESPathError)."""
    expression = _compiled.get(query)
    if expression is None:
        expression = jmespath.compile(query)
        with _compiled_lock:
            _compiled[query] = expression
    return expression


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> int | float | None:
    """The value as a number if it is one or reads as one; else None."""
    if _is_number(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str):
        text = value.strip()
        if _INT.match(text):
            return int(text)
        if _FLOAT.match(text):
            number = float(text)
            return number if math.isfinite(number) else None
    return None


def _numeric_pair(found: Any, expected: Any) -> tuple[int | float, int | float] | None:
    """Both as numbers when one side is a number and the other one too or a numeric string."""
    if not (_is_number(found) or _is_number(expected)):
        return None
    a, b = _as_number(found), _as_number(expected)
    return None if a is None or b is None else (a, b)


def _equal(found: Any, expected: Any) -> bool:
    if isinstance(found, bool) != isinstance(expected, bool):
        return False  # Python says True == 1; a design does not
    pair = _numeric_pair(found, expected)
    if pair is not None:
        return pair[0] == pair[1]
    return bool(found == expected)


def _show(value: Any, limit: int = 200) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _excerpt(raw: str | None, data: Any) -> str:
    text = raw if raw is not None else _show(data, limit=EXCERPT_LIMIT + 1)
    return text if len(text) <= EXCERPT_LIMIT else text[: EXCERPT_LIMIT - 3] + "..."


def _render(value: Any, render_expected: Callable[[Any], Any] | None, check_id: str) -> Any:
    """Render templated strings (containing ``{{``), recursively through lists and dicts."""
    if isinstance(value, str):
        if "{{" not in value:
            return value
        if render_expected is None:
            raise CheckError(
                f"check {check_id}: expected value {value!r} is a template, "
                "but no renderer was given to evaluate it"
            )
        return render_expected(value)
    if isinstance(value, list):
        return [_render(v, render_expected, check_id) for v in value]
    if isinstance(value, dict):
        return {k: _render(v, render_expected, check_id) for k, v in value.items()}
    return value


Outcome = tuple[bool, Any, str | None]  # (passed, expected as compared, why not comparable)


def _ordering(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Outcome]:
    def compare(found: Any, expected: Any) -> Outcome:
        want = _as_number(expected)
        if want is None:
            return False, expected, f"expected value {_show(expected)} is not a number"
        have = _as_number(found)
        if have is None:
            return False, want, f"found {_show(found)}, which is not a number"
        return bool(test(have, want)), want, None

    return compare


def _length(found: Any, expected: Any) -> Outcome:
    want = _as_number(expected)
    if not isinstance(want, int) and not (isinstance(want, float) and want.is_integer()):
        return False, expected, f"expected length {_show(expected)} is not a whole number"
    want = int(want)
    if not isinstance(found, list | str | dict):
        return False, want, f"found {_show(found)}, which has no length"
    return len(found) == want, want, None


def _contains(found: Any, expected: Any) -> Outcome:
    if isinstance(found, list):
        return any(_equal(item, expected) for item in found), expected, None
    if isinstance(found, str):
        if isinstance(expected, str) or _is_number(expected):
            return str(expected) in found, expected, None
        return False, expected, f"cannot look for {_show(expected)} in a string"
    if isinstance(found, dict):
        return isinstance(expected, str) and expected in found, expected, None
    return False, expected, f"found {_show(found)}, which cannot contain anything"


def _matches(found: Any, expected: Any) -> Outcome:
    if found is None:
        return False, expected, "found null, nothing to match"
    if not isinstance(expected, str):
        return False, expected, f"pattern {_show(expected)} is not a string"
    try:
        pattern = TimedPattern(expected)
    except re.error as exc:
        return False, expected, f"pattern {expected!r} is not a valid regular expression: {exc}"
    subject = found if isinstance(found, str) else _show(found, limit=1_000_000)
    try:
        return pattern.search(subject) is not None, expected, None
    except TimeoutError:
        return False, expected, f"pattern {expected!r} ran out of time (SDD_PARSE_SECONDS)"


def _number_literal(expected: Any) -> str | None:
    return "a number" if _as_number(expected) is None else None


def _length_literal(expected: Any) -> str | None:
    number = _as_number(expected)
    if number is None or number < 0 or not float(number).is_integer():
        return "a whole number >= 0"
    return None


@dataclass(frozen=True)
class Operator:
    """One comparison of ``expect``: how it reads, how it compares, what literal it needs."""

    symbol: str
    compare: Callable[[Any, Any], Outcome]
    #: what an untemplated expected value must be (``None``: anything goes), checked offline
    literal: Callable[[Any], str | None] | None = None


#: The one table of check operators. ``design.models.COMPARISON_OPS`` (the schema's fields)
#: must name the same keys: checked when this module is imported.
OPERATORS: dict[str, Operator] = {
    "eq": Operator("==", lambda f, e: (_equal(f, e), e, None)),
    "ne": Operator("!=", lambda f, e: (not _equal(f, e), e, None)),
    "lt": Operator("<", _ordering(lambda a, b: a < b), _number_literal),
    "lte": Operator("<=", _ordering(lambda a, b: a <= b), _number_literal),
    "gt": Operator(">", _ordering(lambda a, b: a > b), _number_literal),
    "gte": Operator(">=", _ordering(lambda a, b: a >= b), _number_literal),
    "contains": Operator("contains", _contains),
    "matches": Operator("matches", _matches),
    "length": Operator("has length", _length, _length_literal),
}
if set(OPERATORS) != set(COMPARISON_OPS):  # pragma: no cover - a developer error, at import
    raise ImportError(
        f"check operators and the schema disagree: {sorted(set(OPERATORS) ^ set(COMPARISON_OPS))}"
    )


def evaluate(
    check: AcceptanceCheck,
    data: Any,
    *,
    host: str,
    render_expected: Callable[[Any], Any] | None = None,
    input_ref: str | None = None,
    raw: str | None = None,
) -> CheckResult:
    """Run one acceptance check over parsed output.

    Args:
        check: the design's check.
        data: the parsed output (what the parser returned).
        host: the host the output came from.
        render_expected: renders a templated expected value (a string containing ``{{``)
            with the host's context; errors it raises (``RenderError``) propagate.
        input_ref: evidence pointer, e.g. ``r1: show ip ospf neighbor (runs/…/r1.txt)``.
        raw: the raw output, for the excerpt kept with the result (else the parsed data).

    A query that fails at run time (a function applied to the wrong type) is a failed result
    with the reason, never an exception.
    """
    expect = check.expect
    op = expect.op
    query = expect.query
    expected = _render(expect.expected, render_expected, check.id)
    excerpt = _excerpt(raw, data)

    def result(passed: bool, found: Any, shown_expected: Any, reason: str) -> CheckResult:
        return CheckResult(
            check_id=check.id,
            host=host,
            passed=passed,
            op=op,
            query=query,
            expected=shown_expected,
            found=found,
            reason=reason,
            input_ref=input_ref,
            input_excerpt=excerpt,
        )

    try:
        found = _compile(query).search(data)
    except Exception as exc:  # JMESPathTypeError, UnknownFunctionError, ...: a failed check
        message = " ".join(str(exc).split())
        message = message if len(message) <= 300 else message[:297] + "..."
        return result(False, None, expected, f"query {query} failed: {message}")
    operator = OPERATORS[op]
    passed, compared, problem = operator.compare(found, expected)
    statement = f"{query} {operator.symbol} {_show(compared)}"
    if problem is not None:
        reason = f"expected {statement}, but {problem}"
    elif passed:
        reason = f"{statement}: found {_show(found)}"
    else:
        reason = f"expected {statement}, found {_show(found)}"
    return result(passed, found, compared, reason)


def validate_check(check: AcceptanceCheck, *, origin: str, line: int | None) -> None:
    """Offline validation of a check's definition; ``CheckError`` at the design's file:line.

    Checks the JMESPath syntax, and that a literal (untemplated) expected value can be
    compared with the operator (a number for lt/lte/gt/gte, a whole number for length).
    """
    expect = check.expect
    try:
        _compile(expect.query)
    except JMESPathError as exc:
        message = " ".join(str(exc).split())
        raise CheckError(
            f"check {check.id}: invalid JMESPath query {expect.query!r}: {message}",
            file=origin,
            line=line,
            hint="see https://jmespath.org/specification.html",
        ) from None
    expected = expect.expected
    if isinstance(expected, str) and "{{" in expected:
        return  # checked per host once rendered
    op = expect.op
    literal = OPERATORS[op].literal
    needs = literal(expected) if literal is not None else None
    if needs is not None:
        raise CheckError(
            f"check {check.id}: '{op}' needs {needs}, got {_show(expected)}",
            file=origin,
            line=line,
        )
