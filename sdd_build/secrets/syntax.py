"""The platforms' secret syntax, as data: one table, one row per statement that carries a secret.

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
from dataclasses import dataclass

__all__ = ["EXAMPLE_SECRET", "KEY_NAMES", "SYNTAX", "SecretSyntax", "is_secret_key"]

EXAMPLE_SECRET = "S3cr3t-Example"
_SP = r"[ \t]+"


@dataclass(frozen=True, slots=True)
class SecretSyntax:
    name: str
    keep: str  # regex of the words before the secret (case-insensitive)
    example: str  # a statement holding EXAMPLE_SECRET


# FRR 8.x (vtysh). A later platform adds its own tuple under its name.
_FRR: tuple[SecretSyntax, ...] = (
    # vty 'password', 'enable password', 'neighbor A password' (bgpd, ldpd), 'username U
    # password', IS-IS 'isis password', 'area-password', 'domain-password' (clear|md5 first),
    # and the encrypted forms 'password 8 X'.
    SecretSyntax(
        "password",
        rf"(?<![\w-])(?:[\w]+-)?password{_SP}(?:(?:[0-9]|clear|md5|hmac-md5|text){_SP})?+",
        "enable password S3cr3t-Example",
    ),
    SecretSyntax(
        "enable secret",
        rf"\benable{_SP}secret{_SP}(?:[0-9]{_SP})?+",
        "enable secret 5 S3cr3t-Example",
    ),
    SecretSyntax(
        "username secret",
        rf"\busername{_SP}\S+{_SP}secret{_SP}(?:[0-9]{_SP})?+",
        "username a secret S3cr3t-Example",
    ),
    SecretSyntax(
        "ospf message-digest-key",
        rf"\bmessage-digest-key{_SP}[0-9]+{_SP}md5{_SP}",
        " ip ospf message-digest-key 1 md5 S3cr3t-Example",
    ),
    SecretSyntax(
        "ospf authentication-key",
        rf"\bauthentication-key{_SP}",
        " ip ospf authentication-key S3cr3t-Example",
    ),
    SecretSyntax(
        "ospf6 authentication key",
        rf"\bauthentication{_SP}key-id{_SP}[0-9]+{_SP}hash-algo{_SP}\S+{_SP}key{_SP}",
        " ipv6 ospf6 authentication key-id 1 hash-algo hmac-sha-256 key S3cr3t-Example",
    ),
    SecretSyntax("key chain key-string", rf"\bkey-string{_SP}", "  key-string S3cr3t-Example"),
    SecretSyntax(
        "rip authentication string",
        rf"\bauthentication{_SP}string{_SP}",
        " ip rip authentication string S3cr3t-Example",
    ),
    SecretSyntax(
        "snmp-server community",
        rf"\bsnmp-server{_SP}community{_SP}",
        "snmp-server community S3cr3t-Example ro",
    ),
    SecretSyntax(
        "nhrp authentication",
        rf"\bnhrp{_SP}authentication{_SP}",
        " ip nhrp authentication S3cr3t-Example",
    ),
    SecretSyntax("pcep tcp-md5-auth", rf"\btcp-md5-auth{_SP}", "  tcp-md5-auth S3cr3t-Example"),
    # key: value / key = value in text (YAML, INI, log lines) for the structured key names
    SecretSyntax(
        "key-value",
        r"""(?<![\w-])["']?(?:\w+[_-])?(?:password|passwd|secret|key[_-]string|auth[_-]key|"""
        r"""authentication[_-]key|md5[_-]key|snmp[_-]community|community[_-]string|psk)["']?"""
        r"""[ \t]*[:=][ \t]*""",
        "password: S3cr3t-Example",
    ),
)

SYNTAX: dict[str, tuple[SecretSyntax, ...]] = {"frr": _FRR}

KEY_NAMES = re.compile(
    r"^(?:.*[_-])?(?:password|passwd|secret|key[_-]?string|auth[_-]?key|authentication[_-]?key|"
    r"md5[_-]?key|snmp[_-]?community|community[_-]?string|psk|private[_-]?key|token)$",
    re.IGNORECASE,
)


def is_secret_key(name: object) -> bool:
    """Whether a structured key (inventory field, design variable, JSON key) names a secret."""
    return isinstance(name, str) and bool(KEY_NAMES.match(name))
