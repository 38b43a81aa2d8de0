"""Acceptance checks: every operator passing and failing, coercion, templating, evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sdd_build.checks import EXCERPT_LIMIT, CheckResult, evaluate, validate_check
from sdd_build.design.models import AcceptanceCheck
from sdd_build.errors import CheckError, RenderError
from sdd_build.parse import parse
from sdd_build.render import TemplateLibrary

REPO = Path(__file__).parents[3]
PARSE_FIXTURES = REPO / "tests" / "unit" / "parse" / "fixtures"

NEIGHBORS = [
    {"neighbor_id": "10.0.0.2", "priority": "1", "state": "Full", "role": "-", "dead_time": "3.4s"},
    {"neighbor_id": "10.0.0.3", "priority": "1", "state": "Full", "role": "-", "dead_time": "3.1s"},
    {"neighbor_id": "10.0.0.4", "priority": "0", "state": "Init", "role": "-", "dead_time": "39s"},
]
JSON_DATA = {"neighbors": {"10.0.0.2": [{"converged": "Full", "upTimeInMsec": 62000}]}}


def check(**expect: Any) -> AcceptanceCheck:
    return AcceptanceCheck(id="AC-1", covers=["REQ-1"], expect=expect)


def run(data: Any = None, **expect: Any) -> CheckResult:
    return evaluate(check(**expect), NEIGHBORS if data is None else data, host="r1")


# -- every operator, pass and fail ------------------------------------------------------------

CASES: list[tuple[dict[str, Any], bool]] = [
    ({"query": "length([?state=='Full'])", "eq": 2}, True),
    ({"query": "length([?state=='Full'])", "eq": 3}, False),
    ({"query": "[0].state", "eq": "Full"}, True),
    ({"query": "[2].state", "eq": "Full"}, False),
    ({"query": "[].state", "eq": ["Full", "Full", "Init"]}, True),
    ({"query": "[0].nothing", "eq": None}, True),
    ({"query": "[2].state", "ne": "Full"}, True),
    ({"query": "[0].state", "ne": "Full"}, False),
    ({"query": "length(@)", "lt": 4}, True),
    ({"query": "length(@)", "lt": 3}, False),
    ({"query": "length(@)", "lte": 3}, True),
    ({"query": "length(@)", "lte": 2}, False),
    ({"query": "length(@)", "gt": 2}, True),
    ({"query": "length(@)", "gt": 3}, False),
    ({"query": "length([?starts_with(state, 'Full')])", "gte": 2}, True),
    ({"query": "length([?starts_with(state, 'Full')])", "gte": 3}, False),
    ({"query": "[].state", "contains": "Init"}, True),
    ({"query": "[].state", "contains": "ExStart"}, False),
    ({"query": "[0].neighbor_id", "contains": "10.0"}, True),
    ({"query": "[0].neighbor_id", "contains": "192."}, False),
    ({"query": "[0]", "contains": "role"}, True),
    ({"query": "[0]", "contains": "uptime"}, False),
    ({"query": "[].priority", "contains": 0}, True),  # "0" from TextFSM equals 0
    ({"query": "[0].neighbor_id", "matches": r"^10\.0\.0\.\d+$"}, True),
    ({"query": "[0].neighbor_id", "matches": r"^192\."}, False),
    ({"query": "[].state", "matches": "Init"}, True),  # a list is matched in its JSON form
    ({"query": "[?state=='Full']", "length": 2}, True),
    ({"query": "[?state=='Full']", "length": 3}, False),
    ({"query": "[0].state", "length": 4}, True),
]


@pytest.mark.parametrize(("expect", "passed"), CASES)
def test_operators(expect: dict[str, Any], passed: bool) -> None:
    result = run(**expect)
    assert result.passed is passed, result.reason
    assert result.op == next(k for k in expect if k != "query")
    assert result.query == expect["query"]


def test_reason_on_failure_states_expected_and_found() -> None:
    result = run(query="length([?state=='Full'])", gte=3)
    assert result.reason == "expected length([?state=='Full']) >= 3, found 2"
    assert (result.expected, result.found) == (3, 2)


def test_reason_on_success() -> None:
    result = run(query="[0].state", eq="Full")
    assert result.reason == '[0].state == "Full": found "Full"'


def test_result_is_frozen() -> None:
    result = run(query="[0].state", eq="Full")
    with pytest.raises(ValidationError):
        result.passed = False  # type: ignore[misc]


# -- failures that are not exceptions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("expect", "reason"),
    [
        (
            {"query": "[0].nothing", "gt": 1},
            "expected [0].nothing > 1, but found null, which is not a number",
        ),
        (
            {"query": "[0].state", "gte": 1},
            'expected [0].state >= 1, but found "Full", which is not a number',
        ),
        (
            {"query": "[0].state", "lt": "many"},
            'expected [0].state < "many", but expected value "many" is not a number',
        ),
        (
            {"query": "[0].nothing", "length": 1},
            "expected [0].nothing has length 1, but found null, which has no length",
        ),
        (
            {"query": "length(@)", "length": 1},
            "expected length(@) has length 1, but found 3, which has no length",
        ),
        (
            {"query": "[0].nothing", "matches": "x"},
            'expected [0].nothing matches "x", but found null, nothing to match',
        ),
        (
            {"query": "[0].nothing", "contains": "x"},
            'expected [0].nothing contains "x", but found null, which cannot contain anything',
        ),
    ],
)
def test_uncomparable_values_fail_with_a_reason(expect: dict[str, Any], reason: str) -> None:
    result = run(**expect)
    assert result.passed is False
    assert result.reason == reason


def test_booleans_are_not_numbers() -> None:
    assert run([{"up": True}], query="[0].up", gte=1).passed is False
    assert run([{"up": True}], query="[0].up", eq=1).passed is False
    assert run([{"up": True}], query="[0].up", eq=True).passed is True


def test_jmespath_runtime_error_is_a_failed_result() -> None:
    result = run(query="abs([0].state)", eq=1)
    assert result.passed is False
    assert result.found is None
    assert result.reason.startswith("query abs([0].state) failed: In function abs(), invalid type")


def test_unknown_function_is_a_failed_result() -> None:
    result = run(query="frobnicate(@)", eq=1)
    assert result.passed is False
    assert "Unknown function: frobnicate()" in result.reason


def test_invalid_regex_after_templating_is_a_failed_result() -> None:
    result = evaluate(
        check(query="[0].state", matches="{{ pattern }}"),
        NEIGHBORS,
        host="r1",
        render_expected=lambda _: "Full(",
    )
    assert result.passed is False
    assert "not a valid regular expression" in result.reason


# -- numeric coercion -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expect", "passed"),
    [
        ([{"p": "1"}], {"query": "[0].p", "eq": 1}, True),  # TextFSM string vs design number
        ([{"p": "1"}], {"query": "[0].p", "eq": "1"}, True),
        ([{"p": 1}], {"query": "[0].p", "eq": "1"}, True),  # rendered "1" vs JSON number
        ([{"p": 1.0}], {"query": "[0].p", "eq": "1"}, True),
        ([{"p": "01"}], {"query": "[0].p", "eq": "1"}, False),  # two strings: compared as text
        ([{"p": "1"}], {"query": "[0].p", "ne": 2}, True),
        ([{"p": "10"}], {"query": "[0].p", "gt": "9"}, True),  # numeric, not lexicographic
        ([{"p": " 2.5 "}], {"query": "[0].p", "lte": 2.5}, True),
        ([{"p": "1e3"}], {"query": "[0].p", "gte": 1000}, True),
        ([{"p": "nan"}], {"query": "[0].p", "gte": 0}, False),
        ([[1, 2]], {"query": "[0]", "length": "2"}, True),
        ([[1, 2]], {"query": "[0]", "length": "2.0"}, True),
    ],
)
def test_numeric_coercion(data: Any, expect: dict[str, Any], passed: bool) -> None:
    result = run(data, **expect)
    assert result.passed is passed, result.reason


def test_length_needs_a_whole_number() -> None:
    result = evaluate(
        check(query="@", length="{{ n }}"), [1, 2], host="r1", render_expected=lambda _: "2.5"
    )
    assert result.passed is False
    assert result.reason.endswith('but expected length "2.5" is not a whole number')


# -- templated expected values ----------------------------------------------------------------


@pytest.fixture
def lib(tmp_path: Path) -> TemplateLibrary:
    return TemplateLibrary(tmp_path)


def renderer(lib: TemplateLibrary, ctx: dict[str, Any], host: str = "r1") -> Any:
    def render(source: str) -> str:
        return lib.render_string(source, ctx, host=host, origin="designs/x.yaml", origin_line=12)

    return render


def test_templated_expected_value(lib: TemplateLibrary) -> None:
    ctx = {"host": {"data": {"ospf_peers": 2}}}
    result = evaluate(
        check(query="length([?state=='Full'])", gte="{{ host.data.ospf_peers }}"),
        NEIGHBORS,
        host="r1",
        render_expected=renderer(lib, ctx),
    )
    assert result.passed is True
    assert result.expected == 2
    assert result.reason == "length([?state=='Full']) >= 2: found 2"


def test_templated_expected_value_fails_for_another_host(lib: TemplateLibrary) -> None:
    ctx = {"host": {"data": {"ospf_peers": 3}}}
    result = evaluate(
        check(query="length([?state=='Full'])", gte="{{ host.data.ospf_peers }}"),
        NEIGHBORS,
        host="r2",
        render_expected=renderer(lib, ctx, "r2"),
    )
    assert result.passed is False
    assert result.host == "r2"
    assert result.reason == "expected length([?state=='Full']) >= 3, found 2"


def test_templated_strings_inside_lists(lib: TemplateLibrary) -> None:
    ctx = {"host": {"data": {"peer": "10.0.0.3"}}}
    result = evaluate(
        check(query="[:2].neighbor_id", eq=["10.0.0.2", "{{ host.data.peer }}"]),
        NEIGHBORS,
        host="r1",
        render_expected=renderer(lib, ctx),
    )
    assert result.passed is True
    assert result.expected == ["10.0.0.2", "10.0.0.3"]


def test_templated_eq_string_stays_a_string_against_strings(lib: TemplateLibrary) -> None:
    ctx = {"host": {"data": {"rid": "10.0.0.2"}}}
    result = evaluate(
        check(query="[0].neighbor_id", eq="{{ host.data.rid }}"),
        NEIGHBORS,
        host="r1",
        render_expected=renderer(lib, ctx),
    )
    assert result.passed is True
    assert result.expected == "10.0.0.2"


def test_render_error_propagates(lib: TemplateLibrary) -> None:
    with pytest.raises(RenderError, match=r"undefined variable host\.data\.ospf_peers"):
        evaluate(
            check(query="length(@)", gte="{{ host.data.ospf_peers }}"),
            NEIGHBORS,
            host="r1",
            render_expected=renderer(lib, {"host": {"data": {}}}),
        )


def test_templated_value_without_renderer_is_a_check_error() -> None:
    with pytest.raises(CheckError, match="is a template, but no renderer was given"):
        run(query="length(@)", gte="{{ host.data.ospf_peers }}")


def test_plain_string_is_not_rendered() -> None:
    def explode(_: Any) -> Any:
        raise AssertionError("renderer called")

    result = evaluate(check(query="[0].state", eq="Full"), NEIGHBORS, host="r1",
                      render_expected=explode)  # fmt: skip
    assert result.passed is True


# -- evidence ---------------------------------------------------------------------------------


def test_evidence_from_raw_output() -> None:
    raw = (PARSE_FIXTURES / "show_ip_ospf_neighbor.txt").read_text()
    data = parse("textfsm", raw, template=REPO / "parsers/frr/show_ip_ospf_neighbor.textfsm")
    result = evaluate(
        check(query="length([?state=='Full'])", gte=2),
        data,
        host="r1",
        input_ref="r1: show ip ospf neighbor",
        raw=raw,
    )
    assert result.passed is True
    assert result.input_ref == "r1: show ip ospf neighbor"
    assert result.input_excerpt == raw


def test_evidence_defaults_to_parsed_data() -> None:
    result = run(JSON_DATA, query="neighbors.*[][].converged", contains="Full")
    assert result.passed is True
    assert result.input_excerpt == json.dumps(JSON_DATA)
    assert result.input_ref is None


def test_excerpt_is_bounded() -> None:
    raw = "x" * 10_000
    result = evaluate(check(query="@", eq=1), [], host="r1", raw=raw)
    assert result.input_excerpt is not None
    assert len(result.input_excerpt) == EXCERPT_LIMIT
    assert result.input_excerpt.endswith("...")
    big = [{"n": i} for i in range(5000)]
    result = evaluate(check(query="length(@)", gt=1), big, host="r1")
    assert result.input_excerpt is not None
    assert len(result.input_excerpt) <= EXCERPT_LIMIT


def test_result_serialises_to_json() -> None:
    result = run(query="[0]", eq={"x": 1})
    dumped = json.loads(result.model_dump_json())
    assert dumped["check_id"] == "AC-1"
    assert dumped["host"] == "r1"
    assert dumped["found"] == NEIGHBORS[0]
    assert set(dumped) == {
        "check_id", "host", "passed", "op", "query", "expected", "found", "reason",
        "input_ref", "input_excerpt",
    }  # fmt: skip


# -- validate_check ---------------------------------------------------------------------------


def test_validate_good_checks() -> None:
    validate_check(check(query="length([?state=='Full'])", gte=2), origin="d.yaml", line=3)
    validate_check(check(query="[0].p", gte="{{ host.data.n }}"), origin="d.yaml", line=3)
    validate_check(check(query="[0].p", gte="2"), origin="d.yaml", line=3)
    validate_check(check(query="@", length=0), origin="d.yaml", line=3)


@pytest.mark.parametrize(
    "query",
    ["length([?state=='Full']", "[?state=='Full'", "foo[", "a..b", "[?state=`Full]"],
)
def test_validate_bad_jmespath(query: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_check(check(query=query, eq=1), origin="designs/ospf.yaml", line=42)
    problem = info.value.problems[0]
    assert (problem.file, problem.line) == ("designs/ospf.yaml", 42)
    assert problem.message.startswith(f"check AC-1: invalid JMESPath query {query!r}: ")


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"query": "@", "gte": "two"}, "check AC-1: 'gte' needs a number, got \"two\""),
        ({"query": "@", "lt": None}, "check AC-1: 'lt' needs a number, got null"),
        ({"query": "@", "length": -1}, "check AC-1: 'length' needs a whole number >= 0, got -1"),
        (
            {"query": "@", "length": "2.5"},
            "check AC-1: 'length' needs a whole number >= 0, got \"2.5\"",
        ),
    ],
)
def test_validate_bad_expected(expect: dict[str, Any], message: str) -> None:
    with pytest.raises(CheckError) as info:
        validate_check(check(**expect), origin="d.yaml", line=7)
    assert info.value.problems[0].message == message
    assert info.value.problems[0].line == 7


def test_public_api() -> None:
    import sdd_build.checks as package

    assert sorted(package.__all__) == sorted(
        ["EXCERPT_LIMIT", "CheckResult", "evaluate", "validate_check"]
    )
    for name in package.__all__:
        assert getattr(package, name) is not None
