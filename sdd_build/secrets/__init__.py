"""secrets: no secret is ever written — one masking stage between sdd-build and the world.

* ``syntax`` — the platforms' secret syntax as data (FRR: passwords, enable secrets, BGP/LDP
  neighbor passwords, OSPF MD5 and authentication keys, OSPFv3 keys, IS-IS passwords, key
  chain key-strings, RIP authentication strings, SNMP communities, ...) and the structured key
  names whose values are secret;
* ``masker`` — the process's ``Masker``: that syntax plus every literal secret registered
  where it enters (inventory credentials, design variables declared secret) or learnt from the
  syntax, masked in every encoding we write;
* ``sink`` — the only writer of artifact files and of stdout/stderr, built on the masker.

Guaranteed: every file sdd-build writes into the repository, every line it prints, every
journal entry and every approval/audit record passes the masker (a test fails the build of
the package on any other writer). Pre-build backups, which must hold the device's secrets to
restore it, are written only to the private state directory (``execute/private.py``).
Not guaranteed: a secret shorter than ``MIN_LITERAL`` characters outside its config syntax, a
secret transformed before it is written (hashed, base64-encoded, split), or secrecy against
root on the build machine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sdd_build.secrets.masker import MASK, MIN_LITERAL, Masker, masker, reset_masker
from sdd_build.secrets.syntax import SYNTAX, SecretSyntax, is_secret_key

__all__ = [
    "MASK",
    "MIN_LITERAL",
    "SYNTAX",
    "Masker",
    "SecretSyntax",
    "is_secret_key",
    "learn_secrets",
    "mask",
    "mask_data",
    "masker",
    "register_secret_names",
    "register_secrets",
    "reset_masker",
]


def register_secrets(values: Iterable[object]) -> None:
    """Mask these values (strings, numbers, containers walked) in everything written."""
    masker().add_literals(values)


def register_secret_names(names: Iterable[str]) -> None:
    """Values under these keys are secret wherever they appear in structured data."""
    masker().add_names(names)


def learn_secrets(data: Any) -> None:
    """Register the values under secret keys (``password``, declared names, ...) in ``data``."""
    masker().learn(data)


def mask(text: str) -> str:
    return masker().mask(text)


def mask_data(data: Any) -> Any:
    return masker().mask_data(data)
