"""Leftovers of a killed build's scratch FRR instance are removed by the next one, also when
only the instance's config folder is left (``/etc/frr/sddscr<pid>x<n>``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from napalm_frr import scratch


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_config_folder_left_alone_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc, run = tmp_path / "etc", tmp_path / "run"
    etc.mkdir()
    run.mkdir()
    monkeypatch.setattr(scratch, "FRR_ETC", etc)
    monkeypatch.setattr(scratch, "FRR_RUN", run)
    calls: list[list[str]] = []

    def fake_run(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(scratch.subprocess, "run", fake_run)
    dead = etc / f"sddscr{_dead_pid()}x0"
    alive = etc / "sddscr1x0"  # pid 1 runs: its instance is in use
    lab = etc / "clab-triangle-r1"  # not a scratch instance: never touched
    for folder in (dead, alive, lab):
        folder.mkdir()
        (folder / "frr.conf").write_text("hostname x\n")
    scratch._remove_orphans()
    assert not dead.exists()
    assert alive.exists()
    assert lab.exists()
    assert ["ip", "netns", "del", dead.name] in calls
