"""No secret is ever written (issue "Trust I", item 9), on the real lab.

One secret of every kind is planted where secrets come from:

* in the routers' own configuration (vtysh, before anything runs): ``enable password``, an
  OSPF ``authentication-key``, a key chain ``key-string``, IS-IS ``area-password`` and
  ``domain-password``;
* in a template: a BGP ``neighbor ... password``, an ``snmp-server community`` (FRR refuses
  that line: the refused-line deviation path runs with the whole rendered config in its
  ``expected`` field);
* in design data: a secret design variable rendered into an interface ``description`` (no
  secret syntax around it: masked by value only), an OSPF ``message-digest-key`` from the
  inventory's group data (declared secret);
* the inventory's credentials (the lab's generated SSH/vtysh passwords).

Then every command a user runs: validate, plan (human and --json), approve, discover (--json
and the feasibility files), build with a refused line, build --json with a failing check and
rollback, a build as designed (baseline), build --check, drift (after a manual change that
carries a new key), diff, waive (its reason naming a secret), report, metrics, gates check,
audit verify. Every byte written is grepped: the whole repository tree, stdout and stderr of
every command, TMPDIR and the cache directory (private to the test). Zero hits. (The lab's own
runtime folder beside the topology, ``labs/clab-<lab>/``, holds the lab's generated
credentials by design: it is asserted to be git-ignored and is not sdd-build's record.)

It can fail: the secrets are on the routers (read back with vtysh) and in the pre-build
backups of the private state directory (outside the repository, 0700/0600), and ``plan
--show-secrets`` prints the rendered ones on stdout.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sdd_build import lab
from sdd_build.lab import LabHandle
from tests.lab.conftest import require_lab
from tests.labkit import copy_repo, private_triangle, running, sdd

pytestmark = pytest.mark.lab

DESIGN = "designs/ospf-underlay/solution-design.yaml"
SPEC = "designs/ospf-underlay/customer-spec.md"
TEMPLATE = "templates/frr/secrets.j2"
GROUPS = "inventory/groups.yaml"
TOPO = "labs/triangle.clab.yml"
NODES = ("r1", "r2", "r3")
SUBS = ("templates", "parsers", "inventory", "designs/ospf-underlay")

# where each secret comes from -> the secret (FRR limits an OSPF authentication key to 8)
DEVICE = {
    "enable password (router's own)": "Dev-Enable-1111",
    "OSPF authentication-key (router's own)": "DvAk4444",
    "key chain key-string (router's own)": "Dev-Key-6666",
    "IS-IS area-password (router's own)": "Dev-Isis-5555",
    "IS-IS domain-password (router's own)": "Dev-IsDom-5556",
}
RENDERED = {
    "BGP neighbor password (template, design var)": "Tpl-Bgp-2222",
    "OSPF message-digest-key (inventory group data, declared secret)": "Inv-Md5-3333",
    "secret design variable (in a description, no secret syntax)": "Design-Var-7777",
}
SNMP = {"SNMP community (template; FRR refuses the line)": "Snmp-Comm-9999"}
DRIFT = {"OSPF authentication-key (manual change before drift)": "DrftAk99"}

DEVICE_CONFIG = (
    "enable password Dev-Enable-1111",
    "key chain kc1",
    "key 1",
    "key-string Dev-Key-6666",
    "exit",
    "exit",
    "interface eth2",
    "ip ospf authentication-key DvAk4444",
    "exit",
    "router isis core",
    "area-password md5 Dev-Isis-5555",
    "domain-password clear Dev-IsDom-5556",
    "exit",
)

TEMPLATE_TEXT = """\
{# secrets under test: a BGP session password, an OSPF MD5 key, a secret in a description #}
router bgp {{ host.data.asn }}
{% for iface in host.data.interfaces %}
 neighbor {{ iface.address | peer_address }} remote-as {{ vars.asn[iface.peer] }}
 neighbor {{ iface.address | peer_address }} password {{ vars.bgp_password }}
{% endfor %}
exit
interface lo
 description site {{ vars.site_token }}
exit
interface {{ host.data.interfaces[0].name }}
 ip ospf message-digest-key 1 md5 {{ host.data.ospf_md5 }}
exit
"""
SNMP_LINE = "snmp-server community {{ vars.snmp_community }} ro\n"

COMPONENTS = """\
  - id: secrets-config
    kind: config_template
    description: BGP sessions with a password, an OSPF MD5 key, a site token.
    template: frr/secrets.j2

  - id: verify-secrets
    kind: command_template
    commands: ["show running-config"]
    depends_on: [secrets-config]
    acceptance:
      - id: AC-9
        covers: [REQ-1]
        description: The site token is configured.
        expect: {query: "@", contains: "{{ vars.site_token }}SUFFIX"}

"""


@dataclass
class Env:
    root: Path
    handle: LabHandle
    base: Path
    outputs: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {
            "TMPDIR": str(self.base / "tmp"),
            "SDD_STATE_DIR": str(self.base / "state"),
            "SDD_CACHE_DIR": str(self.base / "cache"),
            "XDG_CACHE_HOME": str(self.base / "cache"),
        }

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        res = sdd(self.root, *args, env=self.env)
        self.outputs.append((" ".join(args), res.stdout, res.stderr))
        assert res.returncode in ok, f"{' '.join(args)}: exit {res.returncode}\n{res.stderr}"
        return res.stdout


def _plant_inputs(root: Path, *, snmp: bool, check_suffix: str) -> None:
    (root / TEMPLATE).write_text(TEMPLATE_TEXT + (SNMP_LINE if snmp else ""))
    design = root / DESIGN
    text = (root.parent / "design.orig.yaml").read_text()
    text = text.replace(
        "components:\n",
        "vars:\n"
        "  asn: {r1: 65001, r2: 65002, r3: 65003}\n"
        "  bgp_password: Tpl-Bgp-2222\n"
        "  site_token: Design-Var-7777\n"
        "  snmp_community: Snmp-Comm-9999\n"
        "secrets: [bgp_password, site_token, ospf_md5]\n\n"
        "components:\n" + COMPONENTS.replace("SUFFIX", check_suffix),
        1,
    )
    steps = "    steps: [ospf-config, verify-ospf-neighbors,"
    assert steps in text
    text = text.replace(
        steps, "    steps: [secrets-config, verify-secrets, ospf-config, verify-ospf-neighbors,"
    )
    design.write_text(text)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    require_lab()
    os.environ["SDD_LAB_PROVIDER"] = "netns"
    base = tmp_path_factory.mktemp("secrets")
    for sub in ("tmp", "cache"):
        (base / sub).mkdir()
    root = base / "repo"
    copy_repo(root, SUBS)
    (base / "design.orig.yaml").write_text((root / DESIGN).read_text())
    groups = root / GROUPS
    groups.write_text(
        groups.read_text().replace(
            "    ospf_area:", "    ospf_md5: Inv-Md5-3333\n    ospf_area:", 1
        )
    )
    assert "Inv-Md5-3333" in groups.read_text()
    topo = private_triangle(root, prefix="sk")
    text = topo.read_text()
    assert "sdd.daemons: bgpd,ospfd,staticd\n" in text
    # IS-IS and key chains need their daemons (isisd, ripd shows key chains)
    topo.write_text(
        text.replace(
            "sdd.daemons: bgpd,ospfd,staticd\n", "sdd.daemons: bgpd,ospfd,staticd,isisd,ripd\n"
        )
    )
    handle = lab.up(topo, wait=False, timeout=90)
    try:
        for node in NODES:
            handle.hosts[node].vtysh("configure terminal", *DEVICE_CONFIG)
        yield Env(root, handle, base)
    finally:
        lab.down(topo)


def _records(root: Path) -> list[Path]:
    return sorted((root / "designs/ospf-underlay/builds").glob("*/as-built.json"))


def _classes(record: Path) -> set[str]:
    return {d["class"] for d in json.loads(record.read_text())["deviations"]}


def _hits(data: bytes, secrets: dict[str, str]) -> list[str]:
    return [kind for kind, value in secrets.items() if value.encode() in data]


def test_no_secret_in_any_byte_written(planted: Env) -> None:
    env, root, handle = planted, planted.root, planted.handle
    lab_credentials = {
        f"inventory credential of {name} ({attr})": getattr(host, attr)
        for name, host in handle.hosts.items()
        for attr in ("password", "shell_password")
        if getattr(host, attr, None)
    }
    assert lab_credentials, "the lab inventory has no credentials to look for"
    secrets = {**DEVICE, **RENDERED, **SNMP, **DRIFT, **lab_credentials}

    # --- the secrets are real: on the routers, in the rendered plan when asked for ---------
    for node in NODES:
        config = running(handle, node)
        for value in DEVICE.values():
            assert value in config, f"{node} does not run its planted secret {value}"

    _plant_inputs(root, snmp=True, check_suffix="-absent")
    env.run("validate", DESIGN, "--lab", TOPO)
    env.run("plan", DESIGN, "--lab", TOPO)
    env.run("plan", DESIGN, "--lab", TOPO, "--json")
    shown = sdd(root, "plan", DESIGN, "--lab", TOPO, "--host", "r1", "--show-secrets", env=env.env)
    assert shown.returncode == 0, shown.stderr
    for value in (*RENDERED.values(), *SNMP.values()):
        assert value in shown.stdout, f"--show-secrets does not show {value}"
    env.outputs.append(("plan --show-secrets (stderr only)", "", shown.stderr))

    # --- Gate 1, discover (every section of the running configs) --------------------------
    env.run("approve", SPEC, "--gate", "spec", "--by", "a.lead")
    env.run("discover", DESIGN, "--lab", TOPO)
    every_section = env.run("discover", SPEC, "--lab", TOPO, "--group", "core", "--json")
    assert "key chain kc1" in every_section  # the sections holding secrets were shown, masked
    assert "<redacted>" in (root / "designs/ospf-underlay/feasibility.md").read_text()

    # --- build 1: FRR refuses the SNMP line -> deviation with the rendered config, rollback --
    env.run("approve", DESIGN, "--gate", "design", "--by", "a.lead")
    env.run("build", DESIGN, "--lab", TOPO, ok=(1,))
    first = _records(root)[-1]
    assert _classes(first) & {"apply_failed", "rejected_line"}, _classes(first)
    assert "snmp-server community <redacted>" in first.read_text()

    # --- build 2 (--json events): the check fails, the hosts are rolled back ---------------
    _plant_inputs(root, snmp=False, check_suffix="-absent")
    env.run("approve", DESIGN, "--gate", "design", "--by", "a.lead")
    env.run("build", DESIGN, "--lab", TOPO, "--json", ok=(1,))
    second = _records(root)[-1]
    assert "acceptance_failed" in _classes(second)
    assert _classes(second) & {"rolled_back", "rollback_failed"}

    # --- build 3: as designed, baseline written; then a dry run -----------------------------
    _plant_inputs(root, snmp=False, check_suffix="")
    env.run("approve", DESIGN, "--gate", "design", "--by", "a.lead")
    env.run("build", DESIGN, "--lab", TOPO)
    third = _records(root)[-1]
    assert json.loads(third.read_text())["result"] == "as_designed"
    assert (root / "designs/ospf-underlay/baseline.json").is_file()
    r1 = running(handle, "r1")
    for line in (
        "neighbor 10.1.12.1 password Tpl-Bgp-2222",
        "description site Design-Var-7777",
        "ip ospf message-digest-key 1 md5 Inv-Md5-3333",
        "enable password Dev-Enable-1111",
        "key-string Dev-Key-6666",
    ):
        assert line in r1, f"r1 does not run '{line}'"
    env.run("build", DESIGN, "--lab", TOPO, "--check", ok=(0, 1))

    # --- day 2: drift after a manual change carrying a new key, diff, waive, reports --------
    handle.hosts["r1"].vtysh(
        "configure terminal", "interface eth1", "ip ospf authentication-key DrftAk99", "exit"
    )
    env.run("drift", DESIGN, "--lab", TOPO, ok=(1,))
    env.run("drift", DESIGN, "--lab", TOPO, "--json", ok=(1,))
    env.run("diff", DESIGN)
    env.run("diff", DESIGN, "--json")
    env.run(
        "waive",
        DESIGN,
        "--check",
        "AC-9",
        "--by",
        "a.lead",
        "--reason",
        "token Design-Var-7777 rotates weekly",
    )
    for record in _records(root):
        env.run("report", str(record.parent))
        env.run("report", str(record.parent), "--format", "json")
    env.run("metrics", "designs")
    env.run("metrics", "designs", "--json")
    env.run("gates", "check", DESIGN, ok=(0, 3))
    env.run("audit", "verify")

    # --- every byte written -----------------------------------------------------------------
    inputs = {
        root / TEMPLATE: (root / TEMPLATE).read_bytes(),
        root / DESIGN: (root / DESIGN).read_bytes(),
        root / GROUPS: (root / GROUPS).read_bytes(),
    }
    # The lab's own folder beside the topology (labs/clab-<lab>/: its generated SSH/vtysh
    # credentials and host key, 0700/0600, removed by `lab down`) is runtime state of the
    # lab, not something sdd-build records: git never records it.
    lab_dir = root / "labs" / f"clab-{handle.name}"
    assert (lab_dir / ".gitignore").read_text().splitlines()[-1] == "*"
    assert subprocess.run(["git", "init", "-q", str(root)], check=False, timeout=30).returncode == 0
    ignored = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "-q", str(lab_dir / "inventory/hosts.yaml")],
        check=False,
        timeout=30,
    )
    assert ignored.returncode == 0, "the lab's credentials would be committed"
    found: list[str] = []
    scanned = 0
    # sdd-build's own scratch FRR instances (dry run, defaults) get candidate lines: nothing of
    # them may stay on disk either
    scratch = [*Path("/run/frr").glob("sddscr*"), *Path("/etc/frr").glob("sddscr*")]
    for folder in (root, env.base / "tmp", env.base / "cache", *scratch):
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            if lab_dir in path.parents or ".git" in path.relative_to(folder).parts:
                continue
            data = path.read_bytes()
            scanned += 1
            if path in inputs:
                assert data == inputs[path], f"sdd-build rewrote an input: {path}"
                continue
            where = path.relative_to(env.base) if env.base in path.parents else path
            found += [f"{where}: {kind}" for kind in _hits(data, secrets)]
    for command, out, err in env.outputs:
        found += [f"stdout of `{command}`: {k}" for k in _hits(out.encode(), secrets)]
        found += [f"stderr of `{command}`: {k}" for k in _hits(err.encode(), secrets)]
    assert not found, "secrets written:\n" + "\n".join(found)
    assert scanned > 100, scanned  # evidence, records, reports, journals, approvals, audit
    assert (root / "audit/audit.jsonl").is_file()
    assert len(_records(root)) >= 3

    # --- what must hold real secrets: the backups, outside the repository, private --------
    state = env.base / "state"
    backups = sorted(state.rglob("pre-build.cfg"))
    assert backups, "no pre-build backup in the private state directory"
    assert any(b"enable password Dev-Enable-1111" in b.read_bytes() for b in backups)
    for path in backups:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        current = path.parent
        while current != state.parent:
            assert stat.S_IMODE(current.stat().st_mode) == 0o700, current
            current = current.parent
    assert not list(root.rglob("pre-build.cfg"))
    assert not list(root.rglob("private"))
