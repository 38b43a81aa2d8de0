"""The Netmiko path: a device without a NAPALM driver, driven through Netmiko alone.

:class:`NetmikoDriver` offers the build what a NAPALM driver does (``execute.device``'s
``DriverProtocol``), so ``DeviceSession`` and the build need no branch for it:

* backup: the platform's ``backup_command`` (``show running-config``);
* remediation: the lines that turn the running config into the candidate, computed by the
  platform's syntax family (:mod:`sdd_build.execute.remediation`: FRR's own ``frr-reload``
  logic as ``napalm_frr`` has it, or ``hier_config`` for the others);
* push: Netmiko's ``send_config_set`` with the platform's refusal patterns as
  ``error_pattern`` (without one Netmiko reports every refused line as a success), stopping at
  the first refused line; then the running config is read back and put back to what it was
  (verified) before the refusal is raised with the device's words;
* verification: after a push the device is read again and the candidate lines it does not
  show are kept in ``not_kept`` (the build's reconciliation classifies them);
* restore: FRR through ``napalm_frr``'s verified strategies (``driver.extras``, as the NAPALM
  path); other platforms by remediation to the backup (``DeviceSession.restore`` reads the
  device back and judges either way).

Every Netmiko call has a timeout (``read_timeout``; the connection's own for connecting).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from nornir.core.task import Task

from napalm_frr.transport import LineResult
from sdd_build.errors import DeviceError, NetmikoRefused
from sdd_build.execute.device import DeviceSession
from sdd_build.execute.remediation import Syntax, syntax_for
from sdd_build.platforms import Platform

__all__ = ["NetmikoDriver", "NetmikoRefused", "error_pattern", "open_netmiko"]

log = logging.getLogger(__name__)


#: a configuration line after which the device's prompt changes (Netmiko learns it again)
RENAMES_PROMPT = re.compile(r"^(no )?hostname\b")


def error_pattern(platform: Platform) -> str:
    """The platform's refusal patterns as one regular expression for Netmiko's
    ``error_pattern`` (searched with ``re.M`` in what the device printed): a row with a refusal
    in it that is not session noise, whole (the device's words reach the record)."""
    refusals = "|".join(f"(?:{_scoped(p.regex)})" for p in platform.refusals)
    noise = "|".join(f"(?:{_scoped(p)})" for p in platform.session_noise)
    guard = f"(?!{noise})" if noise else ""
    return f"^{guard}.*?(?:{refusals}).*$"


def _scoped(pattern: re.Pattern[str]) -> str:
    """``pattern`` as a part of a larger one: a leading global flag (``(?i)``) scoped."""
    match = re.match(r"^\(\?([imsx]+)\)", pattern.pattern)
    if match is None:
        return pattern.pattern
    return f"(?{match[1]}:{pattern.pattern[match.end() :]})"


_INVALID = re.compile(r"at command: (?P<cmd>.*?), matched error: (?P<words>.*)$", re.S)


class NetmikoDriver:
    """One Netmiko connection as the build's driver (see the module)."""

    def __init__(
        self,
        conn: Any,
        platform: Platform,
        hostname: str,
        timeout: float,
        reconnect: Callable[[], Any] | None = None,
    ) -> None:
        self.conn = conn
        self.platform = platform
        self.hostname = hostname
        self.timeout = float(timeout)
        self._reconnect = reconnect
        self._lock = threading.RLock()
        self._syntax: Syntax = syntax_for(platform.syntax)
        self._error_pattern = error_pattern(platform) if platform.refusals else ""
        self._candidate: str | None = None
        self._mode = "merge"
        self._last_read: tuple[float, str] | None = None
        #: a read younger than this serves ``compare_config`` and ``commit_config`` again
        self.running_cache_s = 10.0
        #: candidate lines the device did not show after the last commit
        self.not_kept: list[str] = []
        self.last_restore: Any = None
        self.last_commit_message = ""
        if self._syntax.extras:
            from napalm_frr.extras import Extras

            # complete reads and verified restores, the same code as the NAPALM path's
            self.extras = Extras(self)

    # ----- session ---------------------------------------------------------------------

    def is_alive(self) -> dict[str, bool]:
        try:
            return {"is_alive": bool(self.conn is not None and self.conn.is_alive())}
        except Exception:
            return {"is_alive": False}

    def open(self) -> None:
        if self._reconnect is None:
            raise DeviceError("the Netmiko session cannot be opened again", host=self.hostname)
        self._last_read = None
        self.conn = self._reconnect()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.disconnect()

    def _show(self, command: str) -> str:
        with self._lock:
            return str(
                self.conn.send_command(command, read_timeout=self.timeout, strip_command=True)
            )

    @property
    def _backup(self) -> str | None:
        return self.platform.backup_command

    def _show_many(self, commands: list[str]) -> list[str]:
        return [self._show(command) for command in commands]

    def _running(self, reuse: bool = False) -> str:
        last = self._last_read
        if reuse and last is not None and time.monotonic() - last[0] <= self.running_cache_s:
            return last[1]
        if self._backup is None:  # a check target: no configuration is managed on it
            return ""
        with self._lock:
            return self._accept_running(self._show(self._backup))

    def _accept_running(self, raw: str) -> str:
        """The backup command's output as the running config (and this session's last read);
        raises when the platform can tell it is not whole (FRR: vtysh's warnings)."""
        self._last_read = None
        text = self._syntax.read(self.hostname, raw)
        self._last_read = (time.monotonic(), text)
        return text

    def _configure(self, lines: list[str]) -> list[LineResult]:
        """Send ``lines`` in configuration mode with the platform's refusal patterns; stop at
        the first refused line (the lines after it are not sent)."""
        from netmiko.exceptions import ConfigInvalidException

        if not lines:
            return []
        with self._lock:
            self._last_read = None
            try:
                self.conn.send_config_set(
                    lines,
                    error_pattern=self._error_pattern,
                    read_timeout=self.timeout,
                    cmd_verify=True,
                )
            except ConfigInvalidException as exc:
                with contextlib.suppress(Exception):
                    self.conn.exit_config_mode()
                return _refused_at(lines, str(exc), self.platform)
            finally:
                if any(RENAMES_PROMPT.match(ln.strip()) for ln in lines):
                    with contextlib.suppress(Exception):
                        self.conn.set_base_prompt()
            return [LineResult(line, "") for line in lines]

    def _disarm_revert(self) -> None:
        """No commit-confirm timer on this path: nothing to disarm."""

    # ----- the build's driver protocol -------------------------------------------------

    def get_config(self, retrieve: str = "running") -> dict[str, str]:
        running = self._running() if retrieve in ("all", "running") else ""
        return {"running": running, "startup": "", "candidate": self._candidate or ""}

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._load("merge", filename, config)

    def load_replace_candidate(
        self, filename: str | None = None, config: str | None = None
    ) -> None:
        self._load("replace", filename, config)

    def _load(self, mode: str, filename: str | None, config: str | None) -> None:
        if config is None and filename is not None:
            with open(filename, encoding="utf-8") as handle:
                config = handle.read()
        if config is None:
            raise ValueError("give a filename or a config string")
        self._syntax.check_candidate(config, mode)
        self._candidate, self._mode = config, mode

    def compare_config(self) -> str:
        if self._candidate is None:
            return ""
        running = self._running(reuse=True)
        return self._syntax.diff(running, self._candidate, self._mode)

    def discard_config(self) -> None:
        self._candidate = None

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError("the Netmiko path has no commit-confirm")
        with self._lock:
            if self._candidate is None:
                raise ValueError(f"{self.hostname}: no candidate loaded")
            candidate, mode = self._candidate, self._mode
            before = self._running(reuse=True)
            sent = self._configure(self._syntax.commands(before, candidate, mode))
            refused = [r for r in sent if r.failed]
            if not refused:
                # a deletion can take lines with it: the additions still missing, once more
                again = self._syntax.resend(self._running(), candidate, mode)
                for result in self._configure(again):
                    if result.failed:
                        log.info("%s: resend refused (%s)", self.hostname, result.kind)
            if refused:
                restored = self._restore(before)
                state = "running configuration restored" if restored else "RESTORE INCOMPLETE"
                words = "; ".join(f"{r.line.strip()!r}: {r.output}" for r in refused)
                raise NetmikoRefused(
                    f"{self.hostname}: the device refused the candidate: {words}; {state}",
                    refused,
                    restored,
                )
            # verified against the device: what it does not show is the reconciliation's
            self.not_kept = self._syntax.missing(self._running(), candidate, mode)
            if self.not_kept:
                log.warning("%s: %d candidate line(s) not shown", self.hostname, len(self.not_kept))
            self.last_commit_message = message
            self._candidate = None

    def _restore(self, snapshot: str) -> bool:
        """The running config back to ``snapshot``; True when a read-back matches."""
        extras = getattr(self, "extras", None)
        try:
            if extras is not None:
                return bool(extras.restore_config(snapshot).ok)
            now = self._running()
            self._configure(self._syntax.commands(now, snapshot, "replace"))
            return not self._syntax.commands(self._running(), snapshot, "replace")
        except Exception as exc:
            log.error("%s: restore failed: %s", self.hostname, type(exc).__name__)
            return False

    def cli(self, commands: list[str]) -> dict[str, str]:
        self._last_read = None  # a command may be one that changes the configuration
        return {command: self._show(command) for command in commands}

    # ----- identity --------------------------------------------------------------------

    def get_facts(self) -> dict[str, Any]:
        command = self.platform.identity_command
        if command is None:
            return self._syntax.facts(self._show)
        found = self.platform.hostname.search(self._show(command))
        return {"hostname": found.group(1) if found else ""}

    def get_interfaces(self) -> dict[str, Any]:
        return self._syntax.interfaces(self._show)


def _refused_at(lines: list[str], message: str, platform: Platform) -> list[LineResult]:
    """The results of a push Netmiko stopped (``ConfigInvalidException``): the lines before
    the refused one applied, the refused one with the device's words, none after it."""
    match = _INVALID.search(message)
    cmd, words = (match["cmd"], match["words"].strip()) if match else ("", message)
    kind = platform.refusal(words) or "error"
    results: list[LineResult] = []
    for line in lines:
        if line.strip() == cmd.strip():
            results.append(LineResult(line, words, kind))
            return results
        results.append(LineResult(line, ""))
    # the refused command was not found among the lines: the push as a whole failed
    return [*results, LineResult("", words, kind)]


def open_netmiko(task: Task, info: Platform, timeout_s: float) -> DeviceSession:
    """The host's session on the Netmiko path: Nornir's ``netmiko`` plugin with the platform's
    device type and every timeout set, wrapped in the build's ``DeviceSession``."""
    if info.netmiko_device_type is None:
        raise DeviceError(
            f"platform '{info.name}' has no Netmiko device type in sdd-build",
            host=task.host.name,
        )
    params = task.host.get_connection_parameters("netmiko")
    extras = dict(params.extras or {})
    for key in ("timeout", "conn_timeout", "auth_timeout", "banner_timeout"):
        extras[key] = float(max(1.0, timeout_s))
    params.extras = extras
    params.platform = info.netmiko_device_type
    task.host.connection_options["netmiko"] = params

    def connect() -> Any:
        if "netmiko" in task.host.connections:
            with contextlib.suppress(Exception):
                task.host.close_connection("netmiko")
        return task.host.get_connection("netmiko", task.nornir.config)

    start = time.perf_counter()
    driver = NetmikoDriver(connect(), info, task.host.name, timeout_s, reconnect=connect)
    session = DeviceSession(driver, info, task.host.name)
    session.device_s = time.perf_counter() - start  # the SSH handshake is device time too
    return session
