"""The restore strategies, vtysh noise and defaults learnt from FRR's YANG (no device).

The device behaviour these stand for is measured live in tests/lab/test_rollback_live.py; here
``_Device`` is a model of the FRR 8.4 facts that matter (a refused ``no`` form, a default that
is not shown), so that the order and the stopping rules of the strategies are pinned.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from napalm_frr import config as cfg
from napalm_frr.defaults import default_line, find_entry, leaf_defaults
from napalm_frr.restore import negations, restore
from napalm_frr.transport import LineResult

DATA = Path(__file__).parent / "data"

BACKUP = """\
hostname r1
!
bfd
 profile slow
 exit
 !
exit
!
"""


class _Device:
    """An FRR-like device: lines applied in their context; ``no receive-interval ...`` and
    ``no transmit-interval ...`` refused (as bfdd does); a value equal to its default not
    shown; ``no profile X`` deletes the profile. Reads are counted."""

    DEFAULTS = {"receive-interval": "300", "transmit-interval": "300"}

    def __init__(self, text: str, *, default_known: bool = True) -> None:
        self.tree = cfg.parse(text)
        self.reads = 0
        self.sent: list[list[str]] = []
        self.default_known = default_known

    def read(self) -> str:
        self.reads += 1
        return "\n".join(self.tree.render()) + "\n"

    def configure(self, lines: list[str]) -> list[LineResult]:
        self.sent.append(list(lines))
        path: list[cfg.Node] = [self.tree]
        results = []
        for line in lines:
            node = path[-1]
            if line in ("exit", "exit-address-family"):
                path.pop()
                results.append(LineResult(line, ""))
                continue
            if line.startswith(("no receive-interval", "no transmit-interval")):
                results.append(LineResult(line, f"% Unknown command: {line}", "unknown_command"))
                break
            if line.startswith("no "):
                node.children.pop(line[3:], None)
                results.append(LineResult(line, ""))
                continue
            key = line.split()[0]
            for old in [k for k in node.children if k.split()[0] == key and key in self.DEFAULTS]:
                del node.children[old]
            if key in self.DEFAULTS and line.split()[1] == self.DEFAULTS[key]:
                results.append(LineResult(line, ""))  # the default: FRR does not show it
                continue
            child = node.child(line)
            if cfg.is_opener(line, [n.line for n in path[1:]]):
                path.append(child)
            results.append(LineResult(line, ""))
        return results

    def default_line(self, path: tuple[str, ...], line: str) -> str | None:
        key = line.split(maxsplit=1)[0]
        if not self.default_known or key not in self.DEFAULTS:
            return None
        return f"{key} {self.DEFAULTS[key]}"


def _changed(**profile: str) -> str:
    rows = "".join(f"  {k.replace('_', '-')} {v}\n" for k, v in profile.items())
    return BACKUP.replace(" profile slow\n", f" profile slow\n{rows}")


def test_a_plain_diff_restores_in_one_batch_and_stops() -> None:
    device = _Device(BACKUP + "ip route 192.0.2.0/24 Null0\n")
    report = restore(device, BACKUP)
    assert report.ok
    assert report.strategies == ["replace"]
    assert device.sent == [["no ip route 192.0.2.0/24 Null0"]]


def test_a_value_frr_cannot_negate_is_set_to_its_default() -> None:
    """The Trust II finding: 'no receive-interval 200' is refused; 'receive-interval 300' works."""
    device = _Device(_changed(receive_interval="200"))
    report = restore(device, BACKUP)
    assert report.ok, report
    assert report.strategies == ["replace", "negate", "default"]
    tried = [(a.strategy, a.commands[2]) for a in report.attempts]
    assert tried == [
        ("replace", "no receive-interval 200"),
        ("negate", "no receive-interval 200"),
        ("negate", "no receive-interval"),
        ("default", "receive-interval 300"),
    ]
    assert "% Unknown command" in report.attempts[0].refused[0]


def test_without_a_known_default_the_smallest_context_is_recreated() -> None:
    device = _Device(_changed(receive_interval="200"), default_known=False)
    report = restore(device, BACKUP)
    assert report.ok, report
    assert report.strategies == ["replace", "negate", "default", "recreate"]
    assert report.attempts[-1].commands == [
        "bfd",
        "no profile slow",
        "profile slow",
        "exit",
        "exit",
    ]


def test_what_is_left_is_listed_with_its_stanza_path() -> None:
    class Stubborn(_Device):
        def configure(self, lines: list[str]) -> list[LineResult]:
            self.sent.append(list(lines))
            return [LineResult(ln, "% Unknown command", "unknown_command") for ln in lines[:1]]

    device = Stubborn(_changed(receive_interval="200") + "ip route 192.0.2.0/24 Null0\n")
    report = restore(device, BACKUP + "interface lo\n ip address 10.0.0.1/32\nexit\n")
    assert not report.ok
    assert sorted(report.left) == [
        "bfd / profile slow / receive-interval 200",
        "ip route 192.0.2.0/24 Null0",
    ]
    assert report.missing == ["interface lo", "interface lo / ip address 10.0.0.1/32"]
    assert report.strategies == ["replace", "negate", "default", "recreate"]


def test_the_first_accepted_negation_ends_the_alternatives() -> None:
    """'no neighbor X remote-as N' accepted: never also 'no neighbor X' (it takes more)."""
    assert negations("neighbor 10.0.0.2 remote-as 65002") == [
        "no neighbor 10.0.0.2 remote-as 65002",
        "no neighbor 10.0.0.2 remote-as",
        "no neighbor 10.0.0.2",
        "no neighbor",
    ]
    assert negations("description uplink") == ["no description"]


@pytest.mark.parametrize(
    "line",
    [
        "Warning: connecting to zebra...failed!",
        "vtysh(): vtysh_client_run(): error reading from ospfd: Connection reset by peer (104)",
        "% Unknown command: show foo",
        "ospfd is not running",
    ],
)
def test_vtysh_talk_is_never_configuration(line: str) -> None:
    read = f"frr version 8.4.4\nhostname r1\n!\n{line}\ninterface eth1\n ip ospf cost 5\nexit\n"
    assert cfg.noise(read) == [line]
    assert line not in "\n".join(cfg.parse(read).render())
    # and so no restore or diff ever negates it ('no Warning: connecting to zebra...')
    commands = cfg.diff(cfg.parse(read), cfg.parse("hostname r1\n")).commands()
    assert all(line not in c for c in commands)


def test_the_daemon_a_warning_names_is_known() -> None:
    noise = ["Warning: connecting to zebra...failed!", "Warning: connecting to ospfd...failed!"]
    assert cfg.lost_daemons(noise) == ["zebra", "ospfd"]


def test_configuration_words_are_not_noise() -> None:
    for line in ("hostname warning-r1", " description Warning: lab", "ip route 10.0.0.0/8 Null0"):
        assert not cfg.is_noise(line)


def _show(command: str) -> str:
    if command.startswith("show yang operational-data"):
        return (DATA / "bfdd.with-config.json").read_text()
    if command.startswith("show yang module frr-bfdd compiled"):
        return (DATA / "frr-bfdd.compiled.yang").read_text()
    raise AssertionError(command)


def test_bfd_defaults_come_from_the_devices_yang_schema() -> None:
    """Recorded on FRR 8.4.4: 'show yang module frr-bfdd compiled bfdd'."""
    defaults = leaf_defaults((DATA / "frr-bfdd.compiled.yang").read_text())
    assert defaults["required-receive-interval"] == "300000"
    assert defaults["detection-multiplier"] == "3"


def test_the_default_line_is_in_the_cli_unit() -> None:
    """profile p1 holds receive-interval 200 (ms): the leaf holds 200000 (us), default 300000."""
    assert default_line(_show, ("bfd", "profile p1"), "receive-interval 200") == (
        "receive-interval 300"
    )
    # a value the data does not hold, a context it has not, a context without a YANG module
    assert default_line(_show, ("bfd", "profile p1"), "detect-multiplier 5") is None
    assert default_line(_show, ("bfd", "profile nope"), "receive-interval 200") is None
    assert default_line(_show, ("router ospf",), "timers throttle spf 0 50 5000") is None


def test_find_entry_walks_the_context_arguments() -> None:
    data = {"m:top": {"bfd": {"profile": [{"name": "a", "x": 1}, {"name": "b", "x": 2}]}}}
    assert find_entry(data, ("profile b",)) == {"name": "b", "x": 2}
    assert find_entry(data, ()) == data
