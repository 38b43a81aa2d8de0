from __future__ import annotations

from sdd_build.execute.reconcile import config_paths, reconcile

PRE = """\
frr version 8.4.4
frr defaults traditional
hostname r1
!
interface eth1
 description to r2
 ip address 10.1.12.0/31
exit
!
interface eth2
 ip address 10.1.13.0/31
exit
!
"""


def test_paths_follow_indentation_and_exit() -> None:
    text = "router bgp 1\n neighbor x remote-as 2\n address-family ipv4 unicast\n  network 1.1.1.1/32\n exit-address-family\nexit\nline vty\n"
    assert config_paths(text) == [
        ("router bgp 1",),
        ("router bgp 1", "neighbor x remote-as 2"),
        ("router bgp 1", "address-family ipv4 unicast"),
        ("router bgp 1", "address-family ipv4 unicast", "network 1.1.1.1/32"),
        ("line vty",),
    ]


def test_as_designed_has_no_findings() -> None:
    intended = "interface eth1\n description core\n ip ospf area 0.0.0.0\nexit\n"
    post = PRE.replace(" description to r2\n", " description core\n ip ospf area 0.0.0.0\n")
    assert reconcile([intended], PRE, post) == []


def test_rewritten_rejected_and_unexpected() -> None:
    intended = "interface eth1\n ip ospf area 0\n ip ospf bogus\nexit\n"
    post = (
        PRE.replace(" description to r2\n", " description to r2\n ip ospf area 0.0.0.0\n")
        + "interface eth2\n ip ospf cost 99\nexit\n"
    ).replace(" ip address 10.1.13.0/31\n", "")
    kinds = {(f.kind, f.expected, f.actual) for f in reconcile([intended], PRE, post)}
    assert (
        "rewritten_line",
        "interface eth1 / ip ospf area 0",
        "interface eth1 / ip ospf area 0.0.0.0",
    ) in kinds
    assert ("rejected_line", "interface eth1 / ip ospf bogus", None) in kinds
    assert ("unexpected_change", None, "interface eth2 / ip ospf cost 99") in kinds
    assert ("unexpected_change", "interface eth2 / ip address 10.1.13.0/31", None) in kinds


def test_negation_that_did_not_take() -> None:
    intended = "interface eth1\n no description to r2\nexit\n"
    findings = reconcile([intended], PRE, PRE)
    assert [f.kind for f in findings] == ["rejected_line"]
