"""FRRouting 8.x (vtysh), driven through sdd-build's own NAPALM driver ``napalm_frr``.

Its refusal patterns are the ones ``napalm_frr`` classifies vtysh's output with (it reads them
from here); defaults are asked of FRR itself (a scratch instance of the same version, see
``napalm_frr.oracle``); remediation is FRR's own (``frr-reload.py`` through napalm_frr).
"""

from __future__ import annotations

import re

from sdd_build.platforms import frr_options
from sdd_build.platforms.common import KEY_VALUE, SP, row
from sdd_build.platforms.model import Platform, RefusalPattern

__all__ = ["FRR"]

# An optional type digit before a secret ('authentication-key 7 X') is read as the type, as on
# Cisco's platforms: every platform's rows are tried together, the first that matches wins.
_SECRETS = (
    # vty 'password', 'enable password', 'neighbor A password' (bgpd, ldpd), 'username U
    # password', IS-IS 'isis password', 'area-password', 'domain-password' (clear|md5 first),
    # and the encrypted forms 'password 8 X'.
    row(
        "password",
        rf"(?<![\w-])(?:[\w]+-)?password{SP}(?:(?:[0-9]|clear|md5|hmac-md5|text){SP})?+",
        "enable password S3cr3t-Example",
    ),
    row(
        "enable secret", rf"\benable{SP}secret{SP}(?:[0-9]{SP})?+", "enable secret 5 S3cr3t-Example"
    ),
    row(
        "username secret",
        rf"\busername{SP}\S+{SP}secret{SP}(?:[0-9]{SP})?+",
        "username a secret S3cr3t-Example",
    ),
    row(
        "ospf message-digest-key",
        rf"\bmessage-digest-key{SP}[0-9]+{SP}md5{SP}(?:[0-9]{SP})?+",
        " ip ospf message-digest-key 1 md5 S3cr3t-Example",
    ),
    row(
        "ospf authentication-key",
        rf"\bauthentication-key{SP}(?:[0-9]{SP})?+",
        " ip ospf authentication-key S3cr3t-Example",
    ),
    row(
        "ospf6 authentication key",
        rf"\bauthentication{SP}key-id{SP}[0-9]+{SP}hash-algo{SP}\S+{SP}key{SP}",
        " ipv6 ospf6 authentication key-id 1 hash-algo hmac-sha-256 key S3cr3t-Example",
    ),
    row("key chain key-string", rf"\bkey-string{SP}(?:[0-9]{SP})?+", "  key-string S3cr3t-Example"),
    row(
        "rip authentication string",
        rf"\bauthentication{SP}string{SP}",
        " ip rip authentication string S3cr3t-Example",
    ),
    row(
        "snmp-server community",
        rf"\bsnmp-server{SP}community{SP}",
        "snmp-server community S3cr3t-Example ro",
    ),
    row(
        "nhrp authentication",
        rf"\bnhrp{SP}authentication{SP}",
        " ip nhrp authentication S3cr3t-Example",
    ),
    row("pcep tcp-md5-auth", rf"\btcp-md5-auth{SP}", "  tcp-md5-auth S3cr3t-Example"),
    KEY_VALUE,
)

#: Messages vtysh or a daemon prints for a configuration line it refused. Order matters: the
#: first match names the kind. FRR accepts some deprecated commands with a warning and does not
#: apply them, so warnings count as failures too.
_REFUSALS = (
    RefusalPattern("unknown_command", re.compile(r"^% Unknown command", re.M)),
    RefusalPattern("incomplete_command", re.compile(r"^% Command incomplete", re.M)),
    RefusalPattern("ambiguous_command", re.compile(r"^% Ambiguous command", re.M)),
    RefusalPattern("invalid_input", re.compile(r"^% Invalid input", re.M)),
    RefusalPattern("warning", re.compile(r"(?i)^%?\s*warning\b|deprecated", re.M)),
    RefusalPattern("configuration_failed", re.compile(r"^% Configuration failed", re.M)),
    RefusalPattern("daemon_not_running", re.compile(r"^\S+ is not running$", re.M)),
    RefusalPattern("daemon_error", re.compile(r"^%\s*\S", re.M)),
    RefusalPattern("not_found", re.compile(r"(?i)^(can't|cannot|there is no|no such)\b", re.M)),
)

#: Output that is not a refusal: Netmiko's setup noise against vtysh, and notices FRR prints
#: for a line it did apply (each one verified on FRR 8.4).
_NOISE = (
    re.compile(r"^% Unknown command: terminal (width|length)"),
    re.compile(r"^Please be aware that removing the password is a security risk"),
    # bgpd applies a reference to a route-map defined later (or never) and says so
    re.compile(r"^The route-map '[^']*' does not exist\.$"),
    # bfdd applies echo-mode on an IPv6 peer and warns (found by the corpus, tests/lab)
    re.compile(r"^% Echo mode works correctly for IPv4, but only works when the peer is also"),
)

FRR = Platform(
    name="frr",
    description="FRRouting 8.x through vtysh (napalm_frr)",
    napalm_driver="frr",
    # vtysh speaks the IOS dialect: Netmiko's cisco_ios drives it (as napalm_frr's transport)
    netmiko_device_type="cisco_ios",
    syntax="frr",
    backup_command="show running-config",
    volatile_prefixes=(
        "frr version",
        "frr defaults",
        "Building configuration",
        "Current configuration",
    ),
    secrets=_SECRETS,
    refusals=_REFUSALS,
    session_noise=_NOISE,
    silent_on_success=True,
    defaults="oracle",
    oracle="napalm_frr.oracle:Oracle",
    # compare and commit reuse the backup read; no read after each commit: the closing
    # reconciliation reads afresh and reports lines refused or rewritten (rejected_line,
    # rewritten_line) and anything changed meanwhile (unexpected_change)
    napalm_options=(("running_cache_s", 10), ("verify_commit", False)),
    check_options=frr_options.problems,
)
