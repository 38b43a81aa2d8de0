"""Benchmark: validate + plan of a large design (default 1,000 components over 1,000 hosts).

    python bench/design_scale.py [--components 1000] [--hosts 1000] [--save]
        [--nornir-components N] [--ansible-hosts 4] [--ansible-components 4]

Generates a synthetic repository (inventory, templates, parsers, spec, design with every
component kind) in a temporary folder. Then, each in a fresh process (so peak RSS is its own):

1. ``validate`` (schema, references, graph, the plan with every render, offline layer) as the
   CLI runs it (one process, the default), and again with two processes rendering
   (``SDD_RENDER_PROCESSES=2``, ``plan.forked``);
2. the same renders done by Nornir + nornir_jinja2: ``template_file`` for the 600 config
   templates and ``template_string`` for the 300 command templates, over the same 1,000 hosts
   (same host data, group data folded in; one shared Jinja2 Environment with the same
   whitespace settings, the fast way to use it; threaded runner, 20 workers); with
   ``--nornir-components N`` only the first N components, extrapolated linearly;
3. Ansible's ``template`` module (ansible-core, ``connection: local``, forks 2) on a subset
   (``--ansible-hosts`` x ``--ansible-components`` config templates), extrapolated linearly
   to all the renders: the extrapolation is printed;
4. the naive way: a fresh Jinja2 Environment per render, on a sample, extrapolated.

Every peer's output is compared byte for byte with sdd-build's on a sample of hosts. Tables
print times and ratios (peer / sdd-build), never pass/fail; ``--save`` writes them with the
machine and date to ``bench/results/design_scale-<C>x<H>.{txt,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jinja2
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SAMPLE_HOSTS = 4  # hosts whose renders are compared between tools

TEMPLATE = """\
interface {{ host.data.iface.name }}
 description {{ host.data.iface.peer }} via {{ vars.tag }}
 ip address {{ host.data.iface.address }}
 ip ospf area {{ host.data.area }}
 ip ospf cost {{ host.data.cost }}
exit
"""


def generate(root: Path, n_components: int, n_hosts: int) -> Path:
    (root / "inventory").mkdir(parents=True)
    (root / "templates" / "gen").mkdir(parents=True)
    (root / "parsers").mkdir()
    design_dir = root / "designs" / "scale"
    (design_dir / "fixtures").mkdir(parents=True)
    hosts = {
        f"h{i:04d}": {
            "groups": ["fabric"],
            "data": {
                "iface": {
                    "name": f"eth{i % 48}",
                    "peer": f"h{(i + 1) % n_hosts:04d}",
                    "address": f"10.{i // 250}.{i % 250}.1/31",
                },
            },
        }
        for i in range(n_hosts)
    }
    (root / "inventory" / "hosts.yaml").write_text(json.dumps(hosts))
    (root / "inventory" / "groups.yaml").write_text(
        json.dumps({"fabric": {"data": {"area": 0, "cost": 10}}})
    )
    n_templates = max(1, n_components * 6 // 10)
    n_commands = max(1, n_components * 3 // 10)
    n_parsers = max(1, n_components - n_templates - n_commands - 1)
    for i in range(n_templates):
        (root / "templates" / "gen" / f"t{i}.j2").write_text(TEMPLATE)
    (design_dir / "customer-spec.md").write_text("# scale\n\n- REQ-1: everything is verified\n")
    (design_dir / "fixtures" / "out.txt").write_text('{"ok": true}\n')
    (design_dir / "fixtures" / "out.json").write_text('{"ok": true}\n')
    comps: list[dict[str, object]] = []
    for i in range(n_templates):
        deps = [f"cfg-{i - 1}"] if i % 10 else []
        comps.append(
            {
                "id": f"cfg-{i}",
                "kind": "config_template",
                "template": f"gen/t{i}.j2",
                "vars": {"tag": f"t{i}"},
                "depends_on": deps,
            }
        )
    for i in range(n_parsers):
        comps.append(
            {
                "id": f"parse-{i}",
                "kind": "parser",
                "engine": "json",
                "tests": [{"input": "fixtures/out.txt", "expect": "fixtures/out.json"}],
            }
        )
    for i in range(n_commands):
        comps.append(
            {
                "id": f"verify-{i}",
                "kind": "command_template",
                "commands": ["show ip ospf interface {{ host.data.iface.name }} json"],
                "parser": f"parse-{i % n_parsers}",
                "depends_on": [f"cfg-{(i * 2) % n_templates}", f"cfg-{(i * 2 + 1) % n_templates}"]
                if n_templates > 1
                else ["cfg-0"],
                "acceptance": [
                    {"id": f"AC-{i}", "covers": ["REQ-1"], "expect": {"query": "ok", "eq": True}}
                ],
            }
        )
    comps.append(
        {
            "id": "all",
            "kind": "workflow",
            "steps": [c["id"] for c in comps if c["kind"] != "parser"],
        }
    )
    design = {
        "design": "scale",
        "version": 1,
        "author": "bench",
        "targets": {"groups": ["fabric"]},
        "components": comps,
    }
    path = design_dir / "solution-design.yaml"
    path.write_text(json.dumps(design))  # JSON is YAML
    return path


def flat_hosts(root: Path) -> dict[str, dict[str, Any]]:
    """Each host's effective data (group data folded in), as sdd-build's templates see it."""
    hosts = json.loads((root / "inventory" / "hosts.yaml").read_text())
    groups = json.loads((root / "inventory" / "groups.yaml").read_text())
    out = {}
    for name, host in hosts.items():
        data: dict[str, Any] = {}
        for g in host.get("groups", []):
            data.update(groups[g].get("data", {}))
        data.update(host.get("data", {}))
        out[name] = data
    return out


def design_work(root: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(component, template file, tag) of config templates; (component, command, tag)."""
    design = json.loads((root / "designs" / "scale" / "solution-design.yaml").read_text())
    configs = [
        (c["id"], c["template"], c["vars"]["tag"])
        for c in design["components"]
        if c["kind"] == "config_template"
    ]
    commands = [
        (c["id"], c["commands"][0], c.get("vars", {}).get("tag", ""))
        for c in design["components"]
        if c["kind"] == "command_template"
    ]
    return configs, commands


def rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def measure_sdd(root: Path) -> dict[str, Any]:
    """One ``validate`` of the generated design, in this (fresh) process."""
    from sdd_build.plan.validate import validate

    design = root / "designs" / "scale" / "solution-design.yaml"
    t, cpu = time.perf_counter(), time.process_time()
    report = validate(design, root=root)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    if not report.ok:
        raise SystemExit("the generated design did not validate: " + str(report.problems[:3]))
    assert report.plan is not None
    renders = sum(1 for st in report.plan.hosts.values() for s in st if s.config or s.commands)
    sample = {
        h: {s.component: s.config if s.config is not None else list(s.commands) for s in st}
        for h, st in list(report.plan.hosts.items())[:SAMPLE_HOSTS]
    }
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    own, children = rss_mb()
    return {
        "wall_s": wall,
        "cpu_s": cpu + child.ru_utime + child.ru_stime,
        "timings": report.timings,
        "renders": renders,
        "rss_mb": own,
        "rss_children_mb": children,
        "sample": sample,
    }


def measure_nornir(root: Path, components: int | None) -> dict[str, Any]:
    """The same renders with Nornir + nornir_jinja2, in this (fresh) process."""
    from nornir.core import Nornir
    from nornir.core.inventory import Defaults, Groups, Host, Hosts, Inventory
    from nornir.plugins.runners import ThreadedRunner
    from nornir_jinja2.plugins.tasks import template_file, template_string

    data = flat_hosts(root)
    hosts = Hosts({n: Host(name=n, data=d) for n, d in data.items()})
    nr = Nornir(
        inventory=Inventory(hosts=hosts, groups=Groups(), defaults=Defaults()),
        runner=ThreadedRunner(num_workers=20),
    )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root / "templates")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    configs, commands = design_work(root)
    total = (len(configs) + len(commands)) * len(data)
    if components is not None:
        share = components / (len(configs) + len(commands))
        configs = configs[: max(1, round(len(configs) * share))]
        commands = commands[: max(1, round(len(commands) * share))]
    sample_hosts = list(data)[:SAMPLE_HOSTS]
    sample: dict[str, dict[str, Any]] = {h: {} for h in sample_hosts}
    t, cpu = time.perf_counter(), time.process_time()
    done = 0
    for cid, template, tag in configs:
        result = nr.run(task=template_file, template=template, jinja_env=env, vars={"tag": tag})
        done += len(result)
        for h in sample_hosts:
            sample[h][cid] = result[h][0].result
    for cid, command, tag in commands:
        result = nr.run(task=template_string, template=command, jinja_env=env, vars={"tag": tag})
        done += len(result)
        for h in sample_hosts:
            sample[h][cid] = [result[h][0].result.strip()]
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    failed = [h for h in sample_hosts if not sample[h]]
    own, _ = rss_mb()
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "renders": done,
        "renders_total": total,
        "rss_mb": own,
        "sample": sample,
        "failed": failed,
    }


