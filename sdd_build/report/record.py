"""Reading a build folder's ``as-built.json`` back through the ``AsBuilt`` contract.

Every report format is rendered from the record alone (plus, for links, the evidence paths it
names); a record that does not parse or does not fit the contract is one clear error, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from sdd_build.errors import Problem, SddBuildError
from sdd_build.execute.results import AsBuilt
from sdd_build.limits import json_loads

__all__ = ["RECORD_FILE", "load_record"]

RECORD_FILE = "as-built.json"

_HINT = "give a build folder, builds/<build-id>/, of a finished build"


def load_record(build_dir: Path) -> AsBuilt:
    """The validated record of ``build_dir``. Raises ``SddBuildError`` (exit 2) when it is
    not a build folder, or its ``as-built.json`` is not JSON or not the contract."""
    build_dir = Path(build_dir)
    path = build_dir / RECORD_FILE
    shown = str(path)
    if not build_dir.is_dir():
        raise SddBuildError(
            "not a build folder (no such directory)", file=str(build_dir), hint=_HINT
        )
    if not path.is_file():
        unfinished = (build_dir / "journal.jsonl").exists()
        raise SddBuildError(
            "not a build folder: no as-built.json"
            + (" (the build has a journal but never finished)" if unfinished else ""),
            file=str(build_dir),
            hint=_HINT,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SddBuildError(f"not UTF-8 text: {exc.reason}", file=shown) from None
    try:
        data = json_loads(text)
    except json.JSONDecodeError as exc:
        raise SddBuildError(
            f"malformed JSON: {exc.msg}", file=shown, line=exc.lineno, column=exc.colno
        ) from None
    if not isinstance(data, dict):
        raise SddBuildError("malformed record: the top level must be an object", file=shown)
    try:
        return AsBuilt.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "(record)"
            problems.append(Problem(f"malformed record: {loc}: {err['msg']}", file=shown))
        raise SddBuildError.from_problems(
            problems, hint="as-built.json must follow the AsBuilt contract (PRODUCT.md §6)"
        ) from None
