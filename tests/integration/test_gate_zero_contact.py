"""Every gate refusal happens with zero device contact (proven with a listening socket).

The inventory points every host at one TCP listener on loopback that counts connections. A
refused build must exit 3 and leave the count at 0; the positive control (an approved design)
shows that a build that is allowed to run does connect, so the counter can see contact.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE, CliRun

D = f"{EXAMPLE}/solution-design.yaml"
S = f"{EXAMPLE}/customer-spec.md"


class Listener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture
def repo(example_repo: Path, listener: Listener) -> Path:
    hosts_file = example_repo / "inventory/hosts.yaml"
    hosts = yaml.safe_load(hosts_file.read_text())
    for entry in hosts.values():
        entry["hostname"] = "127.0.0.1"
        entry["port"] = listener.port
        entry["username"] = "nobody"
        entry["password"] = "not-a-real-secret"
    hosts_file.write_text(yaml.safe_dump(hosts))
    design = example_repo / D
    design.write_text(design.read_text().replace("timeout_s: 30\n", "timeout_s: 3\n"))
    return example_repo


def _approve(cli: CliRun, root: Path, *, design: bool = True) -> None:
    assert cli("approve", root / S, "--gate", "spec", "--by", "a.lead").exit_code == 0
    if design:
        res = cli("approve", root / D, "--gate", "design", "--by", "a.lead")
        assert res.exit_code == 0, res.output


def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        path = root / rel
        path.write_text(path.read_text().replace(old, new, 1))

    return mutate


REFUSALS: list[tuple[str, Callable[[CliRun, Path], None], str]] = [
    ("unapproved-design", lambda cli, root: _approve(cli, root, design=False), "design"),
    ("nothing-approved", lambda cli, root: None, "spec"),
    (
        "design-edited-after-approval",
        lambda cli, root: (_approve(cli, root), _edit(D, "workers: 20", "workers: 21")(root)),
        "solution-design.yaml",
    ),
    (
        "template-edited-after-approval",
        lambda cli, root: (
            _approve(cli, root),
            _edit(
                "templates/frr/ospf_process.j2",
                "log-adjacency-changes",
                "log-adjacency-changes detail",
            )(root),
        ),
        "templates/frr/ospf_process.j2",
    ),
    (
        "spec-edited-after-approval",
        lambda cli, root: (_approve(cli, root), _edit(S, "OSPF underlay", "OSPF  underlay")(root)),
        "customer-spec.md",
    ),
]


@pytest.mark.parametrize(("case", "prepare", "names"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_gate_refusal_contacts_no_device(
    case: str,
    prepare: Callable[[CliRun, Path], None],
    names: str,
    repo: Path,
    listener: Listener,
    cli: CliRun,
) -> None:
    prepare(cli, repo)
    result = cli("build", repo / D)
    assert result.exit_code == 3, f"{case}: {result.output}"
    assert names in result.stderr
    assert "Traceback" not in result.output
    assert listener.accepted == 0
    assert not (repo / EXAMPLE / "builds").exists() or not any(
        (repo / EXAMPLE / "builds").iterdir()
    )


def test_unsigned_approval_where_signatures_are_required(
    repo: Path, listener: Listener, cli: CliRun, tmp_path: Path
) -> None:
    key = tmp_path / "lead.key"
    gen = cli("keys", "generate", "--out", key)
    assert gen.exit_code == 0, gen.output
    public = gen.stdout.strip().splitlines()[-1]
    _approve(cli, repo)  # unsigned
    (repo / "approvers.yaml").write_text(
        "require_signatures: true\nfour_eyes: true\napprovers:\n"
        f"  - {{name: a.lead, public_key: '{public}', gates: [spec, design]}}\n"
    )
    result = cli("build", repo / D)
    assert result.exit_code == 3
    assert "sign" in result.stderr
    assert listener.accepted == 0


def test_forged_signed_approval(
    repo: Path, listener: Listener, cli: CliRun, tmp_path: Path
) -> None:
    key = tmp_path / "lead.key"
    gen = cli("keys", "generate", "--out", key)
    public = gen.stdout.strip().splitlines()[-1]
    other = cli("keys", "generate", "--out", tmp_path / "mallory.key")
    mallory = other.stdout.strip().splitlines()[-1]
    (repo / "approvers.yaml").write_text(
        "require_signatures: true\nfour_eyes: true\napprovers:\n"
        f"  - {{name: a.lead, public_key: '{public}', gates: [spec, design]}}\n"
        f"  - {{name: mallory, public_key: '{mallory}', gates: [spec, design]}}\n"
    )
    for artifact, gate in ((S, "spec"), (D, "design")):
        res = cli("approve", repo / artifact, "--gate", gate, "--by", "a.lead", "--key", key)
        assert res.exit_code == 0, res.output
    record = repo / EXAMPLE / "approvals/design.json"
    record.write_text(record.read_text().replace('"approver": "a.lead"', '"approver": "mallory"'))
    result = cli("build", repo / D)
    assert result.exit_code == 3, result.output
    assert "signature" in result.stderr
    assert listener.accepted == 0


def test_positive_control_an_approved_build_does_connect(
    repo: Path, listener: Listener, cli: CliRun
) -> None:
    _approve(cli, repo)
    result = cli("build", repo / D)
    # The listener is no SSH server: the build reaches it, records unreachable hosts, exits 1.
    assert result.exit_code == 1, result.output
    assert listener.accepted >= 3


def test_a_driver_option_the_driver_would_refuse_contacts_no_device(
    repo: Path, listener: Listener, cli: CliRun, tmp_path: Path
) -> None:
    """Connection data given at build time (``--inventory``, not bound by the approval) gives a
    host an ``ssh_client`` its driver refuses: the approved build stops at validation (exit 2,
    the host and the key named), before any device is contacted and before a build folder
    exists. (In the design's own inventory, approving the design already refuses it.)"""
    _approve(cli, repo)
    hosts = yaml.safe_load((repo / "inventory/hosts.yaml").read_text())
    connections = {
        name: {k: entry[k] for k in ("hostname", "port", "username", "password")}
        for name, entry in hosts.items()
    }
    connections["r2"]["connection_options"] = {
        "napalm": {"extras": {"optional_args": {"ssh_client": "ssh2"}}}
    }
    conn_dir = tmp_path / "connections"
    conn_dir.mkdir()
    (conn_dir / "hosts.yaml").write_text(yaml.safe_dump(connections))
    result = cli("build", repo / D, "--inventory", conn_dir)
    assert result.exit_code == 2, result.output
    assert "host r2: ssh_client must be one of" in result.stderr
    assert "Traceback" not in result.output
    assert listener.accepted == 0
    assert not (repo / EXAMPLE / "builds").exists() or not any(
        (repo / EXAMPLE / "builds").iterdir()
    )
