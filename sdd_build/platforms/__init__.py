"""platforms: the one registry of platform knowledge (data, not branches).

One frozen :class:`Platform` row per platform: the connection path (NAPALM driver, Netmiko
device type), the configuration syntax family used for comparison and remediation, the backup
command, volatile lines, secret syntax (read by the masking stage), refusal patterns, how
defaults are elided and how identity is read. The engine, the masker and the FRR driver look
platforms up here; no code elsewhere compares platform names (a unit test scans for it).

Adding a platform is one row in :data:`PLATFORMS` plus its recorded test data under
``tests/data/platforms/<name>/``: the contract suite (``tests/unit/platforms``) runs on every
row. This package imports no stage.
"""

from __future__ import annotations

from sdd_build.platforms.cisco import EOS, IOS, IOSXR, NXOS
from sdd_build.platforms.frr import FRR
from sdd_build.platforms.juniper import JUNOS
from sdd_build.platforms.linux import LINUX
from sdd_build.platforms.model import (
    EXAMPLE_SECRET,
    HOSTNAME_LINE,
    UNEXPECTED_OUTPUT,
    Defaults,
    Platform,
    RefusalPattern,
    SecretSyntax,
)

__all__ = [
    "EXAMPLE_SECRET",
    "HOSTNAME_LINE",
    "PLATFORMS",
    "SHIPPED",
    "UNEXPECTED_OUTPUT",
    "Defaults",
    "Platform",
    "RefusalPattern",
    "SecretSyntax",
    "lookup",
    "register",
]

#: the platforms sdd-build ships (each with recorded test data the contract suite runs on)
SHIPPED: tuple[Platform, ...] = (FRR, IOS, EOS, NXOS, IOSXR, JUNOS, LINUX)

#: every platform sdd-build knows, by the name inventories give it (``host.platform``); test
#: doubles add theirs with :func:`register`
PLATFORMS: dict[str, Platform] = {p.name: p for p in SHIPPED}


def lookup(name: str | None) -> Platform | None:
    """The row of ``name`` (a platform name or one of its aliases); ``None``: unknown."""
    if not name:
        return None
    found = PLATFORMS.get(name)
    if found is not None:
        return found
    return next((p for p in PLATFORMS.values() if name in p.aliases), None)


def register(platform: Platform) -> Platform:
    """Add a row at run time (test doubles); an existing row of the same name is kept."""
    return PLATFORMS.setdefault(platform.name, platform)
