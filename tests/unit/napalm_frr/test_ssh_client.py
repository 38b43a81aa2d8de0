"""Which SSH client a vtysh login takes, and the login's preparation on either of them.

The clients themselves are tested against live FRR in ``tests/lab/test_napalm_frr_live.py``
(the same answers from both, byte for byte; failures, timeouts, descriptors)."""

from __future__ import annotations

from typing import Any

import pytest

from napalm_frr import transport as tr
from napalm_frr.frr import FRRDriver
from napalm_frr.transport import SSHParams, TransportError, VtyshTransport, prepare_vtysh_login

BANNER = "\r\nHello, this is FRRouting (version 8.4.4).\r\n\r\n"


class Login:
    """A fresh vtysh login whose chunks arrive as scripted, one per read."""

    timeout = 2.0

    def __init__(self, chunks: list[str]) -> None:
        self.chunks = chunks
        self.base_prompt = ""
        self.written: list[str] = []

    def normalize_cmd(self, command: str) -> str:
        return command + "\n"

    def write_channel(self, data: str) -> None:
        self.written.append(data)

    def read_channel(self) -> str:
        return self.chunks.pop(0).replace("\r\n", "\n") if self.chunks else ""

    def strip_ansi_escape_codes(self, text: str) -> str:
        return text


def test_a_login_waits_for_vtysh_s_echo_not_the_terminal_s() -> None:
    """Typed ahead of vtysh, ``terminal length 0`` is echoed twice: by the terminal before the
    banner, then by vtysh after its prompt. The first is no answer: taken for one, vtysh's own
    echo and prompt became the first show's output (seen on libssh, which is quick enough)."""
    login = Login(
        [
            "terminal length 0\r\n",
            BANNER + "r1# ",  # the terminal's echo + a prompt: not the answer yet
            "terminal length 0\r\nr1# ",
        ]
    )
    prepare_vtysh_login(login)
    assert login.chunks == []  # all of it read: nothing is left for the next command
    assert login.base_prompt == "r1"


def test_a_login_typed_after_the_prompt_is_answered_at_once() -> None:
    login = Login([BANNER + "r1# ", "terminal length 0\r\nr1# ", "never read"])
    prepare_vtysh_login(login)
    assert login.chunks == ["never read"]


def test_a_login_without_a_prompt_times_out() -> None:
    login = Login(["terminal length 0\r\n", BANNER])
    login.timeout = 0.3
    with pytest.raises(TimeoutError):
        prepare_vtysh_login(login)


def params(client: str = "auto", **netmiko: Any) -> SSHParams:
    return SSHParams("127.0.0.1", 22, "u", "p", 5.0, netmiko, client)


@pytest.mark.parametrize(
    ("client", "netmiko", "libssh"),
    [
        ("auto", {}, True),
        ("auto", {"use_keys": True}, False),  # a Netmiko option: Netmiko
        ("netmiko", {}, False),
        ("libssh", {}, True),
    ],
)
def test_which_client_a_vtysh_login_takes(client: str, netmiko: dict[str, Any], libssh: bool):
    assert tr.uses_libssh(params(client, **netmiko)) is libssh


def test_auto_falls_back_to_netmiko_without_ssh_python(monkeypatch: pytest.MonkeyPatch) -> None:
    import napalm_frr.libssh as lib

    monkeypatch.setattr(lib, "available", lambda: False)
    assert tr.uses_libssh(params("auto")) is False


class Refusing:
    """A libssh login to a device that takes no password (keyboard-interactive only)."""

    def __init__(self, *args: Any) -> None:
        from napalm_frr.libssh import NoPasswordLogin

        raise NoPasswordLogin


def test_a_device_without_password_logins_goes_through_netmiko_on_auto(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import napalm_frr.libssh as lib

    netmiko_logins: list[dict[str, Any]] = []
    monkeypatch.setattr(lib, "LibsshLogin", Refusing)
    monkeypatch.setattr(tr, "_vtysh_login_class", lambda: lambda **kw: netmiko_logins.append(kw))
    VtyshTransport(params("auto"))._handler(host="127.0.0.1")
    assert netmiko_logins == [{"host": "127.0.0.1"}]
    with pytest.raises(TransportError, match="no password login: use ssh_client netmiko"):
        VtyshTransport(params("libssh"))._handler(host="127.0.0.1")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"ssh_client": "putty"}, "ssh_client must be one of"),
        ({"ssh_client": "libssh", "use_keys": True}, "given: use_keys"),
        ({"ssh_client": "libssh", "login": "shell"}, "login shell"),
    ],
)
def test_a_client_that_cannot_do_the_login_is_refused_up_front(
    args: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        FRRDriver("127.0.0.1", "u", "p", 5, args)


def test_the_driver_hands_its_client_to_the_session() -> None:
    assert FRRDriver("h", "u", "p", 5, {})._params().client == "auto"
    assert FRRDriver("h", "u", "p", 5, {"ssh_client": "netmiko"})._params().client == "netmiko"


class Packets:
    """A libssh channel whose unread data arrives as scripted: one list of packets per read."""

    def __init__(self, reads: list[list[bytes]]) -> None:
        self.reads = reads
        self.now: list[bytes] = []

    def read_nonblocking(self) -> tuple[int, bytes]:
        if not self.now:
            if not self.reads:
                return 0, b""
            self.now = self.reads.pop(0)
            if not self.now:
                return 0, b""
        packet = self.now.pop(0)
        if not self.now:
            self.reads.insert(0, [])  # this read ends here: the next call says "nothing now"
        return len(packet), packet


def reading(reads: list[list[bytes]]) -> list[str]:
    """What successive ``read_channel`` calls of a libssh login return for ``reads``."""
    import codecs

    from napalm_frr.libssh import LibsshLogin

    login = LibsshLogin.__new__(LibsshLogin)  # no connection: only the reading is tested
    login._channel = Packets(reads)
    login._held = ""
    login._decoder = codecs.getincrementaldecoder("utf-8")("replace")
    out = []
    while login._channel.reads or login._channel.now:
        out.append(login.read_channel())
    return out


def test_a_character_split_between_packets_reads_whole() -> None:
    """A configuration with "Zürich" in it must come back as written (a backup restored from
    a garbled read would change the device): "ü" is two bytes, here in two packets."""
    text = " description Zürich\r\n".encode()
    cut = text.index(b"\xbc")  # between the two bytes of "ü"
    got = "".join(reading([[text[:cut]], [text[cut:]]]))
    assert got == " description Zürich\n"


def test_line_feeds_are_netmiko_s_even_split_between_reads() -> None:
    got = reading([[b"a\r"], [b"\nb\r\r\n"], [b"c\rd"]])
    assert "".join(got) == "a\nb\nc\nd"
    assert got[0] == "a"  # the "\r" waited for its "\n": one line feed, not two
