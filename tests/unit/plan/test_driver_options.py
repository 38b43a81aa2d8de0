"""A host's NAPALM ``optional_args`` that its driver would refuse (``ssh_client``, ``login``)
are refused by ``validate``, located in the inventory, before any device is contacted: one
error and exit 2, not a deviation per host at connect time. The FRR driver refuses exactly the
same when it is created (one function: ``sdd_build.platforms.frr_options.problems``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from napalm_frr import FRRDriver
from sdd_build.plan.validate import validate
from tests.conftest import CliRun


def _napalm_args(args: str) -> str:
    return "  connection_options:\n    napalm:\n      extras:\n        optional_args:\n" + "".join(
        f"          {line}\n" for line in args.splitlines()
    )


def _edit_host(repo: Path, host: str, block: str) -> None:
    hosts = repo / "inventory/hosts.yaml"
    text = hosts.read_text()
    head = f"\n{host}:\n"
    assert head in text
    hosts.write_text(text.replace(head, head + block, 1))


def test_a_misspelt_ssh_client_is_one_located_error(example_repo: Path, design_path: Path) -> None:
    _edit_host(example_repo, "r2", _napalm_args("ssh_client: ssh2"))
    report = validate(design_path)
    assert not report.ok
    [problem] = report.problems
    assert problem.message == (
        "host r2: ssh_client must be one of ('auto', 'libssh', 'netmiko'), not 'ssh2'"
    )
    assert problem.file is not None
    assert problem.file.endswith("inventory/hosts.yaml")
    lines = (example_repo / "inventory/hosts.yaml").read_text().splitlines()
    assert problem.line is not None
    assert lines[problem.line - 1].strip() == "ssh_client: ssh2"


def test_options_from_a_group_are_checked_on_every_host_of_it(
    example_repo: Path, design_path: Path
) -> None:
    groups = example_repo / "inventory/groups.yaml"
    text = groups.read_text()
    assert "\ncore:\n" in f"\n{text}"
    groups.write_text(
        f"\n{text}".replace("\ncore:\n", "\ncore:\n" + _napalm_args("login: telnet"), 1)[1:]
    )
    report = validate(design_path)
    assert not report.ok
    messages = sorted(p.message for p in report.problems)
    assert messages == [
        f"host {h}: login must be one of ('vtysh', 'shell'), not 'telnet'"
        for h in ("r1", "r2", "r3")
    ]


@pytest.mark.parametrize(
    "args",
    ["ssh_client: libssh\nkey_file: /nonexistent/key", "ssh_client: libssh\nlogin: shell"],
)
def test_libssh_with_what_only_netmiko_does_is_refused(
    example_repo: Path, design_path: Path, args: str
) -> None:
    _edit_host(example_repo, "r1", _napalm_args(args))
    report = validate(design_path)
    assert [p.message.split(":")[0] for p in report.problems] == ["host r1"]
    assert "use ssh_client netmiko" in report.problems[0].message


def test_good_options_validate(example_repo: Path, design_path: Path) -> None:
    _edit_host(example_repo, "r1", _napalm_args("ssh_client: netmiko\nkey_file: /x/key"))
    _edit_host(example_repo, "r3", _napalm_args("ssh_client: libssh\nlogin: vtysh"))
    report = validate(design_path)
    assert report.ok, [p.message for p in report.problems]


def test_the_cli_exits_2_with_the_location(
    example_repo: Path, design_path: Path, cli: CliRun
) -> None:
    _edit_host(example_repo, "r3", _napalm_args("ssh_client: paramiko"))
    res = cli("validate", str(design_path))
    assert res.exit_code == 2, res.output
    assert "host r3: ssh_client must be one of" in res.output
    assert "Traceback" not in res.output
    assert "inventory/hosts.yaml:" in res.output


@pytest.mark.parametrize(
    "args",
    [
        {"ssh_client": "ssh2"},
        {"login": "telnet"},
        {"ssh_client": "libssh", "key_file": "/k"},
        {"ssh_client": "libssh", "login": "shell"},
    ],
)
def test_the_driver_refuses_what_validate_refuses(args: dict[str, str]) -> None:
    from sdd_build.platforms.frr_options import problems

    [(_key, message)] = problems(args)
    with pytest.raises(ValueError, match=r"must be one of|use ssh_client netmiko") as refused:
        FRRDriver("127.0.0.1", "u", "p", optional_args=args)
    assert str(refused.value) == message
