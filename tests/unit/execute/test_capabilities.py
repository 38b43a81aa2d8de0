"""What a rendered design needs of an FRR host, and what a host reports (issue 11 item 7)."""

from __future__ import annotations

from sdd_build.execute.capabilities import missing_daemons, needed_daemons, parse
from sdd_build.execute.reconcile import config_paths

CONFIG = """\
router bgp 65001
 neighbor 10.1.12.1 remote-as 65002
 neighbor 10.1.12.1 bfd
exit
interface eth1
 ip ospf area 0
 ip ospf bfd
exit
bfd
 peer 10.1.12.1
exit
ip route 192.0.2.0/24 10.1.12.1
ipv6 route 2001:db8::/64 fe80::1 eth1
router isis CORE
exit
"""


def test_each_line_needs_the_daemon_that_accepts_it() -> None:
    needed = needed_daemons(config_paths(CONFIG))
    assert set(needed) == {"bgpd", "bfdd", "ospfd", "staticd", "isisd"}
    assert "router bgp 65001 / neighbor 10.1.12.1 bfd" in needed["bfdd"]
    assert "interface eth1 / ip ospf bfd" in needed["bfdd"]
    assert needed["staticd"] == [
        "ip route 192.0.2.0/24 10.1.12.1",
        "ipv6 route 2001:db8::/64 fe80::1 eth1",
    ]


def test_show_daemons_and_version_are_parsed() -> None:
    caps = parse(
        "FRRouting 8.4.4 (r1) on Linux(6.1).\nCopyright", " zebra ospfd bgpd watchfrr staticd\n"
    )
    assert caps.as_dict() == {
        "frr_version": "8.4.4",
        "daemons": ["bgpd", "ospfd", "staticd", "zebra"],
        "capabilities": ["bgp", "ospf", "static", "rib"],
    }
    missing = missing_daemons(caps, needed_daemons(config_paths(CONFIG)))
    assert set(missing) == {"bfdd", "isisd"}


def test_unknown_daemons_give_no_finding() -> None:
    caps = parse(None, None)
    assert caps.as_dict() == {"frr_version": None, "daemons": None, "capabilities": None}
    assert missing_daemons(caps, {"bfdd": ["bfd"]}) == {}
