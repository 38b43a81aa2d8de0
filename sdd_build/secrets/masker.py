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
    """Masks secrets in text and in JSON-like data. Thread-safe; it only ever learns more."""

    def __init__(self, platform: str | None = None) -> None:
        """``platform``: mask that platform's syntax only; ``None`` (the process's masker):
        every platform's."""
        self._syntax = _compile(all_rows() if platform is None else SYNTAX[platform])
        self._lock = threading.Lock()
        self._literals: set[str] = set()
        self._names: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    # ----- learning ----------------------------------------------------------------------

    def add_literals(self, values: Iterable[object]) -> None:
        """Register secret values (strings, numbers; containers are walked)."""
        found: set[str] = set()
        _leaves(values, found)
        found = {v for v in found if len(v) >= MIN_LITERAL and v.lower() not in _NOT_SECRETS}
        with self._lock:
            if not found <= self._literals:
                self._literals |= found
                self._pattern = None

    def add_names(self, names: Iterable[str]) -> None:
        """Register names of variables/keys whose values are secret wherever they appear."""
        with self._lock:
            self._names |= {n for n in names if n}

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
        return is_secret_key(name) or (isinstance(name, str) and name in self._names)

    @property
    def literals(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._literals)

    def _literal_pattern(self) -> re.Pattern[str] | None:
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
        if "\x1b" in text:
            return self._mask_styled(text)
        learned: list[str] = []

        def syntax(m: re.Match[str]) -> str:
            secret = m.group("secret")
            if len(secret) > 1 and secret[0] in "\"'" and secret[-1] == secret[0]:
                learned.append(secret[1:-1])
                return m.group("keep") + secret[0] + MASK + secret[0]
            learned.append(secret)
            return m.group("keep") + MASK

        # Line by line, and only lines holding a word some row starts with (TRIGGER): every
        # platform's rows are one long alternation, too slow to try at every position of a
        # whole report. A config inside a JSON string has its lines joined by the two
        # characters '\n': each piece between such escapes is read as a line of its own.
        text = "".join(
            self._syntax_line(line, syntax) if TRIGGER.search(line) else line
            for line in text.splitlines(keepends=True)
        )
        if learned:
            self.add_literals(learned)
        pattern = self._literal_pattern()
        return pattern.sub(MASK, text) if pattern is not None else text

    def _syntax_line(self, line: str, syntax: Callable[[re.Match[str]], str]) -> str:
        return "".join(
            part if index % 2 else self._syntax.sub(syntax, part)
            for index, part in enumerate(_LINE_ESCAPE.split(line))
        )

    def contains_secret(self, text: str) -> bool:
        return self.mask(text) != text

    def mask_data(self, data: Any) -> Any:
        """A copy of JSON-like ``data`` with every string masked and every value under a secret
        key (``password``, a declared secret variable, ...) replaced whole."""
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, Mapping):
            out: dict[Any, Any] = {}
            for key, value in data.items():
                masked_key = self.mask(key) if isinstance(key, str) else key
                if self.is_secret_key(key) and value not in (None, "", [], {}):
                    if isinstance(value, str | int | float) and not isinstance(value, bool):
                        self.add_literals([value])
                        out[masked_key] = MASK
                        continue
                    self.add_literals([value])
                out[masked_key] = self.mask_data(value)
            return out
        if isinstance(data, list | tuple | set | frozenset):
            return [self.mask_data(v) for v in data]
        if isinstance(data, int | float) and not isinstance(data, bool):
            return MASK if self._is_literal(str(data)) else data
        return data

    def _is_literal(self, value: str) -> bool:
        with self._lock:
            return value in self._literals

    def _mask_styled(self, text: str) -> str:
        """Text with terminal escape codes: a line whose plain characters hold a secret loses
        its styling and is written masked; other lines keep theirs."""
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
