"""vtysh output -> NAPALM models (pure functions, no I/O).

Each function takes the raw text of one or more vtysh commands (JSON where FRR offers it) and
returns the TypedDict NAPALM's ``models`` module defines for the getter.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from napalm.base import models

from napalm_frr import platform

_VERSION = re.compile(
    r"^FRRouting (?P<version>\S+) \((?P<hostname>[^)]*)\) on (?P<os>\S+?)\.?$", re.M
)
_DURATION = re.compile(
    r"^(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$"
)


def loads(text: str) -> Any:
    """JSON from vtysh; empty output (nothing configured) is an empty object."""
    text = text.strip()
    if not text:
        return {}
    return json.loads(text)


def duration(text: str) -> int:
    """Seconds in an FRR duration: ``01:02:03``, ``1d02h03m``, ``2w3d04h``."""
    text = text.strip()
    if not text or text in ("never", "-"):
        return -1
    if re.fullmatch(r"\d+(:\d+)+", text):
        parts = [int(p) for p in text.split(":")]
        seconds = 0
        for part in parts:
            seconds = seconds * 60 + part
        return seconds
    match = _DURATION.match(text)
    if match is None:
        return -1
    factors = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(match[k] or 0) * f for k, f in factors.items())


def facts(show_version: str, interfaces_json: str, clients: str) -> models.FactsDict:
    """``show version`` + ``show interface json`` + ``show zebra client summary``."""
    match = _VERSION.search(show_version)
    version = match["version"] if match else ""
    hostname = match["hostname"] if match else ""
    model = f"{platform.VENDOR} on {match['os']}" if match else platform.VENDOR
    # vtysh has no system uptime: the oldest zebra client session is the routing stack's age
    uptimes = [
        duration(m[1]) for m in re.finditer(r"^\S+\s+(\S+)\s+\S+\s+\S+\s+\S+", clients, re.M)
    ]
    uptime = float(max([u for u in uptimes if u >= 0], default=-1))
    return {
        "uptime": uptime,
        "vendor": platform.VENDOR,
        "os_version": version,
        "serial_number": "",
        "model": model,
        "hostname": hostname,
        "fqdn": hostname,
        "interface_list": sorted(loads(interfaces_json)),
    }


def interfaces(interfaces_json: str) -> dict[str, models.InterfaceDict]:
    """``show interface json``."""
    result: dict[str, models.InterfaceDict] = {}
    for name, data in sorted(loads(interfaces_json).items()):
        # FRR gives lastLinkUp/lastLinkDown as the device's wall-clock time, and vtysh has no
        # clock to subtract it from: the age of the last flap is unknown (-1.0)
        flapped = -1.0
        result[name] = {
            "is_up": data.get("operationalStatus") == "up",
            "is_enabled": data.get("administrativeStatus") == "up",
            "description": str(data.get("description", "")),
            "last_flapped": flapped,
            "mtu": int(data.get("mtu", 0)),
            "speed": float(data.get("speed", 0)),
            "mac_address": str(data.get("hardwareAddress", "")).upper(),
        }
    return result


def interfaces_ip(interfaces_json: str) -> dict[str, models.InterfacesIPDict]:
    """``show interface json`` -> addresses per interface and family."""
    result: dict[str, models.InterfacesIPDict] = {}
    for name, data in sorted(loads(interfaces_json).items()):
        entry: models.InterfacesIPDict = {}
        for address in data.get("ipAddresses", []):
            iface = ipaddress.ip_interface(address["address"])
            family = "ipv4" if iface.version == 4 else "ipv6"
            entry.setdefault(family, {})[str(iface.ip)] = {"prefix_length": iface.network.prefixlen}
        if entry:
            result[name] = entry
    return result


_AFI_NAMES = {
    "ipv4Unicast": "ipv4",
    "ipv6Unicast": "ipv6",
    "ipv4Multicast": "ipv4_multicast",
    "ipv6Multicast": "ipv6_multicast",
    "l2VpnEvpn": "l2vpn_evpn",
    "ipv4Vpn": "ipv4_vpn",
    "ipv6Vpn": "ipv6_vpn",
}


def bgp_neighbors(
    neighbors_json: str, summary_json: str
) -> dict[str, models.BGPStateNeighborsPerVRFDict]:
    """``show bgp vrf all neighbors json`` + ``show bgp vrf all summary json``."""
    neighbors = loads(neighbors_json)
    summary = loads(summary_json)
    result: dict[str, models.BGPStateNeighborsPerVRFDict] = {}
    for vrf, vrf_data in neighbors.items():
        if not isinstance(vrf_data, dict):
            continue
        name = "global" if vrf == "default" else vrf
        router_id = ""
        received: dict[str, dict[str, int]] = {}
        for afi, afi_data in summary.get(vrf, {}).items():
            if not isinstance(afi_data, dict):
                continue
            router_id = router_id or str(afi_data.get("routerId", ""))
            for peer, peer_data in afi_data.get("peers", {}).items():
                received.setdefault(peer, {})[afi] = int(peer_data.get("pfxRcd", 0))
        peers: dict[str, models.BGPStateNeighborDict] = {}
        for peer, data in vrf_data.items():
            if not isinstance(data, dict):
                continue
            router_id = router_id or str(data.get("localRouterId", ""))
            state = str(data.get("bgpState", ""))
            is_up = state == "Established"
            uptime_ms = data.get("bgpTimerUpMsec", -1000) if is_up else -1000
            families: dict[str, models.BGPStateAddressFamilyDict] = {}
            for afi, afi_data in data.get("addressFamilyInfo", {}).items():
                accepted = int(afi_data.get("acceptedPrefixCounter", 0))
                families[_AFI_NAMES.get(afi, afi)] = {
                    "received_prefixes": received.get(peer, {}).get(afi, accepted),
                    "accepted_prefixes": accepted,
                    "sent_prefixes": int(afi_data.get("sentPrefixCounter", 0)),
                }
            peers[peer] = {
                "local_as": int(data.get("localAs", 0)),
                "remote_as": int(data.get("remoteAs", 0)),
                "remote_id": str(data.get("remoteRouterId", "")),
                "is_up": is_up,
                "is_enabled": "admin" not in str(data.get("adminShutDown", "")).lower()
                and not data.get("adminShutDown", False)
                and "Admin" not in state,
                "description": str(data.get("nbrDesc", "")),
                "uptime": int(uptime_ms) // 1000 if uptime_ms >= 0 else -1,
                "address_family": families,
            }
        result[name] = {"router_id": router_id, "peers": peers}
    return result


_PROTOCOL_NAMES = {"bgp": "BGP", "ospf": "OSPF", "static": "static", "connected": "connected"}


def bgp_local_as(summary_json: str) -> int:
    """The local AS from ``show bgp summary json`` (0 when BGP is not running)."""
    for afi_data in loads(summary_json).values():
        if isinstance(afi_data, dict) and "as" in afi_data:
            return int(afi_data["as"])
    return 0


def route_to(
    routes_json: str, bgp_json: dict[str, str], protocol: str = "", local_as: int = 0
) -> dict[str, list[models.RouteDict]]:
    """``show ip route <prefix> [longer-prefixes] json`` (+ ``show bgp ... <prefix> json``)."""
    result: dict[str, list[models.RouteDict]] = {}
    for prefix, entries in loads(routes_json).items():
        routes: list[models.RouteDict] = []
        for entry in entries:
            proto = str(entry.get("protocol", ""))
            if protocol and proto.lower() != protocol.lower():
                continue
            attributes = _bgp_attributes(bgp_json.get(prefix, ""), entry, local_as)
            active = bool(entry.get("selected", False))
            for hop in entry.get("nexthops", []):
                if hop.get("blackhole"):
                    next_hop = "blackhole"
                else:
                    next_hop = str(hop.get("ip", hop.get("directlyConnected", "")))
                    if next_hop == "True":
                        next_hop = ""
                route: models.RouteDict = {
                    "protocol": _PROTOCOL_NAMES.get(proto, proto),
                    "current_active": active and bool(hop.get("fib", hop.get("active", False))),
                    "last_active": False,
                    "age": duration(str(entry.get("uptime", ""))),
                    "next_hop": next_hop,
                    "outgoing_interface": str(hop.get("interfaceName", "")),
                    "selected_next_hop": bool(hop.get("active", False)),
                    "preference": int(entry.get("distance", 0)),
                    "inactive_reason": "" if active else "not selected",
                    "routing_table": str(entry.get("vrfName", "default")),
                    "protocol_attributes": attributes if proto == "bgp" else {},
                }
                routes.append(route)
        if routes:
            result[prefix] = routes
    return result


def _bgp_attributes(bgp_text: str, entry: dict[str, Any], local_as: int) -> dict[str, Any]:
    data = loads(bgp_text) if bgp_text else {}
    for path in data.get("paths", []):
        if not path.get("bestpath", {}).get("overall", False):
            continue
        aspath = path.get("aspath", {})
        peer = path.get("peer", {})
        segments = aspath.get("segments", [])
        remote_as = int(segments[0]["list"][0]) if segments and segments[0].get("list") else 0
        communities = path.get("community", {}).get("list", [])
        return {
            "local_as": local_as,
            "remote_as": remote_as,
            "peer_id": str(peer.get("routerId", "")),
            "as_path": str(aspath.get("string", "")),
            "communities": [str(c) for c in communities],
            "local_preference": int(path.get("locPrf", 100)),
            "preference2": 0,
            "metric": int(path.get("metric", entry.get("metric", 0))),
            "metric2": 0,
        }
    return {}
