"""IP address filters for templates, built on the standard library's ``ipaddress`` only.

Every filter accepts an address (``10.0.0.1``), an interface (``10.0.0.1/31``) or a network
(``10.0.0.0/31``) as a string, and returns plain strings, ints or bools so the output is
printable as-is. Bad input raises :class:`FilterError` (a ``ValueError``); the renderer turns it
into a ``RenderError`` located at the template line that called the filter.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from sdd_build.errors import FilterError

__all__ = [
    "FILTERS",
    "broadcast_address",
    "hostmask",
    "in_network",
    "ip_address",
    "ip_network",
    "ip_version",
    "is_ip",
    "netmask",
    "network_address",
    "nth_host",
    "peer_address",
    "prefixlen",
]

_Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _interface(name: str, value: Any) -> _Interface:
    if not isinstance(
        value,
        str
        | ipaddress.IPv4Address
        | ipaddress.IPv6Address
        | ipaddress.IPv4Interface
        | ipaddress.IPv6Interface
        | ipaddress.IPv4Network
        | ipaddress.IPv6Network,
    ):
        raise FilterError(
            f"{name}: expected an IP address or interface string, got "
            f"{type(value).__name__} {value!r}"
        )
    try:
        return ipaddress.ip_interface(str(value).strip())
    except ValueError:
        raise FilterError(f"{name}: {value!r} is not an IP address or interface") from None


def _network(name: str, value: Any) -> _Network:
    return _interface(name, value).network


def ip_address(value: Any) -> str:
    """``10.0.0.1/31`` → ``10.0.0.1``."""
    return str(_interface("ip_address", value).ip)


def ip_network(value: Any) -> str:
    """``10.0.0.1/31`` → ``10.0.0.0/31`` (host bits cleared)."""
    return str(_network("ip_network", value))


def prefixlen(value: Any) -> int:
    """``10.0.0.1/31`` → ``31``; a bare address gives its full length (32 or 128)."""
    return _network("prefixlen", value).prefixlen


def netmask(value: Any) -> str:
    """``10.0.0.1/24`` → ``255.255.255.0``."""
    return str(_network("netmask", value).netmask)


def hostmask(value: Any) -> str:
    """``10.0.0.1/24`` → ``0.0.0.255`` (the OSPF/ACL wildcard mask; also named ``wildcard``)."""
    return str(_network("hostmask", value).hostmask)


def network_address(value: Any) -> str:
    """``10.0.0.1/24`` → ``10.0.0.0``."""
    return str(_network("network_address", value).network_address)


def broadcast_address(value: Any) -> str:
    """``10.0.0.1/24`` → ``10.0.0.255``."""
    return str(_network("broadcast_address", value).broadcast_address)


def ip_version(value: Any) -> int:
    """4 or 6."""
    return _interface("ip_version", value).version


def nth_host(value: Any, n: Any) -> str:
    """The n-th address of the network (0 is the network address; negative counts from the end).

    ``'10.0.0.0/24' | nth_host(5)`` → ``10.0.0.5``.
    """
    net = _network("nth_host", value)
    if isinstance(n, bool) or not isinstance(n, int):
        raise FilterError(f"nth_host: the index must be an integer, got {n!r}")
    try:
        return str(net[n])
    except IndexError:
        raise FilterError(
            f"nth_host: index {n} is outside {net} ({net.num_addresses} addresses)"
        ) from None


def peer_address(value: Any) -> str:
    """The other end of a point-to-point interface address.

    ``/31`` (``/127``): the other of the two addresses. ``/30`` (``/126``): the other of the two
    usable addresses. Anything else, or the network/broadcast address of a /30, is an error.
    """
    iface = _interface("peer_address", value)
    net = iface.network
    host_bits = net.max_prefixlen - net.prefixlen
    first = int(net.network_address)
    mine = int(iface.ip)
    if host_bits == 1:
        return str(ipaddress.ip_address(first + (1 - (mine - first))))
    if host_bits == 2:
        offset = mine - first
        if offset in (1, 2):
            return str(ipaddress.ip_address(first + (3 - offset)))
        raise FilterError(
            f"peer_address: {value!r} is not a usable address of {net} (use .1 or .2)"
        )
    raise FilterError(
        f"peer_address: {value!r} is not a point-to-point address "
        "(needs /31 or /30, /127 or /126 for IPv6)"
    )


def is_ip(value: Any) -> bool:
    """True when the value is an IP address or interface string; never raises."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_interface(value.strip())
    except ValueError:
        return False
    return True


def in_network(value: Any, network: Any) -> bool:
    """True when the address (an interface's address for ``a.b.c.d/n``) lies in ``network``."""
    addr = _interface("in_network", value).ip
    net = _network("in_network", network)
    return addr.version == net.version and addr in net


FILTERS: dict[str, Callable[..., Any]] = {
    "ip_address": ip_address,
    "ip_network": ip_network,
    "prefixlen": prefixlen,
    "netmask": netmask,
    "hostmask": hostmask,
    "wildcard": hostmask,
    "network_address": network_address,
    "broadcast_address": broadcast_address,
    "ip_version": ip_version,
    "nth_host": nth_host,
    "peer_address": peer_address,
    "is_ip": is_ip,
    "in_network": in_network,
}
