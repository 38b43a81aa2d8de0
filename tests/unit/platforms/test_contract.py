"""The platform contract on recorded data, for every row of the registry (issue 13, items 2, 5).

Data: ``tests/data/platforms/<platform>/`` (SOURCE.md there: napalm's and hier_config's public
test data, recorded from real devices or written by their maintainers; FRR from our lab):

* ``running.cfg`` — a running config recorded from the platform;
* ``component.cfg`` — an intended config in the platform's syntax (written here);
* ``session/`` — a recorded NAPALM session replayed by NAPALM's ``mock`` driver;
* ``expected.json`` — the host names the config and the session give, and the secrets
  napalm's own sanitizer removes from the recorded config;
* ``hier_config/`` — running, generated, remediation and rollback configs from hier_config's
  circular-workflow fixtures (not for FRR: FRR remediates with its own ``frr-reload.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sdd_build.execute.device import DeviceSession
from sdd_build.execute.identity import hostname_in_config, read_identity
from sdd_build.platforms import SHIPPED, Platform
from sdd_build.platforms.configs import (
    config_paths,
    merged,
    predicted,
    remediation,
    rollback,
)
from sdd_build.secrets import MASK, Masker
from tests import platformkit

DATA = Path(__file__).resolve().parents[2] / "data" / "platforms"
CONFIGURED = [p for p in SHIPPED if not p.check_only]
FAMILIES = [p for p in CONFIGURED if (DATA / p.name / "hier_config").is_dir()]


def _ids(rows: list[Platform]) -> list[str]:
    return [p.name for p in rows]


def read(platform: Platform, name: str) -> str:
    return (DATA / platform.name / name).read_text()


def expected(platform: Platform) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(read(platform, "expected.json"))
    return data


def post_of(platform: Platform) -> tuple[str, str, str]:
    """(pre, post, component): the recorded config, and it with the component merged in."""
    pre, component = read(platform, "running.cfg"), read(platform, "component.cfg")
    return pre, merged(pre, component, platform), component


def test_every_configured_platform_has_recorded_data_and_a_source() -> None:
    for row in CONFIGURED:
        folder = DATA / row.name
        for name in ("running.cfg", "component.cfg", "expected.json", "SOURCE.md"):
            assert (folder / name).is_file(), f"{row.name}: {name} missing"
        assert (folder / "session" / "get_config.1").is_file(), row.name
        if row.syntax != "frr":
            assert (folder / "hier_config").is_dir(), f"{row.name}: hier_config fixtures"


@pytest.mark.parametrize("platform", CONFIGURED, ids=_ids(CONFIGURED))
def test_the_recorded_config_reads_as_a_hierarchy(platform: Platform) -> None:
    paths = config_paths(read(platform, "running.cfg"), platform)
    assert len(paths) >= 5
    shown = [p[-1] for p in paths]
    for prefix in platform.volatile_prefixes:
        assert not [s for s in shown if s.startswith(prefix)], prefix
    assert any(len(p) > 1 for p in paths) or platform.syntax == "JUNIPER_JUNOS"


@pytest.mark.parametrize("platform", CONFIGURED, ids=_ids(CONFIGURED))
def test_diff(platform: Platform) -> None:
    pre, post, component = post_of(platform)
    platformkit.check_diff(platform, pre, post, component)


@pytest.mark.parametrize("platform", CONFIGURED, ids=_ids(CONFIGURED))
def test_reconciliation_classes(platform: Platform) -> None:
    pre, post, component = post_of(platform)
    run = platformkit.offline_reconcile(platform)
    platformkit.check_reconciliation(platform, pre, post, component, run)
    platformkit.check_gone(platform, pre, post, component, run)


@pytest.mark.parametrize("platform", FAMILIES, ids=_ids(FAMILIES))
def test_remediation_is_hier_configs_recorded_one(platform: Platform) -> None:
    def fixture(kind: str) -> str:
        return read(platform, f"hier_config/{kind}.conf")

    running, generated = fixture("running"), fixture("generated")
    assert "\n".join(remediation(running, generated, platform)) == fixture("remediation").strip()
    assert "\n".join(rollback(running, generated, platform)) == fixture("rollback").strip()
    # applied as hier_config predicts, the remediation yields every intended line (hier_config's
    # Junos future() keeps deleted lines: a superset, as hier_config's own test says)
    assert set(config_paths(generated, platform)) <= set(predicted(running, generated, platform))


@pytest.mark.parametrize("platform", FAMILIES, ids=_ids(FAMILIES))
def test_remediation_of_the_recorded_config_sends_the_component(platform: Platform) -> None:
    pre, post, _component = post_of(platform)
    lines = remediation(pre, post, platform)
    added = platformkit.new_paths(platform, pre, post)
    # the new lines, under their stanzas (a stanza already there is named, not re-created)
    assert set(config_paths("\n".join(lines), platform)) == set(added) | {p[:1] for p in added}
    assert remediation(post, post, platform) == []


@pytest.mark.parametrize("platform", CONFIGURED, ids=_ids(CONFIGURED))
def test_masking_removes_what_napalms_sanitizer_removes(platform: Platform) -> None:
    secrets = expected(platform)["secrets"]
    assert secrets, "the recorded config carries no secret to mask"
    own = Masker(platform.name)
    for entry in secrets:
        masked = Masker(platform.name).mask(entry["line"])
        assert entry["secret"] not in masked, f"{platform.name}: {entry['line']}"
        assert MASK in masked
    whole = Masker().mask(read(platform, "session/get_config.1"))
    for entry in secrets:
        assert entry["secret"] not in whole
    text = read(platform, "running.cfg")
    masked_text = own.mask(text)
    # what masking may not touch: the device's name and the config's structure
    assert len(config_paths(masked_text, platform)) == len(config_paths(text, platform))
    name = expected(platform)["config_hostname"]
    if name:
        assert hostname_in_config(platform.name, masked_text) == name


@pytest.mark.parametrize("platform", CONFIGURED, ids=_ids(CONFIGURED))
def test_identity(platform: Platform) -> None:
    from napalm.base.mock import MockDriver

    want = expected(platform)
    assert (
        hostname_in_config(platform.name, read(platform, "running.cfg"))
        == (want["config_hostname"])
    )
    driver = MockDriver(
        "recorded", "", "", optional_args={"path": str(DATA / platform.name / "session")}
    )
    driver.open()
    session = DeviceSession(driver, platform, "recorded")
    running = session.backup()
    facts = json.loads(read(platform, "session/get_facts.1"))
    found = read_identity(driver, platform.name, running, serial=True, hardware=False)
    assert found.hostname == want["session_hostname"]
    assert found.serial_number == str(facts.get("serial_number") or "")


@pytest.mark.parametrize("platform", [p for p in SHIPPED if p.check_only], ids=str)
def test_a_check_only_platform_manages_no_configuration(platform: Platform) -> None:
    assert platform.syntax is None
    assert platform.backup_command is None
    assert platform.netmiko_device_type
    with pytest.raises(ValueError, match="no configuration"):
        config_paths("x", platform)
