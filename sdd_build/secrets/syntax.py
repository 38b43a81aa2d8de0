"""The platforms' secret syntax, as data: each platform's rows live in its registry entry
(``sdd_build.platforms``, ``Platform.secrets``); one row per statement that carries a secret.

A row is the regular expression of the words *before* the secret (``keep``; optional
qualifiers are possessive, ``?+``, so that an already masked value is never re-read as a
qualifier followed by a secret) and an example line
with the secret ``S3cr3t-Example`` that the row must mask (the unit tests run every example, with
and without indentation, with ``+``/``-`` diff prefixes, inside an error message and inside a
JSON string). The secret itself is the next whitespace-free token; anything already masked is
left alone, so masking twice changes nothing.

The rows match anywhere in a line, not only at a statement's start: a secret also travels inside
a device's error message (``% Unknown command: neighbor 10.0.0.2 password ...``), a diff, a
reason or a JSON-escaped rendered config. Matching prose ("password is ...") over-masks a word;
that is the cheap side of the trade.

``KEY_NAMES`` are the names of structured keys (YAML, JSON, inventory fields, design variables)
whose values are secret whatever their text: a value under such a key is masked as a whole.
"""

from __future__ import annotations

import re

from sdd_build.platforms import EXAMPLE_SECRET, PLATFORMS, SecretSyntax

__all__ = [
    "EXAMPLE_SECRET",
    "KEY_NAMES",
    "SYNTAX",
    "TRIGGER",
    "SecretSyntax",
    "all_rows",
    "is_secret_key",
]

#: every platform's rows, by platform (the registry's ``Platform.secrets``)
SYNTAX: dict[str, tuple[SecretSyntax, ...]] = {
    name: platform.secrets for name, platform in PLATFORMS.items()
}


#: A word every row's statement holds (case-insensitive): a line without one holds no secret
#: by syntax, and the masker does not try the rows on it (tests/unit/secrets checks each row's
#: example and pattern against it).
#: (The lookahead on the words' first letters only makes the scan of a long text ~3x faster.)
TRIGGER = re.compile(
    r"(?i)(?=[pskcah])(?:pass|secret|key|communit|auth|priv|psk|ascii-text|hexadecimal)"
)


def all_rows() -> tuple[SecretSyntax, ...]:
    """Every platform's rows, once each (a build's hosts may be of any platform; masking a
    word too many is the cheap side of the trade)."""
    rows: dict[str, SecretSyntax] = {}
    for platform in PLATFORMS.values():
        for row in platform.secrets:
            rows.setdefault(row.keep, row)
    return tuple(rows.values())


KEY_NAMES = re.compile(
    r"^(?:.*[_-])?(?:password|passwd|secret|key[_-]?string|auth[_-]?key|authentication[_-]?key|"
    r"md5[_-]?key|snmp[_-]?community|community[_-]?string|psk|private[_-]?key|token)$",
    re.IGNORECASE,
)


def is_secret_key(name: object) -> bool:
    """Whether a structured key (inventory field, design variable, JSON key) names a secret."""
    return isinstance(name, str) and bool(KEY_NAMES.match(name))
