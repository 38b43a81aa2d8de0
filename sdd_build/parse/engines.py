"""One interface over TextFSM, ntc-templates, TTP and JSON.

Result shapes (what acceptance-check queries run over):

* ``textfsm`` and ``ntc``: a list of dicts, one per record, keys lower-cased (as ntc-templates
  and netmiko's ``use_textfsm`` give them), values as TextFSM gives them (strings, or lists of
  strings for ``List`` values).
* ``ttp``: the result of the (one) template for the (one) input, i.e. TTP's
  ``result()[0][0]``, which is what the template's groups build, typically a dict such as
  ``{"interfaces": [...]}``. Use a ``*`` suffix on group names (``name="interfaces*"``) so a
  single match is still a list.
* ``json``: ``json.loads`` of the output (vtysh ``show ... json``).

Empty output (nothing but white space) parses to an empty result, ``[]`` for ``textfsm`` and
``ntc``, ``{}`` for ``ttp`` and ``json``, without error: a device with nothing to show is a
check's business, not a parser error. Non-empty output the parser *recognises nothing in* is a
``ParseError`` with an excerpt of the input (a wrong command, an error message from the
device, or a template written for another platform):

* ``textfsm``/``ntc``: no record, and no non-blank input line matches any rule of the template
  (so a table that only has its header line is a legitimate empty list);
* ``ttp``: an empty result;
* ``json``: never (valid JSON is an answer; invalid JSON is an error with line and column).

Templates are read and compiled once per path (:class:`ParserCache`); TextFSM state machines
are stateful, so each thread keeps its own instance per template and resets it between parses.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, get_args

import textfsm
from textfsm import clitable

from sdd_build.design.models import Parser
from sdd_build.design.source import DiskSource, Source
from sdd_build.errors import JSONLimitError, ParseError, SddBuildError
from sdd_build.limits import json_loads
from sdd_build.parse.bounded import TimedPattern, deadline
from sdd_build.parse.ttp_policy import safe_template

__all__ = [
    "ENGINES",
    "ENGINE_TABLE",
    "Engine",
    "EngineSpec",
    "ParserCache",
    "check_ntc",
    "check_template",
    "default_cache",
    "parse",
]

Engine = Literal["textfsm", "ttp", "json", "ntc"]
ENGINES: tuple[Engine, ...] = ("textfsm", "ttp", "json", "ntc")

_EXCERPT_LINES = 5
_EXCERPT_WIDTH = 120
_LINE_IN_MESSAGE = re.compile(r"Line:? (\d+)")
_RULE_LINE = re.compile(r"Rule Line: (\d+)")


_STATE_NOT_FOUND = re.compile(r"State '(\w+)' not found, referenced in state '(\w+)'")
_NON_EMPTY_STATE = re.compile(r"Non-Empty '(\w+)' state")


def _template_line(message: str, text: str) -> int | None:
    """The template line a TextFSMTemplateError is about: from its message, else found."""
    found = _LINE_IN_MESSAGE.search(message)
    if found:
        return int(found.group(1))
    lines = text.splitlines()
    missing = _STATE_NOT_FOUND.search(message)
    if missing:  # the rule that names the missing state, within the referencing state
        target, state = missing.groups()
        in_state = False
        for number, line in enumerate(lines, 1):
            if not line[:1].isspace() and line.strip():
                in_state = line.strip() == state
            elif in_state and re.search(rf"->.*\b{re.escape(target)}\s*$", line):
                return number
        return None
    non_empty = _NON_EMPTY_STATE.search(message)
    if non_empty:
        for number, line in enumerate(lines, 1):
            if line.rstrip() == non_empty.group(1):
                return number
    return None


def _excerpt(raw: str) -> str:
    """The first few non-empty lines of the input, each bounded, for error messages."""
    lines = [line.rstrip() for line in raw.splitlines() if line.strip()]
    shown = [
        line if len(line) <= _EXCERPT_WIDTH else line[: _EXCERPT_WIDTH - 3] + "..."
        for line in lines[:_EXCERPT_LINES]
    ]
    text = "\n".join(f"    | {line}" for line in shown)
    if len(lines) > _EXCERPT_LINES:
        text += f"\n    | ... ({len(lines) - _EXCERPT_LINES} more lines)"
    return text


@dataclass(frozen=True, slots=True)
class _TextFSMTemplate:
    """A TextFSM template read and validated once; instances are made per thread from it."""

    path: Path
    display: str
    text: str
    key: tuple[Path, str]  # path and sha256 of the text: a changed file is another template
    header: tuple[str, ...]  # lower-cased value names
    rules: tuple[re.Pattern[str], ...]  # every rule's regex, to tell "recognised nothing"

    def recognises_any(self, raw: str) -> bool:
        return any(
            rule.match(line) for line in raw.splitlines() if line.strip() for rule in self.rules
        )


class ParserCache:
    """Compiled parser templates by path; share one per run (``default_cache()`` by default).

    Template files are assumed not to change during a run; call :meth:`clear` if they do.
    """

    def __init__(self) -> None:
        self._textfsm: dict[tuple[Path, str], _TextFSMTemplate] = {}
        self._ttp: dict[tuple[Path, str], str] = {}
        self._ntc: dict[tuple[str, str], tuple[Path, ...]] = {}
        self._idle_fsms: dict[tuple[Path, str], list[Any]] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._textfsm.clear()
            self._ttp.clear()
            self._ntc.clear()
            self._idle_fsms.clear()
            self._local = threading.local()

    # -- TextFSM ----------------------------------------------------------------------------

    def textfsm_template(
        self, path: Path, *, display: str | None = None, source: Source | None = None
    ) -> _TextFSMTemplate:
        """Read (through ``source``) and validate a TextFSM template; compiled once per content;
        ``ParseError`` with ``file:line``."""
        shown = display or str(path)
        text = _read(path, shown, source)
        key = (path, hashlib.sha256(text.encode()).hexdigest())
        cached = self._textfsm.get(key)
        if cached is not None:
            return cached
        try:
            fsm = _timed_fsm(textfsm.TextFSM(io.StringIO(text)))
        except textfsm.TextFSMTemplateError as exc:
            message = str(exc)
            raise ParseError(
                f"invalid TextFSM template: {message}",
                file=shown,
                line=_template_line(message, text),
            ) from None
        rules = tuple(rule.regex_obj for state in fsm.states.values() for rule in state)
        template = _TextFSMTemplate(
            path, shown, text, key, tuple(name.lower() for name in fsm.header), rules
        )
        with self._lock:
            self._textfsm.setdefault(key, template)
        return self._textfsm[key]

    def _fsm(self, template: _TextFSMTemplate) -> Any:
        """An idle parser of ``template``, reset (made when none is idle): a parser holds its
        state while it parses, so each parse has one to itself, and gives it back after
        (:meth:`_release`); idle ones are shared by every thread, not made once per thread."""
        with self._lock:
            idle = self._idle_fsms.get(template.key)
            fsm = idle.pop() if idle else None
        if fsm is None:
            return _timed_fsm(textfsm.TextFSM(io.StringIO(template.text)))
        fsm.Reset()
        return fsm

    def _release(self, template: _TextFSMTemplate, fsm: Any) -> None:
        with self._lock:
            self._idle_fsms.setdefault(template.key, []).append(fsm)

    def parse_textfsm(
        self,
        template: _TextFSMTemplate,
        raw: str,
        *,
        origin: str,
        display: str | None = None,
        engine: str = "textfsm",
    ) -> list[dict[str, Any]]:
        shown = display or template.display
        fsm = self._fsm(template)
        try:
            with deadline(f"{engine} template {shown} on {origin}", file=shown):
                rows = fsm.ParseText(raw)
                recognised = bool(rows) or template.recognises_any(raw)
        except textfsm.TextFSMError as exc:
            message = str(exc)
            found = _RULE_LINE.search(message)
            raise ParseError(
                f"{engine} template {shown} refused {origin}: {message}\n{_excerpt(raw)}",
                file=shown,
                line=int(found.group(1)) if found else None,
                hint="the output is not what the template expects: check the command, "
                "or extend the template",
            ) from None
        finally:
            self._release(template, fsm)  # reset when next taken: ``rows`` stays ours
        if not recognised:
            raise _nothing(engine, shown, origin, raw)
        header = template.header
        return [dict(zip(header, row, strict=True)) for row in rows]

    # -- TTP --------------------------------------------------------------------------------

    def ttp_template(
        self, path: Path, *, display: str | None = None, source: Source | None = None
    ) -> str:
        """Read (through ``source``) and validate a TTP template; ``ParseError`` if TTP cannot
        load it. Checked once per content."""
        shown = display or str(path)
        text = _read(path, shown, source)
        key = (path, hashlib.sha256(text.encode()).hexdigest())
        if key in self._ttp:
            return self._ttp[key]
        _load_ttp(text, shown)
        with self._lock:
            self._ttp.setdefault(key, text)
        return self._ttp[key]

    def parse_ttp(
        self, path: Path, raw: str, *, origin: str, display: str, source: Source | None = None
    ) -> Any:
        text = self.ttp_template(path, display=display, source=source)
        key = (path, hashlib.sha256(text.encode()).hexdigest())
        parsers: dict[tuple[Path, str], Any] | None = getattr(self._local, "ttp", None)
        if parsers is None:
            parsers = self._local.ttp = {}
        parser = parsers.get(key)
        if parser is None:
            parser = parsers[key] = _load_ttp(text, display)
        try:
            with deadline(f"ttp template {display} on {origin}", file=display):
                _feed_ttp(parser, raw)
                parser.parse(one=True)
                results = parser.result()
            # results[template][input]: one template, one input. Take it before clear_result()
            # empties TTP's structures in place.
            result = results[0][0] if results and results[0] else {}
        except ParseError:
            raise
        except Exception as exc:
            raise ParseError(
                f"ttp template {display} failed on {origin}: {type(exc).__name__}: {exc}\n"
                f"{_excerpt(raw)}",
                file=display,
            ) from None
        finally:
            parser.clear_result()
            parser.clear_input()
        if not result:
            raise _nothing("ttp", display, origin, raw)
        return result

    # -- ntc-templates ----------------------------------------------------------------------

    def ntc_templates(self, platform: str, command: str) -> tuple[Path, ...]:
        """The ntc-templates template file(s) for a platform and command, from its index."""
        key = (platform, command)
        cached = self._ntc.get(key)
        if cached is not None:
            return cached
        template_dir = Path(_ntc_template_dir())
        table = clitable.CliTable("index", str(template_dir))
        row = table.index.GetRowMatch({"Platform": platform, "Command": command})
        if not row:
            raise _ntc_unknown(table, platform, command)
        files = tuple(template_dir / name for name in table.index.index[row]["Template"].split(":"))
        with self._lock:
            self._ntc.setdefault(key, files)
        return self._ntc[key]


_DEFAULT_CACHE = ParserCache()


def default_cache() -> ParserCache:
    """The process-wide cache ``parse`` uses when none is given."""
    return _DEFAULT_CACHE


def _read(path: Path, display: str, source: Source | None) -> str:
    """A parser template's text, through ``source`` (an approved snapshot in a build)."""
    try:
        raw = (source or DiskSource()).read(path, display=display)
    except FileNotFoundError:
        raise ParseError("parser template not found", file=display) from None
    except SddBuildError as exc:
        raise ParseError(exc.problems[0].message, file=display) from None
    except OSError as exc:
        raise ParseError(f"cannot read parser template: {exc}", file=display) from None
    if b"\x00" in raw:
        raise ParseError("binary file (contains NUL bytes), expected a template", file=display)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("not UTF-8 text; save the template as UTF-8", file=display) from None


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        head, _, trace = message.partition("traceback:")
        if trace.strip():  # keep TTP's conclusion, not its Python traceback
            head = f"{head.rstrip(' ,')}: {trace.strip().splitlines()[-1]}"
        self.messages.append(" ".join(head.split()))


