"""The build's human progress lines: written without Rich layout per event, yet the same
characters (escape codes included) that ``console.print`` of the markup used to produce, and
masked."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from sdd_build.cli import build_cmds
from sdd_build.cli.build_cmds import _STYLE, _HumanProgress
from sdd_build.secrets import register_secrets
from sdd_build.secrets.sink import console

EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("build_started", {"build_id": "B1", "hosts": ["r1", "r2"], "layers": [["a"]], "check": True}),
    ("build_started", {"build_id": "B2", "hosts": ["r1"], "layers": [], "check": False}),
    ("phase", {"name": "connect"}),
    ("layer_started", {"layer": 0, "components": ["base", "svc"]}),
    *[
        ("component_host", {"component": "svc", "host": "r1", "status": s, "reason": r})
        for s in [*_STYLE, "odd"]
        for r in ("", "timed out after 5 s")
    ],
    ("warning", {"message": "host r2 is locked, waiting"}),
]


def _old_markup(event: str, data: dict[str, Any], elapsed: str) -> str | None:
    """What the printer used to hand ``console.print`` (its markup, verbatim)."""
    if event == "build_started":
        mode = " (dry run)" if data.get("check") else ""
        return (
            f"{elapsed} build {data['build_id']}{mode}: {len(data['hosts'])} hosts, "
            f"{len(data['layers'])} layers"
        )
    if event == "phase":
        return f"{elapsed} {data['name']}"
    if event == "layer_started":
        return f"{elapsed} [bold]layer {data['layer']}[/]: {', '.join(data['components'])}"
    if event == "component_host":
        style = _STYLE.get(data["status"], "white")
        reason = f" — {data['reason']}" if data.get("reason") else ""
        return (
            f"{elapsed}   {data['component']} @ {data['host']}: "
            f"[{style}]{data['status']}[/]{reason}"
        )
    if event == "warning":
        return f"{elapsed} [yellow]warning[/]: {data['message']}"
    return None


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"force_terminal": True, "color_system": "truecolor"},
        {"force_terminal": True, "color_system": "standard"},
        {"force_terminal": True, "color_system": "256", "no_color": True},
    ],
)
def test_the_same_characters_as_rich_printed(
    options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_cmds.time, "perf_counter", lambda: 12.25)
    new, old = io.StringIO(), io.StringIO()
    progress = _HumanProgress(console(file=new, width=60, **options))
    progress.t0 = 0.0
    reference = console(file=old, width=60, **options)
    for event, data in EVENTS:
        progress(event, **data)
        markup = _old_markup(event, data, "[dim]  12.2s[/]")
        assert markup is not None
        reference.print(markup)
    assert new.getvalue() == old.getvalue()
    assert new.getvalue().count("\n") == len(EVENTS)


def test_a_secret_in_a_progress_line_is_masked() -> None:
    register_secrets(["Pr0gress-Secret-9"])
    buf = io.StringIO()
    progress = _HumanProgress(Console(file=buf, force_terminal=True, color_system="truecolor"))
    progress(
        "component_host",
        component="svc",
        host="r1",
        status="failed",
        reason="% Unknown command: neighbor 10.0.0.2 password Other-Secret-77",
    )
    progress("warning", message="token Pr0gress-Secret-9 refused")
    text = buf.getvalue()
    assert "Pr0gress-Secret-9" not in text
    assert "Other-Secret-77" not in text
    assert text.count("<redacted>") == 2
