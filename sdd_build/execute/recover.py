"""Closing an interrupted build (``build --recover <id>``), decided from the devices' state.

The journal says what the build meant to do (its intents to commit) and what it recorded
(component results, deviations). It cannot say what a device holds: a commit can take effect
and the process die before the journal says so, and a full disk loses entries. So every host
of the build that has a pre-build backup is read and compared with it (normalised):

* equal — the device is at its pre-build config; nothing to do;
* different — restored with ``DeviceSession.restore`` (which reads the device back):
  ``rolled_back`` when it equals its backup afterwards, else ``rollback_failed``;
* different, with ``accept`` — left as it is; recorded as ``unexpected_change``.

A host the build meant to change that cannot be compared (unreachable, or no backup on this
machine) is undecided: the record says so and the build stays unfinished — the next build
still refuses to start blind — unless ``accept`` records it as it is.

The recovered record embeds the interrupted build's approvals (journaled at its start) and
keeps every component result it had journaled, the checks that had passed included.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir.core.task import Result, Task

from sdd_build.errors import DesignError, RecordError
from sdd_build.execute.build import (
    builds_dir,
    inventory_secrets,
    make_nornir,
    record_header,
    write_record,
)
from sdd_build.execute.device import DeviceSession, open_session
from sdd_build.execute.evidence import EvidenceStore
from sdd_build.execute.identity import Mismatch, RecordedIdentities
from sdd_build.execute.journal import Journal, build_lock, read_journal, utcnow
from sdd_build.execute.locks import lock_hosts
from sdd_build.execute.private import read_backup
from sdd_build.execute.results import (
    AsBuilt,
    ComponentRecord,
    Deviation,
    DeviationLog,
    HostRecord,
    Metrics,
)
from sdd_build.plan.validate import ValidationReport
from sdd_build.workspace import Workspace

__all__ = ["recover_build"]

#: journal events that announce a commit (``apply_started`` in journals before write-ahead)
_INTENTS = ("commit_intent", "apply_started", "apply_committed")


@dataclass
class _Interrupted:
    """What the journal of an interrupted build says."""

    started: dict[str, Any]
    hosts: list[str]
    intents: dict[str, list[str]]
    results: dict[str, dict[str, HostRecord]]
    deviations: list[Deviation]


@dataclass
class _Outcome:
    state: str  # unchanged | restored | rollback_failed | accepted | undecided | untouched
    detail: str = ""
    left: list[str] = field(default_factory=list)
    unreachable: bool = False  # undecided because the device could not be reached or read
    mismatch: Mismatch | None = None  # undecided because the device answers as another host


def _read(bdir: Path, build_id: str, builds: Path) -> _Interrupted:
    entries = read_journal(bdir)
    if not entries:
        raise DesignError(f"no build '{build_id}' with a journal in {builds}")
    if any(e.get("event") == "build_finished" for e in entries):
        raise DesignError(f"build '{build_id}' finished; there is nothing to recover")
    started = next((e for e in entries if e.get("event") == "build_started"), {})
    intents: dict[str, list[str]] = {}
    results: dict[str, dict[str, HostRecord]] = {}
    deviations: list[Deviation] = []
    hosts = list(started.get("hosts") or [])
    for e in entries:
        event, host = e.get("event"), e.get("host")
        if isinstance(host, str) and host not in hosts:
            hosts.append(host)
        if event in _INTENTS and isinstance(host, str):
            comps = intents.setdefault(host, [])
            if e.get("component") not in comps:
                comps.append(str(e.get("component")))
        elif event == "component_result" and isinstance(host, str):
            data = {k: v for k, v in e.items() if k in HostRecord.model_fields}
            try:
                results.setdefault(str(e.get("component")), {})[host] = HostRecord(**data)
            except ValueError:
                continue  # an entry this version cannot read: the device decides anyway
        elif event == "deviation":
            data = {k: v for k, v in e.items() if k not in ("ts", "event")}
            try:
                deviations.append(Deviation.model_validate(data))
            except ValueError:
                continue
    return _Interrupted(started, hosts, intents, results, deviations)


def _differences(session: DeviceSession, backup: str, now: str) -> list[str]:
    """The lines that differ, ``-`` only in the backup, ``+`` only on the device now."""
    return [
        line
        for line in difflib.unified_diff(
            session.normalise(backup).splitlines(),
            session.normalise(now).splitlines(),
            lineterm="",
            n=0,
        )
        if line[:1] in "+-" and not line.startswith(("---", "+++"))
    ]


def recover_build(
    report: ValidationReport,
    build_id: str,
    *,
    accept: bool,
    emit: Callable[..., None] | None = None,
    approvals: list[dict[str, Any]] | None = None,
    wait_lock_s: float = 0.0,
    via: str = "auto",
) -> tuple[AsBuilt, Path]:
    """Close the interrupted build ``build_id`` from its devices' state (module docstring).
    ``approvals`` stand in when the journal predates journaled approvals; ``via`` is the
    configuration path (``execute.device.PATHS``) the devices are read and restored on."""
    ws = report.workspace
    assert ws is not None
    builds = builds_dir(ws)
    bdir = builds / build_id
    run = _read(bdir, build_id, builds)
    model = ws.design.model
    log = DeviationLog()
    log.items.extend(run.deviations)  # what the build had recorded; numbering goes on
    store = EvidenceStore(bdir, secrets=inventory_secrets(ws))
    outcomes: dict[str, _Outcome] = {}
    repo_root = ws.design.repo.root
    inventory = ws.inventory.inventory.hosts
    known = [h for h in run.hosts if h in inventory]
    identities = RecordedIdentities.load(ws.design.directory)

    def decide(task: Task) -> Result:
        host = task.host.name
        touched = bool(run.intents.get(host))
        newer = devices.changed_since(host)
        if newer is not None:  # then this build never changed it (see execute/ledger.py)
            why = f"changed since by {newer.describe()}: this build's backup is not put back"
            outcomes[host] = _Outcome("untouched", why)
            return Result(host=task.host, result=outcomes[host].state)
        backup = read_backup(repo_root, build_id, host)
        if backup is None:
            outcomes[host] = (
                _Outcome("undecided", "no pre-build backup on this machine to compare with")
                if touched
                else _Outcome("untouched", "no backup was taken, so nothing was pushed")
            )
            return Result(host=task.host, result=outcomes[host].state)
        try:
            session = open_session(task, model.build.timeout_s, via)
            now = session.read()  # complete: a partial read is never compared with a backup
            refused = identities.verify(task.host, session.driver, now)
        except Exception as exc:
            reason = store.mask(f"cannot reach or read the device: {exc}")
            outcomes[host] = _Outcome("undecided", reason, unreachable=True)
            return Result(host=task.host, failed=True, result="undecided")
        if refused is not None:  # never compare with, nor restore, another host's backup
            outcomes[host] = _Outcome("undecided", refused.reason, mismatch=refused)
            return Result(host=task.host, failed=True, result="undecided")
        left = [store.mask(line) for line in _differences(session, backup, now)]
        if not left:
            outcomes[host] = _Outcome("unchanged", "the device equals its pre-build config")
        elif accept:
            outcomes[host] = _Outcome("accepted", "left as it is by --accept", left)
        else:
            try:
                devices.changing(host)  # the device's ledger: this recovery is changing it
            except RecordError as exc:
                outcomes[host] = _Outcome("undecided", f"{exc}: not restored", left)
                return Result(host=task.host, failed=True, result="undecided")
            outcome = session.restore(backup)  # judged by a complete read of the device
            if outcome.verified:
                outcomes[host] = _Outcome(
                    "restored", "restored to the pre-build config and read back"
                )
            elif not outcome.read_back:
                reason = store.mask(f"the restore could not be read back: {outcome.error}")
                outcomes[host] = _Outcome("undecided", reason, unreachable=True)
            else:
                left = [store.mask(r) for r in [*outcome.left, *outcome.missing]]
                outcomes[host] = _Outcome("rollback_failed", store.mask(outcome.summary()), left)
        # evidence is best effort: the disk may still be full, the session may be gone
        with contextlib.suppress(Exception):
            store.write(host, "recovered.cfg", session.running_config())
        return Result(host=task.host, result=outcomes[host].state)

    with (
        build_lock(builds, model.design, wait_lock_s),
        lock_hosts(
            [inventory[h] for h in known],
            "recover",
            design=model.design,
            build_id=build_id,
            repository=repo_root,
            wait_s=wait_lock_s,
            restores_from=run.started.get("ts"),
        ) as devices,
    ):
        journal = Journal(bdir)
        journal.write("recover_started", accept=accept, hosts=known)
        if known:
            nr = make_nornir(ws.inventory, known, len(known))
            try:
                nr.run(task=decide, name="recover", on_failed=True)
            finally:
                nr.close_connections(on_failed=True)
        for host in run.hosts:
            outcomes.setdefault(host, _Outcome("undecided", "not in the inventory any more"))
        records = _records(run, outcomes, accept)
        _deviate(log, run, outcomes)
        for dev in log.items[len(run.deviations) :]:
            journal.write("deviation", **dev.dump())
        undecided = sorted(
            h for h, o in outcomes.items() if o.state == "undecided" and run.intents.get(h)
        )
        asbuilt = _record(ws, build_id, run, records, log, outcomes, approvals)
        try:
            write_record(bdir, asbuilt)
            if undecided and not accept:
                journal.write("recover_incomplete", undecided=undecided)
            else:
                journal.write_ahead("build_finished", result=asbuilt.result, recovered=True)
            devices.settle([h for h in outcomes if h not in undecided or accept])
        except (OSError, RecordError) as exc:
            states = ", ".join(f"{h}: {o.state}" for h, o in sorted(outcomes.items()))
            raise RecordError(
                f"recovery of {build_id} decided ({states}) but its record could not be "
                f"written ({exc}); the build stays unfinished",
                file=str(bdir / "as-built.json"),
                hint=f"free space, then run --recover {build_id} again (it reads the devices "
                "afresh)",
            ) from None
        finally:
            journal.close()
    if emit:
        if undecided and not accept:
            emit(
                "warning",
                message=f"{', '.join(undecided)}: could not be compared with the backup; the "
                f"build stays unfinished (retry --recover {build_id}, or --accept)",
            )
        emit("build_finished", build_id=build_id, result=asbuilt.result, path=str(bdir))
    return asbuilt, bdir


def _records(
    run: _Interrupted, outcomes: dict[str, _Outcome], accept: bool
) -> dict[str, dict[str, HostRecord]]:
    """The journaled results, with each changed component's status set by its device."""
    records = {cid: dict(hosts) for cid, hosts in run.results.items()}
    for host, comps in run.intents.items():
        state = outcomes.get(host, _Outcome("undecided")).state
        for cid in comps:
            rec = records.setdefault(cid, {}).get(host)
            if state in ("restored", "unchanged"):
                reason = f"recovered: {outcomes[host].detail}"
                if rec is None:
                    rec = HostRecord(status="rolled_back", reason=reason)
                elif rec.status == "built":  # its checks stay: they passed before the stop
                    rec = rec.model_copy(update={"status": "rolled_back", "reason": reason})
                records[cid][host] = rec
            elif rec is None:
                records[cid][host] = HostRecord(
                    status="built" if accept and state == "accepted" else "failed",
                    reason=f"interrupted during this component; {outcomes[host].detail}",
                )
    return records


