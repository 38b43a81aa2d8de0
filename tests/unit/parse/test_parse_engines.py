"""parse(): the FRR parsers against recorded FRR 8.4 outputs, each engine, each error path."""

from __future__ import annotations

import difflib
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import ParseError
from sdd_build.parse import ENGINES, ParserCache, check_ntc, check_template, parse

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
REPO = HERE.parents[2]
OSPF_NEIGHBOR = REPO / "parsers" / "frr" / "show_ip_ospf_neighbor.textfsm"
INTERFACE_BRIEF = REPO / "parsers" / "frr" / "show_interface_brief.ttp"
OSPF_DISPLAY = "parsers/frr/show_ip_ospf_neighbor.textfsm"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def assert_golden(got: Any, golden: str) -> None:
    """Compare with a golden JSON file; on mismatch, show a unified diff."""
    want_text = (GOLDEN / golden).read_text(encoding="utf-8")
    got_text = json.dumps(got, indent=2) + "\n"
    if got_text != want_text:
        diff = "".join(
            difflib.unified_diff(
                want_text.splitlines(keepends=True),
                got_text.splitlines(keepends=True),
                f"golden/{golden}",
                "parsed",
            )
        )
        pytest.fail(f"parse differs from golden/{golden}:\n{diff}")


def parse_error(call: Any) -> tuple[str, str | None, int | None, str | None]:
    with pytest.raises(ParseError) as info:
        call()
    problem = info.value.problems[0]
    assert "Traceback" not in str(info.value)
    return problem.message, problem.file, problem.line, info.value.hint


# -- FRR parsers ------------------------------------------------------------------------------


def test_ospf_neighbor_golden() -> None:
    got = parse("textfsm", fixture("show_ip_ospf_neighbor.txt"), template=OSPF_NEIGHBOR)
    assert_golden(got, "show_ip_ospf_neighbor.json")


def test_ospf_neighbor_fields() -> None:
    rows = parse("textfsm", fixture("show_ip_ospf_neighbor.txt"), template=OSPF_NEIGHBOR)
    assert list(rows[0]) == [
        "neighbor_id", "priority", "state", "role", "uptime", "dead_time", "address",
        "interface", "interface_address", "rxmtl", "rqstl", "dbsml",
    ]  # fmt: skip
    assert [(r["neighbor_id"], r["state"], r["role"], r["interface"]) for r in rows] == [
        ("10.0.0.2", "Full", "-", "eth1"),
        ("10.0.0.3", "Full", "-", "eth2"),
    ]


def test_ospf_neighbor_broadcast_states_and_unnumbered_interface() -> None:
    rows = parse("textfsm", fixture("show_ip_ospf_neighbor_broadcast.txt"), template=OSPF_NEIGHBOR)
    assert [(r["state"], r["role"], r["interface"], r["interface_address"]) for r in rows] == [
        ("Full", "DR", "eth3", "192.0.2.1"),
        ("2-Way", "DROther", "eth3", "192.0.2.1"),
        ("Init", "-", "eth9", ""),
    ]
    assert rows[2]["priority"] == "0"
    assert rows[2]["dbsml"] == "1"


def test_ospf_neighbor_header_only_is_an_empty_list() -> None:
    assert parse("textfsm", fixture("show_ip_ospf_neighbor_none.txt"), template=OSPF_NEIGHBOR) == []


def test_interface_brief_golden() -> None:
    got = parse("ttp", fixture("show_interface_brief.txt"), template=INTERFACE_BRIEF)
    assert_golden(got, "show_interface_brief.json")


def test_interface_brief_shape() -> None:
    got = parse("ttp", fixture("show_interface_brief.txt"), template=INTERFACE_BRIEF)
    by_name = {i["interface"]: i for i in got["interfaces"]}
    assert by_name["eth2"]["addresses"] == ["10.1.13.0/31", "10.1.13.4/31", "2001:db8:13::/127"]
    assert by_name["eth0"]["addresses"] == ["172.20.20.2/24", "2001:172:20:20::2/64"]
    assert by_name["eth1"]["addresses"] == ["10.1.12.0/31"]
    assert "addresses" not in by_name["eth3"]
    assert by_name["eth3"]["status"] == "down"
    assert "Interface" not in by_name
    assert "---------" not in by_name


def test_interface_brief_single_interface_is_still_a_list() -> None:
    raw = (
        "Interface       Status  VRF             Addresses\n"
        "---------       ------  ---             ---------\n"
        "lo              up      default         10.0.0.1/32\n"
    )
    got = parse("ttp", raw, template=INTERFACE_BRIEF)
    assert got == {
        "interfaces": [
            {"interface": "lo", "status": "up", "vrf": "default", "addresses": ["10.0.0.1/32"]}
        ]
    }


