"""SSH transports to FRR's vtysh, through libssh or Netmiko.

Two login styles real FRR boxes offer:

* :class:`VtyshTransport` -- the SSH login *is* vtysh (sshd ``ForceCommand vtysh``). A session
  on libssh (:mod:`napalm_frr.libssh`) or Netmiko's ``cisco_ios`` device type drives it (see
  ``SSH_CLIENTS`` in :mod:`sdd_build.platforms.frr_options`); configuration lines are sent in
  configuration mode in bursts (see :func:`bursts`), each line's answer is cut out of the
  transcript (:func:`split_transcript`), and sending stops after the first burst in which FRR
  answered any line with anything at all.
* :class:`ShellTransport` -- a Linux shell login that can run ``vtysh [-N instance]`` and
  ``frr-reload.py``. Netmiko's ``linux`` device type drives it; shows run as ``vtysh -c``,
  configuration goes through a file and ``vtysh -f``, candidates can be checked without being
  applied (``vtysh -C``), and a detached job on the device can revert a commit by itself.

Both raise :class:`TransportError` (never with a password in it) on a timeout or a dead session.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import select
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from napalm_frr import platform

_SAFE_PATH = re.compile(r"^[\w./-]+$")

#: At most this many bytes of configuration lines are sent at once. A burst goes out as one SSH
#: packet while vtysh waits at its prompt: readline has the terminal in no-echo mode then, so
#: the transcript holds each line once, after its prompt. Bursts far beyond the 4 KiB tty
#: input buffer arrive while vtysh executes lines and the kernel echoes them in between.
BURST_BYTES = 1024

#: The line that leaves configuration mode, at any depth
END = "end"

#: A vtysh prompt row, and what was typed after it: ``r1(config-if)#  ip ospf cost 10``
_PROMPT_ROW = re.compile(r"^(?P<prompt>[^\s%#]*#) ?(?P<typed>.*)$")


class TransportError(Exception):
    """The session failed or timed out."""


def wait_for_data(conn: Any, seconds: float) -> None:
    """Return when the session has unread data, or after ``seconds``.

    A connection that can wait by itself (libssh's, see :mod:`napalm_frr.libssh`) does.
    Netmiko's blocks on the SSH channel's readiness (paramiko's ``Channel.fileno``: a pipe that
    is readable while the channel holds unread data), where polling would wake every few
    milliseconds: with a whole fleet of sessions waiting at once, polling threads take CPU and
    the GIL from the logins and sessions that have work. A connection without either (a
    test's) is polled."""
    wait = getattr(conn, "wait", None)
    if wait is not None and seconds > 0:
        wait(seconds)
        return
    channel = getattr(conn, "remote_conn", None)
    fileno = getattr(channel, "fileno", None)
    if fileno is None or seconds <= 0:
        time.sleep(min(max(seconds, 0.0), 0.005))
        return
    if getattr(channel, "closed", False) or getattr(channel, "eof_received", False):
        raise TransportError("the session was closed by the device")
    select.select([fileno()], [], [], seconds)


def _at(pattern: str) -> Callable[[str], bool]:
    """Whether a text holds ``pattern`` (as Netmiko's ``read_until_pattern`` searches it)."""
    compiled = re.compile(pattern)
    return lambda text: compiled.search(text) is not None


def read_until(conn: Any, done: Callable[[str], bool], read_timeout: float, what: str) -> str:
    """What the session says until ``done`` holds for all of it (``TimeoutError`` naming
    ``what`` after ``read_timeout`` seconds without)."""
    deadline = time.monotonic() + read_timeout
    text = ""
    while True:
        text += str(conn.read_channel())
        if done(text):
            return text
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no prompt after {what} in {read_timeout:g}s")
        wait_for_data(conn, min(left, 1.0))


@dataclass(frozen=True)
class LineResult:
    """What FRR answered to one configuration line ("" when it accepted it silently)."""

    line: str
    output: str
    kind: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.kind)


def classify(output: str) -> str:
    """Name the kind of refusal in ``output`` (``""`` when it is empty or mere noise)."""
    lines = [
        ln
        for ln in output.replace("\r", "").splitlines()
        if ln.strip() and not any(p.match(ln) for p in platform.SESSION_NOISE)
    ]
    if not lines:
        return ""
    text = "\n".join(lines)
    for pattern in platform.ERROR_PATTERNS:
        if pattern.regex.search(text):
            return pattern.kind
    return platform.UNEXPECTED_OUTPUT_KIND


def parse_vtysh_file_errors(output: str, lines: list[str]) -> list[LineResult]:
    """Refused lines from the output of ``vtysh -C -f`` / ``vtysh -f``."""
    return [result for _index, result in vtysh_file_errors(output, lines)]


def vtysh_file_errors(output: str, lines: list[str]) -> list[tuple[int, LineResult]]:
    """Refused lines from the output of ``vtysh -f`` / ``vtysh -C -f``, each with its index in
    ``lines``. A daemon's own words for a line it refused (``% Specify remote-as ...``, ``BGP is
    already running; AS is 65001``) come apart from vtysh's ``line N: Failure to
    communicate[13] to bgpd, line: ...``; they are paired in order."""
    rows = output.replace("\r", "").splitlines()
    numbered = [
        (row, platform.VTYSH_FILE_ERROR.match(row) or platform.VTYSH_FILE_FAILURE.match(row))
        for row in rows
    ]
    # the daemon's own words: bgpd prints "BGP is already running; AS is 65001" (no "%")
    said = [row.strip() for row, match in numbered if match is None and row.strip()]
    results: list[tuple[int, LineResult]] = []
    for _row, match in numbered:
        if match is None:
            continue
        index = int(match["lineno"]) - 1
        line = lines[index] if 0 <= index < len(lines) else match["line"].strip()
        words = match["message"].strip()
        if not words.startswith("%"):
            daemon = match.groupdict().get("daemon")
            words = said.pop(0) if said else f"% {words}" + (f" to {daemon}" if daemon else "")
        message = f"{words}: {match['line'].strip()}"
        results.append((index, LineResult(line.strip(), message, classify(words) or "error")))
    return results


@dataclass(frozen=True)
class SSHParams:
    """Where and how to log in. ``password`` never leaves this object in text form."""

    host: str
    port: int
    username: str
    password: str
    timeout: float
    netmiko_args: dict[str, Any]
    #: the SSH client of a vtysh login (``sdd_build.platforms.frr_options.SSH_CLIENTS``)
    client: str = "auto"

    def __repr__(self) -> str:
        return f"SSHParams(host={self.host!r}, port={self.port}, username={self.username!r})"


class Transport(Protocol):
    """What the driver needs from a session to vtysh."""

    timeout: float

    def open(self) -> None: ...
    def close(self) -> None: ...
    def is_alive(self) -> bool: ...
    def show(self, command: str, timeout: float | None = None) -> str: ...
    def show_many(
        self, commands: list[str], timeout: float | None = None, *, blank_rows: bool = False
    ) -> list[str]: ...
    def configure(self, lines: list[str], timeout: float | None = None) -> list[LineResult]: ...


class _LoginSession:
    """One login: its connection (a Netmiko one, or :class:`~napalm_frr.libssh.LibsshLogin`
    with the same surface), opened, used under one lock, and closed."""

    device_type = ""

    def __init__(self, params: SSHParams) -> None:
        self.params = params
        self.timeout = params.timeout
        self._conn: Any = None
        self.lock = threading.RLock()
        self._prompt_seen = ""  # the prompt row that ended the last burst read

    def _handler(self, **kwargs: Any) -> Any:
        """The Netmiko connection, logged in and prepared (``ConnectHandler`` by default)."""
        from netmiko import ConnectHandler

        return ConnectHandler(device_type=self.device_type, **kwargs)

    def open(self) -> None:
        from netmiko.exceptions import NetmikoAuthenticationException

        p = self.params
        try:
            self._conn = self._handler(
                host=p.host,
                port=p.port,
                username=p.username,
                password=p.password,
                timeout=p.timeout,
                conn_timeout=p.timeout,
                auth_timeout=p.timeout,
                banner_timeout=p.timeout,
                read_timeout_override=None,
                **p.netmiko_args,
            )
        except TransportError:
            raise
        except NetmikoAuthenticationException as exc:
            raise TransportError(
                f"authentication failed for {p.username}@{p.host}:{p.port}"
            ) from exc
        except Exception as exc:  # netmiko/paramiko/socket errors of every kind
            raise TransportError(
                f"cannot connect to {p.host}:{p.port}: {type(exc).__name__}"
            ) from exc

    def close(self) -> None:
        with self.lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                # closing a dead session is not an error
                with contextlib.suppress(Exception):
                    conn.disconnect()

    def is_alive(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            return bool(conn.is_alive())
        except Exception:
            return False

    @property
    def conn(self) -> Any:
        if self._conn is None:
            raise TransportError("session is not open")
        return self._conn

    def _prompt_pattern(self) -> str | None:
        """What ends a command's output, or ``None`` to let Netmiko find the prompt first
        (``find_prompt``: one more round trip and a sleep per command)."""
        return None

    def _send(self, command: str, timeout: float | None) -> str:
        with self.lock:
            try:
                pattern = self._prompt_pattern()
                return str(
                    self.conn.send_command(
                        command,
                        read_timeout=timeout or self.timeout,
                        strip_command=True,
                        expect_string=pattern,
                        auto_find_prompt=pattern is None,
                    )
                )
            except TransportError:
                raise
            except Exception as exc:
                raise TransportError(
                    f"{type(exc).__name__} while running {command.split(maxsplit=1)[0]!r}"
                ) from exc


def prepare_vtysh_login(conn: Any) -> None:
    """Make a fresh vtysh login ready for commands and learn its prompt (``conn.base_prompt``).

    Netmiko's own preparation (``terminal width``, which vtysh does not know, ``terminal length
    0``, then ``find_prompt``) costs three round trips and at least 0.3 s of fixed sleeps per
    login (``clear_buffer`` before and after ``find_prompt``, 0.1 s after the first newline),
    most of a login's time on a local router and all of it wall time. Here ``terminal length
    0`` is typed ahead of vtysh's first prompt and the prompt that follows its echo is the base
    prompt: one round trip, no sleep."""
    command = "terminal length 0"
    conn.write_channel(conn.normalize_cmd(command))
    # vtysh's answer is its echo after a prompt, then the next prompt. Typed before vtysh
    # started reading, the line is echoed once more by the terminal (without a prompt, ahead of
    # the banner and the first prompt): that one must not be taken for the answer, or vtysh's
    # own echo and prompt would come out as the first command's output.
    answered = _at(rf"(?:^|\n)[^\n]*[#>] ?{re.escape(command)}[^\n]*\n(?:[^\n]*\n)*[^\n]*[#>] ?$")
    out = read_until(conn, answered, conn.timeout, "login")
    rows = conn.strip_ansi_escape_codes(out).replace("\r", "").rstrip().split("\n")
    prompt = rows[-1].strip()
    if not prompt.endswith(("#", ">")) or len(prompt) < 2:
        raise ValueError(f"no vtysh prompt after login: {prompt[-40:]!r}")
    conn.base_prompt = prompt[:-1][:16]  # as CiscoIosSSH.set_base_prompt keeps it


def _vtysh_login_class() -> Any:
    """Netmiko's ``cisco_ios`` connection, prepared by :func:`prepare_vtysh_login`."""
    from netmiko.cisco.cisco_ios import CiscoIosSSH

    class VtyshLogin(CiscoIosSSH):
        def _try_session_preparation(self, force_data: bool = True) -> None:
            try:
                prepare_vtysh_login(self)
            except Exception:
                self.disconnect()
                raise

        def cleanup(self, command: str = "exit") -> None:
            # configure() always leaves configuration mode ("end"): logging out needs no round
            # trip asking vtysh for its mode first (Netmiko's check_config_mode)
            self.write_channel(command + self.RETURN)

    return VtyshLogin


class VtyshTransport(_LoginSession):
    """The SSH login is vtysh itself, on libssh or on Netmiko (see ``ssh_client`` in
    :mod:`sdd_build.platforms.frr_options`)."""

    device_type = "cisco_ios"

    def _handler(self, **kwargs: Any) -> Any:
        p = self.params
        if uses_libssh(p):
            from napalm_frr.libssh import LibsshLogin, NoPasswordLogin

            try:
                return LibsshLogin(p.host, p.port, p.username, p.password, p.timeout)
            except NoPasswordLogin:
                if p.client == "libssh":
                    raise TransportError(
                        f"{p.host}:{p.port} takes no password login: use ssh_client netmiko"
                    ) from None
        return _vtysh_login_class()(**kwargs)

    def _prompt_pattern(self) -> str | None:
        # the exec prompt Netmiko learnt at login (and again after a `hostname` line), at the
        # very end of the output; FRR's vtysh prompt is always "<hostname># "
        prompt = str(getattr(self.conn, "base_prompt", "") or "")
        return rf"(?:^|\n){re.escape(prompt)}# ?$" if prompt else None

    def show(self, command: str, timeout: float | None = None) -> str:
        return self._send(command, timeout)

    def show_many(
        self, commands: list[str], timeout: float | None = None, *, blank_rows: bool = False
    ) -> list[str]:
        """The outputs of ``commands`` typed ahead at once: one round trip, not one each.

        Like a configuration burst (see :data:`BURST_BYTES`) they go out in one write while
        vtysh waits at its prompt, so the transcript holds each command once, after its prompt,
        and :func:`split_transcript` cuts each output out between its echo and the next
        prompt. Blank rows of an output are dropped (as ``configure`` drops them), or with
        ``blank_rows`` kept: then each output is what :meth:`show` returns for it."""
        if len(commands) < 2 or sum(len(c) + 1 for c in commands) > BURST_BYTES:
            return [self.show(command, timeout) for command in commands]
        read_timeout = timeout or self.timeout
        with self.lock:
            conn = self.conn
            try:
                conn.write_channel("".join(conn.normalize_cmd(c) for c in commands))
                return self._read_burst(
                    commands, read_timeout, f"{len(commands)} shows", blank_rows=blank_rows
                )
            except TransportError:
                raise
            except Exception as exc:
                raise TransportError(
                    f"{type(exc).__name__} while running {commands[0].split(maxsplit=1)[0]!r}"
                ) from exc

    def configure(self, lines: list[str], timeout: float | None = None) -> list[LineResult]:
        """Send ``lines`` in configuration mode, a burst at a time; stop after the first burst
        in which FRR answered a line (the lines after it in that burst were sent too)."""
        read_timeout = timeout or self.timeout
        results: list[LineResult] = []
        ended = False  # "end" went out with the last burst and vtysh is back at its exec prompt
        with self.lock:
            conn = self.conn
            try:
                # by hand: Netmiko's config_mode() and exit_config_mode() check the mode before
                # and after, a round trip each
                conn.write_channel(conn.normalize_cmd("configure terminal"))
                answer = read_until(conn, _at(platform.ANY_PROMPT), read_timeout, "configure")
                if not re.search(platform.CONFIG_MODE_PROMPT, answer):
                    said = " ".join(answer.replace("\r", "").split("\n")[1:-1]).strip()
                    raise TransportError(f"vtysh refused configuration mode: {said or answer!r}")
                # "end" is typed ahead with the last burst: leaving configuration mode costs
                # no round trip of its own (after a burst FRR answered, it goes out on its own)
                sent = 0
                for burst in bursts([*lines, END]):
                    conn.write_channel("".join(conn.normalize_cmd(line) for line in burst))
                    outputs = self._read_burst(
                        burst, read_timeout, f"{len(burst)} configuration line(s)"
                    )
                    mine = burst[: max(0, len(lines) - sent)]  # the caller's, not our "end"
                    answered = [
                        LineResult(line, out, classify(out))
                        for line, out in zip(mine, outputs, strict=False)
                    ]
                    sent += len(burst)
                    results += answered
                    ended = sent > len(lines) and not re.search(
                        platform.CONFIG_MODE_PROMPT, self._prompt_seen
                    )
                    if any(r.failed for r in answered):
                        break
            except TransportError:
                raise
            except Exception as exc:
                raise TransportError(f"{type(exc).__name__} in configuration mode") from exc
            finally:
                with contextlib.suppress(Exception):
                    if self._conn is not None:
                        if not ended:
                            conn.write_channel(conn.normalize_cmd(END))
                            read_until(conn, _at(platform.EXEC_PROMPT), read_timeout, END)
                        if any(platform.RENAMES_PROMPT.match(r.line) for r in results):
                            conn.set_base_prompt()  # learn the new prompt
        return results

    def _read_burst(
        self, burst: list[str], read_timeout: float, what: str, *, blank_rows: bool = False
    ) -> list[str]:
        """Read until every line of ``burst`` has its output and the prompt is back (``what``
        names the burst in the timeout's message)."""
        found: list[list[str]] = []

        def complete(transcript: str) -> bool:
            outputs = split_transcript(transcript, burst, blank_rows=blank_rows)
            if outputs is None:
                return False
            found.append(outputs)
            return True

        transcript = read_until(self.conn, complete, read_timeout, what)
        self._prompt_seen = transcript.rstrip("\r\n ").rsplit("\n", 1)[-1]
        return found[-1]


def uses_libssh(params: SSHParams) -> bool:
    """Whether a vtysh login with ``params`` goes through libssh (see ``SSH_CLIENTS`` in
    :mod:`sdd_build.platforms.frr_options`)."""
    if params.client == "netmiko" or (params.client == "auto" and params.netmiko_args):
        return False
    from napalm_frr.libssh import available

    return params.client == "libssh" or available()


def bursts(lines: list[str], limit: int = BURST_BYTES) -> list[list[str]]:
    """``lines`` in order, grouped so that no group but a single long line exceeds ``limit``
    bytes (each line counted with its newline)."""
    groups: list[list[str]] = []
    size = 0
    for line in lines:
        cost = len(line.encode()) + 1
        if groups and size + cost <= limit:
            groups[-1].append(line)
            size += cost
        else:
            groups.append([line])
            size = cost
    return groups


def split_transcript(
    transcript: str, lines: list[str], *, blank_rows: bool = False
) -> list[str] | None:
    """What vtysh answered to each of ``lines`` typed ahead at once, cut out of the session
    transcript; ``None`` while it is incomplete (the prompt after the last line not yet seen).

    A transcript reads ``<echo of line 1>``, then for every line its answer rows, the next
    prompt and the next line typed after it, and ends with a bare prompt. A line's answer is
    the rows between its own echo and the next prompt row (a row that starts with ``%``, as
    FRR's errors do, is never a prompt), its blank rows dropped unless ``blank_rows`` (then it
    is what Netmiko's ``send_command`` returns for the line alone).
    """
    # called on every chunk read: no bare prompt at the end yet is incomplete, uncut
    final = _PROMPT_ROW.match(transcript[transcript.rfind("\n") + 1 :].replace("\r", ""))
    if final is None or final["typed"].strip():
        return None
    rows = transcript.replace("\r", "").split("\n")
    echoes: list[int] = []
    at = 0
    for number, line in enumerate(lines):
        want = line.strip()
        while at < len(rows):
            row = rows[at]
            prompt = _PROMPT_ROW.match(row)
            typed = prompt["typed"] if prompt else (row if number == 0 else None)
            if typed is not None and typed.strip() == want:
                break
            at += 1
        else:
            return None
        echoes.append(at)
        at += 1
    if len(rows) - 1 <= echoes[-1]:
        return None
    bounds = [*echoes[1:], len(rows) - 1]
    return [
        "\n".join(row for row in rows[start + 1 : end] if blank_rows or row.strip())
        for start, end in zip(echoes, bounds, strict=True)
    ]


class ShellTransport(_LoginSession):
    """A Linux shell login that runs ``vtysh`` (for a pathspace instance with ``-N``)."""

    device_type = "linux"

    def __init__(self, params: SSHParams, instance: str | None, state_dir: str) -> None:
        super().__init__(params)
        self.instance = instance
        self.state_dir = state_dir

    @property
    def vtysh(self) -> str:
        if self.instance:
            return f"{platform.VTYSH} -N {shlex.quote(self.instance)}"
        return platform.VTYSH

    def run(self, command: str, timeout: float | None = None) -> tuple[int, str]:
        """Run a shell command; return its exit status and output."""
        marker = "__napalm_frr_rc="
        out = self._send(f"{command}; echo {marker}$?", timeout)
        match = re.search(rf"{marker}(\d+)", out)
        if match is None:
            raise TransportError(f"no exit status from {command.split(maxsplit=1)[0]!r}")
        return int(match[1]), out[: match.start()].rstrip("\n")

    def open(self) -> None:
        super().open()
        # configurations (secrets included) travel as command lines: keep them out of history
        self.run("unset HISTFILE; set +o history")
        # $HOME first; a login whose home is not writable (often "/") falls back to /tmp
        rc, out = self.run('printf "%s:%s\\n" "$HOME" "$(id -u)"')
        home, _, uid = out.strip().splitlines()[-1].rpartition(":")
        candidates = [self.state_dir.replace("$HOME", home)]
        if self.state_dir.startswith("$HOME"):
            tail = self.state_dir[len("$HOME/") :].replace("/", "-").lstrip(".")
            candidates.append(f"/tmp/{tail}-{uid}")
        for path in candidates:
            if not _SAFE_PATH.match(path):
                continue
            quoted = shlex.quote(path)
            rc, _ = self.run(f"mkdir -p -m 700 {quoted} && [ -O {quoted} ] && [ -w {quoted} ]")
            if rc == 0:
                self.state_dir = path
                self.run(f"chmod 700 {quoted}; umask 077")
                return
        raise TransportError("no writable private state directory on the device")

    def write_file(self, path: str, content: str, chunk: int = 320) -> None:
        encoded = base64.b64encode(content.encode()).decode()
        tmp = f"{path}.b64"
        self.run(f": > {shlex.quote(tmp)}")
        for start in range(0, len(encoded), chunk):
            piece = encoded[start : start + chunk]
            rc, _ = self.run(f"printf %s {piece} >> {shlex.quote(tmp)}")
            if rc != 0:
                raise TransportError(f"cannot write {path} on the device")
        rc, _ = self.run(f"base64 -d {shlex.quote(tmp)} > {shlex.quote(path)} && rm -f {tmp}")
        if rc != 0:
            raise TransportError(f"cannot write {path} on the device")

    def show(self, command: str, timeout: float | None = None) -> str:
        _rc, out = self.run(f"{self.vtysh} -c {shlex.quote(command)}", timeout)
        return out

    def show_many(
        self, commands: list[str], timeout: float | None = None, *, blank_rows: bool = False
    ) -> list[str]:
        """The outputs of ``commands``, in order (one ``vtysh -c`` after the other; each as
        :meth:`show` returns it, ``blank_rows`` or not)."""
        return [self.show(command, timeout) for command in commands]

    def _tmpfile(self, stem: str) -> str:
        return f"{self.state_dir}/{stem}-{secrets.token_hex(4)}.conf"

    def configure(self, lines: list[str], timeout: float | None = None) -> list[LineResult]:
        """Apply ``lines`` with ``vtysh -f`` (which goes on after a refused line)."""
        path = self._tmpfile("apply")
        self.write_file(path, "\n".join(lines) + "\n")
        _rc, out = self.run(f"{self.vtysh} -f {shlex.quote(path)}; rm -f {path}", timeout)
        refused = parse_vtysh_file_errors(out, lines)
        if not refused and classify(out):
            refused = [LineResult("", out.strip(), classify(out))]
        refused_lines = {r.line for r in refused}
        results = [LineResult(ln, "", "") for ln in lines if ln.strip() not in refused_lines]
        return results + refused

    def check(self, lines: list[str], timeout: float | None = None) -> list[LineResult]:
        """Refused lines of a candidate, without applying anything (``vtysh -C -f``)."""
        path = self._tmpfile("check")
        self.write_file(path, "\n".join(lines) + "\n")
        rc, out = self.run(f"{self.vtysh} -C -f {shlex.quote(path)}; rm -f {path}", timeout)
        refused = parse_vtysh_file_errors(out, lines)
        if rc != 0 and not refused:
            refused = [LineResult("", out.strip() or f"vtysh -C exited {rc}", "error")]
        return refused

    def has_frr_reload(self) -> bool:
        rc, _ = self.run(f"test -r {platform.FRR_RELOAD} && command -v python3 >/dev/null")
        return rc == 0

    def frr_reload_command(self, path: str) -> str:
        ns = f" --pathspace {shlex.quote(self.instance)}" if self.instance else ""
        return (
            f"python3 {platform.FRR_RELOAD} --reload{ns} --stdout "
            f"--rundir {shlex.quote(self.state_dir)} {shlex.quote(path)}"
        )
