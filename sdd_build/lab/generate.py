"""N-router ring topologies for benchmarks: OSPF (point-to-point, hello 1 / dead 4) + eBGP.

Router ``rI`` has AS ``65000+I``, loopback ``10.0.X.Y/32`` (I = 256*X + Y) and two links:
``rI:eth1`` to the next router's ``eth2``. Link K is ``10.1.0.0/16``'s K-th /31 (the lower
router holds the even address). Each node declares its convergence (2 OSPF Full, 2 BGP
Established, the loopback of the router opposite in the ring) so ``lab up --wait`` proves it.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from sdd_build.secrets.sink import write_text

__all__ = ["ring_configs", "write_ring"]


def _loopback(i: int) -> str:
    return f"10.0.{i // 256}.{i % 256}"


def _link_net(k: int) -> ipaddress.IPv4Network:
    base = int(ipaddress.IPv4Address("10.1.0.0"))
    return ipaddress.IPv4Network((base + 2 * k, 31))


def ring_configs(n: int) -> tuple[dict[int, str], list[tuple[int, int]]]:
    """(router index -> frr.conf, links as (a, b) with a:eth1 -- b:eth2)."""
    links = [(i, i % n + 1) for i in range(1, n + 1)] if n > 2 else [(1, 2)]
    peers: dict[int, list[tuple[str, str, str, int]]] = {i: [] for i in range(1, n + 1)}
    for k, (a, b) in enumerate(links):
        net = _link_net(k)
        lo_ip, hi_ip = str(net[0]), str(net[1])
        # the lower-numbered router takes the even address
        a_ip, b_ip = (lo_ip, hi_ip) if a < b else (hi_ip, lo_ip)
        peers[a].append(("eth1", a_ip, b_ip, b))
        peers[b].append(("eth2", b_ip, a_ip, a))
    configs: dict[int, str] = {}
    for i in range(1, n + 1):
        lines = ["frr defaults traditional", f"hostname r{i}", "!", "interface lo",
                 f" ip address {_loopback(i)}/32", " ip ospf area 0", "!"]  # fmt: skip
        for ifname, mine, _peer, other in sorted(peers[i]):
            lines += [f"interface {ifname}", f" description to r{other}",
                      f" ip address {mine}/31", " ip ospf area 0",
                      " ip ospf network point-to-point", " ip ospf hello-interval 1",
                      " ip ospf dead-interval 4", "!"]  # fmt: skip
        lines += ["router ospf", f" ospf router-id {_loopback(i)}", "!",
                  f"router bgp {65000 + i}", f" bgp router-id {_loopback(i)}",
                  " no bgp ebgp-requires-policy", " no bgp network import-check"]  # fmt: skip
        for _ifname, _mine, peer, other in sorted(peers[i]):
            lines += [
                f" neighbor {peer} remote-as {65000 + other}",
                f" neighbor {peer} description r{other}",
                f" neighbor {peer} timers 1 3",
                f" neighbor {peer} timers connect 1",
            ]
        lines += [" !", " address-family ipv4 unicast", f"  network {_loopback(i)}/32",
                  " exit-address-family", "!"]  # fmt: skip
        configs[i] = "\n".join(lines) + "\n"
    return configs, links


def write_ring(n: int, out_dir: Path, *, name: str | None = None) -> Path:
    """Write ``<out>/<name>.clab.yml`` and ``<out>/<name>/rI.conf``; returns the topology path."""
    name = name or f"ring{n}"
    configs, links = ring_configs(n)
    conf_dir = out_dir / name
    conf_dir.mkdir(parents=True, exist_ok=True)
    for i, text in configs.items():
        write_text(conf_dir / f"r{i}.conf", text)
    per_node = 1 if n == 2 else 2
    lines = [
        f"# Generated: {n} FRR routers in a ring, OSPF + eBGP (sdd-build lab generate).",
        f"name: {name}",
        "topology:",
        "  defaults:",
        "    kind: linux",
        "    image: quay.io/frrouting/frr:8.4.1",
        "    labels:",
        "      sdd.daemons: bgpd,ospfd",
        f'      sdd.expect.ospf-full: "{per_node}"',
        f'      sdd.expect.bgp-established: "{per_node}"',
        "  nodes:",
    ]
    for i in range(1, n + 1):
        opposite = (i - 1 + n // 2) % n + 1
        lines += [f"    r{i}:", f"      startup-config: {name}/r{i}.conf"]
        if opposite != i:
            lines += ["      labels:", f"        sdd.expect.routes: {_loopback(opposite)}/32"]
    lines.append("  links:")
    for a, b in links:
        lines.append(f'    - endpoints: ["r{a}:eth1", "r{b}:eth2"]')
    path = out_dir / f"{name}.clab.yml"
    write_text(path, "\n".join(lines) + "\n")
    return path
