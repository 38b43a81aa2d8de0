"""The IOS dialect family: Cisco IOS / IOS-XE, NX-OS, IOS-XR and Arista EOS.

Their secret statements are one shape with per-platform qualifiers (``secret 5 X``, ``secret
sha512 X``, ``password 7 X``, ``password encrypted X``); each row's example is masked by the unit
tests, and each platform's recorded running config (tests/data/platforms/) by the contract
suite. Refusals are what the CLI prints in configuration mode for a line it did not take.
"""

from __future__ import annotations

import re

from sdd_build.platforms.common import KEY_VALUE, SP, row
from sdd_build.platforms.model import Platform, RefusalPattern

__all__ = ["EOS", "IOS", "IOSXR", "NXOS"]

_QUALIFIER = r"(?:[0-9]+|sha512|sha256|md5|encrypted|clear|plain|hashed|nopassword)"

_CISCO_SECRETS = (
    # 'enable secret 5 X', 'username U privilege 15 secret 5 X', ' secret 10 X' (XR),
    # 'aaa root secret sha512 X' (EOS), 'username U password 7 X', 'neighbor A password 7 X',
    # 'password encrypted X' (XR)
    row(
        "secret",
        rf"(?:(?:\benable{SP}|\baaa{SP}root{SP}|\busername{SP}\S+{SP}(?:\S+{SP})*?)"
        rf"secret{SP}(?:{_QUALIFIER}{SP})?+|(?m:^)[ \t]*secret{SP}[0-9]+{SP})",
        " secret 10 S3cr3t-Example",
    ),
    row(
        "password",
        rf"(?<![\w-])(?:[\w]+-)?password{SP}(?:{_QUALIFIER}{SP})?+",
        "username cisco privilege 15 password 0 S3cr3t-Example",
    ),
    row(
        "snmp-server community",
        rf"\bsnmp-server{SP}community{SP}",
        "snmp-server community S3cr3t-Example group network-operator",
    ),
    # NX-OS / IOS SNMPv3 users: 'auth md5 0x.. priv 0x.. localizedkey'
    row(
        "snmp-server user auth",
        rf"\bauth{SP}(?:md5|sha|sha-224|sha-256|sha-384|sha-512){SP}",
        "snmp-server user u network-admin auth md5 S3cr3t-Example priv P",
    ),
    row(
        "snmp-server user priv",
        rf"\bpriv{SP}(?:(?:aes-128|aes-192|aes-256|des|3des|aes{SP}128){SP})?+",
        "snmp-server user u network-admin auth md5 A priv S3cr3t-Example localizedkey",
    ),
    row(
        "tacacs/radius key",
        rf"\b(?:tacacs-server|radius-server)(?:{SP}host{SP}\S+)?{SP}key{SP}(?:[0-9]{SP})?+",
        "tacacs-server key 7 S3cr3t-Example",
    ),
    # ' key 7 X' inside a 'tacacs server' / 'radius server' block (indented; FRR's key chain
    # 'key 1' is followed by its own lines, never by a value)
    row(
        "server key 7",
        rf"(?m:^)[ \t]+key{SP}[067]{SP}(?!key-string\b)",
        " key 7 S3cr3t-Example",
    ),
    row(
        "ospf message-digest-key",
        rf"\bmessage-digest-key{SP}[0-9]+{SP}md5{SP}(?:[0-9]{SP})?+",
        " ip ospf message-digest-key 1 md5 7 S3cr3t-Example",
    ),
    row(
        "authentication-key",
        rf"\bauthentication-key{SP}(?:[0-9]{SP})?+",
        " ip ospf authentication-key 7 S3cr3t-Example",
    ),
    row(
        "key-string",
        rf"\bkey-string{SP}(?:[0-9]{SP})?+",
        "  key-string 7 S3cr3t-Example",
    ),
    row(
        "pre-shared key",
        rf"\b(?:pre-shared-key|crypto{SP}isakmp{SP}key){SP}(?:(?:[0-9]|local|remote){SP})?+",
        "crypto isakmp key S3cr3t-Example address 0.0.0.0",
    ),
    KEY_VALUE,
)

_CISCO_REFUSALS = (
    RefusalPattern("invalid_input", re.compile(r"% ?Invalid input", re.M)),
    RefusalPattern("incomplete_command", re.compile(r"% ?Incomplete command", re.M)),
    RefusalPattern("ambiguous_command", re.compile(r"% ?Ambiguous command", re.M)),
    RefusalPattern("unknown_command", re.compile(r"% ?Unknown command|% ?Unrecognized", re.M)),
    RefusalPattern("invalid_command", re.compile(r"% ?Invalid command", re.M)),
    RefusalPattern("error", re.compile(r"^% ?(?:Error|ERROR)\b", re.M)),
    RefusalPattern("failed", re.compile(r"(?i)^%.*\bfailed\b", re.M)),
)

IOS = Platform(
    name="ios",
    description="Cisco IOS / IOS-XE",
    napalm_driver="ios",
    netmiko_device_type="cisco_ios",
    syntax="CISCO_IOS",
    backup_command="show running-config",
    volatile_prefixes=(
        "Building configuration",
        "Current configuration",
        "! Last configuration change",
        "! NVRAM config last updated",
        "! No configuration change since last restart",
        "!Time:",
        "ntp clock-period",
    ),
    secrets=_CISCO_SECRETS,
    refusals=_CISCO_REFUSALS,
    aliases=("cisco_ios", "cisco_xe", "iosxe"),
)

EOS = Platform(
    name="eos",
    description="Arista EOS",
    napalm_driver="eos",
    netmiko_device_type="arista_eos",
    syntax="ARISTA_EOS",
    backup_command="show running-config",
    volatile_prefixes=("! Command:", "! device:", "! boot system", "! Time:"),
    secrets=_CISCO_SECRETS,
    refusals=_CISCO_REFUSALS,
    aliases=("arista_eos",),
)

NXOS = Platform(
    name="nxos",
    description="Cisco NX-OS",
    napalm_driver="nxos",
    netmiko_device_type="cisco_nxos",
    syntax="CISCO_NXOS",
    backup_command="show running-config",
    volatile_prefixes=("!Command:", "!Time:", "!Running configuration last done at:"),
    secrets=_CISCO_SECRETS,
    refusals=_CISCO_REFUSALS,
    aliases=("cisco_nxos", "nxos_ssh"),
)

IOSXR = Platform(
    name="iosxr",
    description="Cisco IOS-XR",
    napalm_driver="iosxr",
    netmiko_device_type="cisco_xr",
    syntax="CISCO_XR",
    backup_command="show running-config",
    volatile_prefixes=("!! IOS XR Configuration", "!! Last configuration change", "Building"),
    secrets=_CISCO_SECRETS,
    refusals=_CISCO_REFUSALS,
    aliases=("cisco_xr", "iosxr_netconf"),
)
