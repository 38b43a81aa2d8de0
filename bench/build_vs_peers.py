"""Speed: the governed build against its peers on the same N FRR routers (root).

    python bench/build_vs_peers.py --routers 30
    python bench/build_vs_peers.py --routers 3 [--runs 3] [--ansible-runs 1] [--skip-ansible]

Every tool does the same device work on every router: push the same 5 config lines (rendered
from one Jinja2 template), run ``show ip ospf neighbor`` (parsed with the repository's TextFSM
template) and ``show version``. sdd-build does more on top (gates, offline layer, backup, diff,
commit, acceptance check, reconciliation, evidence, as-built record, audit).

The bench generates, in a temporary folder, an N-router ring (``sdd_build.lab.generate``), a
bench repository (inventory, template, parser, spec, design) approved through the CLI, and
brings the lab up once under the name ``bench-b2p-<N>``. Then, interleaved run by run, each
tool runs as a subprocess (so its whole process is measured: interpreter start, imports, work,
exit):

1. ``sdd-build build <design> --lab <topology>``;
2. a plain Nornir + nornir_netmiko script (``bench/peers/nornir_plain.py``, threaded, N workers);
3. a serial Netmiko loop (``bench/peers/netmiko_serial.py``);
4. Ansible (``bench/peers/ansible_playbook.yml``: network_cli, cisco.ios, forks=N) from a venv
   under /tmp (``--ansible-venv``; created with pip if missing).

Before each run the 5 lines are removed from every router (vtysh, locally) and their absence
verified; after it, their presence on every router is verified from ``show running-config``.
Every tool runs with its Python modules' bytecode compiled, as an installed tool does
(``installed_python_env``). Wall time is the median of the runs; peak memory is the highest
sum of RSS over the process tree (sampled from /proc every 50 ms; the bench is a child
subreaper so daemonised children, e.g. ansible-connection, stay in the tree); CPU is user+sys
of the tree. Results go to ``bench/results/build_vs_peers-<N>-<date>.json``.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sdd_build import lab
from sdd_build.lab.generate import write_ring

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / "peers"
RESULTS = HERE / "results"
TEXTFSM = REPO / "parsers" / "frr" / "show_ip_ospf_neighbor.textfsm"

# Exactly 5 configuration lines; FRR 8.4 stores each of them as given.
TEMPLATE = """\
interface lo
 description sdd-bench {{ host.name }}
ip prefix-list SDD-BENCH seq 5 permit {{ host.data.loopback }}
route-map SDD-BENCH permit 10
 match ip address prefix-list SDD-BENCH
