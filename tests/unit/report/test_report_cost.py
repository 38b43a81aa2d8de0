"""The formats of one record share their evidence checks, and the HTML page's templates are
compiled once per user, not once per build, without trusting a cache another user can write."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sdd_build.report import html, view
from sdd_build.report.view import ReportView
from tests.unit.report.conftest import rich_record
from tests.unit.report.test_view import view_of


def test_each_recorded_path_is_checked_once_per_view(
    rich_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = view.safe_evidence_path

    def counting(
        path: str, build_dir: Path | None = None, folders: dict[str, str] | None = None
    ) -> str | None:
        checked.append(path)
        return real(path, build_dir, folders)

    monkeypatch.setattr(view, "safe_evidence_path", counting)
    v: ReportView = view_of(rich_record(), rich_build)
    paths = ["evidence/r2/ospf-process.rendered.cfg", "evidence/r2/link-to-private.cfg"]
    first = v.evidence(paths)
    again = v.evidence(paths)
    assert first == again
    assert [r.path for r in first] == ["evidence/r2/ospf-process.rendered.cfg"]  # symlink out
    assert set(paths) <= set(checked)
    assert max(Counter(checked).values()) == 1  # the view's own cases included


def test_templates_use_jinjas_per_user_bytecode_cache() -> None:
    env = html._env()
    assert env.bytecode_cache is not None


def test_an_unsafe_cache_folder_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise RuntimeError("Cache directory /tmp/_jinja2-cache-0 must be owned by the user")

    monkeypatch.setattr(html, "FileSystemBytecodeCache", refuse)
    assert html._env().bytecode_cache is None