def test_ttp_results_are_independent_between_parses() -> None:
    first = parse("ttp", fixture("show_interface_brief.txt"), template=INTERFACE_BRIEF)
    snapshot = json.dumps(first)
    parse("ttp", "lo              up      default         10.0.0.9/32\n", template=INTERFACE_BRIEF)
    assert json.dumps(first) == snapshot


def test_ttp_never_reads_a_file_named_by_the_output() -> None:
    # TTP alone would read the named file and parse *it*
    path = str(FIXTURES / "show_interface_brief.txt")
    message, _, _, _ = parse_error(lambda: parse("ttp", path, template=INTERFACE_BRIEF))
    assert "recognised nothing" in message
    assert f"| {path}" in message


def test_the_frr_templates_validate() -> None:
    check_template("textfsm", OSPF_NEIGHBOR, display=OSPF_DISPLAY)
    check_template("ttp", INTERFACE_BRIEF, display="parsers/frr/show_interface_brief.ttp")


# -- JSON -------------------------------------------------------------------------------------


def test_json() -> None:
    got = parse("json", fixture("show_ip_ospf_neighbor_json.txt"))
    assert got["neighbors"]["10.0.0.2"][0]["converged"] == "Full"


def test_invalid_json_has_line_and_column() -> None:
    raw = '{\n  "neighbors": {\n    "10.0.0.2": [,]\n  }\n}\n'
    message, file, line, _ = parse_error(
        lambda: parse("json", raw, origin="r1: show ip ospf neighbor json")
    )
    assert (file, line) == ("r1: show ip ospf neighbor json", 3)
    assert message.startswith("output is not valid JSON: Expecting value")
    assert '    |     "10.0.0.2": [,]' in message


def test_json_error_message_from_device() -> None:
    message, _, line, _ = parse_error(lambda: parse("json", "% Unknown command: show ip ospf x\n"))
    assert line == 1
    assert "| % Unknown command: show ip ospf x" in message


# -- empty and unrecognised input -------------------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "kwargs", "empty"),
    [
        ("textfsm", {"template": OSPF_NEIGHBOR}, []),
        ("ttp", {"template": INTERFACE_BRIEF}, {}),
        ("json", {}, {}),
        ("ntc", {"platform": "cisco_ios", "command": "show clock"}, []),
    ],
)
@pytest.mark.parametrize("raw", ["", "\n\n", "   \n"])
def test_empty_input_is_an_empty_result(
    engine: Any, kwargs: dict[str, Any], empty: Any, raw: str
) -> None:
    assert parse(engine, raw, **kwargs) == empty


def test_textfsm_recognising_nothing_is_an_error_with_an_excerpt() -> None:
    message, file, line, hint = parse_error(
        lambda: parse(
            "textfsm",
            fixture("ospf_not_running.txt"),
            template=OSPF_NEIGHBOR,
            origin="fixtures/ospf_not_running.txt",
            display_template=OSPF_DISPLAY,
        )
    )
    assert message == (
        f"textfsm parser {OSPF_DISPLAY} recognised nothing in fixtures/ospf_not_running.txt:\n"
        "    | % OSPF instance not found"
    )
    assert (file, line) == ("fixtures/ospf_not_running.txt", None)
    assert hint is not None
    assert "output of the command" in hint


def test_excerpt_is_bounded() -> None:
    raw = "\n".join(f"garbage line {i} " + "x" * 200 for i in range(40))
    message, file, _, _ = parse_error(lambda: parse("textfsm", raw, template=OSPF_NEIGHBOR))
    excerpt = message.splitlines()[1:]
    assert len(excerpt) == 6
    assert excerpt[-1] == "    | ... (35 more lines)"
    assert all(len(line) <= 6 + 120 for line in excerpt)
    assert file is None  # origin "<output>" is not a file


def test_ttp_recognising_nothing_is_an_error() -> None:
    message, _, _, _ = parse_error(
        lambda: parse("ttp", "% Unknown command: show interface brif\n", template=INTERFACE_BRIEF)
    )
    assert "ttp parser" in message
    assert "recognised nothing in <output>" in message
    assert "| % Unknown command: show interface brif" in message


def test_textfsm_error_rule_is_located_in_the_template(tmp_path: Path) -> None:
    template = tmp_path / "strict.textfsm"
    template.write_text(
        "Value NAME (\\S+)\n\nStart\n  ^name ${NAME} -> Record\n  ^\\s*$$\n  ^. -> Error\n"
    )
    message, file, line, _ = parse_error(
        lambda: parse(
            "textfsm",
            "name a\nsurprise\n",
            template=template,
            display_template="p/strict.textfsm",
            origin="r1: show names",
        )
    )
    assert (file, line) == ("p/strict.textfsm", 6)
    assert message.startswith("textfsm template p/strict.textfsm refused r1: show names: ")
    assert "Input Line: surprise" in message
    assert "    | name a" in message


