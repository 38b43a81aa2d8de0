"""A render is bounded in time and size on any thread: nested loops, huge powers and repeated
strings end with one located RenderError, never a hang (SDD_RENDER_SECONDS=1 here)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sdd_build.errors import RenderError
from sdd_build.render import TemplateLibrary

CTX: dict[str, Any] = {"host": {"name": "r1", "data": {"items": ["a", "b"]}}}


@pytest.fixture(autouse=True)
def one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDD_RENDER_SECONDS", "1")
    monkeypatch.setenv("SDD_MAX_RENDER_BYTES", "100000")


def _library(tmp_path: Path, text: str) -> TemplateLibrary:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "t.j2").write_text(text)
    return TemplateLibrary(tmp_path / "templates", display_root=tmp_path)


def _error(call: Any, *, worker: bool = False) -> tuple[RenderError, float]:
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            call()
        except RenderError as exc:
            box["error"] = exc

    t0 = time.monotonic()
    if worker:  # Nornir renders in worker threads, where no signal can interrupt anything
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), "the render hung"
    else:
        run()
    assert "error" in box, "no RenderError"
    return box["error"], time.monotonic() - t0


@pytest.mark.parametrize("worker", [False, True], ids=["main", "worker"])
def test_nested_loops_stop_at_the_deadline(tmp_path: Path, worker: bool) -> None:
    lib = _library(
        tmp_path,
        "hostname {{ host.name }}\n"
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n",
    )
    error, elapsed = _error(lambda: lib.render("t.j2", CTX, host="r1"), worker=worker)
    problem = error.problems[0]
    assert (problem.file, problem.line) == ("templates/t.j2", 2)
    assert "rendering took longer than 1 s" in problem.message
    assert elapsed < 10


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{{ 7 ** 1000000000 }}", "too large a number"),
        ("{{ 'x' * 1000000000 }}", "repeating a str of 1 1000000000 times"),
        ("{{ [1, 2] * 100000000 }}", "repeating a list"),
        ("{% for i in range(100000) %}{{ 'line %d' % i }}\n{% endfor %}", "exceeds 100000 char"),
    ],
)
def test_size_bounds(tmp_path: Path, text: str, words: str) -> None:
    lib = _library(tmp_path, "! ok\n" + text + "\n")
    error, elapsed = _error(lambda: lib.render("t.j2", CTX, host="r1"))
    problem = error.problems[0]
    assert problem.file == "templates/t.j2"
    assert words in problem.message
    assert "\n" not in problem.message
    assert elapsed < 10


def test_inline_strings_are_bounded_too(tmp_path: Path) -> None:
    lib = _library(tmp_path, "")
    source = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    error, _ = _error(
        lambda: lib.render_string(source, CTX, host="r1", origin="d.yaml", origin_line=7)
    )
    assert (error.problems[0].file, error.problems[0].line) == ("d.yaml", 7)


def test_ordinary_templates_are_unchanged(tmp_path: Path) -> None:
    lib = _library(
        tmp_path,
        "{% for x in host.data['items'] %}{{ loop.index }}={{ x * 2 }} {{ 2 ** 10 }}\n{% endfor %}",
    )
    assert lib.render("t.j2", CTX, host="r1") == "1=aa 1024\n2=bb 1024\n"
