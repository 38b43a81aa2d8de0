"""Load a solution design from disk: YAML with positions, schema validation, path confinement.

The result, ``LoadedDesign``, is what every later stage consumes: the validated model, the
repository it lives in, and a locator that turns a data path into ``file:line:column``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sdd_build.design.models import Design
from sdd_build.design.source import DiskSource, Source, lexical
from sdd_build.design.yamlpos import LoadedYaml, PathKey, YamlLoadError, load_yaml
from sdd_build.errors import DesignError, Problem, SddBuildError
from sdd_build.secrets import learn_secrets, register_secret_names

__all__ = ["ROOT_MARKER", "LoadedDesign", "Repository", "find_root", "load_design"]

ROOT_MARKER = "sdd-build.toml"
_ROOT_FOLDERS = ("templates", "parsers", "inventory")
_DESIGN_FILES = ("solution-design.yaml", "customer-spec.md")


def find_root(start: Path) -> Path:
    """The repository root above ``start``, found the same way by every command:

    1. the nearest ancestor holding the marker file ``sdd-build.toml`` (explicit, wins);
    2. else the nearest ancestor holding ``.git``, ``templates/``, ``parsers/`` or
       ``inventory/`` that is not a use-case folder (one holding ``solution-design.yaml`` or
       ``customer-spec.md``): an ``inventory/`` inside a design folder never makes it the root;
    3. else two levels above ``start`` (``designs/<name>/`` layout).

    ``--root`` on every command overrides all of this."""
    start = start.resolve()
    chain = (start, *start.parents)
    for candidate in chain:
        if (candidate / ROOT_MARKER).is_file():
            return candidate
    for candidate in chain:
        if any((candidate / name).is_file() for name in _DESIGN_FILES):
            continue
        if (candidate / ".git").exists() or any((candidate / m).is_dir() for m in _ROOT_FOLDERS):
            return candidate
    return start.parent.parent if start.parent.parent != start.parent else start


@dataclass(frozen=True)
class Repository:
    """Paths of one repository, confinement of user-given paths to it, and the ``Source`` its
    files are read from (the disk, or the approved snapshot of a build)."""

    root: Path
    source: Source = field(default_factory=DiskSource, compare=False)

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def parsers(self) -> Path:
        return self.root / "parsers"

    def display(self, path: Path) -> str:
        for candidate in (lexical(path), path.resolve()):
            try:
                return candidate.relative_to(self.root).as_posix()
            except ValueError:
                continue
        return str(path)

    def confine(self, base: Path, rel: str) -> Path | None:
        """``base/rel`` (lexical: a symlink keeps its own name), or ``None`` if it escapes the
        repository (``../../etc``, or a symlink on disk pointing outside)."""
        if Path(rel).is_absolute():
            return None
        target = lexical(base / rel)
        if not _within(target, self.root):
            return None
        if isinstance(self.source, DiskSource) and not _within(target.resolve(), self.root):
            return None
        return target

    def read_bytes(self, path: Path) -> bytes:
        """The file's bytes from this repository's source (``FileNotFoundError`` if none)."""
        return self.source.read(path, display=self.display(path))

    def is_file(self, path: Path) -> bool:
        return self.source.is_file(path)

    def sha256(self, path: Path) -> str | None:
        """The sha256 of the file as this run sees it (the snapshot's bytes in a build)."""
        try:
            return hashlib.sha256(self.read_bytes(path)).hexdigest()
        except (FileNotFoundError, SddBuildError):
            return None

    def with_source(self, source: Source) -> Repository:
        return Repository(self.root, source)


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class LoadedDesign:
    model: Design
    path: Path
    display: str
    repo: Repository
    yaml: LoadedYaml

    @property
    def directory(self) -> Path:
        return self.path.parent

    def problem(self, path: PathKey, message: str) -> Problem:
        return self.yaml.problem(path, message)

    def component_path(self, component_id: str) -> PathKey:
        for index, comp in enumerate(self.model.components):
            if comp.id == component_id:
                return ("components", index)
        return ("components",)


def _message(err: ErrorDetails) -> str:
    loc = err["loc"]
    last = loc[-1] if loc else None
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{last}'; remove it or check its spelling (see `sdd-build schema`)"
    if kind == "missing":
        return f"missing required key '{last}'"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        return (
            f"unknown component kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
        )
    if kind == "union_tag_not_found":
        return (
            "component has no 'kind'; expected config_template, command_template, "
            "parser or workflow"
        )
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    where = ".".join(str(p) for p in loc if not _is_tag(p))
    return f"{where}: {msg}" if where else msg


_TAGS = {"config_template", "command_template", "parser", "workflow"}


def _is_tag(seg: Any) -> bool:
    return isinstance(seg, str) and seg in _TAGS


def _schema_problems(loaded: LoadedYaml, exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
        key = (loc, err["type"])
        if key in seen:
            continue
        seen.add(key)
        if err["type"] == "extra_forbidden":
            # Point at the unknown key itself.
            problems.append(loaded.problem(loc, _message(err)))
        else:
            problems.append(loaded.problem(loc, _message(err)))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def load_design(
    path: str | Path, *, root: Path | None = None, repo: Repository | None = None
) -> LoadedDesign:
    """Load and schema-validate a design. Raises ``DesignError`` listing every problem.

    ``repo`` (with its source, e.g. an approved snapshot) takes precedence over ``root``.
    """
    path = Path(path)
    if repo is None:
        if not path.exists():
            raise DesignError(
                "design file not found",
                file=str(path),
                hint="give the path to solution-design.yaml",
            )
        repo = Repository((root or find_root(path.resolve().parent)).resolve())
    path = _entry_path(path, repo)
    display = repo.display(path)
    try:
        loaded = load_yaml(path, display=display, source=repo.source)
    except YamlLoadError as exc:
        raise DesignError.from_problems([exc.problem]) from None
    if loaded.data is None:
        raise DesignError(
            "design is empty; start from `sdd-build init <dir>`", file=display, line=1
        )
    if not isinstance(loaded.data, dict):
        raise DesignError(
            f"a design is a YAML mapping, found a {type(loaded.data).__name__}",
            file=display,
            line=1,
        )
    try:
        model = Design.model_validate(loaded.data)
    except ValidationError as exc:
        raise DesignError.from_problems(_schema_problems(loaded, exc)) from None
    # the design's own secret values are masked from here on, whatever the command does next
    register_secret_names(model.secrets)
    learn_secrets([model.vars, *(getattr(c, "vars", None) or {} for c in model.components)])
    return LoadedDesign(model=model, path=path, display=display, repo=repo, yaml=loaded)


def _entry_path(path: Path, repo: Repository) -> Path:
    """The design path as named inside the repository: lexical when it is inside (a symlinked
    design keeps its name), else resolved (a path given through a symlinked directory)."""
    candidate = lexical(path)
    return candidate if _within(candidate, repo.root) else path.resolve()
