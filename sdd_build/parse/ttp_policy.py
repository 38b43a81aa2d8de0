"""TTP templates are data: an allow-list of tags, attributes and functions, checked before TTP.

TTP runs Python in many places: ``<vars>`` are Python by default (``exec``), ``<macro>`` and
``macro(...)`` define and call functions, every ``name(args)`` in a match variable or a group
attribute goes through ``eval``; ``include=``, ``<input url=...>``, ``<extend template=...>``,
``<lookup>`` and ``geoip_lookup`` read files; ``<output returner="file">`` writes them;
``dns``/``rdns`` use the network. Refusing these one by one would leave the next one open, so
this module accepts only what it knows to be data and hands TTP *its own re-serialisation* of
the template it checked (never the file's text):

* tags: ``<template>`` (the root; ``name``, ``results``, ``pathchar``), ``<doc>``,
  ``<vars>``/``<v>``/``<variables>`` (``name``; ``load`` = ``python`` literals, ``yaml`` or
  ``json``, given to TTP as JSON), ``<group>``/``<g>``/``<grp>`` nested in each other;
* group attributes: ``name``, ``method``, ``default`` and the group functions in
  :data:`GROUP_FUNCTIONS`;
* match variables ``{{ name | f(args) | ... }}``: the functions, patterns and ``str`` methods
  in :data:`MATCH_FUNCTIONS`;
* every argument is a literal (string, number, ``True``/``False``/``None``, a bare word TTP
  reads as a string, or a list/tuple/dict of those): what TTP's ``eval`` then computes is that
  literal and nothing else.

Anything else is a ``ParseError`` at ``file:line`` naming the tag, attribute or function.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET
from xml.parsers import expat

import yaml

from sdd_build import limits
from sdd_build.errors import ParseError

__all__ = ["GROUP_FUNCTIONS", "MATCH_FUNCTIONS", "safe_template"]

_ROOT_ATTRIBUTES = frozenset({"name", "results", "pathchar"})
_VARS_TAGS = frozenset({"vars", "v", "variables"})
_GROUP_TAGS = frozenset({"group", "g", "grp"})
_VARS_LOADERS = frozenset({"python", "yaml", "json"})
_GROUP_OPTIONS = frozenset({"name", "method", "default"})

#: Group functions (``<group contains="x">``): filters and reshaping of a group's results.
GROUP_FUNCTIONS = frozenset(
    {
        "contains",
        "contains_val",
        "containsall",
        "del",
        "equal",
        "exclude",
        "exclude_val",
        "excludeall",
        "expand",
        "itemize",
        "items2dict",
        "record",
        "set",
        "str_to_unicode",
        "to_int",
        "to_ip",
        "void",
    }
)

# TTP's special handling of a name (first item of a match variable or a function).
_SPECIAL = frozenset(
    {"ignore", "_start_", "_end_", "_line_", "_exact_", "_exact_space_", "_headers_"}
)
# Names TTP dispatches on when they come first in a variable: only these may name a variable
# that way (``{{ chain("x") }}`` would run a chain of functions from a variable).
_FIRST_RESERVED = frozenset(
    {
        "chain",
        "set",
        "default",
        "joinmatches",
        "re",
        "contains_re",
        "startswith_re",
        "endswith_re",
        "notstartswith_re",
        "notendswith_re",
        "exclude_re",
        "exclude",
        "contains",
        "equal",
        "notequal",
        "sformat",
        "columns",
    }
)
_PATTERNS = frozenset(
    {"PHRASE", "ROW", "ORPHRASE", "DIGIT", "IP", "PREFIX", "IPV6", "PREFIXV6", "WORD", "MAC"}
)
_STR_METHODS = frozenset(
    {
        "upper",
        "lower",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "rsplit",
        "splitlines",
        "replace",
        "startswith",
        "endswith",
        "removeprefix",
        "removesuffix",
        "partition",
        "rpartition",
        "find",
        "rfind",
        "isalpha",
        "isalnum",
        "isdecimal",
        "isnumeric",
        "isspace",
        "islower",
        "isupper",
        "istitle",
    }
)
#: Match-variable functions: TTP's own data functions, its patterns, plain ``str`` methods.
#: Not here, on purpose: ``macro``, ``chain``, lookups (``lookup``, ``rlookup``,
#: ``gpvlookup``, ``geoip_lookup``), ``dns``/``rdns``, ``print``, ``raise``, ``sformat``, and
#: the functions that apply a template regex to a matched value (``resub``, ``contains_re``
#: and the like: ``re(...)`` in the line itself is time-bounded, those are not).
MATCH_FUNCTIONS = (
    frozenset(
        {
            "ignore",
            "_start_",
            "_end_",
            "_line_",
            "_exact_",
            "_exact_space_",
            "_headers_",
            "columns",
            "set",
            "default",
            "joinmatches",
            "re",
            "exclude",
            "contains",
            "equal",
            "notequal",
            "append",
            "prepend",
            "cidr_match",
            "copy",
            "count",
            "greaterthan",
            "lessthan",
            "ip_info",
            "is_ip",
            "isdigit",
            "notdigit",
            "item",
            "join",
            "let",
            "mac_eui",
            "record",
            "replaceall",
            "to_cidr",
            "to_float",
            "to_int",
            "to_ip",
            "to_list",
            "to_net",
            "to_str",
            "to_unicode",
            "truncate",
            "uptimeparse",
            "void",
        }
    )
    | _PATTERNS
    | _STR_METHODS
)

# Exactly TTP's own split of a variable ("{{ ... }}") and of one "name(options)" item.
_VARIABLE = re.compile(r"{{([\S\s]+?)}}")
_ITEM = re.compile(r"^(?P<name>\S+?)\s?(\((?P<options>.*)\))?$")
_NAME = re.compile(r"^[A-Za-z_][\w.\-/]*$")
# Names TTP's eval() resolves to objects (the globals of ttp/utils/get_attributes.py); any
# other bare word evaluates to itself as a string.
_EVAL_GLOBALS = frozenset(
    {"re", "sys", "traceback", "logging", "log", "get_attributes", "_UndefSubst"}
)


@dataclass
class _Checker:
    display: str
    starts: dict[ET.Element, int]  # the line of each element's start tag
    ends: dict[ET.Element, int]  # and of its end tag
    offset: int  # lines added by wrapping the text in <template> (TTP does the same)

    def fail(self, message: str, element: ET.Element | None = None, extra: int = 0) -> ParseError:
        return self.fail_at(
            message, self.starts.get(element, 0) + extra if element is not None else None
        )

    def fail_at(self, message: str, line: int | None) -> ParseError:
        if line is not None:
            line = max(line - self.offset, 1) if line else None
        return ParseError(
            f"TTP template refused: {message}; parser templates are data (allowed: "
            "<doc>, <vars> of literals, <group> with data functions)",
            file=self.display,
            line=line,
        )


def _literal(node: ast.AST) -> bool:
    """A literal TTP's eval() turns into that very value (bare words become strings)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | int | float | bool) or node.value is None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant) and isinstance(
            node.operand.value, int | float
        )
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _literal(k) for k in node.keys) and all(
            _literal(v) for v in node.values
        )
    if isinstance(node, ast.Name):
        return (
            _NAME.match(node.id) is not None
            and not node.id.startswith("_")
            and node.id not in _EVAL_GLOBALS
        )
    return False


