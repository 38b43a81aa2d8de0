"""The napalm_frr driver against real FRR 8.4 routers (``lab`` marker).

Runs on the ``triangle_lab`` fixture of ``tests/lab/conftest.py``; when that fixture is not
there, when another process has the triangle up (another run's lab: these tests change
configurations and stop an sshd), or with ``NAPALM_FRR_PRIVATE_LAB=1``, on a
private copy of ``labs/triangle.clab.yml`` named ``napfrr-live``, brought up and down here. Every assertion about the device reads it
through ``LabNode.vtysh`` (local ``vtysh -N``), not through the driver under test, and every
test must leave each router's running configuration byte for byte as it found it (checked).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import napalm
import pytest
from napalm.base.exceptions import (
    CommitError,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)

from napalm_frr import FRRDriver
from napalm_frr import config as cfg
from tests.labkit import copy_repo

pytestmark = pytest.mark.lab

# CPython 3.11.7 (this machine) shares the AST-conversion recursion counter between threads
# (gh-106905, fixed in 3.11.8): paramiko's transport thread formats a traceback (ast.parse for
# caret anchors) when an SSH connection fails, as the sshd-down test makes it do, and after that
# any ast.parse in the main thread can die with "SystemError: AST constructor recursion depth
# mismatch". The one such parse left in a session is pytest rewriting hypothesis when its
# plugin imports it for the terminal summary: import it now, while the counter is sound.
with contextlib.suppress(ImportError):
    import hypothesis  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
#: "vtysh" logs in on libssh (the default client), "vtysh-netmiko" on Netmiko's paramiko: every
#: test of a login runs on both clients of the vtysh login, and on the shell login
LOGINS = ["vtysh", "vtysh-netmiko", "shell"]
TEST_ROUTE = "ip route 192.0.2.0/24 Null0"


def _usable() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("vtysh") is None:
        return "needs FRR (vtysh)"
    return None


@pytest.fixture(scope="module")
def frr_lab(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    reason = _usable()
    if reason:
        pytest.skip(reason)
    from sdd_build import lab
    from sdd_build.lab.state import LabState

    # A triangle another process brought up belongs to someone else's run: these tests change
    # configurations and stop an sshd, so they take a private copy rather than touch it. One
    # this session's triangle_lab fixture brought up (owner_pid is ours) is fair game.
    state = LabState.load(lab.read_lab_name(REPO / "labs" / "triangle.clab.yml"))
    shared_busy = state is not None and state.owner_pid != os.getpid()
    if not os.environ.get("NAPALM_FRR_PRIVATE_LAB") and not shared_busy:
        try:
            handle = request.getfixturevalue("triangle_lab")
        except pytest.FixtureLookupError:
            pass
        else:
            yield handle
            _remove_state_dirs(handle)
            return

    work = tmp_path_factory.mktemp("napfrr-live")
    copy_repo(work, ["labs/triangle"])
    topology = work / "labs" / "napfrr-live.clab.yml"
    text = (REPO / "labs" / "triangle.clab.yml").read_text()
    topology.write_text(text.replace("name: triangle", "name: napfrr-live", 1))
    handle = lab.up(topology, timeout=120)
    try:
        yield handle
    finally:
        _remove_state_dirs(handle)
        lab.down(topology)


def _remove_state_dirs(handle: Any) -> None:
    """The shell login's driver state, which the lab's users leave in /tmp (their home is /)."""
    import pwd

    for node in handle.hosts.values():
        try:
            uid = pwd.getpwnam(node.shell_username).pw_uid
        except KeyError:
            continue
        shutil.rmtree(f"/tmp/napalm_frr-{node.frr_instance}-{uid}", ignore_errors=True)


def _running(node: Any) -> str:
    return str(node.vtysh("show running-config"))


@pytest.fixture(autouse=True)
def untouched_routers(frr_lab: Any) -> Iterator[None]:
    """Each test must leave every router exactly as it found it."""
    before = {name: _running(node) for name, node in frr_lab.hosts.items()}
    yield
    changed = [name for name, node in frr_lab.hosts.items() if _running(node) != before[name]]
    for name in changed:  # put it back so that one failure does not cascade
        driver = _driver(frr_lab.hosts[name], "vtysh")
        driver.open()
        try:
            driver._restore(cfg.normalize(before[name]))
        finally:
            driver.close()
    assert not changed, f"test left changes on {changed}"


def _driver(node: Any, login: str, timeout: int = 20, **extra: Any) -> FRRDriver:
    if login == "vtysh-netmiko":
        login, extra = "vtysh", {"ssh_client": "netmiko", **extra}
    optional_args: dict[str, Any] = {"port": node.port, "login": login, **extra}
    if login == "shell":
        optional_args.update(
            frr_instance=node.frr_instance,
            shell_username=node.shell_username,
            shell_password=node.shell_password,
        )
    return FRRDriver(node.hostname, node.username, node.password, timeout, optional_args)


@pytest.fixture(params=LOGINS)
def login(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def r1(frr_lab: Any) -> Any:
    return frr_lab.hosts["r1"]


@pytest.fixture
def open_driver(r1: Any, login: str) -> Iterator[FRRDriver]:
    driver = _driver(r1, login)
    driver.open()
    try:
        yield driver
    finally:
        driver.close()


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


# --- discovery, session, getters ------------------------------------------------------------


def test_napalm_resolves_the_frr_driver() -> None:
    assert napalm.get_network_driver("frr") is FRRDriver


def test_getters_on_a_live_router(open_driver: FRRDriver, r1: Any) -> None:
    assert open_driver.is_alive() == {"is_alive": True}
    facts = open_driver.get_facts()
    assert facts["vendor"] == "FRRouting"
    assert facts["os_version"].startswith("8.")
    assert facts["hostname"] == r1.name
    assert {"eth1", "eth2", "lo"} <= set(facts["interface_list"])
    interfaces = open_driver.get_interfaces()
    assert interfaces["eth1"]["description"] == "to r2"
    assert interfaces["eth1"]["is_up"]
    assert interfaces["eth1"]["is_enabled"]
    addresses = open_driver.get_interfaces_ip()
    assert addresses["eth1"]["ipv4"]["10.1.12.0"]["prefix_length"] == 31
    assert addresses["lo"]["ipv4"]["10.0.0.1"]["prefix_length"] == 32
    config = open_driver.get_config(retrieve="running")
    assert "hostname r1" in config["running"]
    assert config["candidate"] == config["startup"] == ""
    outputs = open_driver.cli(["show version", "show interface json"], encoding="text")
    assert "FRRouting" in outputs["show version"]
    assert "eth1" in open_driver.cli(["show interface"], encoding="json")["show interface"]


# --- the SSH client of a vtysh login (libssh by default, Netmiko on request) -----------------


def test_each_login_runs_on_the_client_it_names(r1: Any, login: str) -> None:
    from napalm_frr.libssh import LibsshLogin

    driver = _driver(r1, login)
    threads = threading.active_count()
    driver.open()
    try:
        on_libssh = isinstance(driver._transport._conn, LibsshLogin)
        assert on_libssh == (login == "vtysh"), type(driver._transport._conn)
        if on_libssh:  # no thread of its own (paramiko starts one per session)
            assert threading.active_count() == threads
    finally:
        driver.close()


def test_closing_logs_out_at_once(r1: Any, login: str) -> None:
    """The device's vtysh (or shell) for the session is gone right after ``close``: the
    session is logged out, not left for the device's sshd to hang up later."""

    user = r1.shell_username if login == "shell" else r1.username

    def logins() -> list[str]:  # the login's processes: its sshd, shell and vtysh
        out = subprocess.run(["pgrep", "-u", user], check=False, capture_output=True, text=True)
        return out.stdout.split()

    before = set(logins())  # an earlier test's login may still be exiting: not this one's
    driver = _driver(r1, login)
    driver.open()
    driver.cli(["show version"])
    own = set(logins()) - before  # the session's own processes, on the router
    assert own
    driver.close()
    deadline = time.monotonic() + 0.5
    while own & set(logins()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not own & set(logins())


LONG_DESCRIPTION = " description " + "long-" * 40  # 213 characters: past an 80-column terminal


def test_libssh_and_netmiko_give_the_same_answers(r1: Any) -> None:
    """The two clients, byte for byte, on the same router: shows one by one and typed ahead,
    a command FRR refuses, configuration lines (one refused, one far wider than a default
    terminal, whose echo readline would wrap), and a prompt renamed by a ``hostname`` line."""
    before = _running(r1)
    drivers = {
        name: _driver(r1, login)
        for name, login in (("libssh", "vtysh"), ("netmiko", "vtysh-netmiko"))
    }
    shows = ["show running-config", "show version", "show interface brief", "show bogus"]
    try:
        answers: dict[str, list[Any]] = {}
        for name, driver in drivers.items():
            driver.open()
            t = driver._transport
            got: list[Any] = [t.show(c) for c in shows]
            got.append(t.show_many(shows))
            got.append(t.show_many(shows, blank_rows=True))
            got.append(t.configure(["interface lo", LONG_DESCRIPTION, "ip frobnicate", "exit"]))
            got.append(t.show("show running-config"))
            got.append(t.configure(["interface lo", "no" + LONG_DESCRIPTION[:12], "exit"]))
            got.append(t.configure(["hostname r1-renamed"]))
            got.append((t.conn.base_prompt, t.show("show version")[:40]))
            got.append(t.configure(["hostname r1"]))
            got.append((t.conn.base_prompt, t.show("show running-config")))
            answers[name] = got
            driver.close()
        assert answers["libssh"] == answers["netmiko"]
        refused = answers["libssh"][6]
        assert [r.line for r in refused if r.failed] == ["ip frobnicate"]
        assert LONG_DESCRIPTION.strip() in answers["libssh"][7]
        assert answers["libssh"][10][0] == "r1-renamed"
        assert answers["libssh"][12][0] == "r1"
    finally:
        for driver in drivers.values():
            driver.close()
    assert _running(r1) == before


def test_libssh_login_failures_are_bounded_and_name_no_secret(r1: Any) -> None:
    import socket

    wrong = "not-" + r1.password
    driver = FRRDriver(r1.hostname, r1.username, wrong, 5, {"port": r1.port})
    with pytest.raises(ConnectionException, match="authentication failed") as refused:
        driver.open()
    assert wrong not in str(refused.value)
    assert r1.password not in str(refused.value)
    # a port where something accepts TCP and never says a word: bounded by the timeout
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        port = silent.getsockname()[1]
        driver = FRRDriver("127.0.0.1", r1.username, r1.password, 2, {"port": port})
        started = time.monotonic()
        with pytest.raises(ConnectionException, match="cannot connect"):
            driver.open()
        assert time.monotonic() - started < 8
    finally:
        silent.close()
    # nothing listening at all
    driver = FRRDriver("127.0.0.1", r1.username, r1.password, 2, {"port": port})
    with pytest.raises(ConnectionException, match="cannot connect"):
        driver.open()


def test_libssh_reads_no_ssh_config(
    r1: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ssh_config that would break every login (a key exchange no server offers) is not
    read: a Netmiko login reads none unless told to, and neither does libssh's."""
    import ssh.session
    from ssh import options

    (tmp_path / "config").write_text("Host *\n  KexAlgorithms diffie-hellman-group1-sha1\n")

    class ConfiguredSession(ssh.session.Session):  # type: ignore[misc]
        def connect(self) -> Any:
            self.options_set(options.SSH_DIR, str(tmp_path))  # where libssh would read it
            return super().connect()

    monkeypatch.setattr(ssh.session, "Session", ConfiguredSession)
    driver = _driver(r1, "vtysh")
    driver.open()
    try:
        assert "hostname r1" in driver.get_config(retrieve="running")["running"]
    finally:
        driver.close()


def test_libssh_sessions_leave_no_descriptor_behind(r1: Any) -> None:
    """libssh owns a session's socket (the socket object gives it up): every login, failed
    or not, ends with as many open descriptors as before."""

    def descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = descriptors()
    for _ in range(8):
        driver = _driver(r1, "vtysh")
        driver.open()
        driver.cli(["show version"])
        driver.close()
    bad = FRRDriver(r1.hostname, r1.username, "wrong", 5, {"port": r1.port})
    with pytest.raises(ConnectionException):
        bad.open()
    assert descriptors() == before


def test_libssh_read_timeout_and_a_session_the_device_ended(r1: Any) -> None:
    from napalm_frr.transport import TransportError

    driver = _driver(r1, "vtysh", timeout=20)
    driver.open()
    try:
        conn = driver._transport._conn
        started = time.monotonic()
        with pytest.raises(TransportError, match="no prompt"):
            conn.send_command("show version", expect_string="NEVER-SAID", read_timeout=1.5)
        assert 1.4 < time.monotonic() - started < 5
        conn.write_channel("exit\n")  # vtysh ends, and with it the session
        started = time.monotonic()
        with pytest.raises(ConnectionException, match=r"closed by the device|failed"):
            driver.cli(["show version"])
        assert time.monotonic() - started < 5  # told at once, not after the 20 s timeout
        assert not driver.is_alive()["is_alive"]
    finally:
        driver.close()


def test_close_ends_the_session(r1: Any, login: str) -> None:
    driver = _driver(r1, login)
    driver.open()
    assert driver.is_alive()["is_alive"]
    driver.close()
    assert not driver.is_alive()["is_alive"]


# --- candidate lifecycle ----------------------------------------------------------------------


def test_merge_compare_commit_rollback_restores_byte_for_byte(
    open_driver: FRRDriver, r1: Any
) -> None:
    before = _running(r1)
    open_driver.load_merge_candidate(
        config=f"{TEST_ROUTE}\ninterface eth1\n description merged by napalm\n"
    )
    diff = open_driver.compare_config()
    assert f"+ {TEST_ROUTE}" in diff
    assert "+  description merged by napalm" in diff
    assert _running(r1) == before  # loading changes nothing
    open_driver.commit_config(message="napalm_frr live test")
    after = _running(r1)
    assert TEST_ROUTE in after
    assert " description merged by napalm" in after
    assert " description to r2" not in after
    assert open_driver.compare_config() == ""  # nothing loaded any more
    open_driver.load_merge_candidate(config=f"{TEST_ROUTE}\n")
    assert open_driver.compare_config() == ""  # would change nothing
    open_driver.discard_config()
    open_driver.rollback()
    assert _running(r1) == before


def test_running_cache_saves_reads_and_never_outlives_a_sent_line(r1: Any, login: str) -> None:
    driver = _driver(r1, login, running_cache_s=30)
    driver.open()
    reads: list[str] = []
    show = driver._transport.show

    def counting_show(command: str, timeout: float | None = None) -> str:
        reads.append(command)
        return str(show(command, timeout))

    driver._transport.show = counting_show
    try:
        before = driver.get_config(retrieve="running")["running"]
        driver.load_merge_candidate(config=f"{TEST_ROUTE}\n")
        assert f"+ {TEST_ROUTE}" in driver.compare_config()
        driver.commit_config()
        # backup read, then compare and commit reused it; one read after the commit (not kept?)
        assert reads.count("show running-config") == 2
        assert TEST_ROUTE in _running(r1)
        # out of band: someone else removes the route; get_config always reads
        r1.vtysh("configure terminal", f"no {TEST_ROUTE}")
        assert TEST_ROUTE not in driver.get_config(retrieve="running")["running"]
        assert reads.count("show running-config") == 3
        # verify_commit=False: no read after the commit (the caller reconciles by itself)
        driver.verify_commit = False
        driver.load_merge_candidate(config=f"{TEST_ROUTE}\n")
        assert f"+ {TEST_ROUTE}" in driver.compare_config()
        driver.commit_config()
        assert reads.count("show running-config") == 3
        assert TEST_ROUTE in _running(r1)
        driver.rollback()
        assert cfg.normalize(_running(r1)) == cfg.normalize(before)
    finally:
        driver.close()


def test_replace_from_file_then_rollback(open_driver: FRRDriver, r1: Any, tmp_path: Path) -> None:
    before = _running(r1)
    running = open_driver.get_config(retrieve="running")["running"]
    candidate = running.replace(" description to r3\n", "").replace(
        "interface lo\n", f"{TEST_ROUTE}\n!\ninterface lo\n"
    )
    assert candidate != running
    path = tmp_path / "candidate.conf"
    path.write_text(candidate)
    open_driver.load_replace_candidate(filename=str(path))
    diff = open_driver.compare_config()
    assert "-  description to r3" in diff
    assert f"+ {TEST_ROUTE}" in diff
    open_driver.commit_config()
    after = _running(r1)
    assert TEST_ROUTE in after
    assert "description to r3" not in after
    open_driver.load_replace_candidate(config=candidate)
    assert open_driver.compare_config() == ""
    open_driver.discard_config()
    open_driver.rollback()
    assert _running(r1) == before


def test_hostname_change_commit_and_rollback(open_driver: FRRDriver, r1: Any) -> None:
    """vtysh renames its prompt with ``hostname``: the session must follow it both ways."""
    before = _running(r1)
    session_before = open_driver.get_config(retrieve="running")["running"]
    open_driver.load_merge_candidate(config="hostname r1-renamed\n")
    open_driver.commit_config()
    # FRR 8.4 in a pathspace instance: the session's vtysh takes the name (prompt and its own
    # "hostname" line), the daemons keep theirs; a one-shot `vtysh -f` (shell login) forgets
    # it at exit, which the driver reports as not kept. Either way the session stays usable.
    if open_driver.login == "vtysh":
        assert "hostname r1-renamed" in open_driver.get_config(retrieve="running")["running"]
    else:
        assert open_driver.not_kept == ["hostname r1-renamed"]
    assert open_driver.get_facts()["os_version"].startswith("8.")
    open_driver.rollback()  # verifies the session's view byte for byte, raises otherwise
    assert open_driver.get_config(retrieve="running")["running"] == session_before
    assert _running(r1) == before


def test_replace_with_a_full_routing_config_and_back(open_driver: FRRDriver, r1: Any) -> None:
    """OSPF + eBGP from the converged triangle's r1 config, then the base config again."""
    before = _running(r1)
    base = open_driver.get_config(retrieve="running")["running"]
    converged = (REPO / "labs" / "triangle-converged" / "r1.conf").read_text()
    open_driver.load_replace_candidate(config=converged)
    assert "+ router bgp 65001" in open_driver.compare_config()
    open_driver.commit_config()
    assert open_driver.not_kept == []
    running = _running(r1)
    assert "neighbor 10.1.13.1 remote-as 65003" in running
    assert " ip ospf network point-to-point" in running
    open_driver.load_replace_candidate(config=converged)
    assert open_driver.compare_config() == ""  # FRR kept exactly the candidate
    open_driver.load_replace_candidate(config=base)
    assert "- router bgp 65001" in open_driver.compare_config()
    open_driver.commit_config()
    assert _running(r1) == before


def test_changed_remote_as_keeps_the_neighbor_lines_it_cascades_away(
    open_driver: FRRDriver, r1: Any
) -> None:
    """`no neighbor X remote-as N` drops every neighbor X line: the commit puts them back."""
    before = _running(r1)
    base = open_driver.get_config(retrieve="running")["running"]
    converged = (REPO / "labs" / "triangle-converged" / "r1.conf").read_text()
    changed = converged.replace("remote-as 65003", "remote-as 65033")
    open_driver.load_replace_candidate(config=converged)
    open_driver.commit_config()
    open_driver.load_replace_candidate(config=changed)
    diff = open_driver.compare_config()
    assert "-  neighbor 10.1.13.1 remote-as 65003\n+  neighbor 10.1.13.1 remote-as 65033" in diff
    open_driver.commit_config()
    running = _running(r1)
    assert " neighbor 10.1.13.1 description r3" in running
    assert " neighbor 10.1.13.1 timers 1 3" in running
    open_driver.load_replace_candidate(config=changed)
    assert open_driver.compare_config() == ""
    open_driver.load_replace_candidate(config=base)
    open_driver.commit_config()
    assert _running(r1) == before


def test_removing_a_neighbor_with_address_family_settings(open_driver: FRRDriver, r1: Any) -> None:
    before = _running(r1)
    base = open_driver.get_config(retrieve="running")["running"]
    converged = (REPO / "labs" / "triangle-converged" / "r1.conf").read_text()
    with_policy = (
        converged.replace(
            "  network 10.0.0.1/32\n",
            "  network 10.0.0.1/32\n  neighbor 10.1.13.1 route-map RM-IN in\n"
            "  neighbor 10.1.13.1 soft-reconfiguration inbound\n",
        )
        + "route-map RM-IN permit 10\n set local-preference 200\nexit\n"
    )
    open_driver.load_replace_candidate(config=with_policy)
    open_driver.commit_config()  # FRR warns the route-map does not exist yet: applied anyway
    assert "  neighbor 10.1.13.1 route-map RM-IN in" in _running(r1)
    without = "".join(ln for ln in with_policy.splitlines(True) if "10.1.13.1" not in ln)
    open_driver.load_replace_candidate(config=without)
    open_driver.commit_config()
    assert "10.1.13.1" not in _running(r1)
    open_driver.load_replace_candidate(config=without)
    assert open_driver.compare_config() == ""
    open_driver.load_replace_candidate(config=base)
    open_driver.commit_config()
    assert _running(r1) == before


def test_raw_show_running_config_is_a_valid_replace_candidate(
    open_driver: FRRDriver, r1: Any
) -> None:
    open_driver.load_replace_candidate(config=_running(r1))  # with its "Building ..." header
    assert open_driver.compare_config() == ""
    open_driver.discard_config()


def test_discard_leaves_no_trace(open_driver: FRRDriver, r1: Any) -> None:
    before = _running(r1)
    open_driver.load_merge_candidate(config=f"{TEST_ROUTE}\n")
    assert open_driver.compare_config() != ""
    open_driver.discard_config()
    assert open_driver.compare_config() == ""
    assert open_driver.get_config(retrieve="candidate")["candidate"] == ""
    assert not open_driver.has_pending_commit()
    with pytest.raises(CommitError):
        open_driver.commit_config()
    assert _running(r1) == before
    shell = open_driver._shell()
    if shell is not None:  # no candidate file left on the device either
        _, listing = shell.run(f"ls -A {shell.state_dir}")
        assert not [n for n in listing.split() if n.startswith(("check-", "apply-"))]


@pytest.mark.parametrize("mode", ["merge", "replace"])
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("router bgp 65001\n bogus line\n", "% Unknown command"),
        ("router bgp 65001\n neighbor 10.1.12.1\n", "% Command incomplete"),
        # syntactically fine (vtysh -C passes it), refused by bgpd after the first was applied
        ("router bgp 65001\n bgp router-id 10.0.0.1\nexit\nrouter bgp 65099\n", "BGP"),
        # accepted with a warning and not applied (lab-notes): a refusal too
        ("router ospf\n passive-interface lo\n", "deprecated"),
    ],
    ids=["unknown", "incomplete", "daemon-refuses", "deprecated"],
)
def test_invalid_candidate_changes_nothing(
    open_driver: FRRDriver, r1: Any, mode: str, bad: str, message: str
) -> None:
    before = _running(r1)
    if mode == "merge":
        load, error = open_driver.load_merge_candidate, MergeConfigException
        candidate = f"{TEST_ROUTE}\n{bad}"
    else:
        load, error = open_driver.load_replace_candidate, ReplaceConfigException
        running = open_driver.get_config(retrieve="running")["running"]
        candidate = running.replace("\nend", "") + f"\n{TEST_ROUTE}\n{bad}"
    with pytest.raises(error) as caught:  # noqa: PT012 - either step may be the one to refuse
        load(config=candidate)  # a shell login dry-runs the candidate (vtysh -C) here
        open_driver.commit_config()  # a vtysh login finds out while applying
    assert message in str(caught.value)
    assert _running(r1) == before
    assert not open_driver.has_pending_commit()


