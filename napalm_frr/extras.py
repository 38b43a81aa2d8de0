"""What a build engine needs from FRR beyond NAPALM's API: ``driver.extras``.

NAPALM's contract suite refuses public methods a driver adds, so these live on an object of
their own:

* :meth:`Extras.read_complete` -- the running configuration, or :class:`IncompleteRead` when it
  cannot be the whole of it. vtysh leaves a daemon's part out silently when it cannot reach the
  daemon: a daemon that died during the session makes vtysh print ``Warning: connecting to
  ospfd...failed!`` into the output, one that was down when the session began leaves no word
  at all (measured on FRR 8.4). So a complete read is a read without vtysh's talk, while
  ``show daemons`` reaches zebra and every daemon of ``expected_daemons`` (those reached at the
  backup), and ``show watchfrr`` (when watchfrr runs) reports every daemon it supervises ``Up``.
* :meth:`Extras.restore_config` -- bring the running configuration to a backup with every
  strategy of :mod:`napalm_frr.restore` (the caller reads it back before believing it).
"""

from __future__ import annotations

from typing import Any, Protocol

from napalm.base.exceptions import NapalmException, ReplaceConfigException

from napalm_frr import config as cfg
from napalm_frr import defaults, platform
from napalm_frr.restore import RestoreReport, restore
from napalm_frr.transport import LineResult

__all__ = ["Extras", "IncompleteRead", "RestoreTarget", "VtyshSession", "complete_text"]


class VtyshSession(Protocol):
    """What :class:`Extras`, :class:`RestoreTarget` and :class:`napalm_frr.oracle.Oracle` need
    of a session to vtysh: :class:`napalm_frr.frr.FRRDriver`, and sdd-build's Netmiko path
    (``sdd_build.execute.netmiko_path``), which drives vtysh through Netmiko's own
    ``send_config_set``. The names are private on purpose: NAPALM's contract suite refuses
    public methods a driver adds."""

    hostname: str
    last_restore: RestoreReport | None
    _lock: Any

    def _show(self, command: str) -> str: ...
    def _show_many(self, commands: list[str]) -> list[str]: ...
    def _accept_running(self, raw: str) -> str: ...
    def _running(self, reuse: bool = False) -> str: ...
    def _configure(self, lines: list[str]) -> list[LineResult]: ...
    def _disarm_revert(self) -> None: ...


def complete_text(hostname: str, raw: str) -> str:
    """``show running-config`` as configuration (:func:`napalm_frr.config.normalize`), or
    :class:`IncompleteRead` when vtysh's talk in it shows a daemon was not reached."""
    text = cfg.normalize(raw)
    noise = cfg.noise(text)
    if noise:
        daemons = cfg.lost_daemons(noise)
        # the message names the daemons, it does not repeat vtysh's words: they are not
        # configuration and are kept out of every record (``IncompleteRead.noise``)
        raise IncompleteRead(
            f"{hostname}: the running config read is incomplete: vtysh "
            + (f"lost {', '.join(daemons)}" if daemons else "printed text that is not config")
            + f" ({len(noise)} warning line(s) left out)",
            daemons,
            noise,
        )
    return text


class IncompleteRead(NapalmException):  # type: ignore[misc]
    """vtysh did not reach every daemon (one died, or is down): the text it printed lacks
    those daemons' configuration and is never used as the running configuration."""

    def __init__(self, message: str, daemons: list[str], noise: list[str]) -> None:
        super().__init__(message)
        self.daemons = daemons
        self.noise = noise


#: what a complete read asks, in one round trip
COMPLETE_READ = ["show running-config", "show daemons", "show watchfrr"]


class Extras:
    """Complete reads and verified restores for one :class:`VtyshSession` (an
    :class:`~napalm_frr.frr.FRRDriver`, or sdd-build's Netmiko path)."""

    def __init__(self, driver: VtyshSession) -> None:
        self.driver = driver
        #: daemons a complete read must reach: set by the first complete read, or by the
        #: caller (the daemons reached when the backup was read)
        self.expected_daemons: set[str] | None = None

    def daemons(self, shown: tuple[str, str] | None = None) -> tuple[list[str], list[str]]:
        """The daemons this vtysh session reaches (``show daemons``), and those that should run
        and do not: FRR's required ones, and any ``show watchfrr`` does not report ``Up``.
        ``shown``: the outputs of those two shows, already read."""
        show = self.driver._show
        text = shown[0] if shown is not None else show("show daemons")
        noise = cfg.noise(text)
        connected = [w for w in text.split() if w.isidentifier()] if not noise else []
        down = [d for d in platform.REQUIRED_DAEMONS if d not in connected]
        down += [d for d in cfg.lost_daemons(noise) if d not in down]
        if "watchfrr" in connected:
            watch = shown[1] if shown is not None else show("show watchfrr")
            for row in platform.WATCHFRR_ROW.finditer(watch):
                if row["state"] != "Up" and row["daemon"] not in down:
                    down.append(row["daemon"])
        return connected, down

    def read_complete(self) -> str:
        """The running configuration, or :class:`IncompleteRead` (see the module). The three
        shows go out in one round trip (``show watchfrr`` is read whether or not watchfrr runs,
        and used only when it does)."""
        running, daemons, watch = self.driver._show_many(COMPLETE_READ)
        text = self.driver._accept_running(running)
        connected, down = self.daemons((daemons, watch))
        if self.expected_daemons is not None:
            down += sorted(d for d in self.expected_daemons - set(connected) if d not in down)
        if down:
            raise IncompleteRead(
                f"{self.driver.hostname}: the running config read is incomplete: "
                f"{', '.join(down)} not running",
                down,
                [],
            )
        if self.expected_daemons is None:
            self.expected_daemons = set(connected)
        return text

    def restore_config(self, config: str) -> RestoreReport:
        """Bring the running configuration to ``config`` (a backup) with every strategy of
        :mod:`napalm_frr.restore`; the report says what was sent and what still differs."""
        driver = self.driver
        with driver._lock:
            driver._disarm_revert()
            if not cfg.parse(config).children:
                raise ReplaceConfigException("empty restore target: it would delete everything")
            talk = cfg.noise(config)
            if talk:
                raise ReplaceConfigException(
                    f"the restore target holds vtysh output, not configuration: {talk[0]!r}"
                )
            report = restore(RestoreTarget(driver), config)
            driver.last_restore = report
            return report


class RestoreTarget:
    """A :class:`VtyshSession` as :class:`napalm_frr.restore.Target`."""

    def __init__(self, driver: VtyshSession) -> None:
        self.driver = driver

    def read(self) -> str:
        return self.driver._running()

    def configure(self, lines: list[str]) -> list[LineResult]:
        return self.driver._configure(lines)

    def default_line(self, path: tuple[str, ...], line: str) -> str | None:
        return defaults.default_line(self.driver._show, path, line)
