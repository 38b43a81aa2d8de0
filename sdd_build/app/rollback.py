"""``sdd-build rollback <build-id> [--host H]``: a failed restore retried later, verified.

    find the build (``**/builds/<build-id>``) -> gates (exit 3, no device contacted): the
    build finished, the audit chain verifies, no later build of this repository changed the
    host, the per-device locks builds take -> a backup of each host on this machine (exit 2
    when none) -> per host: its identity, the restore (every strategy of the driver), a
    complete read-back -> the record: ``as-built.json`` (host state, statuses, deviations,
    ``rollbacks``, ``attention``), the reports re-rendered, the journal, the audit log.

Only the read-back decides: a host is ``restored`` when its running config equals its
backup, else it stays ``changed`` with the lines left. Exit 0 when every host selected now
equals its backup, 1 otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from sdd_build.design.inventory import LoadedInventory, load_inventory, overlay_connections
from sdd_build.design.loader import find_root
from sdd_build.errors import DesignError, GateError, RecordError
from sdd_build.execute.device import RestoreOutcome, open_session
from sdd_build.execute.evidence import EvidenceStore
from sdd_build.execute.identity import RecordedIdentities
from sdd_build.execute.journal import JOURNAL, Journal, read_journal, utcnow
from sdd_build.execute.locks import lock_hosts
from sdd_build.execute.private import read_backup
from sdd_build.execute.results import AsBuilt, DeviationLog, attention

__all__ = ["RollbackResult", "find_build", "rollback_service"]

#: host states a rollback retries without ``--host``: a failed restore (the device differs,
#: or may differ, from its backup). A host the build changed as designed (``built``) is only
#: rolled back when named with ``--host``: a retry never undoes a successful build silently.
RETRIED_STATES = ("changed",)
DEFAULT_TIMEOUT_S = 30.0

Emitter = Callable[..., None]


@dataclass
class RollbackResult:
    build_dir: Path
    record: AsBuilt
    outcomes: dict[str, RestoreOutcome]

    @property
    def ok(self) -> bool:
        return all(o.verified for o in self.outcomes.values())


def find_build(root: Path, ref: str) -> Path:
    """The folder of build ``ref`` (a build id, or a build folder) in this repository."""
    given = Path(ref)
    if (given / "as-built.json").is_file():
        return given.resolve()
    hits = sorted(p.parent for p in root.glob(f"**/builds/{ref}/{JOURNAL}") if ref.strip())
    if len(hits) != 1:
        raise DesignError(
            f"no build '{ref}' in {root}" if not hits else f"build id '{ref}' is ambiguous",
            hint="give the build id printed by `sdd-build build` (builds/<build-id>/)",
        )
    return hits[0]


def _later_changes(root: Path, bdir: Path, since: str, hosts: list[str]) -> dict[str, str]:
    """Hosts a later (or unfinished) build of this repository committed a change to, and
    did not roll back: restoring this build's backup would undo that build's work."""
    found: dict[str, str] = {}
    for journal in root.glob(f"**/builds/*/{JOURNAL}"):
        other = journal.parent
        if other.resolve() == bdir.resolve():
            continue
        entries = read_journal(other)
        started = next((e.get("ts", "") for e in entries if e.get("event") == "build_started"), "")
        if started and started < since:
            continue
        for e in entries:
            host = e.get("host")
            if host not in hosts:
                continue
            if e.get("event") in ("apply_started", "apply_committed"):
                found[host] = other.name
            elif e.get("event") == "rollback_done":
                found.pop(host, None)
    return found


def _inventory(root: Path, inventory: Path | None, connections: Path | None) -> LoadedInventory:
    inv_dir = inventory or root / "inventory"
    inv = load_inventory(inv_dir, display=os.path.relpath(inv_dir, root))
    if connections is not None:
        conn = load_inventory(connections, display=str(connections), machine_written=True)
        inv = overlay_connections(inv, conn)
    return inv


def rollback_service(
    ref: str,
    *,
    hosts: list[str] | None = None,
    connections: Path | None = None,
    inventory: Path | None = None,
    wait_lock_s: float = 0.0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    emit: Emitter | None = None,
    root: Path | None = None,
    via: str = "auto",
) -> RollbackResult:
    """Restore the hosts of a finished build to their pre-build backups, verified, recorded."""
    from sdd_build.audit import AuditLog
    from sdd_build.execute.build import make_nornir, record_sha256, secrets_of, write_record
    from sdd_build.gates.chain import verified_chain
    from sdd_build.report import write_all

    say = emit or (lambda event, **data: None)
    root = root or find_root(Path.cwd()).resolve()
    bdir = find_build(root, ref)
    entries = read_journal(bdir)
    if not any(e.get("event") == "build_finished" for e in entries):
        raise DesignError(
            f"build '{bdir.name}' did not finish",
            hint=f"close it first: `sdd-build build <design> --recover {bdir.name}`",
        )
    record = AsBuilt.model_validate_json((bdir / "as-built.json").read_text(encoding="utf-8"))
    build_id = record.build_id
    unknown = [h for h in hosts or [] if h not in record.hosts]
    if unknown:
        raise DesignError(
            f"not a host of build {build_id}: {', '.join(unknown)}",
            hint=f"its hosts: {', '.join(sorted(record.hosts))}",
        )
    selected = list(hosts or [])
    if not selected:
        selected = [h for h, s in sorted(record.hosts.items()) if s.get("state") in RETRIED_STATES]
    if not selected:
        say("nothing", message=f"every host of build {build_id} is at its backup or untouched")
        return RollbackResult(bdir, record, {})
    # gates: nothing below contacts a device unless all of them pass
    verified_chain(root)  # the whole chain, a deleted log, a missing head: exit 3
    later = _later_changes(root, bdir, record.finished or record.started, selected)
    if later:
        raise GateError(
            "a later build changed "
            + ", ".join(f"{h} (build {b})" for h, b in sorted(later.items()))
            + f"; restoring the backups of build {build_id} would undo it",
            hint="roll back the later build first, or restore by a new approved design",
        )
    backups = {h: read_backup(root, build_id, h) for h in selected}
    missing = [h for h, b in backups.items() if b is None]
    if missing:
        raise DesignError(
            f"no pre-build backup of {', '.join(missing)} for build {build_id} on this machine",
            hint="backups live in the private state directory of the machine that ran the "
            "build (SDD_STATE_DIR)",
        )
    inv = _inventory(root, inventory, connections)
    absent = [h for h in selected if h not in inv.inventory.hosts]
    if absent:
        raise DesignError(f"not in the inventory: {', '.join(absent)}", file=inv.display)
    daemons = {e["host"]: e.get("daemons") for e in entries if e.get("event") == "host_backup"}
    design_dir = bdir.parent.parent
    identities = RecordedIdentities.load(design_dir)
    store = EvidenceStore(bdir, secrets=secrets_of(inv))
    outcomes: dict[str, RestoreOutcome] = {}
    at = utcnow()
    nr = make_nornir(inv, selected, len(selected))

    def restore(task: Task) -> Result:
        host = task.host.name
        try:
            session = open_session(task, timeout_s, via)
            refused = identities.verify(task.host, session.driver, session.running_config())
        except Exception as exc:
            outcomes[host] = RestoreOutcome(
                False, error=f"{type(exc).__name__}: {exc}", read_back=False
            )
            return Result(host=task.host, failed=True)
        if refused is not None:  # never restore one host's backup onto another device
            outcomes[host] = RestoreOutcome(
                False, error=f"identity_mismatch: {refused.reason}", read_back=False
            )
            return Result(host=task.host, failed=True)
        session.expect_daemons(daemons.get(host))
        backup = backups[host]
        assert backup is not None
        try:
            devices.changing(host)  # the device's ledger: this rollback is changing it
        except RecordError as exc:
            outcomes[host] = RestoreOutcome(False, error=str(exc), read_back=False)
            return Result(host=task.host, failed=True)
        outcomes[host] = session.restore(backup)
        return Result(host=task.host, result="restored")

    with lock_hosts(
        [inv.inventory.hosts[h] for h in selected],
        "rollback",
        design=str(record.design.get("id")),
        build_id=build_id,
        repository=root,
        wait_s=wait_lock_s,
        restores_from=record.started,
    ) as devices:
        # a device another build changed since this build's backups (any repository, the
        # device ledger): putting the backup back would undo that build's work
        newer = {h: c for h in selected if (c := devices.changed_since(h)) is not None}
        if newer:
            raise GateError(
                "changed since by another build: "
                + ", ".join(f"{h} ({c.describe()})" for h, c in sorted(newer.items()))
                + f"; restoring the backups of build {build_id} would undo it",
                hint="roll back the later build first, or restore by a new approved design",
            )
        # journaled only once the locks are held: a refused rollback touched nothing
        journal = Journal(bdir)
        journal.write("rollback_retry_started", hosts=selected)
        say("rollback_started", build_id=build_id, hosts=selected)
        try:
            nr.run(task=restore, name="rollback", on_failed=True)
        finally:
            nr.close_connections(on_failed=True)
            for host in selected:
                outcome = outcomes.get(host) or RestoreOutcome(
                    False, error="not run", read_back=False
                )
                outcomes[host] = outcome
                journal.write(
                    "rollback_done" if outcome.verified else "rollback_failed",
                    host=host,
                    retry=True,
                    left=[store.mask(r) for r in outcome.left],
                    missing=[store.mask(r) for r in outcome.missing],
                    error=store.mask(outcome.error or ""),
                )
            journal.close()
        record = _recorded(record, outcomes, at, store, entries)
        write_record(bdir, record)  # atomic: a reader sees the old record or the new one
        devices.settle(selected)  # the record accounts for each of them now
    AuditLog(root).append(
        "rollback",
        design=str(record.design.get("id")),
        build_id=build_id,
        record=(bdir / "as-built.json").resolve().relative_to(root.resolve()).as_posix(),
        as_built_sha256=record_sha256(bdir),
        # host names as values: the log refuses a key that reads like a secret name
        hosts=[
            {"host": h, "state": "restored" if o.verified else "changed"}
            for h, o in sorted(outcomes.items())
        ],
    )
    for host, outcome in sorted(outcomes.items()):
        say("rollback_host", host=host, verified=outcome.verified, summary=outcome.summary())
    try:
        write_all(bdir)
    except Exception as exc:
        say(
            "warning", message=f"the reports could not be re-rendered ({exc}); the record is intact"
        )
    return RollbackResult(bdir, record, outcomes)


def _recorded(
    record: AsBuilt,
    outcomes: dict[str, RestoreOutcome],
    at: str,
    store: EvidenceStore,
    entries: list[dict[str, Any]],
) -> AsBuilt:
    """The record with the retry in it: host states, statuses, deviations, history."""
    hosts = {h: dict(s) for h, s in record.hosts.items()}
    log = DeviationLog()
    log.items = list(record.deviations)
    committed = {
        (e.get("component"), e.get("host")) for e in entries if e.get("event") == "apply_committed"
    }
    components = [c.model_copy(deep=True) for c in record.components]
    history: dict[str, Any] = {"at": at, "hosts": {}}
    stamp = at.replace(":", "").replace("-", "").replace(".", "")
    for host, outcome in sorted(outcomes.items()):
        summary = hosts.setdefault(host, {})
        evidence = [store.write(host, f"rollback-{stamp}.json", outcome.dump())]
        for key in ("left", "missing", "read_back"):
            summary.pop(key, None)
        if outcome.verified:
            summary["state"] = "restored"
            summary["restored_by"] = f"sdd-build rollback at {at}"
            for comp in components:
                rec = comp.hosts.get(host)
                if rec is not None and rec.status == "built" and (comp.id, host) in committed:
                    comp.hosts[host] = rec.model_copy(update={"status": "rolled_back"})
            log.add(
                "rolled_back",
                None,
                host,
                f"`sdd-build rollback` at {at}: {outcome.summary()}",
                expected="pre-build config",
                actual="pre-build config",
                evidence=evidence,
            )
        else:
            summary["state"] = "changed"
            summary["left"] = [store.mask(r) for r in outcome.left]
            summary["missing"] = [store.mask(r) for r in outcome.missing]
            summary["read_back"] = outcome.read_back
            log.add(
                "rollback_failed",
                None,
                host,
                store.mask(f"`sdd-build rollback` at {at}: {outcome.summary()}"),
                expected="pre-build config",
                actual={"left": summary["left"], "missing": summary["missing"]}
                if outcome.read_back
                else "unknown: the device could not be read back",
                evidence=evidence,
            )
        history["hosts"][host] = {
            "verified": outcome.verified,
            "strategies": outcome.strategies,
            "left": summary.get("left", []),
            "missing": summary.get("missing", []),
            "error": store.mask(outcome.error) if outcome.error else None,
        }
    return record.model_copy(
        update={
            "hosts": hosts,
            "components": components,
            "deviations": log.items,
            "attention": attention(record.build_id, hosts),
            "rollbacks": [*record.rollbacks, history],
        }
    )
