"""Juniper Junos: a brace-structured configuration, compared and remediated as ``set`` /
``delete`` commands (hier_config's Junos driver converts one to the other)."""

from __future__ import annotations

import re

from sdd_build.platforms.common import KEY_VALUE, SP, row
from sdd_build.platforms.model import Platform, RefusalPattern

__all__ = ["JUNOS"]

_SECRETS = (
    row(
        "encrypted-password",
        rf"\b(?:encrypted-password|plain-text-password-value){SP}",
        'encrypted-password "S3cr3t-Example";',
    ),
    # 'secret "$9$.."' (RADIUS/TACACS), 'authentication-key "$9$.."' (BGP, OSPF), 'ascii-text'
    row(
        "secret / authentication-key",
        rf"(?<![\w-])(?:secret|authentication-key|ascii-text|hexadecimal){SP}(?=\\?[\"$])",
        'secret "S3cr3t-Example";',
    ),
    # 'community NAME {' / 'community NAME;' under snmp (not a policy's 'community C members')
    row(
        "snmp community",
        rf"(?:\bsnmp{SP}community{SP}|(?m:^)[ \t]*community{SP}(?=[^\s;{{]+[ \t]*[{{;]))",
        "    community S3cr3t-Example {",
    ),
    KEY_VALUE,
)

_REFUSALS = (
    RefusalPattern("syntax_error", re.compile(r"(?i)\bsyntax error\b", re.M)),
    RefusalPattern("unknown_command", re.compile(r"(?i)\bunknown command\b", re.M)),
    RefusalPattern("missing_argument", re.compile(r"(?i)\bmissing argument\b", re.M)),
    RefusalPattern("invalid_value", re.compile(r"(?i)\binvalid (?:value|ip address)\b", re.M)),
    RefusalPattern("error", re.compile(r"(?i)^\s*error:", re.M)),
)

JUNOS = Platform(
    name="junos",
    description="Juniper Junos",
    napalm_driver="junos",
    netmiko_device_type="juniper_junos",
    syntax="JUNIPER_JUNOS",
    backup_command="show configuration",
    volatile_prefixes=("## Last commit", "## Last changed", "version "),
    secrets=_SECRETS,
    refusals=_REFUSALS,
    hostname=re.compile(r"^\s*host-name\s+([^;\s]+);", re.M),
    aliases=("juniper_junos", "juniper"),
)
