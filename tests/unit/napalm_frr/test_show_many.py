"""Several shows in one round trip on a vtysh login, and a complete read built on it."""

from __future__ import annotations

from typing import Any

import pytest

from napalm_frr.extras import COMPLETE_READ
from napalm_frr.frr import FRRDriver
from napalm_frr.transport import SSHParams, TransportError, VtyshTransport

RUNNING = "Building configuration...\n\nCurrent configuration:\n!\nhostname r1\n!\nend"
DAEMONS = " zebra ospfd watchfrr staticd"
WATCH = "watchfrr global phase: Idle\n  zebra                Up\n  ospfd                Up"


class Channel:
    """A Netmiko connection that answers typed-ahead shows the way vtysh does: the first
    command's echo, its output, then each further command after a prompt, a prompt at the end;
    delivered in small chunks, as a socket would."""

    base_prompt = "r1"

    def __init__(self, answers: dict[str, str], chunk: int = 7) -> None:
        self.answers = answers
        self.chunk = chunk
        self.written: list[str] = []
        self.pending = ""

    def normalize_cmd(self, command: str) -> str:
        return command + "\n"

    def write_channel(self, data: str) -> None:
        self.written.append(data)
        commands = data.splitlines()
        out = ""
        for i, cmd in enumerate(commands):
            out += (cmd if i == 0 else f"r1# {cmd}") + "\r\n" + self.answers[cmd] + "\r\n"
        self.pending += out.replace("\n", "\r\n").replace("\r\r", "\r") + "r1# "

    def read_channel(self) -> str:
        piece, self.pending = self.pending[: self.chunk], self.pending[self.chunk :]
        return piece


def transport(conn: Any, timeout: float = 5.0) -> VtyshTransport:
    t = VtyshTransport(SSHParams("127.0.0.1", 22, "u", "p", timeout, {}))
    t._conn = conn
    return t


def test_three_shows_go_out_in_one_write_and_come_back_apart() -> None:
    conn = Channel(dict(zip(COMPLETE_READ, (RUNNING, DAEMONS, WATCH), strict=True)))
    running, daemons, watch = transport(conn).show_many(COMPLETE_READ)
    assert len(conn.written) == 1
    assert conn.written[0] == "".join(c + "\n" for c in COMPLETE_READ)
    assert running.splitlines() == [ln for ln in RUNNING.splitlines() if ln.strip()]
    assert daemons == DAEMONS
    assert watch == WATCH


def test_no_prompt_in_time_is_a_transport_error() -> None:
    class Silent(Channel):
        def read_channel(self) -> str:
            return ""

    conn = Silent(dict.fromkeys(COMPLETE_READ, ""))
    with pytest.raises(TransportError, match="TimeoutError"):
        transport(conn, timeout=0.2).show_many(COMPLETE_READ)


def test_complete_read_is_one_round_trip_and_still_refuses_a_daemon_down() -> None:
    driver = FRRDriver("r1", "u", "p")
    asked: list[list[str]] = []

    class Fake:
        timeout = 5.0

        def __init__(self, daemons: str, watch: str) -> None:
            self.outputs = [RUNNING, daemons, watch]

        def show_many(
            self, commands: list[str], timeout: float | None = None, *, blank_rows: bool = False
        ) -> list[str]:
            asked.append(list(commands))
            return list(self.outputs)

        def show(self, command: str, timeout: float | None = None) -> str:
            raise AssertionError(f"a complete read asked {command!r} on its own")

    driver._transport = Fake(DAEMONS, WATCH)
    assert "hostname r1" in driver.extras.read_complete()
    assert asked == [COMPLETE_READ]
    assert driver.extras.expected_daemons == {"zebra", "ospfd", "watchfrr", "staticd"}
    # ospfd gone from vtysh's reach, and watchfrr says it is down: refused, as before
    driver._transport = Fake(
        " zebra watchfrr staticd",
        WATCH.replace("ospfd                Up", "ospfd                Down"),
    )
    with pytest.raises(Exception, match="ospfd not running"):
        driver.extras.read_complete()


NEIGHBORS = "\nNeighbor ID     Pri State\n10.0.0.2          1 Full/-\n"
VERSION = "FRRouting 8.4.4 (r1) on Linux.\n\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\n"


def test_cli_types_a_components_shows_ahead_and_keeps_their_blank_rows() -> None:
    """A command component's shows (``driver.cli``) go out in one write, and each output is
    what a show on its own returns: blank rows (leading, trailing, inside) kept."""
    answers = {"show ip ospf neighbor": NEIGHBORS, "show version": VERSION}
    driver = FRRDriver("r1", "u", "p")
    conn = Channel(answers)
    driver._transport = transport(conn)
    out = driver.cli(list(answers))
    assert len(conn.written) == 1
    assert out == answers


def test_cli_sends_anything_but_shows_one_at_a_time() -> None:
    """A command that is not a show may ask a question (the next typed-ahead command would
    answer it): such a list goes out a command per round trip."""
    sent: list[str] = []
    driver = FRRDriver("r1", "u", "p")

    class OneByOne:
        timeout = 5.0

        def show(self, command: str, timeout: float | None = None) -> str:
            sent.append(command)
            return "ok"

        def show_many(self, *args: Any, **kwargs: Any) -> list[str]:
            raise AssertionError("typed ahead")

    driver._transport = OneByOne()
    assert driver.cli(["show version", "clear ip ospf process"]) == {
        "show version": "ok",
        "clear ip ospf process": "ok",
    }
    assert sent == ["show version", "clear ip ospf process"]
