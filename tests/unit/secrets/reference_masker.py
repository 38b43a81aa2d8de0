"""The masker's ``mask`` and ``mask_data`` as they were before they were made fast (commit
3d9795d), kept verbatim as the reference the fast ones must equal byte for byte
(``test_mask_equivalence.py``). They run on a live ``Masker`` (its syntax, literals and
learning), so the two are compared on the same state."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sdd_build.secrets.masker import _ANSI, _LINE_ESCAPE, MASK, Masker

TRIGGER = re.compile(r"(?i)pass|secret|key|communit|auth|priv|psk|ascii-text|hexadecimal")


def old_mask(m: Masker, text: str) -> str:
    if not text:
        return text
    if "\x1b" in text:
        return _old_mask_styled(m, text)
    learned: list[str] = []

    def syntax(match: re.Match[str]) -> str:
        secret = match.group("secret")
        if len(secret) > 1 and secret[0] in "\"'" and secret[-1] == secret[0]:
            learned.append(secret[1:-1])
            return match.group("keep") + secret[0] + MASK + secret[0]
        learned.append(secret)
        return match.group("keep") + MASK

    text = "".join(
        _old_syntax_line(m, line, syntax) if TRIGGER.search(line) else line
        for line in text.splitlines(keepends=True)
    )
    if learned:
        m.add_literals(learned)
    pattern = m._literal_pattern()
    return pattern.sub(MASK, text) if pattern is not None else text


def _old_syntax_line(m: Masker, line: str, syntax: Callable[[re.Match[str]], str]) -> str:
    return "".join(
        part if index % 2 else m._syntax.sub(syntax, part)
        for index, part in enumerate(_LINE_ESCAPE.split(line))
    )


def _old_mask_styled(m: Masker, text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        plain = _ANSI.sub("", line)
        masked = old_mask(m, plain)
        out.append(line if masked == plain else masked)
    return "".join(out)


def old_mask_data(m: Masker, data: Any) -> Any:
    if isinstance(data, str):
        return old_mask(m, data)
    if isinstance(data, Mapping):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            masked_key = old_mask(m, key) if isinstance(key, str) else key
            if m.is_secret_key(key) and value not in (None, "", [], {}):
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    m.add_literals([value])
                    out[masked_key] = MASK
                    continue
                m.add_literals([value])
            out[masked_key] = old_mask_data(m, value)
        return out
    if isinstance(data, list | tuple | set | frozenset):
        return [old_mask_data(m, v) for v in data]
    if isinstance(data, int | float) and not isinstance(data, bool):
        return MASK if str(data) in m.literals else data
    return data