def _options_are_literal(options: str) -> bool:
    # What TTP evaluates: eval("_get_args_kwargs({options})").
    try:
        tree = ast.parse(f"_get_args_kwargs({options})", mode="eval")
    except (SyntaxError, ValueError):
        return False
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        return False
    if call.func.id != "_get_args_kwargs":
        return False  # "x), y(" closed the call early
    return all(_literal(a) for a in call.args) and all(
        k.arg is not None and _literal(k.value) for k in call.keywords
    )


def _items(text: str) -> list[tuple[str, str | None]] | None:
    """TTP's reading of ``a | b(1) | c``: (name, options) per item; ``None`` if it cannot."""
    found: list[tuple[str, str | None]] = []
    for item in (i.strip() for i in text.split("|")):
        if not item:
            continue
        match = _ITEM.match(item)
        if match is None:
            return None
        found.append((match.group("name"), match.group("options")))
    return found


def _check_variables(checker: _Checker, text: str | None, first_line: int) -> None:
    """Every ``{{ ... }}`` of a group's text (which starts on ``first_line``)."""
    for number, line in enumerate((text or "").splitlines()):
        for variable in _VARIABLE.findall(line):
            items = _items(variable)
            where = (first_line + number,)
            if not items:
                raise checker.fail_at(f"cannot read match variable {{{{{variable}}}}}", *where)
            for index, (name, options) in enumerate(items):
                if index == 0:
                    if name in _FIRST_RESERVED or (
                        _NAME.match(name) is None and name not in _SPECIAL
                    ):
                        raise checker.fail_at(
                            f"match variable name {name!r} is not allowed", *where
                        )
                elif name not in MATCH_FUNCTIONS:
                    raise checker.fail_at(
                        f"match variable function {name!r} is not allowed", *where
                    )
                if options is not None and not _options_are_literal(options):
                    raise checker.fail_at(
                        f"arguments of {name!r} must be literals (strings, numbers), "
                        f"not {options!r}",
                        *where,
                    )


