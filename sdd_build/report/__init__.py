"""report stage: the as-built record in the formats its readers use (PRODUCT.md §6).

``as-built.json`` is the contract; every other format is rendered from it alone and can be
regenerated at any time (``sdd-build report <build-dir>``):

* ``as-built.md`` — the auditor's reading (summary, approvals, Mermaid graph coloured by
  outcome, components per host, deviations with evidence links, traceability matrix);
* ``report.html`` — the same, self-contained (inline CSS/JS/SVG, no URL), with filterable tables;
* ``junit.xml`` — a suite per layer, a test case per config apply and per acceptance check per
  host, for CI systems.

Reports show what the record says and link evidence under ``evidence/``; they never read
evidence files, never link ``private/``, and are written through the masking sink.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from sdd_build.execute.results import AsBuilt
from sdd_build.report.record import RECORD_FILE, load_record
from sdd_build.report.view import ReportView
from sdd_build.secrets.sink import write_text

__all__ = ["FILES", "RECORD_FILE", "load_record", "render", "write_all", "write_format"]

FILES: dict[str, str] = {"md": "as-built.md", "html": "report.html", "junit": "junit.xml"}


def _renderers() -> dict[str, Callable[[ReportView], str]]:
    from sdd_build.report.html import render_html
    from sdd_build.report.junit import render_junit
    from sdd_build.report.markdown import render_markdown

    return {"md": render_markdown, "html": render_html, "junit": render_junit}


def render(record: AsBuilt, fmt: str, build_dir: Path | None = None) -> str:
    """The text of one format (``md``, ``html`` or ``junit``) of ``record``.

    With ``build_dir``, evidence links are checked against the folder (missing files are
    marked, symlinks leading out of ``evidence/`` are dropped).
    """
    try:
        renderer = _renderers()[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}") from None
    return renderer(ReportView(record, build_dir))


def _write_formats(build_dir: Path, fmts: Iterable[str], record: AsBuilt | None) -> list[Path]:
    build_dir = Path(build_dir)
    if record is None:
        record = load_record(build_dir)
    view = ReportView(record, build_dir)  # one view serves every format
    renderers = _renderers()
    paths = []
    for fmt in fmts:
        path = build_dir / FILES[fmt]
        write_text(path, renderers[fmt](view))  # masked, atomic
        paths.append(path)
    return paths


def write_format(build_dir: Path, fmt: str, record: AsBuilt | None = None) -> Path:
    """(Re)write one format in ``build_dir`` from its ``as-built.json``; returns its path."""
    return _write_formats(build_dir, [fmt], record)[0]


def write_all(build_dir: Path) -> list[Path]:
    """(Re)write every human format of the record in ``build_dir`` from its ``as-built.json``."""
    return _write_formats(build_dir, FILES, None)