def test_line_accepted_silently_but_not_kept_is_reported_or_refused(r1: Any, login: str) -> None:
    """vtysh takes ``key chain`` without a word when no daemon that owns it runs, keeps nothing."""
    if "ripd" in _running(r1) or "eigrpd" in _running(r1):
        pytest.skip("a key-chain daemon runs here")
    before = _running(r1)
    candidate = f"{TEST_ROUTE}\nkey chain napalm-frr\n key 1\n  key-string s3cretKey\n"
    driver = _driver(r1, login)
    driver.open()
    try:
        driver.load_merge_candidate(config=candidate)
        driver.commit_config()
        assert driver.not_kept == ["key chain napalm-frr"]
        assert TEST_ROUTE in _running(r1)
        driver.rollback()
    finally:
        driver.close()
    assert _running(r1) == before
    strict = _driver(r1, login, strict=True)
    strict.open()
    try:
        strict.load_merge_candidate(config=candidate)
        with pytest.raises(MergeConfigException, match="not kept") as caught:
            strict.commit_config()
        assert "s3cretKey" not in str(caught.value)
    finally:
        strict.close()
    assert _running(r1) == before


# --- commit confirm ------------------------------------------------------------------------------


def test_commit_confirm_expiry_rolls_back(open_driver: FRRDriver, r1: Any) -> None:
    before = _running(r1)
    open_driver.load_merge_candidate(config=f"{TEST_ROUTE}\n")
    open_driver.commit_config(revert_in=3)
    assert TEST_ROUTE in _running(r1)
    assert open_driver.has_pending_commit()
    open_driver.load_merge_candidate(config="ip route 198.51.100.0/24 Null0\n")
    with pytest.raises(CommitError):  # no second commit while one awaits confirmation
        open_driver.commit_config()
    open_driver.discard_config()
    assert _wait_for(lambda: _running(r1) == before, timeout=20)
    assert _wait_for(lambda: not open_driver.has_pending_commit(), timeout=5)


