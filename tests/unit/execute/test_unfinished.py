"""Finding unfinished builds reads only the end of a finished build's journal, and decides
exactly as reading every journal whole does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdd_build.execute import journal as jr
from sdd_build.execute.journal import JOURNAL, find_unfinished


def _journal(folder: Path, events: list[dict[str, object]], tail: str = "") -> Path:
    folder.mkdir(parents=True)
    text = "".join(json.dumps(e) + "\n" for e in events) + tail
    (folder / JOURNAL).write_text(text)
    return folder


def _whole(builds: Path) -> list[Path]:
    """The old decision: every journal read whole."""
    return [
        child
        for child in sorted(builds.iterdir())
        if (child / JOURNAL).is_file()
        and "build_finished" not in {e.get("event") for e in jr.read_journal(child)}
    ]


@pytest.fixture
def builds(tmp_path: Path) -> Path:
    root = tmp_path / "builds"
    big = [{"event": "component_result", "host": f"r{i}", "pad": "x" * 300} for i in range(60)]
    _journal(root / "a-finished", [{"event": "build_started"}, {"event": "build_finished"}])
    _journal(
        root / "b-finished-long", [{"event": "build_started"}, *big, {"event": "build_finished"}]
    )
    _journal(root / "c-crashed", [{"event": "build_started"}, *big])
    _journal(  # the words in a value are not the event
        root / "d-crashed-mentions-it",
        [{"event": "build_started"}, {"event": "deviation", "reason": '"build_finished"'}],
    )
    _journal(root / "e-torn", [{"event": "build_started"}], tail='{"event": "build_fini')
    _journal(  # finished long ago, entries after it (a recovery's): the whole read decides
        root / "f-finished-early",
        [{"event": "build_started"}, {"event": "build_finished"}, *big],
    )
    (root / "g-no-journal").mkdir()
    return root


def test_unfinished_builds_are_the_same_as_a_whole_read_finds(builds: Path) -> None:
    assert find_unfinished(builds) == _whole(builds)
    assert [p.name for p in find_unfinished(builds)] == [
        "c-crashed",
        "d-crashed-mentions-it",
        "e-torn",
    ]


def test_a_finished_build_is_known_from_the_end_of_its_journal(
    builds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    whole = jr.read_journal

    def spy(folder: Path) -> list[dict[str, object]]:
        read.append(folder.name)
        return whole(folder)

    monkeypatch.setattr(jr, "read_journal", spy)
    find_unfinished(builds)
    assert sorted(read) == ["c-crashed", "d-crashed-mentions-it", "e-torn", "f-finished-early"]
