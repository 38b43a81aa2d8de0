"""Peer: a plain Nornir + nornir_netmiko script, the way a good engineer writes one.

Renders the same Jinja2 template as the design, pushes it with ``netmiko_send_config`` (with an
error pattern, so FRR's "% ..." refusals fail the task), runs two shows with
``netmiko_send_command`` (the first parsed by TextFSM), one SSH session per host, threaded
runner. Writes {host: {"ok", "neighbors_full", "error"}} as JSON to ``--out``.

    python bench/peers/nornir_plain.py --inventory DIR --template T.j2 --vars V.json \
        --textfsm T.textfsm --workers 30 --out result.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import jinja2
from nornir import InitNornir
from nornir.core.task import Result, Task
from nornir_netmiko.tasks import netmiko_send_command, netmiko_send_config

FRR_ERROR = r"^% (Unknown|Invalid|Ambiguous|Command incomplete)"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inventory", type=Path, required=True)
    ap.add_argument("--template", type=Path, required=True)
    ap.add_argument("--vars", type=Path, required=True)
    ap.add_argument("--textfsm", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=30)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        args.template.read_text()
    )
    host_vars: dict[str, Any] = json.loads(args.vars.read_text())
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": args.workers}},
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(args.inventory / "hosts.yaml"),
                "group_file": str(args.inventory / "groups.yaml"),
                "defaults_file": str(args.inventory / "defaults.yaml"),
            },
        },
        logging={"enabled": False},
    )

    def work(task: Task) -> Result:
        ctx = {"name": task.host.name, "data": host_vars[task.host.name]}
        lines = [ln for ln in template.render(host=ctx).splitlines() if ln.strip()]
        task.run(
            task=netmiko_send_config,
            config_commands=lines,
            error_pattern=FRR_ERROR,
        )
        neighbors = task.run(
            task=netmiko_send_command,
            command_string="show ip ospf neighbor",
            use_textfsm=True,
            textfsm_template=str(args.textfsm),
        ).result
        task.run(task=netmiko_send_command, command_string="show version")
        full = sum(1 for n in neighbors if n.get("state") == "Full")
        return Result(host=task.host, result=full)

    results = nr.run(task=work)
    nr.close_connections()
    out = {}
    for host, multi in results.items():
        failed = multi.failed
        out[host] = {
            "ok": not failed,
            "neighbors_full": None if failed else multi[0].result,
            "error": str(multi[-1].exception or multi[-1].result)[:300] if failed else None,
        }
    args.out.write_text(json.dumps(out, indent=1))
    return 1 if results.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
