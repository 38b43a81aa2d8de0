"""What an FRR host can do (daemons, version) and what a rendered design needs of it.

Feasibility, not a build: ``discover`` reads ``show daemons`` and ``show version`` on each
host (read-only) and compares the daemons running with the daemons the design's rendered
configuration needs. A design with ``bfd`` lines on a host without ``bfdd`` is a finding at
discovery, not a failed push at build time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CAPABILITIES", "HostCapabilities", "missing_daemons", "needed_daemons", "parse"]

# daemon -> the protocol family it provides (what "capabilities" lists in feasibility.json)
CAPABILITIES: dict[str, str] = {
    "zebra": "rib",
    "staticd": "static",
    "bgpd": "bgp",
    "ospfd": "ospf",
    "ospf6d": "ospf6",
    "isisd": "isis",
    "fabricd": "openfabric",
    "ripd": "rip",
    "ripngd": "ripng",
    "bfdd": "bfd",
    "pimd": "pim",
    "ldpd": "ldp",
    "eigrpd": "eigrp",
    "babeld": "babel",
    "pbrd": "pbr",
    "vrrpd": "vrrp",
    "nhrpd": "nhrp",
    "sharpd": "sharp",
    "pathd": "pce",
}

# A config line (any depth, normalised to single spaces) -> the daemon that must run to accept
# it. Checked in order; the first match wins. Lines no rule names need only zebra.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), d)
    for p, d in (
        (r"^bfd$|(^| )bfd( |$)", "bfdd"),
        (r"^router bgp\b", "bgpd"),
        (r"^router ospf6\b|^ipv6 ospf6\b", "ospf6d"),
        (r"^router ospf\b|^ip ospf\b", "ospfd"),
        (r"^router isis\b|^ip(v6)? router isis\b|^isis ", "isisd"),
        (r"^router openfabric\b|^ip(v6)? router openfabric\b", "fabricd"),
        (r"^router ripng\b|^ipv6 rip", "ripngd"),
        (r"^router rip\b|^ip rip\b", "ripd"),
        (r"^router pim\b|^ip pim\b|^ip igmp\b", "pimd"),
        (r"^mpls ldp\b", "ldpd"),
        (r"^router eigrp\b", "eigrpd"),
        (r"^router babel\b", "babeld"),
        (r"^pbr-map\b|^pbr-policy\b", "pbrd"),
        (r"^vrrp\b", "vrrpd"),
        (r"^ip(v6)? route\b", "staticd"),
    )
)
_VERSION = re.compile(r"FRRouting\s+(\S+)")


@dataclass(frozen=True)
class HostCapabilities:
    """One host's FRR: version and running daemons (``None``: could not be read)."""

    version: str | None
    daemons: list[str] | None

    def as_dict(self) -> dict[str, object]:
        caps = None if self.daemons is None else [CAPABILITIES.get(d, d) for d in self.daemons]
        return {"frr_version": self.version, "daemons": self.daemons, "capabilities": caps}


def parse(show_version: str | None, show_daemons: str | None) -> HostCapabilities:
    """``show version`` and ``show daemons`` (vtysh) as a ``HostCapabilities``."""
    version = None
    if show_version:
        found = _VERSION.search(show_version)
        version = found.group(1) if found else None
    daemons = None
    if show_daemons is not None:
        names = [w for w in show_daemons.split() if re.fullmatch(r"[a-z0-9]+d|zebra|watchfrr", w)]
        daemons = sorted(set(names) - {"watchfrr"}) or None
    return HostCapabilities(version, daemons)


def needed_daemons(paths: Iterable[tuple[str, ...]]) -> dict[str, list[str]]:
    """The daemons a configuration needs -> the first few lines that need each (as written).

    ``paths`` are config lines with their parent stanzas (``reconcile.config_paths``)."""
    out: dict[str, list[str]] = {}
    for path in paths:
        daemon = _daemon_for(path[-1]) or _daemon_for(path[0])
        if daemon is None:
            continue
        shown = out.setdefault(daemon, [])
        text = " / ".join(path)
        if len(shown) < 3 and text not in shown:
            shown.append(text)
    return dict(sorted(out.items()))


def _daemon_for(line: str) -> str | None:
    for pattern, name in _RULES:
        if pattern.search(line):
            return name
    return None


def missing_daemons(caps: HostCapabilities, needed: dict[str, list[str]]) -> dict[str, list[str]]:
    """The needed daemons this host does not run (empty when its daemons are unknown)."""
    if caps.daemons is None:
        return {}
    return {d: lines for d, lines in needed.items() if d not in caps.daemons}
