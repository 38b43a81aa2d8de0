"""The driver picks Netmiko's arguments out of NAPALM ``optional_args`` as napalm's own helper
does, without asking ``inspect`` on every login."""

from __future__ import annotations

import inspect
import random

from napalm.base.netmiko_helpers import netmiko_args as napalms
from netmiko import BaseConnection

from sdd_build.platforms.frr_options import netmiko_args


def test_the_same_arguments_as_napalms_helper() -> None:
    netmiko = inspect.getfullargspec(BaseConnection.__init__).args[1:]
    ours = ["frr_instance", "login", "shell_username", "strict", "verify_commit", "running_cache_s"]
    rng = random.Random(7)
    for _ in range(200):
        keys = rng.sample(netmiko + ours, rng.randint(0, 12))
        args = {k: rng.choice([1, "x", None, True]) for k in keys}
        assert netmiko_args(dict(args)) == napalms(dict(args))
    everything = dict.fromkeys(netmiko + ours, 1)
    assert netmiko_args(everything) == napalms(dict(everything))
    # what NAPALM passes itself is never passed twice
    assert not {"host", "username", "password", "device_type", "timeout"} & set(
        netmiko_args(everything)
    )
