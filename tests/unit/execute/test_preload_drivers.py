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


def test_a_build_without_napalm_platforms_executes_no_bundled_driver() -> None:
    """nornir_napalm, registered by every build, imports napalm: its drivers stay deferred."""
    assert _loaded(["fake", "linux"]) == ""


def test_a_bundled_platform_is_resolved_up_front() -> None:
    assert "jnpr.junos" in _loaded(["frr", "junos"]).split(",")


DEFERRED_INVOKE = """
import sys, threading
from sdd_build.execute.device import preload_drivers
preload_drivers(["frr"])
assert "invoke" in sys.modules and "unittest.mock" not in sys.modules  # not executed yet
barrier, seen = threading.Barrier(8), []

def first_use():
    barrier.wait()  # eight threads ask at once: each sees the whole module
    import invoke
    seen.append(callable(invoke.run))

threads = [threading.Thread(target=first_use) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert seen == [True] * 8, seen
import paramiko  # ssh_config's 'Match exec' (the one user of invoke) behaves as before
config = paramiko.SSHConfig.from_text('Match exec "true"\\n  User bob\\n')
assert config.lookup("r1")["user"] == "bob"
print("ok")
"""


def test_invoke_executes_on_first_use_once_whichever_threads_ask() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", DEFERRED_INVOKE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