def test_confirmed_commit_stays(open_driver: FRRDriver, r1: Any) -> None:
    before = _running(r1)
    open_driver.load_merge_candidate(config=f"{TEST_ROUTE}\n")
    open_driver.commit_config(revert_in=2)
    open_driver.confirm_commit()
    assert not open_driver.has_pending_commit()
    time.sleep(4)
    assert TEST_ROUTE in _running(r1)
    with pytest.raises(CommitError):
        open_driver.confirm_commit()  # nothing left to confirm
    open_driver.rollback()
    assert _running(r1) == before


def test_rollback_of_a_pending_commit(open_driver: FRRDriver, r1: Any) -> None:
    before = _running(r1)
    open_driver.load_merge_candidate(config=f"{TEST_ROUTE}\n")
    open_driver.commit_config(revert_in=30)
    open_driver.rollback()
    assert not open_driver.has_pending_commit()
    assert _running(r1) == before


def test_shell_login_revert_survives_the_driver_process(r1: Any) -> None:
    """The device-side revert job does its work after the process that armed it is gone."""
    before = _running(r1)
    script = textwrap.dedent(
        f"""
        import os, sys
        from napalm_frr import FRRDriver
        d = FRRDriver({r1.hostname!r}, {r1.username!r}, os.environ["PW_V"], 20, {{
            "port": {r1.port}, "login": "shell", "frr_instance": {r1.frr_instance!r},
            "shell_username": {r1.shell_username!r}, "shell_password": os.environ["PW_S"]}})
        d.open()
        d.load_merge_candidate(config={TEST_ROUTE + chr(10)!r})
        d.commit_config(revert_in=4)
        sys.stdout.flush()
        os._exit(0)  # no close(), no cleanup: the process just dies
        """
    )
    env = {**os.environ, "PW_V": r1.password, "PW_S": r1.shell_password}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert TEST_ROUTE in _running(r1)
    assert _wait_for(lambda: _running(r1) == before, timeout=30)