"""
RESET = (
    "configure terminal",
    "no route-map SDD-BENCH permit 10",
    "no ip prefix-list SDD-BENCH",
    "interface lo",
    "no description",
)
SHOWS = ("show ip ospf neighbor", "show version")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
SAMPLE_S = 0.05
PSS_EVERY = 5  # PSS every 5th sample (250 ms)


# ----- the bench repository ------------------------------------------------------------------


def loopback(host: str) -> str:
    i = int(host[1:])
    return f"10.0.{i // 256}.{i % 256}/32"


def expected_lines(host: str) -> list[str]:
    return [
        "interface lo",
        f" description sdd-bench {host}",
        f"ip prefix-list SDD-BENCH seq 5 permit {loopback(host)}",
        "route-map SDD-BENCH permit 10",
        " match ip address prefix-list SDD-BENCH",
    ]


def host_vars(hosts: list[str], n: int) -> dict[str, dict[str, Any]]:
    peers = 1 if n == 2 else 2
    return {h: {"loopback": loopback(h), "ospf_peers": peers} for h in hosts}


def write_repo(root: Path, hosts: list[str], n: int) -> Path:
    """A repository sdd-build validates: inventory (design data), template, parser, spec,
    design. Returns the design path."""
    (root / "inventory").mkdir(parents=True)
    (root / "templates" / "bench").mkdir(parents=True)
    (root / "parsers" / "frr").mkdir(parents=True)
    design_dir = root / "designs" / "bench-5-lines"
    design_dir.mkdir(parents=True)
    data = host_vars(hosts, n)
    inv = {h: {"hostname": "127.0.0.1", "groups": ["bench"], "data": data[h]} for h in hosts}
    (root / "inventory" / "hosts.yaml").write_text(json.dumps(inv, indent=1))  # JSON is YAML
    (root / "inventory" / "groups.yaml").write_text(json.dumps({"bench": {"data": {}}}))
    (root / "inventory" / "defaults.yaml").write_text(json.dumps({"platform": "frr"}))
    (root / "templates" / "bench" / "five_lines.j2").write_text(TEMPLATE)
    shutil.copyfile(TEXTFSM, root / "parsers" / "frr" / TEXTFSM.name)
    (design_dir / "customer-spec.md").write_text(
        "# Bench: five lines\n\n## Requirements\n\n"
        "- REQ-1: Every router keeps a Full OSPF adjacency with each ring neighbour after "
        "the change.\n"
    )
    import hashlib

    digest = hashlib.sha256(TEXTFSM.read_bytes()).hexdigest()
    design = {
        "design": "bench-5-lines",
        "version": 1,
        "author": "bench.author",
        "spec": "customer-spec.md",
        "targets": {"groups": ["bench"]},
        "components": [
            {"id": "five-lines", "kind": "config_template", "template": "bench/five_lines.j2"},
            {
                "id": "ospf-neighbors",
                "kind": "parser",
                "engine": "textfsm",
                "template": f"frr/{TEXTFSM.name}",
                "reuse": {"asset": f"parsers/frr/{TEXTFSM.name}", "sha256": digest},
            },
            {
                "id": "verify",
                "kind": "command_template",
                "commands": list(SHOWS),
                "parser": "ospf-neighbors",
                "depends_on": ["five-lines", "ospf-neighbors"],
                "acceptance": [
                    {
                        "id": "AC-1",
                        "covers": ["REQ-1"],
                        "expect": {
                            "query": "length([?state=='Full'])",
                            "gte": "{{ host.data.ospf_peers }}",
                        },
                    }
                ],
            },
        ],
        "build": {"strategy": "merge", "rollback": "on_failure", "workers": max(1, n)},
    }
    path = design_dir / "solution-design.yaml"
    path.write_text(json.dumps(design, indent=1))
    return path


def sdd_build_argv() -> list[str]:
    """The console script installed beside this interpreter (the one the peers run with), not a
    version-manager shim on PATH (pyenv's costs ~0.1 s per start that no peer pays)."""
    exe = Path(sys.executable).parent / "sdd-build"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sdd_build"]


def approve(design: Path) -> None:
    for artifact, gate in ((design.parent / "customer-spec.md", "spec"), (design, "design")):
        proc = subprocess.run(
            [*sdd_build_argv(), "approve", str(artifact), "--gate", gate, "--by", "bench.approver"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"approve {gate} failed:\n{proc.stdout}{proc.stderr}")


# ----- routers: reset and verify (out of band, vtysh -N locally) ----------------------------


def _each(handle: lab.LabHandle, fn: Any) -> dict[str, Any]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(handle.hosts, pool.map(fn, handle.hosts.values()), strict=True))


def present_lines(running: str, host: str) -> int:
    """How many of the 5 expected lines the running config holds, each in its context."""
    blocks: dict[str, list[str]] = {}
    top = ""
    for line in running.splitlines():
        if not line.strip() or line.startswith("!"):
            continue
        if line.startswith(" "):
            blocks.setdefault(top, []).append(line.rstrip())
        else:
            top = line.rstrip()
            blocks.setdefault(top, [])
    want = expected_lines(host)
    found = 0
    for parent, child in ((want[0], want[1]), (want[3], want[4])):
        if parent in blocks:
            found += 1
            found += child in blocks[parent]
    found += want[2] in blocks
    return found


def count_present(handle: lab.LabHandle) -> dict[str, int]:
    return _each(handle, lambda node: present_lines(node.vtysh("show running-config"), node.name))


def reset(handle: lab.LabHandle) -> None:
    _each(handle, lambda node: node.vtysh(*RESET, check=False))
    left = {h: c for h, c in count_present(handle).items() if c > 1}  # "interface lo" stays
    if left:
        raise SystemExit(f"reset failed, bench lines left on {left}")


# ----- measuring a process tree -------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids.extend(int(x) for x in fh.read().split())
    except OSError:
        pass
    return kids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages split between the processes sharing them, so a
    fork-heavy tool (Ansible) is not counted once per fork as an RSS sum counts it."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _tree(roots: list[int]) -> set[int]:
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(_children(pid))
    return seen


@dataclass
class Measured:
    wall_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    cpu_s: float
    rc: int
    stdout: str
    stderr: str
    lines: list[tuple[float, str]] = field(default_factory=list)  # stderr lines, timestamped
    #: CPU of lab router logins reparented to this subreaper (see :data:`LAB_LOGIN_NAMES`)
    lab_cpu_s: float = 0.0


#: called with "start" right before a measured tool starts and with "end" right after it exits
#: (``scale_curve``'s machine CPU split: not the checks that follow a run); none by default
MEASURE_HOOKS: list[Callable[[str], None]] = []


#: What a lab router's SSH login leaves when its sshd session process ends before it: its
#: vtysh or shell. This bench is the subreaper of the labs it brings up, so those orphans come
#: to it while a tool runs: they are the routers' CPU and memory (``machine_cpu``'s logins),
#: not the tool's. The tools under test start none of these.
LAB_LOGIN_NAMES = frozenset({"vtysh", "bash", "sshd", "sshd-session"})


def proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(name, own ticks, reaped children's ticks) of a process, ``None`` once it is gone (a
    zombie's are still there until it is reaped)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    f = text[text.rindex(")") + 2 :].split()
    return name, int(f[11]) + int(f[12]), int(f[13]) + int(f[14])


def _name(pid: int) -> str:
    stat = proc_stat(pid)
    return stat[0] if stat else ""


def measure(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> Measured:
    """Run ``argv``; wall, peak RSS sum of its process tree (plus orphans re-parented to this
    subreaper), CPU of the tree. stderr lines are timestamped as they arrive."""
    me = os.getpid()
    for hook in MEASURE_HOOKS:
        hook("start")
    baseline = set(_children(me))
    lines: list[tuple[float, str]] = []
    out_chunks: list[str] = []
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.perf_counter() - t0, line.rstrip("\n")))

    def read_out() -> None:
        assert proc.stdout is not None
        out_chunks.append(proc.stdout.read())

    readers = [
        threading.Thread(target=read_err, daemon=True),
        threading.Thread(target=read_out, daemon=True),
    ]
    for r in readers:
        r.start()
    peak_kb = peak_pss_kb = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_kb, peak_pss_kb
        tick = 0
        while not done.is_set():
            roots = [proc.pid] + [
                p for p in _children(me) if p not in baseline and _name(p) not in LAB_LOGIN_NAMES
            ]
            tree = _tree(roots)
            peak_kb = max(peak_kb, sum(_rss_kb(p) for p in tree))
            if tick % PSS_EVERY == 0:  # smaps_rollup walks page tables: sample it less often
                peak_pss_kb = max(peak_pss_kb, sum(_pss_kb(p) for p in tree))
            tick += 1
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _pid, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # interrupted: the tool goes too, the lab is taken down by main()
        done.set()
        proc.kill()
        raise
    wall = time.perf_counter() - t0
    for hook in MEASURE_HOOKS:
        hook("end")
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    lab_cpu = 0.0
    # Orphans of this run are ours now: wait for them, count their CPU (the tool's daemonised
    # helpers to the tool; lab logins to the lab, see LAB_LOGIN_NAMES).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        strays = [p for p in _children(me) if p not in baseline]
        if not strays:
            break
        for p in strays:
            name = _name(p)  # readable until it is reaped
            try:
                got, _st, ru = os.wait4(p, os.WNOHANG)
            except ChildProcessError:
                continue
            if got and name in LAB_LOGIN_NAMES:
                lab_cpu += ru.ru_utime + ru.ru_stime
            elif got:
                cpu += ru.ru_utime + ru.ru_stime
        time.sleep(0.1)
    done.set()
    sampler.join()
    for r in readers:
        r.join()
    return Measured(
        wall_s=wall,
        peak_rss_mb=peak_kb / 1024,
        peak_pss_mb=peak_pss_kb / 1024,
        cpu_s=cpu,
        rc=proc.returncode,
        stdout="".join(out_chunks),
        stderr="\n".join(t for _, t in lines),
        lines=lines,
        lab_cpu_s=lab_cpu,
    )


def installed_python_env(tmp: Path) -> None:
    """Every tool runs as an installed Python tool does: with its modules' bytecode compiled.

    pip compiles a package's bytecode when it installs it, so the peers' libraries (Nornir,
    Netmiko, NAPALM, Ansible) are compiled; sdd-build runs here from a source checkout, and with
    ``PYTHONDONTWRITEBYTECODE`` set (as on these machines) it would compile its ~150 modules
    from source on every run (~0.5 s of CPU no installed tool pays). So the bench compiles
    sdd_build, napalm_frr and the peer scripts once, into a cache of its own
    (``PYTHONPYCACHEPREFIX``, nothing written into the checkout), for every tool alike."""
    import compileall

    cache = tmp / "pycache"
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    sys.pycache_prefix = str(cache)
    for folder in (REPO / "sdd_build", REPO / "napalm_frr", PEERS):
        compileall.compile_dir(folder, quiet=1)


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        sys.stderr.write("warning: prctl(PR_SET_CHILD_SUBREAPER) failed\n")


# ----- the tools --------------------------------------------------------------------------------


@dataclass
class Run:
    wall_s: float
    peak_rss_mb: float
    peak_pss_mb: float
    cpu_s: float
    rc: int
    correct_hosts: int
    parsed_hosts: int
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tool:
    key: str
    name: str
    how: str
    runs: list[Run] = field(default_factory=list)
    not_run: str | None = None


class Bench:
    def __init__(self, n: int, tmp: Path, handle: lab.LabHandle, design: Path) -> None:
        self.n = n
        self.tmp = tmp
        self.handle = handle
        self.design = design
        self.hosts = sorted(handle.hosts, key=lambda h: int(h[1:]))
        self.vars_file = tmp / "host-vars.json"
        self.vars_file.write_text(json.dumps(host_vars(self.hosts, n)))
        self.template_file = tmp / "five_lines.j2"
        self.template_file.write_text(TEMPLATE)
        self.min_full = 1 if n == 2 else 2

    def _finish(self, m: Measured, parsed: int, note: str = "", **extra: Any) -> Run:
        present = count_present(self.handle)
        correct = sum(1 for c in present.values() if c == 5)
        notes = [note] if note else []
        if correct != self.n:
            missing = {h: 5 - c for h, c in present.items() if c != 5}
            notes.append(f"lines missing (host: count) {missing}")
        if m.rc != 0:
            last = (m.stderr.strip().splitlines() or [""])[-1]
            notes.append(f"exit {m.rc}: {last[:200]}")
        note = "; ".join(notes)
        extra["lab_orphans_cpu_s"] = m.lab_cpu_s
        return Run(
            m.wall_s, m.peak_rss_mb, m.peak_pss_mb, m.cpu_s, m.rc, correct, parsed, note, extra
        )

    # 1. sdd-build
    def sdd_build(self) -> Run:
        topo = self.handle.topology_path
        m = measure(
            [*sdd_build_argv(), "build", str(self.design), "--lab", str(topo)], cwd=self.tmp
        )
        record = re.search(r"record: (\S+)", m.stderr)
        extra: dict[str, Any] = {"phases": phases(m.lines, m.wall_s)}
        parsed = 0
        note = ""
        if record:
            asbuilt = json.loads((Path(record[1]) / "as-built.json").read_text())
            extra["metrics"] = {
                k: asbuilt["metrics"].get(k) for k in ("governance_s", "device_s", "wall_s")
            }
            extra["result"] = asbuilt["result"]
            extra["build_dir"] = record[1]
            verify = next(c for c in asbuilt["components"] if c["id"] == "verify")
            parsed = sum(
                1
                for rec in verify["hosts"].values()
                if rec["status"] == "built" and all(c.get("passed") for c in rec["checks"])
            )
            if asbuilt["result"] != "as_designed":
                note = f"result {asbuilt['result']}: {len(asbuilt['deviations'])} deviation(s)"
        else:
            note = f"no as-built record (exit {m.rc})"
        return self._finish(m, parsed, note, **extra)

    def _peer_result(self, out: Path) -> int:
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            return 0
        return sum(1 for r in data.values() if r["ok"] and r["neighbors_full"] >= self.min_full)

    def _peer_args(self, out: Path) -> list[str]:
        return [
            "--inventory",
            str(self.handle.inventory_dir),
            "--template",
            str(self.template_file),
            "--vars",
            str(self.vars_file),
            "--textfsm",
            str(TEXTFSM),
            "--out",
            str(out),
        ]

    # 2. plain Nornir
    def nornir(self) -> Run:
        out = self.tmp / "nornir-result.json"
        out.unlink(missing_ok=True)
        argv = [sys.executable, str(PEERS / "nornir_plain.py"), *self._peer_args(out)]
        m = measure([*argv, "--workers", str(self.n)], cwd=self.tmp)
        return self._finish(m, self._peer_result(out))

    # 3. serial Netmiko
    def netmiko(self) -> Run:
        out = self.tmp / "netmiko-result.json"
        out.unlink(missing_ok=True)
        argv = [sys.executable, str(PEERS / "netmiko_serial.py"), *self._peer_args(out)]
        m = measure(argv, cwd=self.tmp)
        return self._finish(m, self._peer_result(out))

    # 4. Ansible
    def ansible_inventory(self) -> Path:
        import yaml

        lab_hosts = yaml.safe_load((self.handle.inventory_dir / "hosts.yaml").read_text())
        template = __import__("jinja2").Environment().from_string(TEMPLATE)
        hv = host_vars(self.hosts, self.n)
        hosts = {}
        for name in self.hosts:
            h = lab_hosts[name]
            rendered = template.render(host={"name": name, "data": hv[name]})
            hosts[name] = {
                "ansible_host": h["hostname"],
                "ansible_port": h["port"],
                "ansible_user": h["username"],
                "ansible_password": h["password"],
                "ansible_connection": "ansible.netcommon.network_cli",
                "ansible_network_os": "cisco.ios.ios",
                "bench_lines": [ln for ln in rendered.splitlines() if ln.strip()],
                "bench_textfsm": str(TEXTFSM),
            }
        path = self.tmp / "ansible-inventory.json"
        path.write_text(json.dumps({"all": {"children": {"bench": {"hosts": hosts}}}}))
        path.chmod(0o600)
        return path

    def ansible(self, venv: Path) -> Run:
        env = dict(os.environ)
        env.update(
            ANSIBLE_HOST_KEY_CHECKING="False",
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_FORKS=str(self.n),
            ANSIBLE_LOCAL_TEMP=str(self.tmp / "ansible-tmp"),
            ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=str(self.tmp / "ansible-pc"),
            PATH=f"{venv / 'bin'}:{env.get('PATH', '')}",
        )
        argv = [
            str(venv / "bin" / "ansible-playbook"),
            "-i",
            str(self.ansible_inventory()),
            str(PEERS / "ansible_playbook.yml"),
        ]
        m = measure(argv, cwd=self.tmp, env=env)
        parsed = 0
        note = ""
        try:
            report = json.loads(m.stdout)
            task = next(
                t for t in report["plays"][0]["tasks"] if t["task"]["name"].startswith("Parse")
            )
            for res in task["hosts"].values():
                full = [r for r in res.get("parsed") or [] if r.get("STATE") == "Full"]
                parsed += not res.get("failed") and len(full) >= self.min_full
        except (ValueError, KeyError, StopIteration, IndexError) as exc:
            note = f"cannot read the playbook's JSON output: {type(exc).__name__}"
        return self._finish(m, parsed, note)


def traced_run(bench: Bench) -> dict[str, Any] | None:
    """One extra sdd-build run under ``bench/peers/sdd_build_trace.py``: main-thread phases and
    every device round trip, timed."""
    reset(bench.handle)
    out = bench.tmp / "trace.json"
    argv = [
        sys.executable,
        str(PEERS / "sdd_build_trace.py"),
        str(bench.design),
        "--lab",
        str(bench.handle.topology_path),
        "--json",
        str(out),
    ]
    m = measure(argv, cwd=bench.tmp)
    try:
        data: dict[str, Any] = json.loads(out.read_text())
    except (OSError, ValueError):
        return None
    data["process_wall_s"] = m.wall_s
    return data


def print_trace(n: int, trace: dict[str, Any], console: Console) -> None:
    table = Table(title=f"Where sdd-build's time goes at {n} routers (one traced run)")
    table.add_column("main thread (critical path)")
    table.add_column("s", justify="right")
    table.add_column("calls", justify="right")
    table.add_row("process wall (outside)", f"{trace['process_wall_s']:.2f}", "")
    table.add_row("imports (build path, napalm_frr)", f"{trace['imports_s']:.2f}", "")
    for label, (secs, calls) in trace["main"].items():
        table.add_row(label, f"{secs:.3f}", str(calls))
    console.print(table)
    dev = Table(title="device round trips, all hosts (worker threads)")
    for col in ("operation", "calls", "per host", "total s", "median s"):
        dev.add_column(col, justify="left" if col == "operation" else "right")
    for label, d in sorted(trace["device"].items(), key=lambda kv: -kv[1]["total_s"]):
        dev.add_row(
            label,
            str(d["calls"]),
            f"{d['calls'] / n:.1f}",
            f"{d['total_s']:.2f}",
            f"{d['median_s']:.3f}",
        )
    for label, (secs, calls) in trace.get("worker", {}).items():
        dev.add_row(f"(bookkeeping) {label}", str(calls), f"{calls / n:.1f}", f"{secs:.2f}", "")
    console.print(dev)


def phases(lines: list[tuple[float, str]], wall_s: float) -> dict[str, float]:
    """sdd-build's phases from its progress lines, timed as they arrived on stderr."""
    marks: list[tuple[str, float]] = [("spawn", 0.0)]
    for t, text in lines:
        s = text.strip()
        if re.match(r"^\d+\.\ds build ", s):
            marks.append(("build_started", t))
        elif re.match(r"^\d+\.\ds connect$", s):
            marks.append(("connect", t))
        elif m := re.match(r"^\d+\.\ds layer (\d+):", s):
            marks.append((f"layer {m[1]}", t))
        elif re.match(r"^\d+\.\ds reconcile$", s):
            marks.append(("reconcile", t))
        elif s.startswith("as-built ") and "as-built" not in dict(marks):
            marks.append(("as-built", t))
    marks.append(("exit", wall_s))
    names = {
        "spawn": "startup, imports, gates, validate (to 'build' line)",
        "build_started": "lock, journal, Nornir setup (to 'connect')",
        "connect": "(connect: each host goes on into the first layer at once)",
        "reconcile": "as-built.json, audit, reports",
        "as-built": "summary table, interpreter exit",
    }
    layers = [a for a, _t in marks if a.startswith("layer")]
    first = {layers[0]: "connect + backup, "} if layers else {}
    last = {layers[-1]: ", reconcile read, logout"} if layers else {}
    out: dict[str, float] = {}
    for (a, ta), (_b, tb) in itertools.pairwise(marks):
        layer = f"{a}: {first.get(a, '')}apply/commit or shows + checks{last.get(a, '')}"
        label = names.get(a, layer if a.startswith("layer") else a)
        out[label] = round(out.get(label, 0.0) + tb - ta, 3)
    return out


# ----- Ansible venv ------------------------------------------------------------------------------


def ansible_ready(venv: Path, install: bool) -> str | None:
    """None when the venv can run the playbook, else why not."""
    playbook = venv / "bin" / "ansible-playbook"
    if not playbook.exists() and install:
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "pip"), "install", "-q", "ansible", "textfsm"],
        ]
        for step in steps:
            proc = subprocess.run(step, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                return f"install failed ({' '.join(step[:3])}): {tail[:120]}"
    if not playbook.exists():
        return f"no {playbook}"
    proc = subprocess.run(
        [str(venv / "bin" / "ansible-galaxy"), "collection", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    missing = [
        c
        for c in ("cisco.ios", "ansible.netcommon", "ansible.utils", "ansible.posix")
        if c not in proc.stdout
    ]
    if missing:
        return f"collections missing in {venv}: {', '.join(missing)}"
    return None


# ----- report ------------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(tools: list[Tool]) -> list[dict[str, Any]]:
    rows = []
    for t in tools:
        row: dict[str, Any] = {"tool": t.key, "name": t.name, "how": t.how}
        if t.not_run:
            row["not_run"] = t.not_run
        else:
            row.update(
                runs=[asdict(r) for r in t.runs],
                wall_s=_median([r.wall_s for r in t.runs]),
                peak_rss_mb=max(r.peak_rss_mb for r in t.runs),
                peak_pss_mb=max(r.peak_pss_mb for r in t.runs),
                cpu_s=_median([r.cpu_s for r in t.runs]),
                correct=min(r.correct_hosts for r in t.runs),
                parsed=min(r.parsed_hosts for r in t.runs),
                notes=sorted({r.note for r in t.runs if r.note}),
            )
        rows.append(row)
    return rows


def print_tables(n: int, rows: list[dict[str, Any]], console: Console) -> None:
    ours = next(r for r in rows if r["tool"] == "sdd-build")
    table = Table(title=f"Build vs peers, {n} FRR routers: 5 config lines + 2 shows + TextFSM")
    for col, just in (
        ("tool", "left"),
        ("runs", "right"),
        ("wall s (median)", "right"),
        ("each run s", "right"),
        ("peak RSS MB", "right"),
        ("peak PSS MB", "right"),
        ("CPU s", "right"),
        ("5 lines on", "right"),
        ("parsed/checked", "right"),
        ("wall: peer / sdd-build", "right"),
        ("RSS: peer / sdd-build", "right"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        if "not_run" in r:
            table.add_row(r["name"], "0", f"not run: {r['not_run']}", *[""] * 8)
            continue
        ratio = r["wall_s"] / ours["wall_s"] if ours.get("wall_s") else float("nan")
        mem = r["peak_rss_mb"] / ours["peak_rss_mb"] if ours.get("peak_rss_mb") else float("nan")
        ok = "green" if r["correct"] == n else "red"
        table.add_row(
            r["name"],
            str(len(r["runs"])),
            f"{r['wall_s']:.2f}",
            " ".join(f"{x['wall_s']:.1f}" for x in r["runs"]),
            f"{r['peak_rss_mb']:.0f}",
            f"{r['peak_pss_mb']:.0f}",
            f"{r['cpu_s']:.1f}",
            f"[{ok}]{r['correct']}/{n}[/]",
            f"{r['parsed']}/{n}",
            "1.00" if r is ours else f"{ratio:.2f}x",
            "1.00" if r is ours else f"{mem:.2f}x",
        )
    console.print(table)
    plain = next((r for r in rows if r["tool"] == "nornir" and "wall_s" in r), None)
    if plain and ours.get("wall_s"):
        factor = ours["wall_s"] / plain["wall_s"]
        verdict = "[green]no slower[/]" if factor <= 1.0 else "[red]slower[/]"
        console.print(
            f"sdd-build vs the plain Nornir script: {factor:.2f}x its wall time ({verdict}; "
            "target <= 1.00x). RSS sums count shared pages once per process; PSS splits them."
        )
    for r in rows:
        for note in r.get("notes", []):
            console.print(f"[yellow]{r['name']}[/]: {note}")
    if "runs" not in ours:
        return
    gov = Table(title=f"sdd-build at {n} routers: governance share and phases (median run)")
    gov.add_column("what")
    gov.add_column("seconds", justify="right")
    gov.add_column("share of process wall", justify="right")
    runs = sorted(ours["runs"], key=lambda x: x["wall_s"])
    mid = runs[len(runs) // 2]
    metrics = mid["extra"].get("metrics") or {}
    wall = mid["wall_s"]
    gov.add_row("process wall (measured from outside)", f"{wall:.2f}", "100%")
    for key in ("wall_s", "device_s", "governance_s"):
        v = metrics.get(key)
        if v is not None:
            label = {
                "wall_s": "as-built metrics.wall_s (run_build)",
                "device_s": "as-built metrics.device_s (sum over hosts)",
                "governance_s": "as-built metrics.governance_s (critical path)",
            }[key]
            share = f"{100 * v / wall:.0f}%" if key != "device_s" else "-"
            gov.add_row(label, f"{v:.2f}", share)
    for label, secs in mid["extra"].get("phases", {}).items():
        gov.add_row(f"phase: {label}", f"{secs:.2f}", f"{100 * secs / wall:.0f}%")
    console.print(gov)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--routers", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3, help="runs per tool (median)")
    ap.add_argument("--ansible-runs", type=int, default=None, help="default: runs, 1 above 10")
    ap.add_argument("--ansible-venv", type=Path, default=Path("/tmp/bench-ansible-venv"))
    ap.add_argument("--no-install", action="store_true", help="never pip-install Ansible")
    ap.add_argument("--skip-ansible", action="store_true")
    ap.add_argument("--only", default="", help="comma list: sdd-build,nornir,netmiko,ansible")
    ap.add_argument("--keep", action="store_true", help="keep the lab and temp dir afterwards")
    ap.add_argument(
        "--trace",
        choices=("auto", "always", "never"),
        default="auto",
        help="one extra traced sdd-build run (auto: when slower than the Nornir script)",
    )
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("build_vs_peers needs root (the lab runs FRR in namespaces)\n")
        return 2
    n = args.routers
    ansible_runs = args.ansible_runs or (args.runs if n <= 10 else 1)
    only = {s for s in args.only.split(",") if s}
    console = Console(width=150)
    tools = [
        Tool("sdd-build", "sdd-build build", "sdd-build build <design> --lab <topology>"),
        Tool("nornir", "Nornir+netmiko", f"plain Nornir + nornir_netmiko, threaded, {n} workers"),
        Tool("netmiko", "Netmiko serial", "serial Netmiko loop, ConnectHandler per host"),
        Tool("ansible", "Ansible", f"ansible-playbook, network_cli + cisco.ios, forks={n}"),
    ]
    tools = [t for t in tools if not only or t.key in only]
    by_key = {t.key: t for t in tools}
    if "ansible" in by_key:
        if args.skip_ansible:
            by_key["ansible"].not_run = "--skip-ansible"
        else:
            console.print(f"checking Ansible in {args.ansible_venv} ...")
            by_key["ansible"].not_run = ansible_ready(args.ansible_venv, not args.no_install)

    tmp = Path(tempfile.mkdtemp(prefix=f"bench-b2p-{n}-"))
    topo = write_ring(n, tmp, name=f"bench-b2p-{n}-{os.getpid()}")  # unique: runs may overlap
    t = time.perf_counter()
    console.print(f"lab up: {n} routers ({topo}) ...")
    handle = lab.up(topo, wait=True, timeout=300)
    console.print(f"lab converged in {time.perf_counter() - t:.1f}s")
    try:
        become_subreaper()
        installed_python_env(tmp)
        design = write_repo(tmp / "repo", sorted(handle.hosts), n)
        approve(design)
        bench = Bench(n, tmp, handle, design)
        rounds = max(args.runs, ansible_runs)
        for i in range(rounds):
            for tool in tools:
                if tool.not_run:
                    continue
                limit = ansible_runs if tool.key == "ansible" else args.runs
                if i >= limit:
                    continue
                reset(bench.handle)
                if tool.key == "ansible":
                    run = bench.ansible(args.ansible_venv)
                else:
                    run = getattr(bench, tool.key.replace("-", "_"))()
                tool.runs.append(run)
                console.print(
                    f"run {i + 1}: {tool.name:16} {run.wall_s:7.2f}s  "
                    f"RSS {run.peak_rss_mb:5.0f} MB  PSS {run.peak_pss_mb:5.0f} MB  "
                    f"CPU {run.cpu_s:5.1f}s  "
                    f"lines on {run.correct_hosts}/{n}  load {os.getloadavg()[0]:.1f}  {run.note}"
                )
        trace = None
        ours, plain = by_key.get("sdd-build"), by_key.get("nornir")
        slower = bool(
            ours
            and plain
            and ours.runs
            and plain.runs
            and _median([r.wall_s for r in ours.runs]) > _median([r.wall_s for r in plain.runs])
        )
        if ours and (args.trace == "always" or (args.trace == "auto" and slower)):
            console.print("tracing one more sdd-build run ...")
            trace = traced_run(bench)
        reset(bench.handle)
    finally:
        if args.keep:
            console.print(f"kept: lab {topo} and {tmp}")
        else:
            lab.down(topo)
            shutil.rmtree(tmp, ignore_errors=True)
    rows = summarise(tools)
    print_tables(n, rows, console)
    if trace:
        print_trace(n, trace, console)
    RESULTS.mkdir(exist_ok=True)
    # a partial run (--only) never overwrites the full table of that size
    suffix = f"-only-{'-'.join(sorted(only))}" if only else ""
    out = RESULTS / f"build_vs_peers-{n}{suffix}-{time.strftime('%Y%m%d', time.gmtime())}.json"
    meta = {
        "routers": n,
        "runs": args.runs,
        "ansible_runs": ansible_runs,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_at_end": os.getloadavg(),
        "work": {"config_lines": TEMPLATE.splitlines(), "shows": list(SHOWS)},
    }
    out.write_text(json.dumps({**meta, "tools": rows, "trace": trace}, indent=1) + "\n")
    console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
