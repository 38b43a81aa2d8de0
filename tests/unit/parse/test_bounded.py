"""Regex time is bounded on any thread: a catastrophic pattern in a TextFSM or TTP template, or
in a ``matches`` check, ends with a located error (or a failed check), never a hang.

``re`` alone would take hours on these inputs (exponential backtracking); the bound is
``SDD_PARSE_SECONDS`` (1 s here), enforced by the ``regex`` engine's timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sdd_build.checks import evaluate
from sdd_build.design.models import AcceptanceCheck
from sdd_build.errors import ParseError
from sdd_build.parse import parse

EVIL = "(a|aa)+$"  # exponential on "aaaa...a!" in both re and regex
LINE = "a" * 40 + "!"


@pytest.fixture(autouse=True)
def one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDD_PARSE_SECONDS", "1")


def _in_worker(call: Callable[[], Any]) -> tuple[Any, BaseException | None, float]:
    """Run ``call`` on a thread that is not the main one (as Nornir's workers are)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    t0 = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the parse hung"
    return box.get("value"), box.get("error"), time.monotonic() - t0


@pytest.mark.parametrize("thread", ["main", "worker"])
def test_textfsm_catastrophic_rule(tmp_path: Path, thread: str) -> None:
    template = tmp_path / "evil.textfsm"
    template.write_text(f"Value A (\\S+)\n\nStart\n  ^${{A}} {EVIL}$ -> Record\n")

    def call() -> Any:
        return parse("textfsm", f"x {LINE}\n", template=template, display_template="p/evil")

    if thread == "main":
        t0 = time.monotonic()
        with pytest.raises(ParseError) as info:
            call()
        error: BaseException | None = info.value
        elapsed = time.monotonic() - t0
    else:
        _, error, elapsed = _in_worker(call)
    assert isinstance(error, ParseError)
    problem = error.problems[0]
    assert problem.file == "p/evil"
    assert "regular expressions ran longer than 1 s" in problem.message
    assert elapsed < 15


def test_ttp_catastrophic_line(tmp_path: Path) -> None:
    template = tmp_path / "evil.ttp"
    # '|' separates TTP functions, so the alternation comes from <vars>
    template.write_text(
        f'<vars>\nEVIL = "{EVIL[:-1]}b"\n</vars>\n<group name="x">\n{{{{ a | re("EVIL") }}}}\n</group>\n'
    )
    _, error, elapsed = _in_worker(
        lambda: parse("ttp", LINE + "\n", template=template, display_template="p/evil.ttp")
    )
    assert isinstance(error, ParseError)
    assert "regular expressions ran longer than 1 s" in error.problems[0].message
    assert elapsed < 15


def test_matches_check_fails_instead_of_hanging() -> None:
    check = AcceptanceCheck(
        id="AC-1", covers=["REQ-1"], expect={"query": "@", "matches": f"^{EVIL}"}
    )
    result, error, elapsed = _in_worker(lambda: evaluate(check, LINE, host="r1"))
    assert error is None
    assert result.passed is False
    assert "ran out of time" in result.reason
    assert elapsed < 15


def test_ordinary_patterns_are_unchanged() -> None:
    check = AcceptanceCheck(id="AC-1", covers=["REQ-1"], expect={"query": "@", "matches": "^a+!$"})
    assert evaluate(check, LINE, host="r1").passed
