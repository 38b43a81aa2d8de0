from __future__ import annotations

from sdd_build.execute.reconcile import Truth, config_paths, questions, reconcile

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
    ]


def test_an_empty_interface_or_line_vty_is_no_configuration() -> None:
    """ospfd prints 'interface eth1 / exit' once all its settings are gone, and FRR cannot
    delete an active interface: a restore must not count it as a line left over."""
    text = "interface eth1\nexit\n!\ninterface eth2\n ip ospf cost 5\nexit\nline vty\n!\n"
    assert config_paths(text) == [("interface eth2",), ("interface eth2", "ip ospf cost 5")]


def test_as_designed_has_no_findings() -> None:
    intended = "interface eth1\n description core\n ip ospf area 0.0.0.0\nexit\n"
    post = PRE.replace(" description to r2\n", " description core\n ip ospf area 0.0.0.0\n")
    assert reconcile([("ospf", intended)], PRE, post) == []
    assert not questions([("ospf", intended)], PRE, post)


def test_rewritten_rejected_and_unexpected() -> None:
    intended = "interface eth1\n ip ospf area 0\n ip ospf bogus\nexit\n"
    post = (
        PRE.replace(" description to r2\n", " description to r2\n ip ospf area 0.0.0.0\n")
        + "interface eth2\n ip ospf cost 99\nexit\n"
    ).replace(" ip address 10.1.13.0/31\n", "")
    kinds = {(f.kind, f.expected, f.actual) for f in reconcile([("ospf", intended)], PRE, post)}
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
    findings = reconcile([("ospf", intended)], PRE, PRE)
    assert [f.kind for f in findings] == ["rejected_line"]


BFD = "bfd\n profile slow\n  detect-multiplier 3\n  receive-interval 250\n exit\nexit\n"
BFD_POST = PRE + "bfd\n profile slow\n  receive-interval 250\n exit\n !\nexit\n"
SOURCE = "FRR 8.4.4 (scratch instance)"


def test_without_the_devices_software_a_default_is_a_rejected_line_that_says_why() -> None:
    findings = reconcile([("bfd", BFD)], PRE, BFD_POST)
    assert [(f.kind, f.component, f.line) for f in findings] == [
        ("rejected_line", "bfd", "bfd / profile slow / detect-multiplier 3")
    ]
    assert "could not be checked" in findings[0].reason


def test_a_line_the_software_elides_is_default_elided_with_component_and_line() -> None:
    truth = Truth(source=SOURCE, paths=frozenset(config_paths(BFD_POST)))
    findings = reconcile([("bfd", BFD)], PRE, BFD_POST, truth=truth)
    assert [(f.kind, f.component, f.line) for f in findings] == [
        ("default_elided", "bfd", "bfd / profile slow / detect-multiplier 3")
    ]
    assert SOURCE in findings[0].reason


def test_remembered_verdicts_stand_in_for_the_software() -> None:
    elided = ("bfd", "profile slow", "detect-multiplier 3")
    assert [
        f.kind
        for f in reconcile([("bfd", BFD)], PRE, BFD_POST, truth=Truth(elided=frozenset({elided})))
    ] == ["default_elided"]
    kept = reconcile(
        [("bfd", BFD)], PRE, BFD_POST, truth=Truth(source=SOURCE, kept=frozenset({elided}))
    )
    assert [f.kind for f in kept] == ["rejected_line"]
    assert "refused or dropped" in kept[0].reason


def test_a_line_the_software_refuses_is_rejected_with_its_words() -> None:
    words = "% Unknown command: detect-multiplier 3"
    path = ("bfd", "profile slow", "detect-multiplier 3")
    truth = Truth(source=SOURCE, paths=frozenset(config_paths(BFD_POST)), refused={path: words})
    (finding,) = reconcile([("bfd", BFD)], PRE, BFD_POST, truth=truth)
    assert finding.kind == "rejected_line"
    assert words in finding.reason


