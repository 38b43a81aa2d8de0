"""The one masking stage: platform secret syntax (data) plus the literal values known as secret.

There is one ``Masker`` per process (``masker()``); it only ever learns more. Secrets are
registered where they enter the process — the inventory's credentials when it is loaded, the
design variables declared secret when the workspace is built — and every value the platform
syntax masks is learned too, so the same secret is also masked where it later appears without
its syntax (a parsed output, a check's ``found`` value). ``sdd_build.secrets.sink`` is the only
way out of the process (files, stdout, stderr) and it masks with this masker.

Literal values are masked in their raw, JSON-escaped, HTML/XML-escaped and ``repr`` forms. A
literal shorter than ``MIN_LITERAL`` is not masked by value (it would mask common words); a
short one (under 8 characters) only where it stands as a whole token, so that a secret that
happens to be hex never corrupts a hash.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sdd_build.secrets.syntax import SYNTAX, TRIGGER, SecretSyntax, all_rows, is_secret_key

__all__ = ["MASK", "MIN_LITERAL", "Masker", "masker", "reset_masker"]

MASK = "<redacted>"
MIN_LITERAL = 4
_LONG = 8
# what an already masked value looks like in the formats we write: never masked twice
_MASKED = r"(?!<redacted>|&lt;redacted&gt;|\\u003credacted\\u003e)"
_NOT_SECRETS = {MASK, "null", "none", "true", "false", "&lt;redacted&gt;"}
_LINE_ESCAPE = re.compile(r"(\\[nrt])")
# line ends ``str.splitlines`` knows besides '\n' (a text holding one is cut by it)
_OTHER_EOL = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_MEMO_TEXT = 128  # texts up to this length are remembered masked ...
_MEMO_SIZE = 8192  # ... this many at most (then no more until a literal is learned)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def _compile(rows: Iterable[SecretSyntax]) -> re.Pattern[str]:
    keep = "|".join(f"(?:{row.keep})" for row in rows)
    secret = r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|\S+"
    return re.compile(rf"(?P<keep>(?:{keep})){_MASKED}(?P<secret>{secret})", re.IGNORECASE)


def _variants(value: str) -> set[str]:
    forms = {value, json.dumps(value)[1:-1], html.escape(value), html.escape(value, quote=False)}
    forms.add(repr(value)[1:-1])
    return {f for f in forms if f}


class Masker:
    """Masks secrets in text and in JSON-like data. Thread-safe; it only ever learns more.

    Made for being called on every string written (tens of thousands per build): the syntax
    rows are tried only on the lines of a text that hold a TRIGGER word (found by one scan of
    the whole text), and short strings (keys, statuses, names: the same few again and again)
    are remembered with their masked form until a new literal is learned. Readers take no
    lock: the literal set, its pattern and the memo are replaced whole, never changed in
    place."""

    def __init__(self, platform: str | None = None) -> None:
        """``platform``: mask that platform's syntax only; ``None`` (the process's masker):
        every platform's."""
        self._syntax = _compile(all_rows() if platform is None else SYNTAX[platform])
        self._lock = threading.Lock()
        self._literals: frozenset[str] = frozenset()
        self._names: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._memo: dict[str, str] = {}  # short text -> masked, for the current literals
        self._keys: dict[str, bool] = {}  # key -> is a secret key, for the current names

    # ----- learning ----------------------------------------------------------------------

    def add_literals(self, values: Iterable[object]) -> None:
        """Register secret values (strings, numbers; containers are walked)."""
        found: set[str] = set()
        _leaves(values, found)
        found = {v for v in found if len(v) >= MIN_LITERAL and v.lower() not in _NOT_SECRETS}
        if found <= self._literals:
            return
        with self._lock:
            if not found <= self._literals:
                self._literals = self._literals | found
                self._pattern = None
                self._memo = {}

    def add_names(self, names: Iterable[str]) -> None:
        """Register names of variables/keys whose values are secret wherever they appear."""
        with self._lock:
            self._names = self._names | {n for n in names if n}
            self._keys = {}

    def learn(self, data: Any) -> None:
        """Register the values found under secret keys anywhere in JSON-like ``data``."""
        if isinstance(data, Mapping):
            for key, value in data.items():
                if self.is_secret_key(key):
                    self.add_literals([value])
                self.learn(value)
        elif isinstance(data, list | tuple):
            for value in data:
                self.learn(value)

    def is_secret_key(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        keys = self._keys
        known = keys.get(name)
        if known is None:
            known = is_secret_key(name) or name in self._names
            if len(keys) < _MEMO_SIZE:
                keys[name] = known
        return known

    @property
    def literals(self) -> frozenset[str]:
        return self._literals

    def _literal_pattern(self) -> re.Pattern[str] | None:
        pattern = self._pattern
        if pattern is not None or not self._literals:
            return pattern
        with self._lock:
            if self._pattern is None and self._literals:
                parts = []
                for form in sorted(
                    {f for lit in self._literals for f in _variants(lit)}, key=len, reverse=True
                ):
                    text = re.escape(form)
                    if len(form) < _LONG:
                        text = rf"(?<![A-Za-z0-9]){text}(?![A-Za-z0-9])"
                    parts.append(text)
                self._pattern = re.compile("|".join(parts))
            return self._pattern

    # ----- masking -----------------------------------------------------------------------

    def mask(self, text: str) -> str:
        """Mask the platform's secret syntax and every known literal in ``text``."""
        if not text:
            return text
        memo = self._memo  # replaced whole when a literal is learned: never a stale answer
        short = len(text) <= _MEMO_TEXT
        if short:
            done = memo.get(text)
            if done is not None:
                return done
        if "\x1b" in text:
            return self._mask_styled(text)
        masked = text
        hit = TRIGGER.search(text)
        if hit is not None:
            learned: list[str] = []
            masked = self._mask_syntax(text, hit, learned)
            if learned:
                self.add_literals(learned)
        pattern = self._literal_pattern()
        if pattern is not None:
            masked = pattern.sub(MASK, masked)
        if short and len(memo) < _MEMO_SIZE:
            memo[text] = masked
        return masked

    def _mask_syntax(self, text: str, hit: re.Match[str], learned: list[str]) -> str:
        """The rows tried on each line of ``text`` that holds a TRIGGER word (``hit`` is the
        first), lines as ``str.splitlines(keepends=True)`` cuts them."""

        def syntax(m: re.Match[str]) -> str:
            secret = m.group("secret")
            if len(secret) > 1 and secret[0] in "\"'" and secret[-1] == secret[0]:
                learned.append(secret[1:-1])
                return m.group("keep") + secret[0] + MASK + secret[0]
            learned.append(secret)
            return m.group("keep") + MASK

        if _OTHER_EOL.search(text) is not None:  # line ends other than '\n': cut as splitlines
            return "".join(
                self._syntax_line(line, syntax) if TRIGGER.search(line) else line
                for line in text.splitlines(keepends=True)
            )
        out: list[str] = []
        pos, size = 0, len(text)
        match: re.Match[str] | None = hit
        while match is not None:
            before = text.rfind("\n", pos, match.start())
            start = pos if before < 0 else before + 1
            after = text.find("\n", match.end())
            end = size if after < 0 else after + 1
            out.append(text[pos:start])
            out.append(self._syntax_line(text[start:end], syntax))
            pos = end
            match = TRIGGER.search(text, pos) if pos < size else None
        out.append(text[pos:])
        return "".join(out)

    def _syntax_line(self, line: str, syntax: Callable[[re.Match[str]], str]) -> str:
        # A config inside a JSON string has its lines joined by the two characters '\n':
        # each piece between such escapes is read as a line of its own, and like a line it is
        # tried only if it holds a TRIGGER word (every row's match holds one, within a line).
        if "\\" not in line:
            return self._syntax.sub(syntax, line)
        return "".join(
            part if index % 2 or TRIGGER.search(part) is None else self._syntax.sub(syntax, part)
            for index, part in enumerate(_LINE_ESCAPE.split(line))
        )

    def contains_secret(self, text: str) -> bool:
        return self.mask(text) != text

    def mask_data(self, data: Any) -> Any:
        """A copy of JSON-like ``data`` with every string masked and every value under a secret
        key (``password``, a declared secret variable, ...) replaced whole.

        A secret learned while masking (from its syntax in one string, or under a secret key)
        is masked in every string of ``data``, also in those masked before it was learned."""
        before = self._literals
        masked = self._mask_data(data)
        if self._literals is not before:
            masked = self._mask_data(data)
        return masked

    def _mask_data(self, data: Any) -> Any:
        kind = type(data)
        if kind is str:
            return self.mask(data)
        if kind is dict or (kind is not list and isinstance(data, Mapping)):
            out: dict[Any, Any] = {}
            mask, mask_data, secret_key = self.mask, self._mask_data, self.is_secret_key
            for key, value in data.items():
                if isinstance(key, str):
                    masked_key = mask(key)
                    if secret_key(key) and value not in (None, "", [], {}):
                        self.add_literals([value])
                        if isinstance(value, str | int | float) and not isinstance(value, bool):
                            out[masked_key] = MASK
                            continue
                else:
                    masked_key = key
                # leaves inline (most values): a string is masked, None and booleans kept
                leaf = type(value)
                if leaf is str:
                    out[masked_key] = mask(value)
                elif value is None or leaf is bool:
                    out[masked_key] = value
                else:
                    out[masked_key] = mask_data(value)
            return out
        if kind is list or isinstance(data, list | tuple | set | frozenset):
            mask, mask_data = self.mask, self._mask_data
            return [mask(v) if type(v) is str else mask_data(v) for v in data]
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, int | float) and not isinstance(data, bool):
            return MASK if str(data) in self._literals else data
        return data

    def _mask_styled(self, text: str) -> str:
        """Text with terminal escape codes: a line whose plain characters hold a secret loses
        its styling and is written masked; other lines keep theirs. A secret learned from
        one line is masked in the lines before it too."""
        before = self._literals
        out = self._styled_lines(text)
        return self._styled_lines(text) if self._literals is not before else out

    def _styled_lines(self, text: str) -> str:
        out = []
        for line in text.splitlines(keepends=True):
            plain = _ANSI.sub("", line)
            masked = self.mask(plain)
            out.append(line if masked == plain else masked)
        return "".join(out)


def _leaves(value: object, found: set[str]) -> None:
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        found.add(str(value))
    elif isinstance(value, Mapping):
        for v in value.values():
            _leaves(v, found)
    elif isinstance(value, Iterable):
        for v in value:
            _leaves(v, found)


_CURRENT = [Masker()]


def masker() -> Masker:
    """The process's masker (every writer uses it)."""
    return _CURRENT[0]


def reset_masker() -> None:
    """Forget every learned secret: for tests only (a process never needs to forget)."""
    _CURRENT[0] = Masker()
