"""TemplateLibrary: golden renders, located errors, compile-once caching, the injection guard."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import RenderError
from sdd_build.render import TemplateLibrary

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
GOLDEN = HERE / "golden"
DESIGN = "designs/ospf.yaml"


@pytest.fixture
def lib() -> TemplateLibrary:
    return TemplateLibrary(TEMPLATES, display_root=HERE)


def r1() -> dict[str, Any]:
    return {
        "host": {
            "name": "r1",
            "data": {
                "router_id": "10.0.0.1",
                "ospf_area": "0.0.0.0",
                "interfaces": [
                    {"name": "eth1", "address": "10.1.12.0/31", "description": "to r2"},
                    {"name": "eth2", "address": "10.1.13.0/31"},
                ],
            },
        }
    }


def render_error(call: Any) -> tuple[str, str | None, int | None]:
    with pytest.raises(RenderError) as info:
        call()
    assert len(info.value.problems) == 1
    problem = info.value.problems[0]
    assert "Traceback" not in str(info.value)
    return problem.message, problem.file, problem.line


# -- golden renders ---------------------------------------------------------------------------


def test_golden_render(lib: TemplateLibrary) -> None:
    rendered = lib.render("frr/ospf_interfaces.j2", r1(), host="r1")
    assert rendered == (GOLDEN / "r1.ospf_interfaces.cfg").read_text()


def test_literal_multiline_text_is_not_an_injection(lib: TemplateLibrary) -> None:
    assert lib.render("frr/literal_multiline.j2", {}, host="r1") == "line one\nline two\n\nab\n"


def test_literal_strings_in_expressions_are_template_text(lib: TemplateLibrary) -> None:
    out = lib.render_string('a{{ "\\n" }}b{{ x }}', {"x": 1}, host="r1", origin=DESIGN)
    assert out == "a\nb1"


def test_render_string(lib: TemplateLibrary) -> None:
    out = lib.render_string(
        "show ip ospf interface {{ iface }}", {"iface": "eth1"}, host="r1", origin=DESIGN
    )
    assert out == "show ip ospf interface eth1"


def test_non_string_values_render(lib: TemplateLibrary) -> None:
    out = lib.render_string(
        "{{ a }} {{ b }} {{ c }} {{ d }} {{ e }}",
        {"a": 1, "b": 2.5, "c": True, "d": None, "e": ["x", "y"]},
        host="r1",
        origin=DESIGN,
    )
    assert out == "1 2.5 True None ['x', 'y']"


def test_non_breaking_space_is_allowed(lib: TemplateLibrary) -> None:
    out = lib.render_string("{{ d }}", {"d": "a\u00a0b"}, host="r1", origin=DESIGN)
    assert out == "a\u00a0b"


def test_variables(lib: TemplateLibrary) -> None:
    assert lib.variables("frr/ospf_interfaces.j2") == frozenset({"host"})
    assert lib.variables("frr/description.j2") == frozenset({"host", "iface"})


# -- caching ----------------------------------------------------------------------------------


def test_get_compiles_once(lib: TemplateLibrary) -> None:
    assert lib.get("frr/undefined.j2") is lib.get("frr/undefined.j2")


def test_render_string_compiles_once(lib: TemplateLibrary) -> None:
    lib.render_string("x {{ a }}", {"a": 1}, host="r1", origin=DESIGN)
    compiled = lib._strings["x {{ a }}"]
    lib.render_string("x {{ a }}", {"a": 2}, host="r2", origin=DESIGN)
    assert lib._strings["x {{ a }}"] is compiled


def test_file_changes_are_not_picked_up_after_compile(tmp_path: Path) -> None:
    template = tmp_path / "t.j2"
    template.write_text("one\n")
    lib = TemplateLibrary(tmp_path)
    assert lib.render("t.j2", {}, host="r1") == "one\n"
    template.write_text("two\n")
    assert lib.render("t.j2", {}, host="r1") == "one\n"


def test_concurrent_renders(lib: TemplateLibrary) -> None:
    results: list[str] = []

    def work() -> None:
        for _ in range(50):
            results.append(lib.render("frr/ospf_interfaces.j2", r1(), host="r1"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert len(results) == 200


def test_render_is_fast(tmp_path: Path) -> None:
    # a generous floor (measured ~150k/s): catches an accidental per-render compile or AST walk
    (tmp_path / "t.j2").write_text(
        "interface {{ a }}\n description {{ b }}\n ip address {{ c }}\n"
        " ip ospf area {{ d }}\n ip ospf cost {{ e }}\n no shutdown\nexit\n!\n!\nend\n"
    )
    lib = TemplateLibrary(tmp_path)
    ctx = {"a": "eth1", "b": "to r2", "c": "10.0.0.1/31", "d": 0, "e": 10}
    lib.render("t.j2", ctx, host="r1")
    start = time.perf_counter()
    for _ in range(2000):
        lib.render("t.j2", ctx, host="r1")
    assert time.perf_counter() - start < 1.0


# -- errors -----------------------------------------------------------------------------------


def test_not_found(lib: TemplateLibrary) -> None:
    message, file, line = render_error(lambda: lib.render("frr/nope.j2", {}, host="r1"))
    assert message == "template 'frr/nope.j2' not found in templates/"
    assert (file, line) == (None, None)


def test_check_not_found(lib: TemplateLibrary) -> None:
    message, _, _ = render_error(lambda: lib.check("frr/nope.j2"))
    assert "'frr/nope.j2' not found" in message


def test_syntax_error(lib: TemplateLibrary) -> None:
    message, file, line = render_error(lambda: lib.check("frr/syntax.j2"))
    assert file == "templates/frr/syntax.j2"
    assert line == 3
    assert message.startswith("template syntax error: Unexpected end of template")
    assert "'endfor'" in message


def test_syntax_error_on_render_too(lib: TemplateLibrary) -> None:
    _, file, line = render_error(lambda: lib.render("frr/syntax.j2", r1(), host="r1"))
    assert (file, line) == ("templates/frr/syntax.j2", 3)


def test_check_follows_includes(lib: TemplateLibrary) -> None:
    lib.check("frr/ospf_interfaces.j2")
    lib.check("frr/includes.j2")
    message, file, line = render_error(lambda: lib.check("frr/includes_missing.j2"))
    assert "'frr/not_there.j2' not found in templates/" in message
    assert (file, line) == ("templates/frr/includes_missing.j2", 3)


def test_missing_include_at_render(lib: TemplateLibrary) -> None:
    message, file, line = render_error(lambda: lib.render("frr/includes_missing.j2", {}, host="r9"))
    assert message == "host r9: template 'frr/not_there.j2' not found in templates/"
    assert (file, line) == ("templates/frr/includes_missing.j2", 3)


def test_undefined_attribute_names_host_variable_file_and_line(lib: TemplateLibrary) -> None:
    ctx = {"host": {"name": "r1", "data": {"iface": "eth1"}}}
    message, file, line = render_error(lambda: lib.render("frr/undefined.j2", ctx, host="r1"))
    assert file == "templates/frr/undefined.j2"
    assert line == 2
    assert message == (
        "host r1: undefined variable host.data.ospf_area "
        "('dict object' has no attribute 'ospf_area')"
    )


def test_undefined_top_level_name(lib: TemplateLibrary) -> None:
    message, file, line = render_error(lambda: lib.render("frr/description.j2", {}, host="r2"))
    assert message == "host r2: undefined variable iface"
    assert (file, line) == ("templates/frr/description.j2", 1)


def test_undefined_inside_an_included_template_points_at_it(lib: TemplateLibrary) -> None:
    ctx = {"host": {"name": "r1", "data": {"iface": "eth1"}}}
    message, file, line = render_error(lambda: lib.render("frr/includes.j2", ctx, host="r1"))
    assert (file, line) == ("templates/frr/undefined.j2", 2)
    assert "host.data.ospf_area" in message


def test_undefined_in_render_string(lib: TemplateLibrary) -> None:
    ctx = {"host": {"name": "r1", "data": {}}}
    message, file, line = render_error(
        lambda: lib.render_string(
            "show ip ospf neighbor {{ host.data.peer }}",
            ctx,
            host="r1",
            origin=DESIGN,
            origin_line=17,
        )
    )
    assert (file, line) == (DESIGN, 17)
    assert message == (
        "host r1: undefined variable host.data.peer ('dict object' has no attribute 'peer') "
        "in 'show ip ospf neighbor {{ host.data.peer }}'"
    )


def test_render_string_syntax_error(lib: TemplateLibrary) -> None:
    message, file, line = render_error(
        lambda: lib.check_string("show {{ x ", origin=DESIGN, origin_line=9)
    )
    assert (file, line) == (DESIGN, 9)
    assert message.startswith("Jinja syntax error in 'show {{ x ': unexpected end of template")


def test_exception_inside_template_is_located(lib: TemplateLibrary) -> None:
    ctx = {"host": {"name": "r1", "data": {"divisor": 0}}}
    message, file, line = render_error(lambda: lib.render("frr/zero.j2", ctx, host="r1"))
    assert (file, line) == ("templates/frr/zero.j2", 3)
    assert message == "host r1: ZeroDivisionError: integer division or modulo by zero"


def test_filter_error_is_located(lib: TemplateLibrary) -> None:
    ctx = {"host": {"name": "r1", "data": {"address": "10.0.0.1/40"}}}
    message, file, line = render_error(lambda: lib.render("frr/badfilter.j2", ctx, host="r1"))
    assert (file, line) == ("templates/frr/badfilter.j2", 2)
    assert message == "host r1: ip_address: '10.0.0.1/40' is not an IP address or interface"


def test_sandbox_refuses_dunder_access(lib: TemplateLibrary) -> None:
    ctx = {"host": {"name": "r1"}}
    message, file, line = render_error(lambda: lib.render("frr/sandbox.j2", ctx, host="r1"))
    assert (file, line) == ("templates/frr/sandbox.j2", 1)
    assert "refused by the template sandbox" in message
    assert "__class__" in message


def test_sandbox_refuses_mutating_host_data(lib: TemplateLibrary) -> None:
    data = {"xs": [1]}
    message, _, _ = render_error(
        lambda: lib.render_string("{{ d.xs.append(2) }}", {"d": data}, host="r1", origin=DESIGN)
    )
    assert "refused by the template sandbox" in message
    assert data == {"xs": [1]}


def test_display_path_without_display_root() -> None:
    lib = TemplateLibrary(TEMPLATES)
    _, file, _ = render_error(lambda: lib.check("frr/syntax.j2"))
    assert file == str(TEMPLATES / "frr" / "syntax.j2")


# -- command injection guard ------------------------------------------------------------------

INJECTIONS = [
    ("eth1\nshutdown", "a newline"),
    ("eth1\rshutdown", "a carriage return"),
    ("eth1\x1b[2K", "an escape character"),
    ("eth1\x00", "a NUL byte"),
    ("eth1\tsh", "a tab"),
    ("eth1\x85", "control character U+0085"),
    ("eth1\u2028x", "control character U+2028"),
    ("\x7f", "control character U+007F"),
]


@pytest.mark.parametrize(("value", "what"), INJECTIONS)
def test_injection_in_host_data(lib: TemplateLibrary, value: str, what: str) -> None:
    ctx = {"iface": {"name": "eth1"}, "host": {"data": {"description": value}}}
    message, file, line = render_error(lambda: lib.render("frr/description.j2", ctx, host="r3"))
    assert (file, line) == ("templates/frr/description.j2", 2)
    assert message.startswith(
        f"host r3: host.data.description renders to a value containing {what}"
    )
    assert repr(value) in message
    assert "inject device commands" in message


def test_injection_names_the_right_variable_on_a_shared_line(lib: TemplateLibrary) -> None:
    ctx = {"route": {"prefix": "10.0.0.0/8", "nexthop": "10.0.0.1\nno router ospf"}}
    message, file, line = render_error(lambda: lib.render("frr/two_on_line.j2", ctx, host="r1"))
    assert (file, line) == ("templates/frr/two_on_line.j2", 2)
    assert message.startswith("host r1: route.nexthop renders")


def test_injection_through_a_filter_and_item_access(lib: TemplateLibrary) -> None:
    ctx = {"d": {"k": "a\nb"}}
    message, file, line = render_error(
        lambda: lib.render_string(
            "x {{ d['k'] | upper }}", ctx, host="r1", origin=DESIGN, origin_line=4
        )
    )
    assert (file, line) == (DESIGN, 4)
    assert message.startswith("host r1: d['k'] | upper in \"x {{ d['k'] | upper }}\" renders")


def test_injection_in_a_command_string(lib: TemplateLibrary) -> None:
    ctx = {"host": {"data": {"peer": "10.0.0.2\nclear ip ospf process"}}}
    message, file, line = render_error(
        lambda: lib.render_string(
            "show ip ospf neighbor {{ host.data.peer }}",
            ctx,
            host="r1",
            origin=DESIGN,
            origin_line=30,
        )
    )
    assert (file, line) == (DESIGN, 30)
    assert "host.data.peer" in message
    assert "a newline" in message


def test_injection_via_non_string_value(lib: TemplateLibrary) -> None:
    class Sneaky:
        def __str__(self) -> str:
            return "x\ny"

    message, _, _ = render_error(
        lambda: lib.render_string("{{ v }}", {"v": Sneaky()}, host="r1", origin=DESIGN)
    )
    assert message.startswith("host r1: v in '{{ v }}' renders to a value containing a newline")


def test_joining_lines_from_data_is_refused(lib: TemplateLibrary) -> None:
    message, _, _ = render_error(
        lambda: lib.render_string(
            '{{ cmds | join("\\n") }}', {"cmds": ["a", "b"]}, host="r1", origin=DESIGN
        )
    )
    assert "cmds | join" in message


def test_macro_output_is_template_text_but_its_data_is_guarded(tmp_path: Path) -> None:
    (tmp_path / "m.j2").write_text(
        "{% macro m(x) %}\nline {{ x }}\nnext\n{% endmacro %}\n{{ m(v) }}"
    )
    lib = TemplateLibrary(tmp_path)
    assert lib.render("m.j2", {"v": "ok"}, host="r1") == "line ok\nnext\n"
    with pytest.raises(RenderError, match="x renders to a value containing a newline"):
        lib.render("m.j2", {"v": "a\nb"}, host="r1")


def test_public_api() -> None:
    from sdd_build import render

    assert sorted(render.__all__) == sorted(["FILTERS", "FilterError", "TemplateLibrary"])
    for name in render.__all__:
        assert getattr(render, name) is not None