@contextmanager
def _collect_logs(name: str) -> Iterator[_LogCollector]:
    logger = logging.getLogger(name)
    collector = _LogCollector()
    propagate = logger.propagate
    logger.addHandler(collector)
    logger.propagate = False  # reported as a ParseError, not also printed
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
        logger.propagate = propagate


def _load_ttp(text: str, display: str) -> Any:
    """The one place a TTP parser is made: from the allow-listed re-serialisation of ``text``
    (:mod:`sdd_build.parse.ttp_policy`), its line patterns time-bounded."""
    from ttp import ttp  # heavy import, only when a TTP parser is used

    checked = safe_template(text, display=display)
    # TTP reports most template problems through logging rather than exceptions.
    with _collect_logs("ttp") as logs:
        try:
            parser = ttp(template=checked)
        except (Exception, SystemExit) as exc:  # TTP exits on some template errors
            detail = "; ".join(logs.messages) or f"{type(exc).__name__}: {exc}"
            raise ParseError(f"invalid TTP template: {detail}", file=display) from None
    if logs.messages:
        raise ParseError(f"invalid TTP template: {'; '.join(logs.messages)}", file=display)
    for template in parser._templates:
        _timed_groups(template.groups)
    return parser


def _timed_groups(groups: list[Any]) -> None:
    """TTP's compiled line patterns, swapped for time-bounded ones (``bounded.TimedPattern``)."""
    for group in groups:
        for patterns in (group.start_re, group.re, group.end_re):
            for entry in patterns:
                entry["REGEX"] = TimedPattern(entry["REGEX"].pattern, entry["REGEX"].flags)
        _timed_groups(group.children)


