"""The pure parts of napalm_frr's dry run and of its questions to a scratch FRR instance
(``napalm_frr.dryrun``, ``napalm_frr.transport.vtysh_file_errors``). What FRR answers is tested
live: tests/lab/test_reconcile_live.py, tests/lab/test_corpus_live.py."""

from __future__ import annotations

from napalm_frr import dryrun
from napalm_frr.transport import vtysh_file_errors


def test_a_daemons_own_words_are_paired_with_vtysh_failure_lines() -> None:
    lines = ["router bgp 65001", "neighbor 10.0.0.9 bfd", "exit", "router bgp 65099"]
    out = (
        "% Specify remote-as or peer-group commands first\n"
        "BGP is already running; AS is 65001\n"
        "line 2: Failure to communicate[13] to bgpd, line: neighbor 10.0.0.9 bfd\n"
        "line 4: Failure to communicate[13] to bgpd, line: router bgp 65099\n"
    )
    found = vtysh_file_errors(out, lines)
    assert [(i, r.line, r.output) for i, r in found] == [
        (1, "neighbor 10.0.0.9 bfd", "% Specify remote-as or peer-group commands first: "
         "neighbor 10.0.0.9 bfd"),
        (3, "router bgp 65099", "BGP is already running; AS is 65001: router bgp 65099"),
    ]  # fmt: skip
    assert all(r.failed for _i, r in found)


def test_line_paths_of_a_command_list_and_of_indented_text() -> None:
    commands = [
        "bfd",
        "profile P",
        "receive-interval 300",
        "exit",
        "exit",
        "ip route 0.0.0.0/0 Null0",
    ]
    assert dryrun.line_paths(commands) == [
        ("bfd",),
        ("bfd", "profile P"),
        ("bfd", "profile P", "receive-interval 300"),
        None,
        None,
        ("ip route 0.0.0.0/0 Null0",),
    ]
    text = [
        "router bgp 1",
        " address-family ipv4 unicast",
        "  network 10.0.0.0/8",
        " exit-address-family",
        "interface lo",
    ]
    assert dryrun.line_paths(text)[2] == (
        "router bgp 1",
        "address-family ipv4 unicast",
        "network 10.0.0.0/8",
    )
    assert dryrun.line_paths(text)[4] == ("interface lo",)


def test_a_probed_line_is_applied_alone_inside_its_stanzas() -> None:
    assert dryrun._context(
        ("router bgp 1", "address-family ipv4 unicast", "neighbor x activate")
    ) == (
        "router bgp 1\n address-family ipv4 unicast\n  neighbor x activate\n"
        " exit-address-family\nexit\n"
    )


def test_the_rest_is_loaded_without_the_probed_lines() -> None:
    text = "bfd\n profile P\n  detect-multiplier 3\n  transmit-interval 200\n exit\nexit\nrouter ospf\n passive-interface lo\nexit\n"
    rest = dryrun._without(
        text, {("bfd", "profile P", "detect-multiplier 3"), ("router ospf", "passive-interface lo")}
    )
    assert rest == "bfd\n profile P\n  transmit-interval 200\n exit\nexit\nrouter ospf\n"


def test_identity_and_daemons() -> None:
    assert dryrun.identity("frr version 8.4.4\nfrr defaults datacenter\n") == (
        "8.4.4",
        "datacenter",
    )
    assert dryrun.identity("hostname r1\n", "FRRouting 9.1 (r1) on Linux") == ("9.1", "traditional")
    assert dryrun.parse_daemons(" zebra ospfd bgpd staticd bfdd\n") == {
        "zebra",
        "ospfd",
        "bgpd",
        "staticd",
        "bfdd",
    }


def test_another_frr_version_on_the_build_machine_is_named(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dryrun.scratch, "unavailable", lambda: None)
    monkeypatch.setattr(dryrun.scratch, "local_version", lambda: "8.4.4")
    assert dryrun.unavailable_for("8.4.4") is None
    reason = dryrun.unavailable_for("9.1")
    assert reason is not None
    assert "8.4.4" in reason
    assert "9.1" in reason
    assert "unknown" in (dryrun.unavailable_for(None) or "")