def _check_group(checker: _Checker, group: ET.Element) -> None:
    for attribute, value in group.attrib.items():
        if attribute in _GROUP_OPTIONS:
            continue
        if attribute not in GROUP_FUNCTIONS:
            raise checker.fail(f"group attribute {attribute!r} is not allowed", group)
        items = _items(f"{attribute}({value})")
        if (
            items is None
            or len(items) != 1
            or items[0][0] != attribute
            or (items[0][1] is not None and not _options_are_literal(items[0][1]))
        ):
            raise checker.fail(
                f"group attribute {attribute}={value!r}: arguments must be literals", group
            )
    _check_variables(checker, group.text, checker.starts.get(group, 0))
    for child in group:
        if child.tag.lower() not in _GROUP_TAGS:
            raise checker.fail(f"tag <{child.tag}> inside a group is not allowed", child)
        _check_group(checker, child)
        _check_variables(checker, child.tail, checker.ends.get(child, 0))


def _python_literals(checker: _Checker, element: ET.Element, text: str) -> Any:
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as exc:
        raise checker.fail(f"<vars> is not Python literals: {exc.msg}", element) from None
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        return ast.literal_eval(_only_literals(checker, element, tree.body[0].value))
    data: dict[str, Any] = {}
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and all(isinstance(t, ast.Name) for t in statement.targets)
        ):
            raise checker.fail(
                '<vars> may only assign literals (NAME = "value"); found '
                f"{type(statement).__name__.lower()} code",
                element,
                statement.lineno - 1,
            )
        value = ast.literal_eval(_only_literals(checker, element, statement.value))
        for target in statement.targets:
            assert isinstance(target, ast.Name)
            data[target.id] = value
    return data


def _only_literals(checker: _Checker, element: ET.Element, node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Name) or not _literal(node):
        raise checker.fail(
            "<vars> values must be literals (strings, numbers, lists, dicts), not code",
            element,
            getattr(node, "lineno", 1) - 1,
        )
    return node