def test_shell_login_state_outlives_the_session(r1: Any) -> None:
    """A new session sees the pending commit on the device, confirms it and rolls it back."""
    before = _running(r1)
    first = _driver(r1, "shell")
    first.open()
    first.load_merge_candidate(config=f"{TEST_ROUTE}\n")
    first.commit_config(message="armed by one session", revert_in=60)
    first.close()  # the device-side revert job does not depend on this session
    assert TEST_ROUTE in _running(r1)
    second = _driver(r1, "shell")
    second.open()
    try:
        assert second.has_pending_commit()
        second.confirm_commit()
        assert not second.has_pending_commit()
        assert TEST_ROUTE in _running(r1)
        second.rollback()  # from the snapshot the first session left on the device
    finally:
        second.close()
    assert _running(r1) == before


def test_vtysh_login_close_with_pending_commit_rolls_back(r1: Any) -> None:
    """Without a shell the revert timer lives in the driver: closing it reverts at once."""
    before = _running(r1)
    driver = _driver(r1, "vtysh")
    driver.open()
    driver.load_merge_candidate(config=f"{TEST_ROUTE}\n")
    driver.commit_config(revert_in=60)
    assert TEST_ROUTE in _running(r1)
    driver.close()
    assert _running(r1) == before


# --- several routers, failures --------------------------------------------------------------------