def _deviate(log: DeviationLog, run: _Interrupted, outcomes: dict[str, _Outcome]) -> None:
    for host in run.hosts:
        out = outcomes[host]
        intents = run.intents.get(host) or []
        comp = intents[-1] if intents else None  # the component the build was at
        if out.state == "restored" or (out.state == "unchanged" and run.intents.get(host)):
            log.add(
                "rolled_back",
                comp,
                host,
                f"interrupted build recovered: {out.detail}",
                expected="pre-build config",
                actual="pre-build config",
            )
        elif out.state == "rollback_failed":
            log.add(
                "rollback_failed",
                comp,
                host,
                f"interrupted build: the restore left {len(out.left)} line(s) differing from "
                f"the pre-build config: {out.detail}",
                expected="pre-build config",
                actual=out.left,
            )
        elif out.state == "accepted":
            log.add(
                "unexpected_change",
                comp,
                host,
                "interrupted build: the device differs from its pre-build config; state "
                "accepted as is by --accept",
                expected="pre-build config",
                actual=out.left,
            )
        elif out.mismatch is not None:
            log.add(
                "identity_mismatch",
                None,
                host,
                out.mismatch.reason,
                expected=out.mismatch.expected,
                actual=out.mismatch.found,
            )
        elif out.state == "undecided" and run.intents.get(host):
            log.add(
                "unreachable" if out.unreachable else "rollback_failed",
                comp,
                host,
                f"interrupted build: the device could not be compared with its backup "
                f"({out.detail}); its state is unknown",
            )


