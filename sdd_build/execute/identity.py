"""Device identity: a device must answer as the inventory host it stands for.

Before anything is changed on a host, the build reads who the device says it is and compares
it with what is expected; a device that answers as another host is refused
(``identity_mismatch``): nothing is pushed to it, its dependents are blocked, the other hosts
go on. A wrong port or address in the connection data (a lab's, a secret store's) can no
longer make the engine configure one router with another's config.

Expected:

* the host name: ``data.identity.hostname`` of the design inventory (bound by the design
  approval; for devices whose name differs from their inventory key) or the inventory name;
  compared case-insensitively with the ``hostname`` line of the running configuration the
  build reads anyway as its backup (no extra round trip), or NAPALM's ``get_facts`` hostname
  where the configuration has no such line;
* what ``discover`` recorded in ``feasibility.json`` for the host, when it did: the serial
  number where the platform has one (NAPALM ``get_facts``; FRR has none) and the hardware
  (MAC) addresses of its interfaces (NAPALM ``get_interfaces``; FRR: ``show interface json``).
  The serial must be equal; at least one recorded MAC must still be there, and none recorded
  for *another* host may be. FRR has no serial; its MACs are stable on real hardware but are
  new each time a namespace lab is re-created: run ``discover`` again after re-creating one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir.core.inventory import Host

from sdd_build.design.source import read_file
from sdd_build.errors import DesignError
from sdd_build.limits import json_loads
from sdd_build.platforms import lookup

__all__ = [
    "FEASIBILITY",
    "Identity",
    "Mismatch",
    "RecordedIdentities",
    "check_identity",
    "expected_identity",
    "hostname_in_config",
    "read_identity",
]

FEASIBILITY = "feasibility.json"


@dataclass(frozen=True)
class Identity:
    """Who a device says it is."""

    hostname: str
    serial_number: str = ""
    hardware: tuple[str, ...] = field(default_factory=tuple)  # MAC addresses, sorted

    def as_dict(self) -> dict[str, Any]:
        return {
            "hostname": self.hostname,
            "serial_number": self.serial_number,
            "hardware": list(self.hardware),
        }


def expected_identity(host: Host) -> str:
    """The host name the device must answer as: ``data.identity.hostname`` when the (approved)
    design inventory gives one, else the inventory name."""
    ident = host.data.get("identity") if isinstance(host.data, dict) else None
    if isinstance(ident, Mapping) and ident.get("hostname"):
        return str(ident["hostname"])
    return host.name


def hostname_in_config(platform: str, config: str) -> str | None:
    """The device's name in its running config, by its registry row's ``Platform.hostname``.

    A config may name the device more than once: FRR's vtysh prints the daemons' host name and
    its own (the system's) when they differ. Every distinct name is kept (``"r4, r3"``), so a
    device that answers under two names never matches either of them.
    """
    info = lookup(platform)
    if info is None:
        return None
    names = list(dict.fromkeys(m.group(1) for m in info.hostname.finditer(config)))
    return ", ".join(names) if names else None


def _macs(interfaces: Mapping[str, Any]) -> tuple[str, ...]:
    found = set()
    for data in interfaces.values():
        mac = str((data or {}).get("mac_address") or "").strip().lower()
        if mac and set(mac) - set("0:.-"):
            found.add(mac)
    return tuple(sorted(found))


def read_identity(
    driver: Any,
    platform: str,
    running: str | None,
    *,
    serial: bool,
    hardware: bool,
    facts: Mapping[str, Any] | None = None,
) -> Identity:
    """The device's identity, with no more round trips than asked for: the host name from
    ``running`` where the platform's config names it, the serial (NAPALM ``get_facts``, or
    ``facts`` already read) and the MACs (``get_interfaces``) only when asked for."""
    hostname = hostname_in_config(platform, running) if running is not None else None
    if facts is None and (hostname is None or serial):
        facts = driver.get_facts()
    facts = facts or {}
    hostname = hostname or str(facts.get("hostname") or "")
    macs = _macs(driver.get_interfaces()) if hardware else ()
    return Identity(
        hostname=hostname,
        serial_number=str(facts.get("serial_number") or "").strip() if serial else "",
        hardware=macs,
    )


@dataclass(frozen=True)
class Mismatch:
    """A device that answers as another host: why, what was expected, what it said."""

    reason: str
    expected: dict[str, Any]
    found: dict[str, Any]


class RecordedIdentities:
    """The identities ``discover`` recorded in a design's ``feasibility.json`` (none when it
    has not run). Read once, before any device contact."""

    def __init__(self, by_host: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.by_host = {h: dict(v) for h, v in (by_host or {}).items()}

    @classmethod
    def load(cls, directory: Path) -> RecordedIdentities:
        path = directory / FEASIBILITY
        try:
            raw = read_file(path)  # bounded, regular files only (a FIFO never blocks)
        except FileNotFoundError:
            return cls()
        try:
            data = json_loads(raw)
            hosts = data.get("hosts", {}) if isinstance(data, dict) else {}
            by_host = {
                str(h): e["identity"]
                for h, e in hosts.items()
                if isinstance(e, dict) and isinstance(e.get("identity"), dict)
            }
        except (ValueError, AttributeError) as exc:
            raise DesignError(
                f"the identities discover recorded cannot be read: {exc}",
                file=str(path),
                hint="run `sdd-build discover` again, or remove the file",
            ) from None
        return cls(by_host)

    def of(self, host: str) -> dict[str, Any] | None:
        return self.by_host.get(host)

    def needs(self, host: str) -> tuple[bool, bool]:
        """(serial, hardware): which facts a check of ``host`` must read from the device."""
        rec = self.of(host) or {}
        return bool(rec.get("serial_number")), bool(rec.get("hardware"))

    def verify(self, host: Host, driver: Any, running: str | None) -> Mismatch | None:
        """Read the device's identity (see ``read_identity``) and compare it with ``host``'s;
        ``None`` when the device is the one it should be. Device errors propagate."""
        serial, hardware = self.needs(host.name)
        found = read_identity(
            driver, host.platform or "", running, serial=serial, hardware=hardware
        )
        refused = check_identity(host, found, self)
        if refused is None:
            return None
        return Mismatch(reason=refused[0], expected=refused[1], found=found.as_dict())

    def owner_of(self, mac: str, besides: str) -> str | None:
        for host, rec in self.by_host.items():
            if host != besides and mac in (rec.get("hardware") or ()):
                return host
        return None


def check_identity(
    host: Host, found: Identity, recorded: RecordedIdentities
) -> tuple[str, dict[str, Any]] | None:
    """``None`` when the device is who it should be; else (why, what was expected)."""
    want = expected_identity(host)
    expected: dict[str, Any] = {"hostname": want}
    if found.hostname.casefold() != want.casefold():
        shown = found.hostname or "no host name"
        return (
            f"the device answers as '{shown}', not '{want}': nothing is pushed to it "
            "(check the address and port of this host in the connection data)",
            expected,
        )
    rec = recorded.of(host.name)
    if rec is None:
        return None
    serial = str(rec.get("serial_number") or "")
    if serial:
        expected["serial_number"] = serial
        if found.serial_number != serial:
            return (
                f"serial number '{found.serial_number or 'none'}' is not the '{serial}' "
                "discover recorded: another device answers under this name",
                expected,
            )
    hardware = [str(m).lower() for m in rec.get("hardware") or ()]
    if hardware:
        expected["hardware"] = hardware
        for mac in found.hardware:
            other = recorded.owner_of(mac, besides=host.name)
            if other is not None:
                return (
                    f"the device has {mac}, which discover recorded for {other}: it is {other}",
                    expected,
                )
        if not set(found.hardware) & set(hardware):
            return (
                "none of the hardware addresses discover recorded for this host are on the "
                "device: another device answers under this name (if the device was replaced "
                "or the lab re-created, run `sdd-build discover` again)",
                expected,
            )
    return None