def test_two_drivers_on_two_routers_at_once(frr_lab: Any, login: str) -> None:
    nodes = [frr_lab.hosts["r1"], frr_lab.hosts["r2"]]
    before = {n.name: _running(n) for n in nodes}
    errors: list[BaseException] = []
    drivers = {n.name: _driver(n, login) for n in nodes}

    def work(name: str) -> None:
        try:
            driver = drivers[name]
            driver.open()
            driver.load_merge_candidate(config="ip route 198.51.100.2/32 Null0\n")
            driver.commit_config()
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n.name,)) for n in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not errors, errors
        for node in nodes:
            assert "ip route 198.51.100.2/32 Null0" in _running(node)
    finally:
        for node in nodes:
            drivers[node.name].rollback()
            drivers[node.name].close()
    assert {n.name: _running(n) for n in nodes} == before


def test_router_with_sshd_down_gives_connection_exception_in_time(frr_lab: Any, login: str) -> None:
    node = frr_lab.hosts["r3"]
    frr_lab.impair("r3", sshd="stop")
    try:
        driver = _driver(node, login, timeout=5)
        started = time.monotonic()
        with pytest.raises(ConnectionException) as caught:
            driver.open()
        assert time.monotonic() - started < 5 + 3
        for secret in (node.password, node.shell_password):
            assert secret not in str(caught.value)
    finally:
        frr_lab.impair("r3", sshd="start")
    driver = _driver(node, login)
    driver.open()
    assert driver.is_alive()["is_alive"]
    driver.close()


