"""Jinja2 rendering: a compile-once template library with located errors and an injection guard.

Three guarantees the rest of the pipeline relies on:

* **Compiled once.** A template file (by name) or an inline design string (by source) is parsed,
  instrumented and compiled the first time it is used; later renders only run the compiled
  code. Nothing walks an AST per render.
* **Located errors.** Every failure is a :class:`~sdd_build.errors.RenderError` whose
  ``file``/``line`` point at the template line (or the design line of an inline string) and
  whose message names the host and, for undefined variables, the variable as written in the
  template (``host.data.ospf_area``).
* **No command injection.** Every ``{{ expression }}`` is wrapped at compile time in a guard
  that refuses a value containing a line break or any other control character, *tab included*
  (a tab triggers command completion on an interactive device CLI such as vtysh). Text written
  literally in the template is never checked, so multi-line templates are fine; to emit several
  lines from data, loop in the template instead of joining with ``"\\n"``. Outputs that are
  themselves template text (macro calls, ``caller()``, ``super()``, ``self.block()``,
  ``{% set x %}...{% endset %}`` blocks) are not wrapped: their own expressions are.

Templates run in Jinja's immutable sandbox: design files are data, so ``{{ x.__class__ }}``
tricks and in-place mutation of host data are refused.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from jinja2 import (
    BaseLoader,
    Environment,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    meta,
    nodes,
)
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from sdd_build import limits
from sdd_build.design.source import DiskSource, Source
from sdd_build.errors import FilterError, InjectionError, RenderError, RenderLimit, SddBuildError
from sdd_build.render import bounds
from sdd_build.render.filters import FILTERS
from sdd_build.render.flat import FlatProgram, flat_program

__all__ = ["TemplateLibrary"]

_GUARD = "_sdd_single_line"
_INLINE_FILENAME = "<template>"
# Line breaks and control characters: C0 (tab included), DEL, C1 (NEL among them) and the
# Unicode line/paragraph separators that str.splitlines() also breaks on.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_CHARS = {
    "\n": "a newline",
    "\r": "a carriage return",
    "\t": "a tab",
    "\x00": "a NUL byte",
    "\x1b": "an escape character",
}
# Callables whose output is template text, not data (see module docstring).
_TEXT_CALLABLES = frozenset({"caller", "super", "self"})
_MISSING_KEY = re.compile(r"has no (?:attribute|element) (?P<key>'[^']*'|\S+)")
_UNDEFINED_NAME = re.compile(r"^'(?P<name>[^']+)' is undefined")


def _guard(value: Any, label: str, line: int) -> Any:
    """Pass the value through unless its text contains a control character."""
    cls = value.__class__
    if cls is str:
        # isprintable() is the C fast path; it is False for some harmless characters too
        # (e.g. a non-breaking space), so only then pay for the exact check.
        if value.isprintable() or _UNSAFE.search(value) is None:
            return value
        raise InjectionError(label, line, value)
    if cls is int or cls is bool or cls is float or value is None:
        return value
    text = str(value)  # StrictUndefined raises here, at the right template line
    if text.isprintable() or _UNSAFE.search(text) is None:
        return text
    raise InjectionError(label, line, text)


def _label(expr: nodes.Node) -> str:
    """The expression as an engineer wrote it, near enough: ``iface.name``, ``x['k'] | upper``."""
    if isinstance(expr, nodes.Name):
        return expr.name
    if isinstance(expr, nodes.Getattr):
        return f"{_label(expr.node)}.{expr.attr}"
    if isinstance(expr, nodes.Getitem):
        arg = expr.arg
        key = repr(arg.value) if isinstance(arg, nodes.Const) else "..."
        return f"{_label(expr.node)}[{key}]"
    if isinstance(expr, nodes.Filter) and expr.node is not None:
        return f"{_label(expr.node)} | {expr.name}"
    if isinstance(expr, nodes.Call):
        return f"{_label(expr.node)}(...)"
    if isinstance(expr, nodes.Const):
        return repr(expr.value)
    if isinstance(expr, nodes.Concat):
        return " ~ ".join(_label(n) for n in expr.nodes)
    inner = [_label(n) for n in expr.iter_child_nodes()]
    return f"expression of {', '.join(inner)}" if inner else "expression"


def _root_name(expr: nodes.Node) -> str | None:
    while isinstance(expr, nodes.Getattr | nodes.Getitem):
        expr = expr.node
    return expr.name if isinstance(expr, nodes.Name) else None


def _text_names(tree: nodes.Template) -> set[str]:
    """Names whose value is template text: macros, imported templates, block assignments."""
    names = set(_TEXT_CALLABLES)
    names.update(m.name for m in tree.find_all(nodes.Macro))
    names.update(i.target for i in tree.find_all(nodes.Import))
    for imp in tree.find_all(nodes.FromImport):
        names.update(n if isinstance(n, str) else n[1] for n in imp.names)
    for block in tree.find_all(nodes.AssignBlock):
        names.update(n.name for n in block.target.find_all(nodes.Name))
        if isinstance(block.target, nodes.Name):
            names.add(block.target.name)
    return names


def _is_template_text(expr: nodes.Node, text_names: set[str]) -> bool:
    while isinstance(expr, nodes.Filter) and expr.node is not None:
        expr = expr.node
    if isinstance(expr, nodes.Call):
        return _root_name(expr.node) in text_names
    return isinstance(expr, nodes.Name) and expr.name in text_names


@dataclass(frozen=True, slots=True)
class _TemplateMeta:
    variables: frozenset[str]
    references: tuple[tuple[str, int], ...]  # (template name, line) of include/import/extends


class _Environment(ImmutableSandboxedEnvironment):
    """Sandboxed environment that instruments every parsed template with the output guard."""

    intercepted_binops = frozenset({"*", "**"})  # bounded: see render/bounds.py

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.template_meta: dict[str, _TemplateMeta] = {}
        #: by template text: its flat program (``None``: not flat), see render/flat.py
        self.programs: dict[str, FlatProgram | None] = {}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return bounds.binop(operator, left, right)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):  # every iteration checks the render's deadline
            loop.iter = self._filtered(
                cast(nodes.Expr, loop.iter), bounds.LOOP_FILTER, [loop.lineno]
            )
        text_names = _text_names(tree)
        for output in tree.find_all(nodes.Output):
            output.nodes = [
                child
                if isinstance(child, nodes.TemplateData | nodes.Const)  # literal template text
                or _is_template_text(child, text_names)
                else self._wrap(child)
                for child in output.nodes
            ]
        self.programs[source] = flat_program(tree, _GUARD)
        if name is not None:
            refs: list[tuple[str, int]] = []
            for node in tree.find_all(
                (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
            ):
                target = getattr(node, "template", None)
                if isinstance(target, nodes.Const) and isinstance(target.value, str):
                    refs.append((target.value, node.lineno))
            self.template_meta[name] = _TemplateMeta(
                frozenset(meta.find_undeclared_variables(tree)), tuple(refs)
            )
        return tree

    def _wrap(self, expr: nodes.Expr) -> nodes.Expr:
        return self._filtered(expr, _GUARD, [_label(expr), expr.lineno])

    def _filtered(self, expr: nodes.Expr, name: str, args: list[Any]) -> nodes.Expr:
        lineno = expr.lineno
        consts: list[nodes.Expr] = [nodes.Const(arg, lineno=lineno) for arg in args]
        wrapped = nodes.Filter(expr, name, consts, [], None, None, lineno=lineno)
        wrapped.set_environment(self)
        return wrapped


@dataclass(frozen=True, slots=True)
class _Entry:
    program: FlatProgram | None  # None: rendered by Jinja
    meta: _TemplateMeta


@dataclass(frozen=True, slots=True)
class _Located:
    file: str | None
    line: int | None
    template_filename: str | None  # the Jinja filename of the innermost template frame


def _innermost_template_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    # Jinja rewrites the traceback so that template frames carry the template's filename and
    # line; those fake frames are recognisable by the exception they were built to re-raise.
    found: tuple[str, int] | None = None
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _describe_value(value: str) -> str:
    match = _UNSAFE.search(value)
    char = match.group(0) if match else "?"
    what = _NAMED_CHARS.get(char, f"control character U+{ord(char):04X}")
    shown = value if len(value) <= 60 else value[:57] + "..."
    return f"{what} ({shown!r})"


class _SourceLoader(BaseLoader):
    """Templates by name under one folder, read through a ``Source`` (the disk, or an approved
    snapshot: then a template that was not bound by the approval does not exist)."""

    def __init__(self, directory: Path, source: Source) -> None:
        self.directory = directory
        self.source = source
        self._texts: dict[str, tuple[str, str]] = {}

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        text, filename = self.text(template)
        return text, filename, lambda: True

    def text(self, template: str) -> tuple[str, str]:
        """The template's text and file name, read once: every later use (compiling, the
        fast path, an include) sees the same bytes."""
        known = self._texts.get(template)
        if known is None:
            known = self._texts[template] = self._read(template)
        return known

    def _read(self, template: str) -> tuple[str, str]:
        path = self.directory.joinpath(*split_template_path(template))  # refuses '..'
        try:
            raw = self.source.read(path, display=template)
        except FileNotFoundError:
            raise TemplateNotFound(template) from None
        except SddBuildError as exc:
            raise RenderError(str(exc.problems[0].message), file=template) from None
        if b"\x00" in raw:
            raise RenderError(
                "binary file (contains NUL bytes), expected a template", file=template
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise RenderError("not UTF-8 text; save the template as UTF-8", file=template) from None
        return text, str(path)


class TemplateLibrary:
    """Compiled Jinja2 templates under one folder, plus inline design strings.

    Args:
        templates_dir: the folder template names are relative to (``templates/``).
        display_root: paths in errors are shown relative to this folder (the repository root),
            e.g. ``templates/frr/ospf.j2``; default: as given.

    Safe to share between threads (Nornir workers): compiled templates are immutable and the
    caches are filled under a lock.

    Flat templates (text and plain lookups, most of them) are rendered by their
    :class:`~sdd_build.render.flat.FlatProgram` instead of Jinja's runtime, with the same
    output; anything the program is not certain of is rendered by Jinja. ``fast=False``
    renders everything with Jinja.
    """

    def __init__(
        self,
        templates_dir: Path,
        *,
        display_root: Path | None = None,
        source: Source | None = None,
        fast: bool = True,
    ) -> None:
        self.templates_dir = Path(templates_dir)
        self.fast = fast  # False: every render through Jinja (the reference the tests compare)
        self.display_root = display_root
        self.source = source or DiskSource()
        self._loader = _SourceLoader(self.templates_dir, self.source)
        self._env = _Environment(
            loader=self._loader,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
            auto_reload=False,  # no stat() per get_template(); files do not change in a run
            cache_size=-1,  # never evict: a big design must not recompile includes
        )
        self._env.filters.update(FILTERS)
        self._env.filters[_GUARD] = _guard
        self._env.filters[bounds.LOOP_FILTER] = bounds.loop_guard
        self._templates: dict[str, Template] = {}
        self._strings: dict[str, Template] = {}
        # by name: the analysis of its text; by text: shared by every name with that text, so
        # 600 files with one content are parsed and checked once (compiled only on fallback)
        self._entries: dict[str, _Entry] = {}
        self._by_text: dict[str, _Entry] = {}
        self._limit: int | None = None  # SDD_MAX_RENDER_BYTES, read at the first render
        self._chains: dict[str, dict[int, list[tuple[str, str]]]] = {}
        self._lock = threading.RLock()  # _entry() compiles through get()

    # -- public API -------------------------------------------------------------------------

    def get(self, name: str) -> Template:
        """The compiled template ``name`` (relative to ``templates_dir``); compiled once."""
        try:
            return self._templates[name]
        except KeyError:
            pass
        with self._lock:
            if name not in self._templates:
                try:
                    self._templates[name] = self._env.get_template(name)
                except TemplateNotFound:
                    raise self._not_found(name) from None
                except TemplateSyntaxError as exc:
                    raise self._syntax_error(exc) from None
            return self._templates[name]

    def check(self, name: str) -> None:
        """Compile ``name`` and every template it includes, imports or extends (by a constant
        name); raise ``RenderError`` for a missing template or a syntax error."""
        self._check(name, set())

    def variables(self, name: str) -> frozenset[str]:
        """Top-level variables the template reads without defining them (``host``, ``vars``)."""
        return self._entry(name).meta.variables

    def render(
        self,
        name: str,
        context: Mapping[str, Any],
        *,
        host: str,
        known: Mapping[str, dict[int, str]] | None = None,
    ) -> str:
        """Render the template file ``name`` for ``host`` with ``context``.

        ``known``: per context root, a dict the caller keeps for as long as that root's value
        is the same object (one per host, one per component's vars), so that a flat template
        reuses what another render already read from it (see :meth:`FlatProgram.render`)."""
        program = (self._entries.get(name) or self._entry(name)).program
        if program is not None and self.fast:
            text = program.render(context, self._limit or self._read_limit(), known)
            if text is not None:
                return text
        template = self._templates.get(name) or self.get(name)
        try:
            return bounds.run(template, context)
        except Exception as exc:
            shown = self._display_name(name)  # for errors outside any template line
            raise self._render_error(exc, host=host, origin=shown, origin_line=None) from None

    def render_string(
        self,
        source: str,
        context: Mapping[str, Any],
        *,
        host: str,
        origin: str,
        origin_line: int | None = None,
        known: Mapping[str, dict[int, str]] | None = None,
    ) -> str:
        """Render an inline Jinja string from the design (a command, an expected value).

        ``origin``/``origin_line`` locate the string in the design file for error messages;
        ``known`` as for :meth:`render`.
        """
        template = self._strings.get(source)
        if template is None:
            template = self._compile_string(source, origin=origin, origin_line=origin_line)
        program = self._env.programs.get(source)
        if program is not None and self.fast:
            text = program.render(context, self._limit or self._read_limit(), known)
            if text is not None:
                return text
        try:
            return bounds.run(template, context)
        except Exception as exc:
            raise self._render_error(
                exc, host=host, origin=origin, origin_line=origin_line, source=source
            ) from None

    def check_string(self, source: str, *, origin: str, origin_line: int | None = None) -> None:
        """Compile an inline string; raise ``RenderError`` located in the design if it is bad."""
        if source not in self._strings:
            self._compile_string(source, origin=origin, origin_line=origin_line)

    # -- compiling --------------------------------------------------------------------------

    def _read_limit(self) -> int:
        self._limit = limits.render_bytes()
        return self._limit

    def _entry(self, name: str) -> _Entry:
        """What is known of ``name``'s text: its flat program and meta. A text seen before
        under another name is not parsed again: same text, same tree (the text is the key,
        not a hash of it). A text seen for the first time is compiled in full, so a syntax
        error is reported exactly as before."""
        known = self._entries.get(name)
        if known is not None:
            return known
        with self._lock:
            try:
                text, _ = self._loader.text(name)
            except TemplateNotFound:
                raise self._not_found(name) from None
            entry = self._by_text.get(text)
            if entry is None:
                self.get(name)
                entry = _Entry(self._env.programs.get(text), self._env.template_meta[name])
                self._by_text[text] = entry
            self._entries[name] = entry
            return entry

    def _check(self, name: str, seen: set[str]) -> None:
        if name in seen:
            return
        seen.add(name)
        for ref, line in self._entry(name).meta.references:
            try:
                self._check(ref, seen)
            except RenderError as exc:
                if exc.problems and exc.problems[0].file is None:  # not found: say who asked
                    raise RenderError(
                        str(exc.problems[0].message),
                        file=self._display_name(name),
                        line=line,
                    ) from None
                raise

    def _compile_string(self, source: str, *, origin: str, origin_line: int | None) -> Template:
        with self._lock:
            template = self._strings.get(source)
            if template is None:
                try:
                    template = self._env.from_string(source)
                except TemplateSyntaxError as exc:
                    raise RenderError(
                        f"Jinja syntax error in {_shorten(source)}: {exc.message}",
                        file=origin,
                        line=_inline_line(origin_line, exc.lineno),
                        hint="fix the expression in the design",
                    ) from None
                self._strings[source] = template
            return template

    # -- errors -----------------------------------------------------------------------------

    def _display(self, filename: str) -> str:
        path = Path(filename)
        if self.display_root is not None:
            try:
                return path.resolve().relative_to(Path(self.display_root).resolve()).as_posix()
            except ValueError:
                pass
        return str(path)

    def _display_name(self, name: str) -> str:
        return self._display(str(self.templates_dir / name))

    def _not_found(self, name: str) -> RenderError:
        folder = self._display(str(self.templates_dir))
        return RenderError(
            f"template {name!r} not found in {folder}/",
            hint=f"check the template name; it is relative to {folder}/",
        )

    def _syntax_error(self, exc: TemplateSyntaxError) -> RenderError:
        file = self._display(exc.filename) if exc.filename else self._display_name(exc.name or "")
        return RenderError(f"template syntax error: {exc.message}", file=file, line=exc.lineno)

    def _locate(self, exc: BaseException, origin: str | None, origin_line: int | None) -> _Located:
        frame = _innermost_template_frame(exc.__traceback__)
        if frame is None:
            return _Located(origin, origin_line, None)
        filename, line = frame
        if filename == _INLINE_FILENAME:
            return _Located(origin, origin_line, filename)
        return _Located(self._display(filename), line, filename)

    def _render_error(
        self,
        exc: Exception,
        *,
        host: str,
        origin: str | None,
        origin_line: int | None,
        source: str | None = None,
    ) -> RenderError:
        where = self._locate(exc, origin, origin_line)
        inline = where.template_filename == _INLINE_FILENAME
        in_expr = f" in {_shorten(source)}" if inline and source is not None else ""
        if isinstance(exc, InjectionError):
            line = where.line if inline else exc.line
            return RenderError(
                f"host {host}: {exc.label}{in_expr} renders to a value containing "
                f"{_describe_value(exc.value)}; a line break or control character in data "
                "could inject device commands",
                file=where.file,
                line=line,
                hint="fix the host/design data; to emit several lines, loop in the template",
            )
        if isinstance(exc, RenderLimit):
            return RenderError(
                f"host {host}: {exc}{in_expr}; bound the loops and sizes in the template",
                file=where.file,
                line=where.line if inline or exc.line is None else exc.line,
            )
        if isinstance(exc, UndefinedError):
            variable = self._undefined_variable(exc, where, source)
            return RenderError(
                f"host {host}: undefined variable {variable}{in_expr}",
                file=where.file,
                line=where.line,
                hint="define it for this host (inventory data, design or component vars) "
                "or guard it in the template with 'is defined'",
            )
        if isinstance(exc, TemplateSyntaxError):
            return self._syntax_error(exc)
        if isinstance(exc, TemplateNotFound):
            folder = self._display(str(self.templates_dir))
            return RenderError(
                f"host {host}: template {exc.name!r} not found in {folder}/",
                file=where.file,
                line=where.line,
            )
        if isinstance(exc, FilterError):
            return RenderError(f"host {host}: {exc}{in_expr}", file=where.file, line=where.line)
        if isinstance(exc, SecurityError):
            return RenderError(
                f"host {host}: refused by the template sandbox: {exc}{in_expr}",
                file=where.file,
                line=where.line,
            )
        return RenderError(
            f"host {host}: {type(exc).__name__}: {exc}{in_expr}",
            file=where.file,
            line=where.line,
        )

    def _undefined_variable(self, exc: UndefinedError, where: _Located, source: str | None) -> str:
        text = str(exc.message or exc)
        key_match = _MISSING_KEY.search(text)
        if key_match is None or where.template_filename is None or where.line is None:
            name_match = _UNDEFINED_NAME.match(text)
            return name_match.group("name") if name_match else f"({text})"
        key = key_match.group("key").strip("'")
        if where.template_filename == _INLINE_FILENAME:
            chains = self._chains_of(source or "", key="source:" + (source or ""))
            candidates = sorted(
                {label for lines in chains.values() for label, last in lines if last == key}
            )
        else:
            chains = self._chains_of_file(where.template_filename)
            candidates = sorted(
                {label for label, last in chains.get(where.line, []) if last == key}
            )
        if candidates:
            return f"{' or '.join(candidates)} ({text})"
        return f"({text})"

    def _chains_of_file(self, filename: str) -> dict[int, list[tuple[str, str]]]:
        try:
            source = self.source.read(Path(filename)).decode("utf-8")
        except (OSError, UnicodeDecodeError, SddBuildError):
            return {}
        return self._chains_of(source, key="file:" + filename)

    def _chains_of(self, source: str, *, key: str) -> dict[int, list[tuple[str, str]]]:
        """Attribute/item chains per line (``host.data.x`` → last key ``x``); errors only."""
        cached = self._chains.get(key)
        if cached is not None:
            return cached
        by_line: dict[int, list[tuple[str, str]]] = {}
        try:
            tree = self._env.parse(source)
        except TemplateSyntaxError:
            return by_line
        for node in _walk(tree):
            last: str | None = None
            if isinstance(node, nodes.Getattr):
                last = node.attr
            elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
                last = str(node.arg.value)
            elif isinstance(node, nodes.Name):
                last = node.name
            if last is not None:
                by_line.setdefault(node.lineno, []).append((_label(node), last))
        self._chains[key] = by_line
        return by_line


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _inline_line(origin_line: int | None, template_line: int | None) -> int | None:
    if origin_line is None:
        return None
    return origin_line + max((template_line or 1) - 1, 0)


def _shorten(source: str) -> str:
    return repr(source if len(source) <= 80 else source[:77] + "...")
