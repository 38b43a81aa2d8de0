"""The lab providers by name: the one place that knows which providers exist.

``SDD_LAB_PROVIDER`` forces one; otherwise ``containerlab`` when that binary is on PATH, else
``netns``. A lab that is up keeps the provider its state file names. Implementations are
imported only when chosen (the namespace provider needs nothing of containerlab's, and back).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from sdd_build.errors import LabInputError, LabRuntimeError

if TYPE_CHECKING:
    from sdd_build.lab.provider import LabProvider

__all__ = ["DEFAULT", "PROVIDERS", "choose", "provider_named"]


def _netns() -> LabProvider:
    from sdd_build.lab.netns import NetnsProvider

    return NetnsProvider()


def _containerlab() -> LabProvider:
    from sdd_build.lab.clab import ContainerlabProvider, containerlab_path

    binary = containerlab_path()
    if binary is None:
        raise LabRuntimeError("containerlab is not on PATH (SDD_LAB_PROVIDER=containerlab)")
    return ContainerlabProvider(binary)


def _containerlab_available() -> bool:
    from sdd_build.lab.clab import containerlab_path

    return containerlab_path() is not None


#: name -> (factory, available on this machine without being forced), in order of preference
PROVIDERS: dict[str, tuple[Callable[[], LabProvider], Callable[[], bool]]] = {
    "containerlab": (_containerlab, _containerlab_available),
    "netns": (_netns, lambda: True),
}
DEFAULT = "netns"


def provider_named(name: str) -> LabProvider:
    if name not in PROVIDERS:
        raise LabInputError(f"unknown lab provider {name!r}: use {' or '.join(sorted(PROVIDERS))}")
    return PROVIDERS[name][0]()


def choose(recorded: str | None = None) -> LabProvider:
    """The provider of a lab: the one it is up with, else the forced one, else the first
    available."""
    forced = os.environ.get("SDD_LAB_PROVIDER", "").strip()
    if forced and forced not in PROVIDERS:
        raise LabInputError(f"SDD_LAB_PROVIDER={forced!r}: use {' or '.join(sorted(PROVIDERS))}")
    name = recorded or forced
    if not name:
        name = next((n for n, (_f, avail) in PROVIDERS.items() if avail()), DEFAULT)
    return provider_named(name)