# --- nornir -------------------------------------------------------------------------------------


def test_nornir_napalm_get_and_configure_with_platform_frr(frr_lab: Any) -> None:
    from nornir import InitNornir
    from nornir.plugins.runners import SerialRunner
    from nornir_napalm.plugins.tasks import napalm_configure, napalm_get

    inventory = Path(frr_lab.inventory_dir)
    nr = InitNornir(
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(inventory / "hosts.yaml"),
                "group_file": str(inventory / "groups.yaml"),
                "defaults_file": str(inventory / "defaults.yaml"),
            },
        },
        runner={"plugin": "threaded", "options": {"num_workers": 3}},
        logging={"enabled": False},
    )
    try:
        assert {h.platform for h in nr.inventory.hosts.values()} == {"frr"}
        got = nr.run(task=napalm_get, getters=["facts", "interfaces_ip"])
        assert not got.failed, {h: r.exception for h, r in got.items() if r.failed}
        for host, result in got.items():
            assert result.result["facts"]["hostname"] == host
            assert result.result["facts"]["vendor"] == "FRRouting"

        before = {name: _running(node) for name, node in frr_lab.hosts.items()}
        dry = nr.run(task=napalm_configure, configuration=f"{TEST_ROUTE}\n", dry_run=True)
        assert not dry.failed
        assert all(f"+ {TEST_ROUTE}" in r.diff for r in dry.values())
        assert {name: _running(node) for name, node in frr_lab.hosts.items()} == before

        applied = nr.run(task=napalm_configure, configuration=f"{TEST_ROUTE}\n")
        assert not applied.failed
        assert all(r.changed for r in applied.values())
        for node in frr_lab.hosts.values():
            assert TEST_ROUTE in _running(node)

        removed = nr.run(task=napalm_configure, configuration=f"no {TEST_ROUTE}\n")
        assert not removed.failed
        assert {name: _running(node) for name, node in frr_lab.hosts.items()} == before

        # serially: nornir formats a failed task's traceback where it ran, and CPython 3.11.7
        # formatting one in a worker thread (ast.parse for caret anchors) corrupts the AST
        # recursion counter, so a later import under pytest's rewriter dies with
        # "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905)
        bad = nr.with_runner(SerialRunner()).run(
            task=napalm_configure, configuration="router bgp 65001\n bogus line\n"
        )
        assert set(bad.failed_hosts) == set(frr_lab.hosts)
        assert {name: _running(node) for name, node in frr_lab.hosts.items()} == before
    finally:
        nr.close_connections()


