"""Feasibility discovery (after Gate 1): what the target devices are and already run.

Per target host: NAPALM facts (vendor, model, OS version, uptime), the existing configuration
sections the design would touch (or, from a spec alone, the outline of the configuration),
plus the reuse candidates of the asset library (``templates/<platform>/``,
``parsers/<platform>/``) with their sha256 so a design can pin them. Read-only: nothing is
configured. Writes ``feasibility.json`` and a readable ``feasibility.md`` beside the spec.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from sdd_build.design.inventory import LoadedInventory
from sdd_build.design.loader import Repository
from sdd_build.execute.build import make_nornir
from sdd_build.execute.capabilities import HostCapabilities, missing_daemons, needed_daemons, parse
from sdd_build.execute.device import open_session
from sdd_build.execute.evidence import mask_secrets
from sdd_build.execute.identity import RecordedIdentities, check_identity, read_identity
from sdd_build.execute.journal import utcnow
from sdd_build.execute.locks import lock_hosts
from sdd_build.execute.reconcile import config_paths
from sdd_build.plan.planner import BuildPlan
from sdd_build.secrets.sink import write_json, write_text

__all__ = ["Feasibility", "discover", "write_feasibility"]


@dataclass
class Feasibility:
    generated: str
    source: str
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    reuse_candidates: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated": self.generated,
            "source": self.source,
            "hosts": self.hosts,
            "reuse_candidates": self.reuse_candidates,
        }


def _stanzas(config: str, headers: set[str] | None) -> dict[str, list[str]]:
    """Top-level stanzas of a config (``interface eth1`` -> its lines), optionally filtered."""
    out: dict[str, list[str]] = {}
    for path in config_paths(config):
        top = path[0]
        if headers is not None and top not in headers:
            continue
        lines = out.setdefault(top, [])
        if len(path) > 1:
            lines.append(" ".join(path[1:]))
    return out


def _candidates(repo: Repository, platforms: set[str]) -> list[dict[str, str]]:
    found = []
    for base in (repo.templates, repo.parsers):
        for platform in sorted(platforms):
            folder = base / platform
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    found.append(
                        {
                            "asset": str(path.relative_to(repo.root)),
                            "platform": platform,
                            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                        }
                    )
    return found


def discover(
    inventory: LoadedInventory,
    targets: list[str],
    repo: Repository,
    plan: BuildPlan | None,
    *,
    source: str,
    timeout_s: float = 60.0,
    workers: int = 20,
    design: str | None = None,
    wait_lock_s: float = 0.0,
) -> Feasibility:
    touched: dict[str, set[str]] = {}
    needs: dict[str, dict[str, list[str]]] = {}
    if plan is not None:
        for host, steps in plan.hosts.items():
            heads: set[str] = set()
            paths = []
            for step in steps:
                if step.config:
                    paths += config_paths(step.config)
            heads.update(p[0] for p in paths)
            touched[host] = heads
            needs[host] = needed_daemons(paths)
    result = Feasibility(generated=utcnow(), source=source)
    lock = threading.Lock()
    secrets = [h.password for h in inventory.inventory.hosts.values() if h.password]

    def probe(task: Task) -> Result:
        host = task.host.name
        entry: dict[str, Any] = {"platform": task.host.platform}
        try:
            session = open_session(task, timeout_s)
            facts = session.driver.get_facts()  # type: ignore[attr-defined]
            running = session.running_config()
            found = read_identity(
                session.driver,
                task.host.platform or "",
                running,
                serial=True,
                hardware=True,
                facts=facts,
            )
        except Exception as exc:
            entry["reachable"] = False
            entry["error"] = mask_secrets(f"{type(exc).__name__}: {exc}", secrets)
        else:
            entry["reachable"] = True
            refused = check_identity(task.host, found, RecordedIdentities())
            if refused is not None:  # another host's device: none of its facts are this host's
                entry["identity_mismatch"] = refused[0]
                entry["answers_as"] = found.hostname
                with lock:
                    result.hosts[host] = entry
                return Result(host=task.host, failed=True, result=entry)
            # what the build checks the device against (sdd_build.execute.identity)
            entry["identity"] = found.as_dict()
            entry["facts"] = {
                k: facts.get(k)
                for k in ("hostname", "vendor", "model", "os_version", "uptime", "serial_number")
            }
            heads = touched.get(host)
            sections = _stanzas(running, heads if plan is not None else None)
            entry["existing_sections"] = sections
            caps = _capabilities(session.driver)
            entry.update(caps.as_dict())
            if plan is not None:
                entry["new_sections"] = sorted((heads or set()) - set(sections))
                entry["needs"] = needs.get(host, {})
                entry["findings"] = [
                    f"the design needs {daemon} ({lines[0]!r}"
                    + (f" and {len(lines) - 1} more" if len(lines) > 1 else "")
                    + f") but {host} does not run it (daemons: {', '.join(caps.daemons or [])})"
                    for daemon, lines in missing_daemons(caps, needs.get(host, {})).items()
                ]
        with lock:
            result.hosts[host] = entry
        return Result(host=task.host, result=entry)

    nr = make_nornir(inventory, targets, workers)
    # Read-only, but under the same per-device locks as builds: a device half-way through a
    # build would give a feasibility (and a recorded identity) that is true of neither state.
    hosts = [inventory.inventory.hosts[h] for h in targets]
    with lock_hosts(hosts, "discover", design=design, repository=repo.root, wait_s=wait_lock_s):
        try:
            nr.run(task=probe, name="discover", on_failed=True)
        finally:
            nr.close_connections(on_failed=True)
    result.hosts = dict(sorted(result.hosts.items()))
    platforms = {str(e.get("platform")) for e in result.hosts.values() if e.get("platform")}
    result.reuse_candidates = _candidates(repo, platforms)
    return result


def _capabilities(driver: Any) -> HostCapabilities:
    """FRR version and running daemons, read-only; unknown (``None``) where the driver has no
    ``cli`` or the host is not FRR."""
    outputs: dict[str, str | None] = {}
    for command in ("show version", "show daemons"):
        try:
            text = driver.cli([command])[command]
        except Exception:  # a driver without cli, or a platform without the command
            text = None
        outputs[command] = text if isinstance(text, str) else None
    return parse(outputs["show version"], outputs["show daemons"])


def write_feasibility(directory: Path, feas: Feasibility) -> tuple[Path, Path]:
    data = feas.as_dict()
    json_path = directory / "feasibility.json"
    write_json(json_path, data)
    lines = [
        "# Feasibility",
        "",
        f"Discovered {feas.generated} from `{feas.source}` (read-only; nothing was configured).",
        "",
        "## Hosts",
        "",
        "| host | reachable | vendor | OS version | FRR | daemons "
        "| sections the design touches (existing) |",
        "|---|---|---|---|---|---|---|",
    ]
    for host, e in feas.hosts.items():
        facts = e.get("facts", {})
        sections = ", ".join(sorted(e.get("existing_sections", {}))) or "-"
        state = "yes" if e.get("reachable") else "NO: " + str(e.get("error", ""))
        if e.get("identity_mismatch"):
            state = f"ANSWERS AS '{e.get('answers_as')}': {e['identity_mismatch']}"
        lines.append(
            f"| {host} | {state} | "
            f"{facts.get('vendor', '-')} | {facts.get('os_version', '-')} | "
            f"{e.get('frr_version') or '-'} | {', '.join(e.get('daemons') or []) or '-'} | "
            f"{sections} |"
        )
    findings = [(h, f) for h, e in feas.hosts.items() for f in e.get("findings", [])]
    if findings:
        lines += ["", "## Feasibility findings (the design needs what a host lacks)", ""]
        lines += [f"- {host}: {finding}" for host, finding in findings]
    lines += ["", "## Existing configuration the design touches", ""]
    for host, e in feas.hosts.items():
        for head, body in e.get("existing_sections", {}).items():
            lines += [f"### {host}: `{head}`", "", "```", head, *[f" {b}" for b in body], "```", ""]
        if e.get("new_sections"):
            lines.append(
                f"{host} — new sections: " + ", ".join(f"`{s}`" for s in e["new_sections"])
            )
            lines.append("")
    lines += ["## Reuse candidates", "", "| asset | platform | sha256 |", "|---|---|---|"]
    for c in feas.reuse_candidates:
        lines.append(f"| `{c['asset']}` | {c['platform']} | `{c['sha256']}` |")
    md_path = directory / "feasibility.md"
    write_text(md_path, "\n".join(lines) + "\n")
    return json_path, md_path
