"""A vtysh login over libssh (``ssh-python``), for :class:`~napalm_frr.transport.VtyshTransport`.

Netmiko runs every session on paramiko: key exchange, ciphers and packets in Python, and one
transport thread per connection that wakes for every packet. At fleet size those threads and
the GIL they take cost the build more CPU than the sessions' own work (100 routers: 0.8 s of
transport threads, measured). libssh does the same in C, releases the GIL while it waits, and
needs no thread of its own.

:class:`LibsshLogin` offers what :class:`VtyshTransport` asks of a Netmiko connection --
``write_channel``, ``read_channel``, ``normalize_cmd``, ``send_command``, ``set_base_prompt``,
``base_prompt``, ``is_alive``, ``disconnect`` -- with Netmiko's semantics for each: line feeds
normalized as Netmiko's ``read_channel`` does, ``send_command``'s output with the command's echo
and the trailing prompt stripped as Netmiko strips them. The terminal is 511 x 1000, as Netmiko
asks for: readline wraps its echo of a long line at the terminal's width, and a wrapped echo is
no longer the line typed.

It speaks password authentication and nothing else. A device that does not offer it (only
keyboard-interactive, as PAM often has it) raises :class:`NoPasswordLogin` and the session goes
through Netmiko, whose paramiko answers keyboard-interactive with the password; any Netmiko
option (keys, ssh_config, a proxy, host key checking) selects Netmiko from the start (see
``SSHParams.client``). Like Netmiko's
default (``ssh_strict=False``) it does not check the device's host key. It reads no
``ssh_config``.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import socket
import time
from typing import Any

from napalm_frr.transport import TransportError, prepare_vtysh_login, read_until

#: What libssh is told for the terminal: Netmiko's size (see the module's docstring)
TERMINAL = ("vt100", 511, 1000)
#: how long a logout waits for the device to end the session (after ``exit``)
LOGOUT_S = 1.0
CLOSED = "the session was closed by the device"
#: Netmiko's ``normalize_linefeeds``: these become one ``\n`` (then a lone ``\r`` does too)
_LINEFEEDS = re.compile("(\r\r\r\n|\r\r\n|\r\n|\n\r)")
#: ANSI escape sequences (CSI ... final byte, and ESC E)
_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|E)")
#: libssh's ``SSH_AUTH_METHOD_*`` bits of ``ssh_userauth_list``
_METHOD_BITS = {
    1: "none",
    2: "password",
    4: "publickey",
    8: "hostbased",
    16: "keyboard-interactive",
}
_AUTH_FAILED = ("AuthenticationDenied", "AuthenticationError", "AuthenticationPartial")


class NoPasswordLogin(Exception):
    """The device takes no password authentication (only keyboard-interactive, say): the
    session goes through Netmiko instead."""


def available() -> bool:
    """Whether ``ssh-python`` imports here."""
    try:
        import ssh.session  # noqa: F401
    except ImportError:
        return False
    return True


class LibsshLogin:
    """A logged-in vtysh session on libssh, prepared as ``VtyshLogin`` prepares Netmiko's."""

    RETURN = "\n"
    RESPONSE_RETURN = "\n"

    def __init__(self, host: str, port: int, username: str, password: str, timeout: float):
        from ssh import options
        from ssh.session import Session

        self.host, self.port, self.timeout = host, port, timeout
        self.base_prompt = ""
        self._held = ""  # a chunk's trailing "\r": it may be half of "\r\n"
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._sock: socket.socket | None = None
        self._session: Any = None
        self._channel: Any = None
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
            session = Session()
            session.options_set(options.HOST, host)
            session.options_set_port(port)
            session.options_set(options.USER, username)
            session.options_set_int_val(options.PROCESS_CONFIG, 0)  # no ~/.ssh/config
            # every blocking libssh call (handshake, authentication, channel requests) is
            # bounded by this many seconds
            session.options_set_int_val(options.TIMEOUT, max(1, int(timeout + 0.999)))
            session.set_socket(self._sock)
            # libssh owns the descriptor now and closes it when the session is freed; the
            # socket object must not close it again (by then the number may be another
            # thread's new connection)
            self._sock.detach()
            self._sock = None
            self._session = session
            session.connect()
            self._authenticate(username, password)
            channel = session.channel_new()
            channel.open_session()
            channel.request_pty_size(*TERMINAL)
            channel.request_shell()
            self._channel = channel
        except NoPasswordLogin:
            self.disconnect()
            raise
        except Exception as exc:
            self.disconnect()
            if type(exc).__name__ in _AUTH_FAILED:
                raise TransportError(f"authentication failed for {username}@{host}:{port}") from exc
            raise TransportError(f"cannot connect to {host}:{port}: {type(exc).__name__}") from exc
        try:
            prepare_vtysh_login(self)
        except Exception:
            self.disconnect()
            raise

    def _authenticate(self, username: str, password: str) -> None:
        from ssh.exceptions import AuthenticationDenied

        try:
            self._session.userauth_password(username, password)
        except AuthenticationDenied:
            if "password" not in _methods(self._session):
                # e.g. keyboard-interactive only (PAM): Netmiko's paramiko answers that
                raise NoPasswordLogin from None
            raise

    # ------------------------------------------------------------------ Netmiko's surface
    def strip_ansi_escape_codes(self, text: str) -> str:
        return _ANSI.sub("", text)

    def normalize_cmd(self, command: str) -> str:
        return command.rstrip() + self.RETURN

    def write_channel(self, text: str) -> None:
        channel = self._live()
        data = text.encode()
        deadline = time.monotonic() + self.timeout
        while data:
            try:
                _rc, written = channel.write(data)
            except Exception as exc:
                raise _failed(exc) from exc
            data = data[written:]
            if data and time.monotonic() > deadline:
                raise TransportError(f"the device took no input for {self.timeout:g}s")

    def read_channel(self) -> str:
        """What the session holds unread now (no waiting), line feeds as Netmiko gives them."""
        channel = self._live()
        chunks = [self._held]
        try:
            while True:
                size, data = channel.read_nonblocking()
                if size <= 0:
                    break
                # a character split between two packets is decoded whole, when its end comes
                chunks.append(self._decoder.decode(data))
        except Exception as exc:
            raise _failed(exc) from exc
        text = "".join(chunks)
        # a "\r" at the end may be the first half of "\r\n": it waits for the next read
        self._held = "\r" if text.endswith("\r") and len(chunks) > 1 else ""
        if self._held:
            text = text[:-1]
        return _LINEFEEDS.sub("\n", text).replace("\r", "\n")

    def wait(self, seconds: float) -> None:
        """Return when the session has unread data, or after ``seconds`` (the GIL free)."""
        channel = self._live()
        try:
            ready = channel.poll_timeout(max(0, int(seconds * 1000)))
        except Exception as exc:
            raise _failed(exc) from exc
        if ready < 0 or (ready == 0 and channel.is_eof()):
            raise TransportError(CLOSED)

    def send_command(
        self,
        command_string: str,
        expect_string: str | None = None,
        read_timeout: float = 10.0,
        strip_command: bool = True,
        strip_prompt: bool = True,
        auto_find_prompt: bool = False,
    ) -> str:
        """Netmiko's ``send_command``: type ``command_string``, read until ``expect_string``
        (by default the prompt), strip the echo and the prompt row."""
        command = self.normalize_cmd(command_string)
        pattern = re.compile(expect_string or rf"(?:^|\n){re.escape(self.base_prompt)}[#>] ?$")
        self.write_channel(command)
        what = command_string.split(maxsplit=1)[0] if command_string.strip() else "command"
        try:
            output = read_until(
                self, lambda text: pattern.search(text) is not None, read_timeout, repr(what)
            )
        except TimeoutError as exc:
            raise TransportError(str(exc)) from exc
        if strip_command and output.startswith(command.strip()):
            output = self.RESPONSE_RETURN.join(output.split(self.RESPONSE_RETURN)[1:])
        if strip_prompt:
            rows = output.split(self.RESPONSE_RETURN)
            if self.base_prompt in rows[-1]:
                output = self.RESPONSE_RETURN.join(rows[:-1])
        return output

    def set_base_prompt(self) -> str:
        """Learn the prompt again (after a ``hostname`` line), as Netmiko's ``cisco_ios``
        keeps it: the last row without its ``#``/``>``, at most 16 characters."""
        self.read_channel()
        self.write_channel(self.RETURN)
        out = read_until(
            self, lambda text: re.search(r"[#>] ?$", text) is not None, self.timeout, "prompt"
        )
        prompt = out.rstrip().split("\n")[-1].strip()
        self.base_prompt = (prompt[:-1] if len(prompt) > 1 else prompt)[:16]
        return self.base_prompt

    def is_alive(self) -> bool:
        channel = self._channel
        if channel is None or channel.is_closed() or channel.is_eof():
            return False
        try:
            channel.write(b"\x00")  # as Netmiko checks: a write the device must take
        except Exception:
            return False
        return True

    def disconnect(self) -> None:
        """Log out (``exit``) and close; a dead session closes without error."""
        channel, self._channel = self._channel, None
        session, self._session = self._session, None
        sock, self._sock = self._sock, None
        if channel is not None:
            with contextlib.suppress(Exception):
                channel.write(b"exit" + self.RETURN.encode())
                # vtysh logs out and the device ends the session: closed before that, the
                # device's sshd hangs the login up instead, and its vtysh lingers for a second
                deadline = time.monotonic() + min(self.timeout, LOGOUT_S)
                while not channel.is_eof() and time.monotonic() < deadline:
                    channel.poll_timeout(50)
                    channel.read_nonblocking()
            with contextlib.suppress(Exception):
                channel.close()
        if session is not None:
            with contextlib.suppress(Exception):
                session.disconnect()
        if sock is not None:
            with contextlib.suppress(Exception):
                sock.close()

    def _live(self) -> Any:
        if self._channel is None:
            raise TransportError("session is not open")
        return self._channel


def _failed(exc: Exception) -> TransportError:
    """A libssh error as the transport's own (libssh raises ``EOF`` for a session the device
    ended)."""
    if type(exc).__name__ == "EOF":
        return TransportError(CLOSED)
    return TransportError(f"the session failed: {type(exc).__name__}")


def _methods(session: Any) -> list[str]:
    """The authentication methods the server said it takes (``[]`` when it did not say)."""
    with contextlib.suppress(Exception):
        mask = int(session.userauth_list())
        return [name for bit, name in _METHOD_BITS.items() if mask & bit]
    return []
