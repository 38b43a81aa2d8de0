"""Linux hosts (``kind: linux`` lab nodes): check targets only. Command templates run on them
(Netmiko ``linux``); no configuration is managed, so no syntax, backup or remediation."""

from __future__ import annotations

import re

from sdd_build.platforms.common import KEY_VALUE
from sdd_build.platforms.model import Platform

__all__ = ["LINUX"]

LINUX = Platform(
    name="linux",
    description="Linux host (check target only)",
    netmiko_device_type="linux",
    secrets=(KEY_VALUE,),
    defaults="none",
    hostname=re.compile(r"^(\S+)\s*$", re.M),
    identity_command="hostname",
)