def test_lines_the_software_adds_or_removes_itself_are_not_unexpected() -> None:
    intended = "router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n neighbor 10.0.0.2 bfd profile slow\nexit\n"
    post = (
        PRE
        + "router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n neighbor 10.0.0.2 bfd\n neighbor 10.0.0.2 bfd profile slow\nexit\n"
    )
    (finding,) = reconcile([("bgp", intended)], PRE, post)
    assert (finding.kind, finding.actual) == (
        "unexpected_change",
        "router bgp 65001 / neighbor 10.0.0.2 bfd",
    )
    truth = Truth(source=SOURCE, paths=frozenset(config_paths(post)))
    assert reconcile([("bgp", intended)], PRE, post, truth=truth) == []


def test_the_software_rewriting_a_line_is_rewritten_not_elided() -> None:
    intended = "interface eth1\n ip ospf area 0\nexit\n"
    post = PRE.replace(" description to r2\n", " description to r2\n ip ospf area 0.0.0.0\n")
    truth = Truth(source=SOURCE, paths=frozenset(config_paths(post)))
    (finding,) = reconcile([("ospf", intended)], PRE, post, truth=truth)
    assert (finding.kind, finding.actual) == (
        "rewritten_line",
        "interface eth1 / ip ospf area 0.0.0.0",
    )


def test_replace_removes_what_it_does_not_name() -> None:
    intended = "interface eth1\n ip address 10.1.12.0/31\nexit\n"
    post = "interface eth1\n ip address 10.1.12.0/31\nexit\n"
    assert reconcile([("all", intended)], PRE, post, strategy="replace") == []
    assert {f.kind for f in reconcile([("all", intended)], PRE, post)} == {"unexpected_change"}


OSPF = "router ospf\n passive-interface lo\n timers throttle spf 0 50 5000\nexit\n"
OSPF_POST = PRE + "interface lo\n ip ospf passive\nexit\n!\nrouter ospf\nexit\n"


def test_a_line_with_no_effect_is_a_default_one_stored_elsewhere_is_rewritten() -> None:
    moved = frozenset({("interface lo", "ip ospf passive")})
    truth = Truth(
        source=SOURCE,
        paths=frozenset(config_paths(OSPF_POST)),
        effects={
            ("router ospf", "passive-interface lo"): (moved, frozenset()),
            ("router ospf", "timers throttle spf 0 50 5000"): (frozenset(), frozenset()),
        },
    )
    found = {
        f.line: (f.kind, f.actual) for f in reconcile([("ospf", OSPF)], PRE, OSPF_POST, truth=truth)
    }
    assert found == {
        "router ospf / passive-interface lo": ("rewritten_line", "interface lo / ip ospf passive"),
        "router ospf / timers throttle spf 0 50 5000": ("default_elided", None),
    }


def test_a_stored_form_the_device_lacks_is_rejected() -> None:
    moved = frozenset({("interface lo", "ip ospf passive")})
    post = PRE + "router ospf\nexit\n"
    truth = Truth(
        source=SOURCE,
        paths=frozenset(config_paths(OSPF_POST)),
        effects={("router ospf", "passive-interface lo"): (moved, frozenset())},
    )
    kinds = {f.line: f.kind for f in reconcile([("ospf", OSPF)], PRE, post, truth=truth)}
    assert kinds["router ospf / passive-interface lo"] == "rejected_line"


def test_an_abbreviated_stanza_header_is_rewritten_not_a_default() -> None:
    intended = "int eth9\n ip address 10.9.9.1/24\nexit\n"
    post = PRE + "interface eth9\n ip address 10.9.9.1/24\nexit\n"
    stored = frozenset({("interface eth9",), ("interface eth9", "ip address 10.9.9.1/24")})
    truth = Truth(
        source=SOURCE,
        paths=frozenset(config_paths(post)),
        effects={
            ("int eth9",): (frozenset(), frozenset()),
            ("int eth9", "ip address 10.9.9.1/24"): (stored, frozenset()),
        },
    )
    found = {
        f.line: (f.kind, f.actual) for f in reconcile([("if", intended)], PRE, post, truth=truth)
    }
    assert found["int eth9"] == ("rewritten_line", "interface eth9")
    assert found["int eth9 / ip address 10.9.9.1/24"][0] == "rewritten_line"