def _feed_ttp(parser: Any, raw: str) -> None:
    """Give TTP ``raw`` as text. Its ``add_input`` would first try ``raw`` as a file or folder
    path (or a ttp:// reference) and read that instead: a device answering ``/etc/shadow``."""
    for template in parser._templates:
        template.update_input(data=[("text_data", raw)], input_name="Default_Input", groups=["all"])


def _timed_fsm(fsm: Any) -> Any:
    """A TextFSM state machine whose rules match on time-bounded patterns."""
    for state in fsm.states.values():
        for rule in state:
            rule.regex_obj = TimedPattern(rule.regex)
    return fsm


def _ntc_template_dir() -> str:
    from ntc_templates.parse import _get_template_dir

    return str(_get_template_dir())


def _ntc_unknown(table: Any, platform: str, command: str) -> ParseError:
    platforms = sorted({row["Platform"] for row in table.index.index if row["Platform"]})
    try:
        version = metadata.version("ntc_templates")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with sdd-build
        version = "?"
    if platform not in platforms:
        close = difflib.get_close_matches(platform, platforms, n=5, cutoff=0.5)
        detail = f"platform {platform!r} is unknown to ntc-templates {version}" + (
            f" (did you mean {', '.join(repr(p) for p in close)}?)" if close else ""
        )
        hint = "use an ntc-templates platform name such as cisco_ios, arista_eos, juniper_junos"
    else:
        detail = (
            f"ntc-templates {version} has no template for command {command!r} "
            f"on platform {platform!r}"
        )
        hint = (
            "check the command's spelling (abbreviations are matched as in ntc-templates' "
            "index), or write a textfsm/ttp parser for it"
        )
    return ParseError(detail, hint=hint)