# --- routing getters on a converged lab (read-only: safe on a shared lab) --------------------


def test_bgp_and_route_getters_on_the_converged_triangle(request: pytest.FixtureRequest) -> None:
    try:
        converged = request.getfixturevalue("converged_lab")
    except pytest.FixtureLookupError:
        pytest.skip("no converged_lab fixture")
    node = converged.hosts["r1"]
    driver = _driver(node, "vtysh")
    driver.open()
    try:
        bgp = driver.get_bgp_neighbors()
        peers = bgp["global"]["peers"]
        assert bgp["global"]["router_id"] == "10.0.0.1"
        assert set(peers) == {"10.1.12.1", "10.1.13.1"}
        for address, remote_as, remote_id in (
            ("10.1.12.1", 65002, "10.0.0.2"),
            ("10.1.13.1", 65003, "10.0.0.3"),
        ):
            peer = peers[address]
            assert peer["is_up"]
            assert peer["is_enabled"]
            assert peer["local_as"] == 65001
            assert peer["remote_as"] == remote_as
            assert peer["remote_id"] == remote_id
            assert peer["uptime"] >= 0
            assert peer["address_family"]["ipv4"]["accepted_prefixes"] >= 1
        routes = driver.get_route_to(destination="10.0.0.2/32")
        assert routes["10.0.0.2/32"], routes
        protocols = {r["protocol"] for r in routes["10.0.0.2/32"]}
        assert protocols & {"BGP", "OSPF"}
        bgp_routes = driver.get_route_to(destination="10.0.0.2/32", protocol="bgp")
        assert bgp_routes["10.0.0.2/32"]
        for route in bgp_routes["10.0.0.2/32"]:
            assert route["protocol_attributes"]["remote_as"] == 65002
            assert route["protocol_attributes"]["local_as"] == 65001
    finally:
        driver.close()
