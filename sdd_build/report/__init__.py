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
from dataclasses import dataclass
from pathlib import Path

from sdd_build.execute.results import AsBuilt
from sdd_build.report.record import RECORD_FILE, load_record
from sdd_build.report.view import ReportView
from sdd_build.secrets.sink import write_text

__all__ = [
    "FILES",
    "FORMATS",
    "RECORD_FILE",
    "Format",
    "load_record",
    "render",
    "write_all",
    "write_format",
]

Renderer = Callable[[ReportView], str]


def _markdown() -> Renderer:
    from sdd_build.report.markdown import render_markdown

    return render_markdown


def _html() -> Renderer:
    from sdd_build.report.html import render_html

    return render_html


def _junit() -> Renderer:
    from sdd_build.report.junit import render_junit

    return render_junit


@dataclass(frozen=True)
class Format:
    """One human format of the record: the file it is written to and its renderer (imported
    when first used: a build that writes no report never loads a renderer)."""

    file: str
    load: Callable[[], Renderer]


#: The one table of report formats: ``write_all``, ``render``, ``write_format`` and the
#: ``report --format`` choices all come from it.
FORMATS: dict[str, Format] = {
    "md": Format("as-built.md", _markdown),
    "html": Format("report.html", _html),
    "junit": Format("junit.xml", _junit),
}
FILES: dict[str, str] = {name: f.file for name, f in FORMATS.items()}


def render(record: AsBuilt, fmt: str, build_dir: Path | None = None) -> str:
    """The text of one format (``md``, ``html`` or ``junit``) of ``record``.

    With ``build_dir``, evidence links are checked against the folder (missing files are
    marked, symlinks leading out of ``evidence/`` are dropped).
    """
    try:
        renderer = FORMATS[fmt].load()
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}") from None
    return renderer(ReportView(record, build_dir))


def _write_formats(build_dir: Path, fmts: Iterable[str], record: AsBuilt | None) -> list[Path]:
    build_dir = Path(build_dir)
    if record is None:
        record = load_record(build_dir)
    view = ReportView(record, build_dir)  # one view serves every format
    paths = []
    for fmt in fmts:
        path = build_dir / FORMATS[fmt].file
        write_text(path, FORMATS[fmt].load()(view))  # masked, atomic
        paths.append(path)
    return paths


def write_format(build_dir: Path, fmt: str, record: AsBuilt | None = None) -> Path:
    """(Re)write one format in ``build_dir`` from its ``as-built.json``; returns its path."""
    return _write_formats(build_dir, [fmt], record)[0]


def write_all(build_dir: Path) -> list[Path]:
    """(Re)write every human format of the record in ``build_dir`` from its ``as-built.json``."""
    return _write_formats(build_dir, FORMATS, None)
