"""Flat templates: the fast path gives Jinja's exact output or error, or steps aside."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import RenderError
from sdd_build.render import TemplateLibrary

SOURCES = [
    "interface {{ host.data.iface.name }}\n description {{ vars.tag }}\nexit\n",
    "a {{ host.data['iface']['name'] }} b {{ host.data.list.0 }} {{ host.data.list[1] }}\n",
    "{{ host.data.n }}|{{ host.data.f }}|{{ host.data.b }}|{{ host.data.none }}|{{ 'x' }}{{ 3 }}",
    "{{ host.data.items }}\n",  # a dict method by that name: Jinja only
    "{{ host.data.missing }}\n",
    "{{ host.data.list[5] }}\n",
    "{{ host }}\n",
    "{{ host.data.iface.name | upper }}\n",  # a filter: not flat
    "{% if host.data.b %}on{% endif %} {{ host.name }}\n",  # a block: not flat
    "{# comment #}\n  {{ host.name }}  \n{% raw %}{{ x }}{% endraw %}\n",
    "{{ host.data.text }}\n",
    "{{ design.id }} v{{ design.version }} {{ nope.x }}\n",
    "no expression at all\n",
    "{{ host.data.sub.x }}\n",  # a dict subclass: Jinja only
]


class _Sub(dict[str, Any]):
    pass


def _context(i: int) -> dict[str, Any]:
    texts = ["plain", "non\u00a0breaking", "tab\there", "new\nline", "", "ünïcödé"]
    return {
        "host": {
            "name": f"r{i}",
            "data": {
                "iface": {"name": f"eth{i}"},
                "list": [i, f"x{i}"][: 1 + i % 2],
                "n": i,
                "f": i / 4,
                "b": i % 2 == 0,
                "none": None,
                "items": "shadowed key",
                "text": texts[i % len(texts)],
                "sub": _Sub(x=1),
                **({"missing": "here"} if i % 3 == 0 else {}),
            },
        },
        "design": {"id": "d", "version": i},
        "vars": {"tag": f"t{i}"} if i % 4 else {},
    }


def _outcome(lib: TemplateLibrary, name: str, ctx: dict[str, Any], **kw: Any) -> str:
    try:
        return "ok:" + lib.render(name, ctx, host="h", **kw)
    except RenderError as exc:
        return "error:" + "; ".join(str(p) for p in exc.problems)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for n, source in enumerate(SOURCES):
        (tmp_path / f"t{n}.j2").write_text(source)
    return tmp_path


def test_fast_path_matches_jinja_output_and_errors(folder: Path) -> None:
    fast = TemplateLibrary(folder, display_root=folder)
    slow = TemplateLibrary(folder, display_root=folder, fast=False)
    took_fast = 0
    for n, i in itertools.product(range(len(SOURCES)), range(12)):
        name = f"t{n}.j2"
        ctx = _context(i)
        assert _outcome(fast, name, ctx) == _outcome(slow, name, ctx), (name, i)
        # again with the caches the planner keeps (per host, per component's vars)
        known: dict[str, dict[int, str]] = {"host": {}, "vars": {}}
        for _ in range(2):
            assert _outcome(fast, name, ctx, known=known) == _outcome(slow, name, ctx)
        took_fast += fast._entry(name).program is not None
    assert took_fast >= 12 * 8  # most of these are flat


def test_what_is_not_flat(folder: Path) -> None:
    lib = TemplateLibrary(folder)
    flat = {n for n in range(len(SOURCES)) if lib._entry(f"t{n}.j2").program is not None}
    assert flat == {0, 1, 2, 4, 5, 6, 9, 10, 11, 12, 13}


def test_inline_strings_match_jinja(folder: Path) -> None:
    fast = TemplateLibrary(folder)
    slow = TemplateLibrary(folder, fast=False)
    for source, i in itertools.product(SOURCES, range(8)):
        outs = []
        ctx = _context(i)  # one object: a method's repr shows its address
        for lib in (fast, slow):
            try:
                outs.append(lib.render_string(source, ctx, host="h", origin="d.yaml"))
            except RenderError as exc:
                outs.append(str(exc.problems[0]))
        assert outs[0] == outs[1], (source, i)


def test_output_bound_applies_to_the_fast_path(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SDD_MAX_RENDER_BYTES", "20")
    lib = TemplateLibrary(folder)
    assert lib._entry("t0.j2").program is not None
    with pytest.raises(RenderError, match="SDD_MAX_RENDER_BYTES"):
        lib.render("t0.j2", _context(1), host="h")


def test_same_text_is_parsed_once_and_errors_name_their_own_file(tmp_path: Path) -> None:
    for name in ("a.j2", "b.j2"):
        (tmp_path / name).write_text("x {{ host.data.missing }}\n")
    lib = TemplateLibrary(tmp_path, display_root=tmp_path)
    lib.check("a.j2")
    lib.check("b.j2")
    assert len(lib._by_text) == 1
    assert "b.j2" not in lib._templates  # not compiled: the text was known
    with pytest.raises(RenderError) as err:
        lib.render("b.j2", {"host": {"data": {}}}, host="r9")
    problem = err.value.problems[0]
    assert (problem.file, problem.line) == ("b.j2", 1)
    assert "host r9" in problem.message


def test_a_changed_template_is_read_anew_by_a_new_library(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text("v1 {{ host.name }}\n")
    ctx = {"host": {"name": "r1"}}
    known: dict[str, dict[int, str]] = {"host": {}}
    assert TemplateLibrary(tmp_path).render("t.j2", ctx, host="r1", known=known) == "v1 r1\n"
    (tmp_path / "t.j2").write_text("v2 {{ host.name }}\n")
    assert TemplateLibrary(tmp_path).render("t.j2", ctx, host="r1") == "v2 r1\n"