def _nothing(engine: str, template: str, origin: str, raw: str) -> ParseError:
    return ParseError(
        f"{engine} parser {template} recognised nothing in {origin}:\n{_excerpt(raw)}",
        file=None if origin.startswith("<") else origin,
        hint="is this the output of the command the parser was written for? "
        "(an error message from the device, another platform, another command)",
    )


def parse(
    engine: Engine,
    raw: str,
    *,
    template: Path | None = None,
    platform: str | None = None,
    command: str | None = None,
    origin: str = "<output>",
    display_template: str | None = None,
    cache: ParserCache | None = None,
    source: Source | None = None,
) -> Any:
    """Parse one command's output.

    Args:
        engine: ``textfsm``, ``ttp``, ``json`` or ``ntc``.
        raw: the command output.
        template: the template file (``textfsm`` and ``ttp``).
        platform: the ntc-templates platform (``ntc``), e.g. ``cisco_ios``.
        command: the command as run (``ntc``), used to find the template in ntc's index.
        origin: what the output is, for messages: a fixture path or ``r1: show ip ospf ...``.
        display_template: the template path as shown to people (``parsers/frr/x.textfsm``).
        cache: compiled templates; default: the process-wide :func:`default_cache`.
        source: where the template's bytes come from (an approved snapshot in a build).

    Returns:
        The structured data; see the module docstring for each engine's shape.
    """
    spec = ENGINE_TABLE.get(engine)
    if spec is None:
        raise ParseError(f"unknown parser engine {engine!r}; use one of {', '.join(ENGINES)}")
    request = _Request(
        raw=raw,
        template=template,
        platform=platform,
        command=command,
        origin=origin,
        display_template=display_template,
        cache=cache or _DEFAULT_CACHE,
        source=source,
    )
    if spec.needs_template and template is None:
        raise ParseError(f"the {engine} engine needs a template")
    return spec.parse(request)


@dataclass(frozen=True)
class _Request:
    """One parse call's arguments, as every engine's ``parse`` receives them."""

    raw: str
    template: Path | None
    platform: str | None
    command: str | None
    origin: str
    display_template: str | None
    cache: ParserCache
    source: Source | None

    @property
    def shown(self) -> str:
        return self.display_template or str(self.template)


def _parse_textfsm(req: _Request) -> Any:
    assert req.template is not None
    compiled = req.cache.textfsm_template(req.template, display=req.shown, source=req.source)
    if not req.raw.strip():
        return []
    return req.cache.parse_textfsm(compiled, req.raw, origin=req.origin, display=req.shown)


