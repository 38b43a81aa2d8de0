"""NAPALM's bundled drivers load only when a platform needs them (a fresh interpreter each)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from sdd_build.execute.device import preload_drivers
preload_drivers({platforms!r})
import napalm
loaded = sorted(m for m in ("jnpr.junos", "pyeapi", "requests") if m in sys.modules)
print(",".join(loaded))
assert napalm.get_network_driver("frr").__name__ == "FRRDriver"
assert napalm.get_network_driver("junos").__name__ == "JunOSDriver"  # still resolvable later
assert "jnpr.junos" in sys.modules
"""


def _loaded(platforms: list[str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", CHECK.format(platforms=platforms)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_frr_build_executes_no_other_driver() -> None:
    assert _loaded(["frr"]) == ""


def test_a_bundled_platform_is_resolved_up_front() -> None:
    assert "jnpr.junos" in _loaded(["frr", "junos"]).split(",")
