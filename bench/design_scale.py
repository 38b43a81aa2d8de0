"""Benchmark: validate + plan of a large design (default 1,000 components over 1,000 hosts).

Generates a synthetic repository (inventory, templates, parsers, spec, design with every
component kind) in a temporary folder, then times each offline stage and prints a table.
The peer is the naive way: Jinja2 with a fresh Environment per render (what a hand-written
script that calls ``Template(...)`` in its loop does); ratios are against it.

    python bench/design_scale.py [--components 1000] [--hosts 1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import jinja2
from rich.console import Console
from rich.table import Table

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


def naive_render_seconds(root: Path, renders: int) -> float:
    """The peer: a fresh Environment and template compile per render."""
    source = TEMPLATE
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
        jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(source).render(ctx)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=1000)
    args = parser.parse_args()

    from sdd_build.plan.validate import validate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        design = generate(root, args.components, args.hosts)
        t = time.perf_counter()
        report = validate(design, root=root)
        wall = time.perf_counter() - t
        if not report.ok:
            for p in report.problems[:10]:
                print(p)
            raise SystemExit("the generated design did not validate")
        assert report.plan is not None
        renders = sum(
            1 for steps in report.plan.hosts.values() for s in steps if s.config or s.commands
        )
        sample = min(renders, 20_000)
        naive = naive_render_seconds(root, sample) * renders / sample
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    table = Table(title=f"validate + plan: {args.components} components x {args.hosts} hosts")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for stage, seconds in report.timings.items():
        table.add_row(stage, f"{seconds:.2f}")
    table.add_row("wall (validate incl. plan)", f"{wall:.2f}")
    console = Console()
    console.print(table)
    peer = Table(title="rendering against the naive peer (fresh Environment per render)")
    peer.add_column("who")
    peer.add_column("renders", justify="right")
    peer.add_column("seconds", justify="right")
    peer.add_column("renders/s", justify="right")
    peer.add_column("ratio", justify="right")
    ours = report.timings.get("render", wall)
    peer.add_row(
        "sdd-build (compile once)", str(renders), f"{ours:.2f}", f"{renders / ours:,.0f}", "1.00"
    )
    peer.add_row(
        "naive (extrapolated)",
        str(renders),
        f"{naive:.2f}",
        f"{renders / naive:,.0f}",
        f"{naive / ours:.2f}x slower",
    )
    console.print(peer)
    console.print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
