"""The FRR driver's (``napalm_frr``) ``optional_args``, checked without a device and without
importing NAPALM.

``napalm_frr.frr.FRRDriver`` refuses what :func:`problems` finds when it is created; the FRR
row's ``check_options`` is the same function, which ``validate`` asks of every FRR host of an
inventory before any device is contacted: a misspelt ``ssh_client`` or ``login`` is one
located error (exit 2), not a deviation per host at connect time.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any

__all__ = [
    "LOGIN_STYLES",
    "OWN_OPTIONAL_ARGS",
    "SSH_CLIENTS",
    "netmiko_args",
    "passed_to_netmiko",
    "problems",
]

LOGIN_STYLES = ("vtysh", "shell")
#: ``ssh_client``: ``libssh`` (C, no thread per session; password logins), ``netmiko``
#: (paramiko; every Netmiko option), or ``auto``: libssh for a vtysh login when no Netmiko option
#: is given and ``ssh-python`` imports, Netmiko otherwise. A shell login is always Netmiko's.
SSH_CLIENTS = ("auto", "libssh", "netmiko")
#: the driver's own ``optional_args`` (every other one Netmiko takes is passed to Netmiko)
OWN_OPTIONAL_ARGS = (
    "login",
    "vtysh_instance",
    "frr_instance",
    "shell_username",
    "shell_password",
    "port",
    "timeout",
    "state_dir",
    "strict",
    "running_cache_s",
    "verify_commit",
    "ssh_client",
)
#: timeouts NAPALM's helpers pass to Netmiko themselves; the driver keeps them off Netmiko too
_NOT_PASSED = ("conn_timeout", "auth_timeout", "banner_timeout")


@functools.cache
def _netmiko_arg_names() -> frozenset[str]:
    """The optional arguments Netmiko's connections take, but those NAPALM passes itself:
    what napalm's ``netmiko_helpers.netmiko_args`` keeps, asked of ``inspect`` once per
    process (it asks on every call: ~1 ms of CPU per login)."""
    from netmiko import BaseConnection

    names = inspect.getfullargspec(BaseConnection.__init__).args[1:]
    return frozenset(names) - {"ip", "host", "username", "password", "device_type", "timeout"}


def netmiko_args(optional_args: Mapping[str, Any]) -> dict[str, Any]:
    """The Netmiko arguments among NAPALM ``optional_args``."""
    names = _netmiko_arg_names()
    return {k: v for k, v in optional_args.items() if k in names}


def passed_to_netmiko(optional_args: Mapping[str, Any]) -> dict[str, Any]:
    """What a Netmiko session of the driver is given besides host, port and credentials."""
    if not set(optional_args) - set(OWN_OPTIONAL_ARGS):
        return {}  # nothing but the driver's own: Netmiko need not even be imported
    extra = netmiko_args(optional_args)
    for key in (*OWN_OPTIONAL_ARGS, *_NOT_PASSED):
        extra.pop(key, None)
    return extra


def problems(optional_args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What the driver would refuse in ``optional_args``: ``(key, message)`` pairs."""
    found: list[tuple[str, str]] = []
    login = str(optional_args.get("login", "vtysh"))
    if login not in LOGIN_STYLES:
        found.append(("login", f"login must be one of {LOGIN_STYLES}, not {login!r}"))
    client = str(optional_args.get("ssh_client", "auto"))
    if client not in SSH_CLIENTS:
        found.append(("ssh_client", f"ssh_client must be one of {SSH_CLIENTS}, not {client!r}"))
    elif client == "libssh":
        extra = passed_to_netmiko(optional_args)
        if extra or login == "shell":
            given = ", ".join(sorted(extra)) or "login shell"
            found.append(
                (
                    "ssh_client",
                    "ssh_client libssh takes a vtysh login with a password and no Netmiko "
                    f"options (given: {given}): use ssh_client netmiko",
                )
            )
    return found