def _parse_ttp(req: _Request) -> Any:
    assert req.template is not None
    req.cache.ttp_template(req.template, display=req.shown, source=req.source)
    if not req.raw.strip():
        return {}
    return req.cache.parse_ttp(
        req.template, req.raw, origin=req.origin, display=req.shown, source=req.source
    )


def _parse_ntc(req: _Request) -> Any:
    platform, command = req.platform, req.command
    if not platform or not command:
        raise ParseError("the ntc engine needs both a platform and a command")
    if not req.raw.strip():
        return []
    files = req.cache.ntc_templates(platform, command)
    shown = req.display_template or f"ntc-templates {files[0].name}"
    if len(files) == 1:
        compiled = req.cache.textfsm_template(files[0], display=shown)
        return req.cache.parse_textfsm(
            compiled, req.raw, origin=req.origin, display=shown, engine="ntc"
        )
    return _parse_ntc_merged(platform, command, req.raw, req.origin)


def _parse_json(raw: str, origin: str) -> Any:
    if not raw.strip():
        return {}
    try:
        return json_loads(raw)
    except json.JSONDecodeError as exc:
        if isinstance(exc, JSONLimitError):  # a bound, not a syntax error: no excerpt, no hint
            raise ParseError(f"output refused: {exc.msg}", file=origin) from None
        raise ParseError(
            f"output is not valid JSON: {exc.msg}\n{_excerpt(raw)}",
            file=origin,
            line=exc.lineno,
            column=exc.colno,
            hint="run the command with 'json' at the end (vtysh), and check the device "
            "did not answer with an error message",
        ) from None


def _parse_ntc_merged(platform: str, command: str, raw: str, origin: str) -> Any:
    # Several templates for one command: ntc-templates merges their tables by key.
    from ntc_templates.parse import ParsingException, parse_output

    try:
        rows = parse_output(platform=platform, command=command, data=raw)
    except (ParsingException, textfsm.TextFSMError) as exc:
        raise ParseError(
            f"ntc-templates failed on {origin}: {exc}\n{_excerpt(raw)}",
            file=None if origin.startswith("<") else origin,
        ) from None
    if not rows:
        raise _nothing("ntc", f"for {platform} {command!r}", origin, raw)
    return rows


def check_template(engine: str, path: Path, *, display: str, source: Source | None = None) -> None:
    """Validate a parser template offline: ``ParseError`` at ``display:line`` if it is bad.

    ``textfsm`` and ``ntc`` templates are TextFSM; ``ttp`` templates are loaded by TTP;
    ``json`` takes no template.
    """
    spec = ENGINE_TABLE.get(engine)
    if spec is None:
        raise ParseError(f"unknown parser engine {engine!r}; use one of {', '.join(ENGINES)}")
    if spec.check_template is None:
        raise ParseError(f"the {engine} engine takes no template", file=display)
    spec.check_template(path, display, source)


def check_ntc(platform: str, command: str) -> None:
    """Validate offline that ntc-templates has a template for ``platform`` and ``command``."""
    _DEFAULT_CACHE.ntc_templates(platform, command)


def _check_textfsm(path: Path, display: str, source: Source | None) -> None:
    _DEFAULT_CACHE.textfsm_template(path, display=display, source=source)


def _check_ttp(path: Path, display: str, source: Source | None) -> None:
    _DEFAULT_CACHE.ttp_template(path, display=display, source=source)


@dataclass(frozen=True)
class EngineSpec:
    """One parser engine: how it parses, how its template is checked offline (``None``: it
    takes none), and whether ``parse`` needs a template file."""

    parse: Callable[[_Request], Any]
    check_template: Callable[[Path, str, Source | None], None] | None
    needs_template: bool


#: The one table of parser engines; ``design.models.Parser.engine`` (the schema) must name the
#: same keys, checked when this module is imported.
ENGINE_TABLE: dict[str, EngineSpec] = {
    "textfsm": EngineSpec(_parse_textfsm, _check_textfsm, needs_template=True),
    "ttp": EngineSpec(_parse_ttp, _check_ttp, needs_template=True),
    "json": EngineSpec(lambda req: _parse_json(req.raw, req.origin), None, needs_template=False),
    "ntc": EngineSpec(_parse_ntc, _check_textfsm, needs_template=False),
}
if set(ENGINE_TABLE) != set(ENGINES) or set(ENGINES) != set(
    get_args(Parser.model_fields["engine"].annotation)
):  # pragma: no cover - a developer error, at import
    raise ImportError("parser engines: ENGINE_TABLE, ENGINES and the schema disagree")