def _vars(checker: _Checker, element: ET.Element) -> ET.Element:
    """The ``<vars>`` element as data: its values checked and re-encoded as JSON."""
    for attribute in element.attrib:
        if attribute not in ("name", "load"):
            raise checker.fail(f"<{element.tag}> attribute {attribute!r} is not allowed", element)
    loader = element.attrib.get("load", "python").lower()
    if loader not in _VARS_LOADERS:
        raise checker.fail(f"<{element.tag} load={loader!r}> is not allowed", element)
    if len(element):
        raise checker.fail(f"<{element.tag}> holds tags; it takes data only", element)
    text = element.text or ""
    data: Any
    if not text.strip():
        data = {}
    elif loader == "python":
        data = _python_literals(checker, element, text)
    elif loader == "json":
        try:
            data = limits.json_loads(text)
        except ValueError as exc:
            raise checker.fail(f"<vars> is not JSON: {exc}", element) from None
    else:
        try:
            data = yaml.safe_load(textwrap.dedent(text))
        except (yaml.YAMLError, RecursionError) as exc:
            raise checker.fail(f"<vars> is not YAML: {str(exc).splitlines()[0]}", element) from None
    if not isinstance(data, dict) or limits.nesting_exceeds(data):
        raise checker.fail("<vars> must hold a mapping of names to values", element)
    try:
        encoded = json.dumps(data)
    except (TypeError, ValueError):
        raise checker.fail(
            "<vars> values must be strings, numbers, lists or dicts", element
        ) from None
    safe = ET.Element(element.tag, {"load": "json"})
    if "name" in element.attrib:
        safe.set("name", element.attrib["name"])
    safe.text = encoded
    safe.tail = element.tail
    return safe


_Lines = tuple[dict[ET.Element, int], dict[ET.Element, int]]


def _parse_xml(text: str) -> tuple[ET.Element, _Lines]:
    """XML without DTDs or entities; the lines of every element's start and end tags."""
    parser = expat.ParserCreate()
    builder = ET.TreeBuilder()
    starts: dict[ET.Element, int] = {}
    ends: dict[ET.Element, int] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        starts[builder.start(tag, attrs)] = parser.CurrentLineNumber

    def end(tag: str) -> None:
        ends[builder.end(tag)] = parser.CurrentLineNumber

    def doctype(*_: Any) -> None:
        raise ValueError("a DOCTYPE (entities) is not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.Parse(text, True)
    return builder.close(), (starts, ends)


def _tree(text: str) -> tuple[ET.Element, _Lines, int]:
    """What TTP builds from ``text`` (its ``construct_etree``): the root, lines, line offset."""
    offset = 0
    try:
        root, lines = _parse_xml(text)
        if root.tag.lower() != "template":
            raise expat.ExpatError("not a template root")
    except expat.ExpatError:
        root, lines = _parse_xml(f"<template>\n{text}\n</template>")
        offset = 1
    if not list(root):
        root, lines = _parse_xml(
            f'<template><group name="_anonymous_">\n{text}\n</group></template>'
        )
        offset = 1
    return root, lines, offset


def safe_template(text: str, *, display: str) -> bytes:
    """Check a TTP template against the allow-list; return the text to give TTP.

    The result is this module's own serialisation of the checked tree (``<vars>`` re-encoded
    as JSON), as bytes: TTP treats a *string* template that names an existing file as that
    file's path and reads it instead.
    """
    try:
        root, lines, offset = _tree(text)
    except (expat.ExpatError, ValueError) as exc:
        raise ParseError(f"TTP template is not valid XML: {exc}", file=display) from None
    checker = _Checker(display, lines[0], lines[1], offset)
    for attribute in root.attrib:
        if attribute not in _ROOT_ATTRIBUTES:
            raise checker.fail(f"<template> attribute {attribute!r} is not allowed", root)
    for index, child in enumerate(list(root)):
        tag = child.tag.lower()
        if tag == "doc":
            if child.attrib or len(child):
                raise checker.fail("<doc> takes text only", child)
        elif tag in _VARS_TAGS:
            root[index] = _vars(checker, child)
        elif tag in _GROUP_TAGS:
            _check_group(checker, child)
        else:
            raise checker.fail(f"tag <{child.tag}> is not allowed", child)
    return ET.tostring(root, encoding="unicode").encode("utf-8")