# -- templates --------------------------------------------------------------------------------

BAD_TEXTFSM = [
    ("Value NAME (\\S+)\nStart\n  ^${NAME} -> Record\n", 2, "Expected blank line"),
    ("Value NAME (\\S+)\n\nStart\n  ^${NAME} -> Bogus\n", 4, "State 'Bogus' not found"),
    (
        "Value NAME (\\S+)\n\nStart\n  ^${NAME} -> Next\n  ^x -> Record Other\n\nOther2\n  ^y\n",
        5,
        "State 'Other' not found",
    ),
    ("Value NAME (\\S+)\n\nStart\n  ^${NAME} -> Record\n\nEnd\n  ^x\n", 6, "Non-Empty 'End'"),
    ("# only a comment\n", None, "Missing state 'Start'"),
    ("Value NAME (\\S+)\n\nStart\n  ^${NAME} -> Record Next Bogus\n", 4, "Badly formatted"),
    ("Value NAME (\\S+\n\nStart\n  ^${NAME} -> Record\n", 1, "must be contained within"),
    ("Value NAME (\\S+)\n\nStart\n  ^${NAME} -> Record\n  ^[ -> Next\n", 5, "Invalid regular"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD_TEXTFSM)
def test_bad_textfsm_template(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    path = tmp_path / "bad.textfsm"
    path.write_text(text)
    message, file, got_line, _ = parse_error(
        lambda: check_template("textfsm", path, display="parsers/x/bad.textfsm")
    )
    assert file == "parsers/x/bad.textfsm"
    assert got_line == line
    assert message.startswith("invalid TextFSM template: ")
    assert words in message


def test_bad_textfsm_template_also_fails_parse(tmp_path: Path) -> None:
    path = tmp_path / "bad.textfsm"
    path.write_text("Value X (\\d+)\n\nStart\n  ^${X} -> Nowhere\n")
    message, file, line, _ = parse_error(lambda: parse("textfsm", "1\n", template=path))
    assert (file, line) == (str(path), 4)
    assert "State 'Nowhere' not found" in message


def test_missing_template(tmp_path: Path) -> None:
    message, file, _, _ = parse_error(
        lambda: parse("textfsm", "x", template=tmp_path / "nope.textfsm", display_template="p/n")
    )
    assert (message, file) == ("parser template not found", "p/n")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('<group name="x">\n{{ a }} {{ b }}\n', "TTP template is not valid XML: mismatched tag"),
        ('<group name="x">\n{{ a }\n</group>\n', "invalid TTP template: group.get_regexes"),
        ("<vars>\nX = (\n</vars>\n", "TTP template refused: <vars> is not Python literals"),
        ('<group name="x">\n{{ a | re("(") }}\n</group>\n', "invalid TTP template: "),
        (
            '<group name="x">\n{{ a | ignore(x y) }}\n</group>\n',
            "TTP template refused: arguments of 'ignore' must be literals",
        ),
    ],
)
def test_bad_ttp_template(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "bad.ttp"
    path.write_text(text)
    message, file, _, _ = parse_error(lambda: check_template("ttp", path, display="p/bad.ttp"))
    assert file == "p/bad.ttp"
    assert message.startswith(words)


def test_json_takes_no_template(tmp_path: Path) -> None:
    message, _, _, _ = parse_error(lambda: check_template("json", tmp_path / "x", display="x"))
    assert message == "the json engine takes no template"


def test_unknown_engine() -> None:
    message, _, _, _ = parse_error(lambda: parse("yaml", "x"))  # type: ignore[arg-type]
    assert message == "unknown parser engine 'yaml'; use one of textfsm, ttp, json, ntc"
    assert ENGINES == ("textfsm", "ttp", "json", "ntc")


def test_template_required() -> None:
    message, _, _, _ = parse_error(lambda: parse("textfsm", "x"))
    assert message == "the textfsm engine needs a template"


# -- ntc-templates ----------------------------------------------------------------------------


def test_ntc_parses_like_ntc_templates() -> None:
    from ntc_templates.parse import parse_output

    raw = "*10:01:23.456 UTC Mon Mar 1 2021\n"
    got = parse("ntc", raw, platform="cisco_ios", command="show clock")
    assert got == parse_output(platform="cisco_ios", command="show clock", data=raw)
    assert got[0]["timezone"] == "UTC"
    # abbreviations are resolved through ntc's index, as with ntc-templates itself
    assert parse("ntc", raw, platform="cisco_ios", command="sh clo") == got


def test_ntc_unknown_platform() -> None:
    message, _, _, hint = parse_error(
        lambda: parse("ntc", "x\n", platform="cisco_iso", command="show clock")
    )
    assert message.startswith("platform 'cisco_iso' is unknown to ntc-templates ")
    assert "did you mean 'cisco_ios'" in message
    assert hint is not None


def test_ntc_unknown_command() -> None:
    message, _, _, hint = parse_error(lambda: check_ntc("cisco_ios", "show frobnicators"))
    assert "has no template for command 'show frobnicators' on platform 'cisco_ios'" in message
    assert hint is not None
    assert "spelling" in hint


def test_ntc_needs_platform_and_command() -> None:
    message, _, _, _ = parse_error(lambda: parse("ntc", "x", platform="cisco_ios"))
    assert message == "the ntc engine needs both a platform and a command"


def test_ntc_recognising_nothing() -> None:
    message, _, _, _ = parse_error(
        lambda: parse("ntc", "% Invalid input\n", platform="cisco_ios", command="show clock")
    )
    assert "recognised nothing" in message


# -- caching ----------------------------------------------------------------------------------


def test_textfsm_template_compiled_once_per_content(tmp_path: Path) -> None:
    from sdd_build.design.source import Snapshot

    path = tmp_path / "t.textfsm"
    path.write_text("Value X (\\d+)\n\nStart\n  ^${X} -> Record\n")
    cache = ParserCache()
    snap, _ = Snapshot.capture(tmp_path, ["t.textfsm"])
    assert parse("textfsm", "1\n2\n", template=path, cache=cache) == [{"x": "1"}, {"x": "2"}]
    path.write_text("garbage")
    # from a snapshot the bytes read at capture are what is parsed with, whatever the disk says
    got = parse("textfsm", "3\n", template=path, cache=cache, source=snap)
    assert got == [{"x": "3"}]
    # from the disk, the changed file is another template (never a stale compiled one)
    with pytest.raises(ParseError):
        parse("textfsm", "3\n", template=path, cache=cache)


def test_textfsm_threads_do_not_share_state() -> None:
    raw = fixture("show_ip_ospf_neighbor.txt")
    expected = parse("textfsm", raw, template=OSPF_NEIGHBOR)
    cache = ParserCache()
    failures: list[Any] = []

    def work() -> None:
        for _ in range(50):
            got = parse("textfsm", raw, template=OSPF_NEIGHBOR, cache=cache)
            if got != expected:
                failures.append(got)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_textfsm_parsers_are_shared_between_threads_never_used_by_two_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A parser holds its state while it parses: each parse has one to itself, and idle ones
    go to whichever thread parses next (not one made per thread: a fleet build has 100)."""
    from sdd_build.parse import engines

    outputs = [
        fixture("show_ip_ospf_neighbor.txt"),
        fixture("show_ip_ospf_neighbor.txt").split("\n", 2)[0] + "\n",  # the header alone
    ]
    expected = [parse("textfsm", raw, template=OSPF_NEIGHBOR) for raw in outputs]
    assert expected[0]
    assert expected[1] == []
    made: list[Any] = []
    real = engines.textfsm.TextFSM

    def counting(*args: Any) -> Any:
        made.append(1)
        return real(*args)

    monkeypatch.setattr(engines.textfsm, "TextFSM", counting)
    cache = ParserCache()
    failures: list[Any] = []
    start = threading.Barrier(8)

    def work(index: int, together: threading.Barrier | None = None) -> None:
        if together is not None:
            together.wait()
        for n in range(60):
            which = (index + n) % 2
            got = parse("textfsm", outputs[which], template=OSPF_NEIGHBOR, cache=cache)
            if got != expected[which]:
                failures.append(got)

    threads = [threading.Thread(target=work, args=(i, start)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    # one to validate the template, then at most one per parse running at once
    assert 1 <= len(made) <= 1 + len(threads)
    before = len(made)
    for _ in range(5):  # new threads, one after the other: they take idle ones, none is made
        late = threading.Thread(target=work, args=(0,))
        late.start()
        late.join()
    assert failures == []
    assert len(made) == before


def test_public_api() -> None:
    import sdd_build.parse as package

    assert sorted(package.__all__) == sorted(
        [
            "ENGINES",
            "Engine",
            "ParserCache",
            "check_ntc",
            "check_template",
            "default_cache",
            "parse",
        ]
    )
    for name in package.__all__:
        assert getattr(package, name) is not None