def _record(
    ws: Workspace,
    build_id: str,
    run: _Interrupted,
    records: dict[str, dict[str, HostRecord]],
    log: DeviationLog,
    outcomes: dict[str, _Outcome],
    approvals: list[dict[str, Any]] | None,
) -> AsBuilt:
    model = ws.design.model
    components = [
        ComponentRecord(
            id=cid,
            kind=model.component(cid).kind,
            layer=ws.graph.layer_of[cid],
            reuse=getattr(model.component(cid), "reuse", None) is not None,
            hosts=dict(sorted(records.get(cid, {}).items())),
        )
        for cid in ws.graph.order
    ]
    pairs = [rec for comp in components for rec in comp.hosts.values()]
    header = record_header(ws)
    # the design as the interrupted build had it
    header["design"]["version"] = run.started.get("version", model.version)
    header["design"]["sha256"] = run.started.get("design_sha256") or header["design"]["sha256"]
    return AsBuilt(
        build_id=build_id,
        mode="recover",
        **header,
        approvals=list(run.started.get("approvals") or approvals or []),
        started=str(run.started.get("ts") or utcnow()),
        finished=utcnow(),
        result="failed",  # an interrupted build is never as designed, whatever recovery found
        hosts={
            h: {
                "touched": bool(run.intents.get(h)),
                "state": outcomes[h].state,
                "detail": outcomes[h].detail,
            }
            for h in sorted(outcomes)
        },
        components=components,
        deviations=log.items,
        metrics=Metrics(
            deviation_rate=1.0 if log.items else 0.0,
            reuse_rate=0.0,
            reconciliation=round(sum(bool(r.evidence) for r in pairs) / len(pairs), 4)
            if pairs
            else 0.0,
            time_to_value_s=None,
        ),
    )
