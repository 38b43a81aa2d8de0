"""Secret statements shared by several platforms' rows (each platform module picks its own)."""

from __future__ import annotations

from sdd_build.platforms.model import SecretSyntax

__all__ = ["KEY_VALUE", "SP", "row"]

SP = r"[ \t]+"


def row(name: str, keep: str, example: str) -> SecretSyntax:
    return SecretSyntax(name, keep, example)


#: ``key: value`` / ``key = value`` in text (YAML, INI, log lines) for the structured key names
KEY_VALUE = row(
    "key-value",
    r"""(?<![\w-])["']?(?:\w+[_-])?(?:password|passwd|secret|key[_-]string|auth[_-]key|"""
    r"""authentication[_-]key|md5[_-]key|snmp[_-]community|community[_-]string|psk)["']?"""
    r"""[ \t]*[:=][ \t]*""",
    "password: S3cr3t-Example",
)
