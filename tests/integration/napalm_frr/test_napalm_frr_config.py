"""The driver's pure parts: config tree, diff, commands, refusal detection (no device).

Inputs are texts FRR 8.4 printed (``show running-config``, config-mode sessions, ``vtysh -C``)
on the dev routers the recordings in ``mocked_data`` come from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from napalm_frr import config as cfg
from napalm_frr.transport import (
    bursts,
    classify,
    parse_vtysh_file_errors,
    split_transcript,
)

RUNNING = (
    Path(__file__).parent / "mocked_data/test_get_config/r1/show_running_config.txt"
).read_text()


def _tree_lines(text: str) -> list[str]:
    return list(cfg.parse(text).render())


def test_parse_scopes_running_config_by_indentation():
    lines = _tree_lines(RUNNING)
    assert "router bgp 65001" in lines
    bgp = lines.index("router bgp 65001")
    assert lines[bgp + 1 :][:3] == [
        " bgp router-id 10.77.0.1",
        " no bgp ebgp-requires-policy",
        " neighbor 10.77.12.2 remote-as 65002",
    ]
    assert "  network 10.77.0.1/32" in lines  # inside address-family, inside router bgp
    assert not any(ln.startswith(("frr version", "Building", "end", "!")) for ln in lines)


def test_parse_unindented_candidate_by_keywords_and_exit_markers():
    text = (
        "router bgp 65001\nneighbor 192.0.2.1 remote-as 65009\naddress-family ipv4 unicast\n"
        "network 198.51.100.0/24\nexit-address-family\nexit\nip route 203.0.113.0/24 Null0\n"
        "interface eth1\ndescription x\n"
    )
    assert _tree_lines(text) == [
        "router bgp 65001",
        " neighbor 192.0.2.1 remote-as 65009",
        " address-family ipv4 unicast",
        "  network 198.51.100.0/24",
        "ip route 203.0.113.0/24 Null0",
        "interface eth1",
        " description x",
    ]


def test_identical_configs_have_no_diff():
    assert not cfg.diff(cfg.parse(RUNNING), cfg.parse(RUNNING))
    assert cfg.diff(cfg.parse(RUNNING), cfg.parse(RUNNING)).text() == ""


def test_replace_diff_and_commands():
    candidate = (
        RUNNING.replace(" neighbor 10.77.12.2 description r2\n", "")
        .replace("ip route 1.0.4.0/24 Null0\n", "ip route 1.0.5.0/24 Null0\n")
        .replace(" description link to r2\n", " description replaced\n")
        .replace("password s3cretKey\n", "")
    )
    change = cfg.diff(cfg.parse(RUNNING), cfg.parse(candidate))
    # deletions deepest context first, last line first; then additions in candidate order
    assert change.commands() == [
        "interface eth1",
        "no description",
        "exit",
        "router bgp 65001",
        "no neighbor 10.77.12.2 description",
        "exit",
        "no ip route 1.0.4.0/24 Null0",
        "no password",
        "ip route 1.0.5.0/24 Null0",
        "interface eth1",
        "description replaced",
        "exit",
    ]
    text = change.text()
    assert "- ip route 1.0.4.0/24 Null0" in text
    assert "+ ip route 1.0.5.0/24 Null0" in text
    assert "  router bgp 65001\n-  neighbor 10.77.12.2 description r2" in text


def test_removed_router_is_deleted_whole_but_interface_line_by_line():
    candidate = RUNNING[: RUNNING.index("router bgp")] + "end\n"
    candidate = candidate.replace("interface lo\n ip address 10.77.0.1/32\nexit\n", "")
    commands = cfg.diff(cfg.parse(RUNNING), cfg.parse(candidate)).commands()
    assert "no router bgp 65001" in commands
    assert "no interface lo" not in commands
    assert commands[commands.index("interface lo") + 1] == "no ip address 10.77.0.1/32"


def test_new_context_is_sent_whole_with_its_exits():
    candidate = RUNNING.replace("end\n", "route-map RM permit 10\n set metric 5\nexit\n!\nend\n")
    commands = cfg.diff(cfg.parse(RUNNING), cfg.parse(candidate)).commands()
    assert commands == ["route-map RM permit 10", "set metric 5", "exit"]


def test_address_family_is_left_with_exit_address_family():
    candidate = RUNNING.replace(
        "  network 10.77.0.1/32\n", "  network 10.77.0.1/32\n  network 192.0.2.0/24\n"
    )
    commands = cfg.diff(cfg.parse(RUNNING), cfg.parse(candidate)).commands()
    assert commands == [
        "router bgp 65001",
        "address-family ipv4 unicast",
        "network 192.0.2.0/24",
        "exit-address-family",
        "exit",
    ]


def test_merge_adds_and_no_lines_remove():
    merged = cfg.merge(
        cfg.parse(RUNNING),
        cfg.parse(
            "ip route 192.0.2.0/24 Null0\nno ip route 1.0.4.0/24 Null0\n"
            "no ip route 198.51.100.0/24 Null0\nrouter bgp 65001\n no bgp default ipv4-unicast\n"
        ),
    )
    change = cfg.diff(cfg.parse(RUNNING), merged)
    # new top-level lines go after the existing contexts (FRR takes forward references)
    assert change.commands() == [
        "no ip route 1.0.4.0/24 Null0",
        "router bgp 65001",
        "no bgp default ipv4-unicast",
        "exit",
        "ip route 192.0.2.0/24 Null0",
    ]


def test_merge_of_lines_already_there_changes_nothing():
    merged = cfg.merge(
        cfg.parse(RUNNING),
        cfg.parse("router bgp 65001\n neighbor 10.77.12.2 remote-as 65002\n"),
    )
    assert not cfg.diff(cfg.parse(RUNNING), merged)


def test_additions_only_resends_what_a_cascading_delete_took():
    candidate = RUNNING.replace("remote-as 65002", "remote-as 65003")
    change = cfg.diff(cfg.parse(RUNNING), cfg.parse(candidate))
    assert "no neighbor 10.77.12.2 remote-as 65002" in change.commands()
    assert change.commands(additions_only=True) == [
        "router bgp 65001",
        "neighbor 10.77.12.2 remote-as 65003",
        "exit",
    ]


@pytest.mark.parametrize(
    ("line", "negated"),
    [
        ("ip route 1.0.0.0/8 Null0", "no ip route 1.0.0.0/8 Null0"),
        ("no bgp ebgp-requires-policy", "bgp ebgp-requires-policy"),
        ("password s3cret", "no password"),
        ("description link to r2", "no description"),
        ("neighbor 10.0.0.1 description peer", "no neighbor 10.0.0.1 description"),
        ("log syslog informational", "no log syslog"),
    ],
)
def test_negate(line, negated):
    assert cfg.negate(line) == negated


# --- what FRR answered, as captured from real sessions ---------------------------------------


@pytest.mark.parametrize(
    ("output", "kind"),
    [
        ("", ""),
        ("% Unknown command: terminal width 511", ""),
        ("% Unknown command: bogus line", "unknown_command"),
        ("% Command incomplete: neighbor 1.2.3.4", "incomplete_command"),
        ("% Ambiguous command: n", "ambiguous_command"),
        ("% Invalid input detected at '^' marker.", "invalid_input"),
        ("ospfd is not running", "daemon_not_running"),
        ("% BGP is already running; AS is 65001", "daemon_error"),
        ("WARNING: this command is deprecated", "warning"),
        ("something FRR never said before", "unexpected_output"),
        (
            "Please be aware that removing the password is a security risk and you should "
            "think twice about this command.",
            "",
        ),
    ],
)
def test_classify(output, kind):
    assert classify(output) == kind


# Recorded from FRR 8.4 (vtysh login, Netmiko cisco_ios): eight lines typed ahead at once.
BURST = [
    "interface eth1",
    " description pipelined",
    " ip ospf cost 77",
    "exit",
    "ip route 192.0.2.0/24 Null0",
    "interfac eth9",
    " ip ospf cst 5",
    "exit",
]
TRANSCRIPT = (
    " interface eth1\r\nr1(config-if)#  description pipelined\r\nr1(config-if)#  ip ospf cost 77"
    "\r\nr1(config-if)# exit\r\nr1(config)# ip route 192.0.2.0/24 Null0\r\nr1(config)# "
    "interfac eth9\r\nr1(config-if)#  ip ospf cst 5\r\n% Unknown command:  ip ospf cst 5\r\n"
    "r1(config-if)# exit\r\nr1(config)# "
)


def test_burst_transcript_is_split_per_line():
    outputs = split_transcript(TRANSCRIPT, BURST)
    assert outputs == ["", "", "", "", "", "", "% Unknown command:  ip ospf cst 5", ""]
    assert [classify(o) for o in outputs or []][6] == "unknown_command"


@pytest.mark.parametrize("cut", [2, 12, 40, len(TRANSCRIPT) // 2, len(TRANSCRIPT) - 13])
def test_incomplete_burst_transcript_is_not_split(cut):
    assert split_transcript(TRANSCRIPT[:-cut], BURST) is None


def test_error_that_repeats_the_next_line_is_not_taken_for_its_echo():
    lines = ["ip ospf cst 5", "ip ospf cst 5"]
    transcript = (
        "ip ospf cst 5\n% Unknown command: ip ospf cst 5\nr1(config)# ip ospf cst 5\n"
        "% Unknown command: ip ospf cst 5\nr1(config)# "
    )
    assert split_transcript(transcript, lines) == ["% Unknown command: ip ospf cst 5"] * 2


def test_hostname_renames_the_prompt_mid_burst():
    lines = ["hostname r1new", "hostname r1", "no hostname"]
    transcript = (
        "hostname r1new\nr1new(config)# hostname r1\nr1(config)# no hostname\n(null)(config)# "
    )
    assert split_transcript(transcript, lines) == ["", "", ""]


def test_bursts_stay_under_the_limit_and_keep_order():
    lines = [f"ip route 198.51.100.{i}/32 Null0" for i in range(100)] + ["x" * 3000, "exit"]
    groups = bursts(lines)
    assert [line for group in groups for line in group] == lines
    assert all(sum(len(x) + 1 for x in g) <= 1024 for g in groups if len(g) > 1)
    assert ["x" * 3000] in groups
    assert bursts([]) == []


def test_vtysh_dry_run_errors_name_the_lines():
    lines = [
        "router bgp 65001",
        " neighbor 10.9.9.9 remote-as 65009",
        " bogus line",
        " neighbor 1.2.3.4",
    ]
    out = (
        "line 3: % Unknown command[25]:  bogus line\n"
        "line 4: % Command incomplete[25]:  neighbor 1.2.3.4\n"
    )
    refused = parse_vtysh_file_errors(out, lines)
    assert [(r.line, r.kind) for r in refused] == [
        ("bogus line", "unknown_command"),
        ("neighbor 1.2.3.4", "incomplete_command"),
    ]
    assert refused[0].output == "% Unknown command: bogus line"


def test_diff_text_shows_each_context_once():
    candidate = RUNNING.replace(
        " neighbor 10.77.12.2 description r2\n", " neighbor 10.77.12.2 description new\n"
    )
    assert cfg.diff(cfg.parse(RUNNING), cfg.parse(candidate)).text() == (
        "  router bgp 65001\n"
        "-  neighbor 10.77.12.2 description r2\n"
        "+  neighbor 10.77.12.2 description new\n"
    )


def test_refusal_text_masks_secrets_the_device_echoes():
    from napalm_frr.frr import _describe
    from napalm_frr.transport import LineResult

    refused = [
        LineResult(
            "neighbor 10.0.0.1 password hunter2",
            "% Unknown command: neighbor 10.0.0.1 password hunter2",
            "unknown_command",
        )
    ]
    text = _describe(refused)
    assert "hunter2" not in text
    assert "% Unknown command: neighbor 10.0.0.1 password <removed>" in text


def test_normalize_drops_header_and_a_prompt_left_behind():
    raw = "Building configuration...\n\nCurrent configuration:\n!\nhostname r1\n!\nend\n(null)#"
    assert cfg.normalize(raw) == "!\nhostname r1\n!\nend\n"


def test_replace_keeps_vtysh_service_line_and_empty_line_vty_is_no_change():
    candidate = RUNNING.replace("service integrated-vtysh-config\n", "") + "line vty\n!\n"
    assert not cfg.diff(cfg.parse(RUNNING), cfg.parse(candidate))


def test_a_removed_neighbor_loses_its_address_family_lines_first():
    running = (
        "router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n neighbor 10.0.0.2 description r2\n"
        " !\n address-family ipv4 unicast\n  network 10.0.0.1/32\n"
        "  neighbor 10.0.0.2 route-map IN in\n exit-address-family\nexit\n"
    )
    candidate = "router bgp 65001\n address-family ipv4 unicast\n  network 10.0.0.1/32\n"
    assert cfg.diff(cfg.parse(running), cfg.parse(candidate)).commands() == [
        "router bgp 65001",
        "address-family ipv4 unicast",
        "no neighbor 10.0.0.2 route-map IN in",
        "exit-address-family",
        "exit",
        "router bgp 65001",
        "no neighbor 10.0.0.2 description",
        "no neighbor 10.0.0.2 remote-as 65002",
        "exit",
    ]
