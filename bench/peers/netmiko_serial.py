"""Peer: a serial Netmiko loop -- one host after the other, ConnectHandler per host.

Same work as the other peers: the 5 rendered lines with ``send_config_set`` (with an error
pattern), two ``send_command`` (the first parsed by TextFSM). Writes the same result JSON as
``nornir_plain.py``.

    python bench/peers/netmiko_serial.py --inventory DIR --template T.j2 --vars V.json \
        --textfsm T.textfsm --out result.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import jinja2
import yaml
from netmiko import ConnectHandler

FRR_ERROR = r"^% (Unknown|Invalid|Ambiguous|Command incomplete)"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inventory", type=Path, required=True)
    ap.add_argument("--template", type=Path, required=True)
    ap.add_argument("--vars", type=Path, required=True)
    ap.add_argument("--textfsm", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        args.template.read_text()
    )
    host_vars: dict[str, Any] = json.loads(args.vars.read_text())
    hosts: dict[str, Any] = yaml.safe_load((args.inventory / "hosts.yaml").read_text())
    out: dict[str, Any] = {}
    for name, h in hosts.items():
        lines = [
            ln
            for ln in template.render(host={"name": name, "data": host_vars[name]}).splitlines()
            if ln.strip()
        ]
        try:
            conn = ConnectHandler(
                device_type=h["connection_options"]["netmiko"]["platform"],
                host=h["hostname"],
                port=h["port"],
                username=h["username"],
                password=h["password"],
            )
            try:
                conn.send_config_set(lines, error_pattern=FRR_ERROR)
                neighbors = conn.send_command(
                    "show ip ospf neighbor", use_textfsm=True, textfsm_template=str(args.textfsm)
                )
                conn.send_command("show version")
            finally:
                conn.disconnect()
            full = sum(1 for n in neighbors if n.get("state") == "Full")
            out[name] = {"ok": True, "neighbors_full": full, "error": None}
        except Exception as exc:
            out[name] = {"ok": False, "neighbors_full": None, "error": repr(exc)[:300]}
    args.out.write_text(json.dumps(out, indent=1))
    return 0 if all(r["ok"] for r in out.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
