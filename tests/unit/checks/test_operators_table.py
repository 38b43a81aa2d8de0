"""Check operators are one table (issue 11, the inside of the house): schema and evaluator agree."""

from __future__ import annotations

from sdd_build.checks.evaluate import OPERATORS
from sdd_build.design.models import COMPARISON_OPS, Expect


def test_every_schema_operator_has_one_entry_with_symbol_and_compare() -> None:
    assert set(OPERATORS) == set(COMPARISON_OPS)
    assert set(COMPARISON_OPS) <= set(Expect.model_fields)
    for name, operator in OPERATORS.items():
        assert operator.symbol, name
        assert callable(operator.compare), name


def test_literal_checks_name_what_they_need() -> None:
    gte, length = OPERATORS["gte"].literal, OPERATORS["length"].literal
    assert gte is not None
    assert length is not None
    assert gte("x") == "a number"
    assert gte("3") is None
    assert length(-1) == "a whole number >= 0"
    assert OPERATORS["eq"].literal is None
