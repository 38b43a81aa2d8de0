"""report stage: the as-built record in the formats its readers use (md, html, json, junit)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_all"]


def write_all(build_dir: Path) -> list[Path]:
    """(Re)write every human format of the record in ``build_dir`` from its ``as-built.json``."""
    from sdd_build.report.markdown import write_markdown

    return [write_markdown(build_dir)]
