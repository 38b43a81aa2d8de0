"""Check targets: hosts that command templates run on and nothing else touches.

A design's ``check_targets`` (Linux hosts of a lab, platform ``linux``, or any host the design
only reads) are contacted for their command templates only: no backup, no lock, no
configuration, no rollback, no reconciliation. Before a command runs, the device must answer
as the host it stands for (the platform's ``identity_command``, e.g. ``hostname``, or the
``hostname`` line of its running config), so a wrong port in connection data cannot make one
host's checks run on another.

Platforms with a NAPALM driver are read through it (``DeviceSession.commands``); the others
through Netmiko's ``send_command`` (the platform's ``netmiko_device_type``), each command with
the build's per-operation timeout.
"""

from __future__ import annotations

import time
from typing import Any

from nornir.core.task import Task

from sdd_build.errors import DeviceError
from sdd_build.execute.device import DeviceSession, open_session
from sdd_build.execute.identity import expected_identity, hostname_in_config
from sdd_build.platforms import Platform, lookup

__all__ = ["CommandDriver", "check_identity_of", "open_check_session"]


class CommandDriver:
    """A Netmiko connection as the build's driver, for show commands only: everything that
    would read or change a configuration is refused (a check target has none sdd-build
    manages)."""

    def __init__(self, connection: Any, platform: Platform, timeout_s: float, host: str) -> None:
        self.connection = connection
        self.platform = platform
        self.timeout_s = timeout_s
        self.host = host

    def cli(self, commands: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for cmd in commands:
            text = self.connection.send_command(
                cmd, read_timeout=self.timeout_s, strip_prompt=True, strip_command=True
            )
            # Netmiko's linux driver leaves the newline that ends the echoed command
            out[cmd] = str(text).lstrip("\r\n")
        return out

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise DeviceError(
            f"platform '{self.platform.name}' is a check target only: sdd-build never reads "
            "or changes its configuration",
            host=self.host,
        )

    get_config = load_merge_candidate = load_replace_candidate = _refuse
    compare_config = commit_config = discard_config = _refuse


def open_check_session(task: Task, timeout_s: float) -> DeviceSession:
    """A read-only session to a check target, through NAPALM where its platform has a driver
    and Netmiko otherwise."""
    name = task.host.platform or ""
    platform = lookup(name)
    if platform is None:
        raise DeviceError(f"platform '{name}' is unknown to sdd-build", host=task.host.name)
    if platform.napalm_driver or platform.plugin:  # the build's own session reads it
        return open_session(task, timeout_s)
    params = task.host.get_connection_parameters("netmiko")
    extras = dict(params.extras or {})
    for key in ("timeout", "conn_timeout", "auth_timeout", "banner_timeout"):
        extras.setdefault(key, max(1.0, timeout_s))
    params.extras = extras
    params.platform = platform.netmiko_device_type or params.platform
    task.host.connection_options["netmiko"] = params
    start = time.perf_counter()
    connection = task.host.get_connection("netmiko", task.nornir.config)
    driver = CommandDriver(connection, platform, timeout_s, task.host.name)
    session = DeviceSession(driver, platform, task.host.name)
    session.device_s = time.perf_counter() - start
    return session


def check_identity_of(session: DeviceSession, task: Task) -> tuple[str, str] | None:
    """``(expected, found)`` when the device answers as another host than it stands for,
    else ``None``. Read-only: the identity command, or the running config's host name."""
    expected = expected_identity(task.host)
    platform = lookup(task.host.platform or "")
    name = task.host.platform or ""
    if platform is not None and platform.identity_command:
        text = session.commands([platform.identity_command])[platform.identity_command]
    else:
        text = session.read()
    # every distinct name the device gives (a device that answers as two never matches)
    found = hostname_in_config(name, text) or ""
    if found.lower() != expected.lower():
        return expected, found or "(no name)"
    return None