def measure_ansible(root: Path, n_hosts: int, n_components: int) -> dict[str, Any]:
    """Ansible's ``template`` module, connection local, on a subset of hosts x templates."""
    work = root / "ansible"
    (work / "out").mkdir(parents=True)
    data = flat_hosts(root)
    names = list(data)[:n_hosts]
    inventory = {
        "all": {
            "hosts": {
                h: {
                    "host": {"name": h, "data": data[h]},
                    "ansible_connection": "local",
                    "ansible_python_interpreter": sys.executable,
                }
                for h in names
            }
        }
    }
    (work / "inventory.json").write_text(json.dumps(inventory))
    configs, _ = design_work(root)
    tasks = [
        {
            "name": cid,
            "ansible.builtin.template": {
                "src": str(root / "templates" / template),
                "dest": str(work / "out" / ("{{ inventory_hostname }}--" + cid)),
            },
            "vars": {"tag": tag},
        }
        for cid, template, tag in configs[:n_components]
    ]
    play = [{"hosts": "all", "gather_facts": False, "tasks": tasks}]
    (work / "play.yml").write_text(json.dumps(play))
    env = {
        **os.environ,
        "ANSIBLE_FORKS": "2",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_HOME": str(work / "home"),
        "ANSIBLE_NOCOLOR": "1",
    }
    exe = shutil.which("ansible-playbook") or "ansible-playbook"
    t = time.perf_counter()
    proc = subprocess.run(
        [exe, "-i", str(work / "inventory.json"), str(work / "play.yml")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    wall = time.perf_counter() - t
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    sample = {
        h: {
            cid: (work / "out" / f"{h}--{cid}").read_text()
            for cid, _, _ in configs[:n_components]
            if (work / "out" / f"{h}--{cid}").is_file()
        }
        for h in names[:SAMPLE_HOSTS]
    }
    return {
        "wall_s": wall,
        "cpu_s": child.ru_utime + child.ru_stime,
        "renders": len(names) * len(tasks),
        "rc": proc.returncode,
        "tail": proc.stdout[-400:] + proc.stderr[-400:],
        "sample": sample,
    }


def naive_render_seconds(renders: int) -> float:
    """The naive way: a fresh Environment and template compile per render."""
    ctx = {
        "vars": {"tag": "t"},
        "host": {
            "data": {
                "area": 0,
                "cost": 10,
                "iface": {"name": "eth1", "peer": "h1", "address": "10.0.0.1/31"},
            }
        },
    }
    t = time.perf_counter()
    for _ in range(renders):
        jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(TEMPLATE).render(ctx)
    return time.perf_counter() - t


def _fresh(mode: str, root: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    """Run one measurement in a fresh interpreter; its JSON result."""
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", mode, "--root", str(root), *extra],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} measurement failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def same_as(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> str:
    """How many of the peer's sampled renders are byte-identical to sdd-build's."""
    pairs = [(ours[h].get(c), v) for h, by_c in theirs.items() for c, v in by_c.items()]
    equal = sum(1 for a, b in pairs if a == b)
    return f"{equal}/{len(pairs)}"


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in ("jinja2", "nornir", "nornir_jinja2", "ansible-core"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            versions[dist] = "absent"
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--nornir-components", type=int, default=None)
    parser.add_argument("--ansible-hosts", type=int, default=4)
    parser.add_argument("--ansible-components", type=int, default=4)
    parser.add_argument("--naive-sample", type=int, default=2000)
    parser.add_argument("--skip-ansible", action="store_true")
    parser.add_argument("--save", action="store_true", help="write bench/results/")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:  # a child: one measurement, JSON on stdout
        if args.measure == "sdd":
            out = measure_sdd(args.root)
        else:
            out = measure_nornir(args.root, args.nornir_components)
        print(json.dumps(out))
        return

    console = Console(record=True, width=120)
    meta = machine()
    meta["loadavg_at_start"] = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, args.components, args.hosts)
        console.print(f"generated {args.components} components x {args.hosts} hosts in {tmp}")
        sdd = _fresh("sdd", root, env={"SDD_RENDER_PROCESSES": "2"})
        console.print(f"sdd-build validate (2 processes): {sdd['wall_s']:.2f} s")
        sdd1 = _fresh("sdd", root)  # the default: one process
        console.print(f"sdd-build validate (1 process):   {sdd1['wall_s']:.2f} s")
        extra = [] if args.nornir_components is None else ["--nornir-components"]
        extra += [] if args.nornir_components is None else [str(args.nornir_components)]
        nornir = _fresh("nornir", root, *extra)
        console.print(f"Nornir + nornir_jinja2:           {nornir['wall_s']:.2f} s")
        ansible = None
        if not args.skip_ansible:
            ansible = measure_ansible(root, args.ansible_hosts, args.ansible_components)
            console.print(f"Ansible template (subset):        {ansible['wall_s']:.2f} s")
        naive = naive_render_seconds(args.naive_sample)
    meta["loadavg_at_end"] = os.getloadavg()
    renders = sdd["renders"]

    stages = Table(
        title=f"sdd-build validate + plan: {args.components} components x "
        f"{args.hosts} hosts ({renders:,} renders)"
    )
    stages.add_column("stage")
    stages.add_column("2 processes, s", justify="right")
    stages.add_column("1 process, s", justify="right")
    for stage in sdd["timings"]:
        stages.add_row(stage, f"{sdd['timings'][stage]:.2f}", f"{sdd1['timings'][stage]:.2f}")
    stages.add_row("wall (validate incl. plan)", f"{sdd['wall_s']:.2f}", f"{sdd1['wall_s']:.2f}")
    stages.add_row("CPU (all processes)", f"{sdd['cpu_s']:.2f}", f"{sdd1['cpu_s']:.2f}")
    for label, run in (
        ("peak RSS MB", "rss_mb"),
        ("peak RSS of the render child MB", "rss_children_mb"),
    ):
        stages.add_row(label, f"{sdd[run]:.0f}", f"{sdd1[run]:.0f}")
    per_host = (sdd["rss_mb"] + sdd["rss_children_mb"]) / args.hosts
    stages.add_row(
        "RSS per host MB (both processes)",
        f"{per_host:.2f}",
        f"{(sdd1['rss_mb']) / args.hosts:.2f}",
    )
    console.print(stages)

    peers = Table(title="the same renders, side by side (ratio: peer time / sdd-build time)")
    for col, justify in (
        ("who", "left"),
        ("renders done", "right"),
        ("seconds", "right"),
        ("for all renders, s", "right"),
        ("renders/s", "right"),
        ("ratio", "right"),
        ("same bytes (sample)", "right"),
        ("how", "left"),
    ):
        peers.add_column(col, justify=justify)  # type: ignore[arg-type]
    ours = sdd1["wall_s"]  # the default, one process: what a user's validate takes
    rows: list[dict[str, Any]] = []

    def row(who: str, done: int, seconds: float, how: str, same: str) -> None:
        full = seconds * renders / done
        rows.append(
            {
                "who": who,
                "renders": done,
                "seconds": seconds,
                "extrapolated_s": full,
                "ratio": full / ours,
                "same": same,
                "how": how,
            }
        )
        peers.add_row(
            who,
            f"{done:,}",
            f"{seconds:.2f}",
            f"{full:,.1f}",
            f"{done / seconds:,.0f}",
            f"{full / ours:.2f}x",
            same,
            how,
        )

    row("sdd-build validate (2 processes)", renders, ours, "whole validate, measured", "-")
    row(
        "sdd-build validate (1 process)",
        renders,
        sdd1["wall_s"],
        "whole validate, measured",
        same_as(sdd["sample"], sdd1["sample"]),
    )
    row("sdd-build render stage only", renders, sdd["timings"]["render"], "measured", "-")
    nornir_how = (
        "measured"
        if nornir["renders"] == renders
        else (f"{nornir['renders']:,} renders measured, x{renders / nornir['renders']:.1f} linear")
    )
    row(
        "Nornir + nornir_jinja2",
        nornir["renders"],
        nornir["wall_s"],
        nornir_how,
        same_as(sdd["sample"], nornir["sample"]),
    )
    if ansible is not None:
        row(
            "Ansible template (local)",
            ansible["renders"],
            ansible["wall_s"],
            f"{args.ansible_hosts} hosts x {args.ansible_components} templates measured, "
            f"x{renders / max(ansible['renders'], 1):,.0f} linear (rc {ansible['rc']})",
            same_as(sdd["sample"], ansible["sample"]),
        )
    row(
        "naive Jinja2 (Environment per render)",
        args.naive_sample,
        naive,
        f"{args.naive_sample:,} renders measured, linear",
        "-",
    )
    console.print(peers)
    console.print(
        f"machine: {meta['cpu']} x{meta['cpus']}, Python {meta['python']}, "
        f"load average {meta['loadavg_at_start'][0]:.1f} at start, "
        f"{meta['loadavg_at_end'][0]:.1f} at end ({meta['when']})"
    )
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"design_scale-{args.components}x{args.hosts}"
        for run in (sdd, sdd1, nornir, *(() if ansible is None else (ansible,))):
            run.pop("sample", None)
        stem.with_suffix(".json").write_text(
            json.dumps(
                {
                    **meta,
                    "sdd_build": sdd,
                    "sdd_build_1_process": sdd1,
                    "nornir": nornir,
                    "ansible": ansible,
                    "peers": rows,
                },
                indent=1,
            )
            + "\n"
        )
        stem.with_suffix(".txt").write_text(console.export_text())
        console.print(f"wrote {stem}.json and .txt")


if __name__ == "__main__":
    main()
