"""Every file a design's behaviour depends on, found from the design itself.

An approval is only as good as the set of files it binds. For a design that is: the design
file, its spec, each config template and every template it includes, imports or extends
(followed recursively with ``jinja2.meta.find_referenced_templates``; inline command strings
are scanned too), parser templates, reused assets, the fixtures of the offline tests, and the
design-data inventory files (``hosts.yaml``, ``groups.yaml``, ``defaults.yaml``) whose data
decides what the templates render.

A template name computed at render time (``{% include host.data.x %}``) cannot be bound, so
it is reported as a problem: approval refuses it.

Not bound (documented limits): ntc-templates parsers come from the installed
``ntc-templates`` package, not the repository; the sdd-build code itself (filters, engines)
is pinned by the tool version recorded in the approval.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, TemplateSyntaxError, meta, nodes

from sdd_build.design.loader import LoadedDesign, Repository
from sdd_build.design.models import (
    CommandTemplate,
    ConfigTemplate,
    Parser,
    ParserTest,
    RenderTest,
)
from sdd_build.design.source import lexical
from sdd_build.errors import Problem, SddBuildError

__all__ = ["INVENTORY_FILES", "FileHasher", "References", "design_references", "repo_relative"]

INVENTORY_FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml")
_REF_NODES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)


class FileHasher:
    """sha256 of files, each read once per instance (a gate check touches a file once)."""

    def __init__(self) -> None:
        self._cache: dict[Path, str | None] = {}

    def __call__(self, path: Path) -> str | None:
        """Hex sha256 of the file's bytes, or ``None`` if it is missing or not a file."""
        if path in self._cache:
            return self._cache[path]
        digest: str | None
        try:
            with path.open("rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            digest = None
        self._cache[path] = digest
        return digest


def repo_relative(repo: Repository, path: Path) -> str | None:
    """``path`` relative to the repository root, with '/' separators (lexical: a symlink is
    bound under its own name); ``None`` if outside."""
    try:
        return lexical(path).relative_to(repo.root).as_posix()
    except ValueError:
        return None


@dataclass
class References:
    """The files of one design: repository-relative path -> absolute path and roles."""

    paths: dict[str, Path] = field(default_factory=dict)
    roles: dict[str, set[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, repo: Repository, path: Path | None, role: str, *, what: str) -> str | None:
        if path is None:
            self.problems.append(Problem(f"{what} is outside the repository"))
            return None
        rel = repo_relative(repo, path)
        if rel is None:
            self.problems.append(Problem(f"{what} is outside the repository", str(path)))
            return None
        self.paths.setdefault(rel, lexical(path))
        self.roles.setdefault(rel, set()).add(role)
        return rel


def _fixtures(test: RenderTest | ParserTest) -> list[str]:
    if isinstance(test, ParserTest):
        return [test.input, test.expect]
    return [test.expect] + ([test.host_vars] if test.host_vars is not None else [])


def _dynamic_line(tree: nodes.Template) -> int | None:
    for node in tree.find_all(_REF_NODES):
        target = getattr(node, "template", None)
        targets = target.items if isinstance(target, nodes.List | nodes.Tuple) else [target]
        if not all(isinstance(t, nodes.Const) for t in targets):
            return int(node.lineno)
    return None


class _TemplateWalker:
    """Follows include/import/extends from templates and inline strings, each file once."""

    def __init__(self, repo: Repository, refs: References) -> None:
        self.repo = repo
        self.refs = refs
        self.env = Environment(autoescape=False)  # parsing only: no sandbox needed
        self.seen: set[str] = set()

    def from_source(self, source: str, *, file: str, line: int | None) -> None:
        try:
            tree = self.env.parse(source)
        except TemplateSyntaxError:
            return  # validation reports it; a changed template is stale by its hash anyway
        self._follow(tree, file=file, base_line=line)

    def template(self, name: str) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        path = self.repo.confine(self.repo.templates, name)
        rel = self.refs.add(self.repo, path, "template", what=f"template '{name}'")
        if rel is None or path is None or not self.repo.is_file(path):
            return
        try:
            source = self.repo.read_bytes(path).decode("utf-8")
        except (OSError, UnicodeDecodeError, SddBuildError):
            return
        self.from_source(source, file=rel, line=None)

    def _follow(self, tree: nodes.Template, *, file: str, base_line: int | None) -> None:
        names = list(meta.find_referenced_templates(tree))
        if any(n is None for n in names):
            line = _dynamic_line(tree)
            if base_line is not None:
                line = base_line
            self.refs.problems.append(
                Problem(
                    "a template name computed at render time cannot be bound to an approval; "
                    "include/import/extend templates by their literal name",
                    file,
                    line,
                )
            )
        for name in names:
            if name is not None:
                self.template(name)


def _inline_strings(comp: CommandTemplate) -> Iterable[str]:
    yield from comp.commands
    for check in comp.acceptance:
        if isinstance(check.expect.expected, str):
            yield check.expect.expected


def design_references(loaded: LoadedDesign) -> References:
    """Every file ``loaded`` depends on, with roles; problems for unbindable references."""
    repo = loaded.repo
    model = loaded.model
    refs = References()
    walker = _TemplateWalker(repo, refs)
    refs.add(repo, loaded.path, "design", what="the design")
    refs.add(repo, repo.confine(loaded.directory, model.spec), "spec", what=f"spec '{model.spec}'")

    inv_rel = model.inventory or "inventory"
    inv_dir = repo.confine(repo.root, inv_rel)
    if inv_dir is None:
        refs.problems.append(Problem(f"inventory '{inv_rel}' is outside the repository"))
    else:
        for name in INVENTORY_FILES:
            # on disk too: a design-data file that appeared after approval must be named
            # (the snapshot of a build does not have it, so it could never be used unbound)
            if repo.is_file(inv_dir / name) or (inv_dir / name).is_file():
                refs.add(repo, inv_dir / name, "inventory", what=f"inventory file {name}")

    for index, comp in enumerate(model.components):
        if isinstance(comp, ConfigTemplate):
            walker.template(comp.template)
        elif isinstance(comp, Parser) and comp.template is not None:
            refs.add(
                repo,
                repo.confine(repo.parsers, comp.template),
                "parser",
                what=f"parser template '{comp.template}'",
            )
        elif isinstance(comp, CommandTemplate):
            line = loaded.yaml.locate(("components", index))[0]
            for source in _inline_strings(comp):
                if "{%" in source:
                    walker.from_source(source, file=loaded.display, line=line)
        if isinstance(comp, ConfigTemplate | Parser) and comp.reuse is not None:
            refs.add(
                repo,
                repo.confine(repo.root, comp.reuse.asset),
                "reuse",
                what=f"reused asset '{comp.reuse.asset}'",
            )
        if isinstance(comp, ConfigTemplate | CommandTemplate | Parser):
            for test in comp.tests:
                for rel in _fixtures(test):
                    refs.add(
                        repo,
                        repo.confine(loaded.directory, rel),
                        "fixture",
                        what=f"fixture '{rel}'",
                    )
        if isinstance(comp, CommandTemplate):
            for ctest in comp.check_tests:
                for rel in ctest.outputs:
                    refs.add(
                        repo,
                        repo.confine(loaded.directory, rel),
                        "fixture",
                        what=f"fixture '{rel}'",
                    )
    return refs
