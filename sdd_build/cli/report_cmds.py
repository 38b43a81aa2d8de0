"""Report command: regenerate the formats of an as-built record from its ``as-built.json``.

Exit codes (PRODUCT.md §4): 0 written; 2 not a build folder or a malformed record.
"""

from __future__ import annotations

from pathlib import Path

import click

from sdd_build.cli._output import console, print_json
from sdd_build.report import FORMATS


@click.command("report")
@click.argument("build_dir", type=click.Path(path_type=Path), metavar="BUILD_DIR")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*FORMATS, "json"]),
    default=None,
    help="Write only this format (json: print the record, validated through the "
    f"as-built contract). Default: write {', '.join(f.file for f in FORMATS.values())}.",
)
def report_cmd(build_dir: Path, fmt: str | None) -> None:
    """Regenerate the as-built record's formats in BUILD_DIR (builds/<build-id>/).

    Reads BUILD_DIR/as-built.json only; the record, the spec and the design are never
    modified. Exit 2: not a build folder, or a malformed as-built.json.
    """
    from sdd_build.report import load_record, write_all, write_format

    if fmt == "json":
        print_json(load_record(build_dir).dump())
        return
    paths = write_all(build_dir) if fmt is None else [write_format(build_dir, fmt)]
    for path in paths:
        console.print(f"wrote {path}", markup=False)
