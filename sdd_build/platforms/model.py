"""What sdd-build knows about one platform, as one frozen row (scrapli's platform definitions
are the model): how to reach it, how its configuration reads, what it prints that means
"refused", which of its lines carry secrets, and how a device of it says who it is.

Nothing here imports a stage: the masking stage (``secrets``), the engine (``execute``) and the
NAPALM FRR driver all read these rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "EXAMPLE_SECRET",
    "HOSTNAME_LINE",
    "UNEXPECTED_OUTPUT",
    "Defaults",
    "Platform",
    "RefusalPattern",
    "SecretSyntax",
]

#: the kind of refusal of a platform that prints nothing for an applied line and printed something
UNEXPECTED_OUTPUT = "unexpected_output"

#: the secret every :class:`SecretSyntax` example holds (the unit tests mask each example)
EXAMPLE_SECRET = "S3cr3t-Example"

#: ``hostname NAME`` at the top level: how most platforms' running configs name the device
HOSTNAME_LINE = re.compile(r"^hostname\s+(\S+)\s*$", re.M)

#: How the platform's running config treats a line that sets a default value:
#: ``oracle`` — the device's own software is asked (a scratch instance of the same version)
#: whether it leaves the line out; ``elided`` — the platform is known to leave defaults out of
#: its running config, but nothing can ask which lines are defaults (a missing line is called
#: ``rejected_line`` and the finding says defaults could not be consulted); ``none`` — the
#: platform has no configuration (a check-only target).
Defaults = Literal["oracle", "elided", "none"]


@dataclass(frozen=True, slots=True)
class SecretSyntax:
    """One statement that carries a secret: the regular expression of the words *before* the
    secret (``keep``, case-insensitive; optional qualifiers possessive, ``?+``, so that an
    already masked value is never re-read as a qualifier) and an example line holding
    :data:`EXAMPLE_SECRET` that the row must mask. The secret is the next whitespace-free token
    (or a quoted string)."""

    name: str
    keep: str
    example: str


@dataclass(frozen=True, slots=True)
class RefusalPattern:
    """One way the platform says that a configuration line was not applied. ``kind`` names it
    in findings; ``regex`` is searched in what the device printed for the line."""

    kind: str
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Platform:
    """One platform. Adding a platform is one of these plus its recorded test data
    (``tests/data/platforms/<name>/``); the contract suite (``tests/unit/platforms``) runs on
    every row."""

    name: str
    description: str
    #: NAPALM driver name (``napalm.get_network_driver``); ``None``: the platform has none
    napalm_driver: str | None = None
    #: Netmiko ``device_type`` (``netmiko.ssh_dispatcher.CLASS_MAPPER``)
    netmiko_device_type: str | None = None
    #: the configuration syntax family for comparison and remediation: ``"frr"`` (FRR's own
    #: tooling: indentation read here, ``frr-reload.py`` / napalm_frr remediation) or a
    #: hier_config ``Platform`` member name (``"CISCO_IOS"``, ``"JUNIPER_JUNOS"``, ...);
    #: ``None``: the platform has no configuration sdd-build manages (a check-only target)
    syntax: str | None = None
    #: the command that prints the whole running configuration (the Netmiko path's backup)
    backup_command: str | None = None
    #: running-config lines that change on their own (timestamps, banners of the show)
    volatile_prefixes: tuple[str, ...] = ()
    #: the statements that carry secrets (the masking stage masks every platform's rows)
    secrets: tuple[SecretSyntax, ...] = ()
    #: what the device prints for a configuration line it refused (first match names it)
    refusals: tuple[RefusalPattern, ...] = ()
    #: output lines that are not a refusal although a pattern above would match them
    session_noise: tuple[re.Pattern[str], ...] = ()
    #: the platform prints nothing for a configuration line it applied: any other output is a
    #: refusal (``unexpected_output``) even when no pattern names it
    silent_on_success: bool = False
    #: how the running config treats defaults (see :data:`Defaults`)
    defaults: Defaults = "elided"
    #: names the device in its running config (identity: group 1); NAPALM ``get_facts`` (or
    #: the Netmiko path's ``identity_command``) where the config has no such line
    hostname: re.Pattern[str] = HOSTNAME_LINE
    #: the command that prints the device's name when neither the config nor NAPALM can
    identity_command: str | None = None
    #: ``module:Class`` built around the open driver that asks the device's own software what
    #: it does with lines (dry-run validation, defaults it elides); see ``execute.device.Oracle``
    oracle: str | None = None
    #: NAPALM ``optional_args`` the engine sets for this platform (the user's own win)
    napalm_options: tuple[tuple[str, object], ...] = ()
    #: what the platform's NAPALM driver would refuse in a host's ``optional_args``, found
    #: before any device is contacted: ``(key, message)`` pairs (``validate`` locates them)
    check_options: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None
    #: the nornir connection plugin, when it is neither NAPALM's nor Netmiko's (test doubles)
    plugin: str | None = None
    #: other names the platform is known by in inventories (``cisco_ios``, ``arista_eos``, ...)
    aliases: tuple[str, ...] = field(default=())

    @property
    def connection(self) -> str:
        """The nornir connection plugin the default (``auto``) path uses: NAPALM where the
        platform has a driver, Netmiko otherwise."""
        if self.plugin is not None:
            return self.plugin
        return "napalm" if self.napalm_driver else "netmiko"

    @property
    def check_only(self) -> bool:
        """No configuration is managed on it: only command templates run (hosts)."""
        return self.syntax is None

    def refusal(self, output: str) -> str | None:
        """The kind of refusal ``output`` (what the device printed for one configuration line)
        shows, or ``None`` when it shows none. Session noise is left out line by line."""
        kept = "\n".join(
            line
            for line in output.replace("\r", "").splitlines()
            if line.strip() and not any(noise.match(line) for noise in self.session_noise)
        )
        if not kept:
            return None
        for pattern in self.refusals:
            if pattern.regex.search(kept):
                return pattern.kind
        return UNEXPECTED_OUTPUT if self.silent_on_success else None
