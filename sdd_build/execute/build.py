"""The governed build: an approved plan carried out on devices, leaf-first, layer by layer.

    gates (exit 3, nothing contacted) -> offline layer -> lock + journal ->
    connect + back up every target host (one SSH session per host for the whole build) ->
    per layer, all hosts concurrently (Nornir): apply config components (NAPALM candidate,
    diff, commit), run command components and their acceptance checks, record evidence ->
    on failure: roll the host back to its backup (``rollback: on_failure``), block the rest ->
    reconcile intended vs running config -> as-built record + audit entry.

Nothing here adapts silently: every surprise becomes a ``Deviation`` with evidence.
"""

from __future__ import annotations

import contextlib
import secrets as pysecrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.inventory import Hosts, Inventory
from nornir.core.task import Result, Task

from sdd_build.audit.canonical import sha256_file
from sdd_build.checks import evaluate
from sdd_build.design.inventory import LoadedInventory
from sdd_build.design.models import CommandTemplate, ConfigTemplate, Parser, Workflow
from sdd_build.errors import DesignError, GateError, RecordError, SddBuildError
from sdd_build.execute.device import (
    DeviceSession,
    RestoreOutcome,
    open_session,
    preload_drivers,
    register_connections,
)
from sdd_build.execute.evidence import EvidenceStore
from sdd_build.execute.executors import ExecutorSpec, open_executor
from sdd_build.execute.hostcheck import check_identity_of, open_check_session
from sdd_build.execute.identity import RecordedIdentities
from sdd_build.execute.journal import Journal, build_lock, find_unfinished, utcnow
from sdd_build.execute.ledger import NO_DEVICES, HeldDevices
from sdd_build.execute.locks import lock_hosts
from sdd_build.execute.policy import build_result, is_open
from sdd_build.execute.private import prepare_build, write_backup
from sdd_build.execute.reconcile import show_path
from sdd_build.execute.results import (
    AsBuilt,
    ComponentRecord,
    DeviationLog,
    HostRecord,
    Metrics,
    attention,
)
from sdd_build.execute.runner import PooledRunner
from sdd_build.execute.truth import reconcile_host
from sdd_build.offline.runner import parser_template_path
from sdd_build.parse import parse
from sdd_build.plan.planner import BuildPlan
from sdd_build.plan.validate import ValidationReport
from sdd_build.secrets.sink import write_json
from sdd_build.workspace import Workspace, render_context

__all__ = ["Emitter", "RunOptions", "evaluate_outputs", "make_nornir", "run_build"]

Emitter = Callable[..., None]


def _quiet(event: str, **data: Any) -> None:
    return None


@dataclass
class RunOptions:
    """How this run of a build goes (dry run, workers, approvals); the design's own ``build:``
    settings are ``design.models.BuildOptions``."""

    check: bool = False
    workers: int | None = None
    approvals: list[dict[str, Any]] = field(default_factory=list)
    spec_approved_at: str | None = None
    emit: Emitter = _quiet
    build_id: str | None = None
    waivers: list[Any] = field(default_factory=list)  # active gates.waivers.Waiver
    wait_lock_s: float = 0.0  # how long to wait for hosts locked by another build
    agent: dict[str, Any] | None = None  # the agent (sdd-build mcp) that runs it, if any
    executor: str = "local"  # where device sessions live (execute.executors.EXECUTORS)
    scheduler: str | None = None  # the Dask scheduler address (executor "dask")
    shard_by: str = "site"  # the inventory data key that names a host's site (dask shards)
    path: str = "auto"  # how hosts are configured (execute.device.PATHS)


@dataclass
class _HostState:
    name: str
    session: DeviceSession | None = None
    wait_s: float = 0.0  # declared waiting for convergence (design 'wait')
    backup: str | None = None
    stopped: str | None = None  # why nothing more runs on this host
    intended: list[tuple[str, str]] = field(default_factory=list)  # (component, config)
    committed: list[str] = field(default_factory=list)
    # An intent to commit was journaled: from then on the device may differ from its backup
    # (a commit can take effect and still fail on the wire), so any failure compares them.
    touched: bool = False
    # the device against its backup: unchanged | built | restored (verified) | changed
    # (differs, or may differ, and nobody verified otherwise)
    state: str = "unchanged"
    restore: RestoreOutcome | None = None
    partial: list[str] = field(default_factory=list)  # applies that failed after sending
    checked: bool = False  # a check target: commands only (execute.hostcheck)


class _Build:
    """Shared state of one build; device work happens in Nornir's worker threads."""

    devices: HeldDevices = NO_DEVICES  # the locked devices and their ledger (run_build sets)

    def __init__(self, ws: Workspace, plan: BuildPlan, opts: RunOptions, build_dir: Path) -> None:
        self.ws = ws
        self.plan = plan
        self.opts = opts
        self.build_dir = build_dir
        self.model = ws.design.model
        self.by_id = {c.id: c for c in self.model.components}
        self.lock = threading.Lock()
        self.journal = Journal(build_dir)
        # fsynced in one batch before the record refers to it (run_build)
        self.evidence = EvidenceStore(build_dir, secrets=inventory_secrets(ws), defer_sync=True)
        self.hosts = {h: _HostState(h) for h in ws.hosts}
        self.hosts.update({h: _HostState(h, checked=True) for h in ws.check_hosts})
        self.records: dict[str, dict[str, HostRecord]] = {c: {} for c in ws.graph.order}
        self.deviations = DeviationLog()
        self.summaries: dict[str, dict[str, Any]] = {}
        self.steps = {h: {s.component: s for s in plan.hosts.get(h, [])} for h in ws.all_hosts}
        self.identities = RecordedIdentities.load(ws.design.directory)
        # where the session lives: this process, or a shard actor (execute/executors)
        self.open_session: Callable[[Task, float], DeviceSession] = lambda task, timeout_s: (
            open_session(task, timeout_s, opts.path)
        )

    # ----- recording ---------------------------------------------------------------------

    def record(self, component: str, host: str, rec: HostRecord) -> None:
        with self.lock:
            self.records[component][host] = rec
        # what ``--recover`` keeps of an interrupted build: statuses and the checks that ran
        # (masked by the journal, as data)
        self.journal.write(
            "component_result", component=component, host=host, **rec.model_dump(mode="json")
        )
        self.opts.emit(
            "component_host", component=component, host=host, status=rec.status, reason=rec.reason
        )

    def deviate(
        self,
        cls: str,
        component: str | None,
        host: str | None,
        reason: str,
        expected: Any = None,
        actual: Any = None,
        evidence: list[str] | None = None,
        check: str | None = None,
        line: str | None = None,
    ) -> None:
        # a configuration line, FRR's echo of it or a check's output can carry a secret
        mask = self.evidence.mask

        def masked(value: Any) -> Any:
            return mask(value) if isinstance(value, str) else value

        data = self.deviations.add(
            cls,
            component,
            host,
            mask(reason),
            masked(expected),
            masked(actual),
            evidence,
            check=check,
            line=masked(line),
        ).dump()
        self.journal.write("deviation", **data)
        self.opts.emit("deviation", **data)

    # ----- per-host work -----------------------------------------------------------------

    def host_step(self, task: Task, layer: list[str], first: bool, last: bool) -> Result:
        """One host's share of a layer; the first also connects, the last also reconciles."""
        st = self.hosts[task.host.name]
        try:
            if first:
                self.connect(task)
            if layer:
                self.run_layer(task, layer)
            if last:
                self.finish_host(task)
        except Exception as exc:  # e.g. evidence on a full disk: the host stops, recorded
            reason = f"the build stopped on this host: {_oneline(exc)}"
            st.stopped = st.stopped or reason
            self.deviate("apply_failed", None, st.name, reason)
            return Result(host=task.host, failed=True, result=reason)
        finally:
            if last:
                task.host.close_connections()
        return Result(host=task.host, result="done")

    def connect(self, task: Task) -> Result:
        st = self.hosts[task.host.name]
        if st.checked:
            return self.connect_check(task, st)
        try:
            st.session = self.open_session(task, self.model.build.timeout_s)
            running = st.session.backup()  # complete, or refused: then nothing is changed
            refused = self.identities.verify(task.host, st.session.driver, running)
        except Exception as exc:
            st.stopped = cls = deviation_class(exc, "unreachable")
            reason = _oneline(exc)
            self.deviate(cls, None, st.name, f"cannot reach or read the device: {reason}")
            self.journal.write("host_unreachable", host=st.name, reason=reason)
            return Result(host=task.host, failed=True, result=reason)
        if refused is not None:  # another host's device: no backup of it, nothing pushed to it
            st.stopped = "identity_mismatch: the device answers as another host"
            self.deviate(
                "identity_mismatch",
                None,
                st.name,
                refused.reason,
                expected=refused.expected,
                actual=refused.found,
            )
            self.journal.write("identity_mismatch", host=st.name, found=refused.found)
            return Result(host=task.host, failed=True, result=refused.reason)
        st.backup = running
        try:
            # the real backup (device secrets) goes to the private state dir, never builds/
            path = write_backup(self.ws.design.repo.root, self.build_dir.name, st.name, st.backup)
            self.evidence.write(st.name, "pre.cfg", st.backup)
        except Exception as exc:  # no durable backup: the host is never changed
            st.stopped = f"the pre-build backup could not be written: {_oneline(exc)}"
            self.deviate("apply_failed", None, st.name, st.stopped + "; nothing was pushed")
            return Result(host=task.host, failed=True, result=st.stopped)
        self.journal.write(
            "host_backup", host=st.name, backup=str(path), daemons=st.session.daemons()
        )
        return Result(host=task.host, result="connected")

    def connect_check(self, task: Task, st: _HostState) -> Result:
        """A check target: a read-only session, and the device must answer as the host."""
        try:
            st.session = open_check_session(task, self.model.build.timeout_s)
            wrong = check_identity_of(st.session, task)
        except Exception as exc:
            st.stopped = "unreachable"
            reason = _oneline(exc)
            self.deviate("unreachable", None, st.name, f"cannot reach the check target: {reason}")
            return Result(host=task.host, failed=True, result=reason)
        if wrong is not None:
            st.stopped = "identity_mismatch: the device answers as another host"
            reason = f"the device answers as '{wrong[1]}', not '{wrong[0]}': no check runs on it"
            self.deviate(
                "identity_mismatch", None, st.name, reason, expected=wrong[0], actual=wrong[1]
            )
            return Result(host=task.host, failed=True, result=reason)
        self.journal.write("check_target_connected", host=st.name)
        return Result(host=task.host, result="connected")

    def _unmet(self, cid: str, host: str) -> list[str]:
        """Dependencies of ``cid`` that did not build: on ``host`` itself, or, for a check
        target (an end-to-end check), on any host they act on."""
        ok = ("built", "skipped") if self.opts.check else ("built",)
        everywhere = self.hosts[host].checked
        unmet = []
        for d in sorted(self.ws.graph.dependencies(cid)):
            on = self.ws.component_hosts.get(d, ())
            hosts = on if everywhere else ([host] if host in on else [])
            if any(
                self.records[d].get(h, HostRecord(status="blocked")).status not in ok for h in hosts
            ):
                unmet.append(d)
        return unmet

    def run_layer(self, task: Task, layer: list[str]) -> Result:
        host = task.host.name
        st = self.hosts[host]
        for cid in layer:
            if host not in self.ws.component_hosts.get(cid, ()):
                continue
            comp = self.by_id[cid]
            started = time.perf_counter()
            if st.stopped:
                self._block(cid, host, st.stopped)
                continue
            unmet = self._unmet(cid, host)
            if unmet:
                self._block(cid, host, f"depends on {', '.join(unmet)}, which did not build")
                continue
            try:
                if isinstance(comp, ConfigTemplate):
                    self._config(comp, st, started)
                elif isinstance(comp, CommandTemplate):
                    self._command(comp, st, started)
                elif isinstance(comp, Workflow):
                    skipped = any(
                        self.records[s].get(host, HostRecord(status="built")).status == "skipped"
                        for s in comp.steps
                    )
                    self.record(
                        cid,
                        host,
                        HostRecord(
                            status="skipped" if skipped else "built",
                            reason="dry run" if skipped else None,
                        ),
                    )
            except SddBuildError as exc:
                self._fail(cid, st, deviation_class(exc, "apply_failed"), str(exc), started)
            except Exception as exc:  # a device or transport error mid-component
                self._fail(cid, st, "apply_failed", _oneline(exc), started)
        return Result(host=task.host, result="layer done")

    def _block(self, cid: str, host: str, reason: str) -> None:
        self.record(cid, host, HostRecord(status="blocked", reason=reason))
        self.deviate("blocked", cid, host, reason)

    def _config(self, comp: ConfigTemplate, st: _HostState, started: float) -> None:
        step = self.steps[st.name][comp.id]
        config = step.config or ""
        assert st.session is not None
        rendered = self.evidence.write(st.name, f"{comp.id}.rendered.cfg", config)
        if self.opts.check:
            self._check_config(comp, st, config, rendered, started)
            return
        try:
            self.journal.write_ahead("commit_intent", host=st.name, component=comp.id)
            self.devices.changing(st.name)  # the device's ledger: this build is changing it
        except RecordError as exc:  # no journaled intent, no commit
            self._fail(comp.id, st, "apply_failed", f"{exc}: nothing was pushed", started)
            st.stopped = st.stopped or "the build journal cannot be written"
            return
        st.touched = True
        outcome = st.session.apply(
            config,
            strategy=self.model.build.strategy,
            commit=True,
            message=f"sdd-build {self.model.design} v{self.model.version} {comp.id}",
        )
        diff = self.evidence.write(st.name, f"{comp.id}.diff", outcome.diff)
        evidence = [rendered, diff]
        if outcome.error is not None:
            if outcome.diff.strip():
                st.state = "changed"  # lines were sent: changed until a read-back says not
                st.partial.append(comp.id)
            self.journal.write(
                "apply_failed",
                host=st.name,
                component=comp.id,
                error=self.evidence.mask(outcome.error),
            )
            self._fail(
                comp.id,
                st,
                "apply_failed",
                outcome.error,
                started,
                evidence=evidence,
                expected=config,
            )
            return
        if outcome.committed:
            st.state = "built"
            st.committed.append(comp.id)
            self.journal.write("apply_committed", host=st.name, component=comp.id)
        st.intended.append((comp.id, config))
        self.record(
            comp.id,
            st.name,
            HostRecord(
                status="built",
                changed=bool(outcome.diff.strip()),
                evidence=evidence,
                duration_s=time.perf_counter() - started,
            ),
        )

    def _check_config(
        self, comp: ConfigTemplate, st: _HostState, config: str, rendered: str, started: float
    ) -> None:
        """Dry run of one component: its diff now; what the device's own parser (and its
        running daemons) would refuse is asked for all of a host's components at once when
        the host finishes (:meth:`_validate`). Nothing is sent to the device."""
        assert st.session is not None
        outcome = st.session.check(config, strategy=self.model.build.strategy)
        diff = self.evidence.write(st.name, f"{comp.id}.diff", outcome.diff)
        evidence = [rendered, diff]
        with self.lock:
            summary = self.summaries.setdefault(st.name, {})
            summary.setdefault("diff", {})[comp.id] = self.evidence.mask(outcome.diff)
        if outcome.error is not None:
            self._fail(comp.id, st, "apply_failed", outcome.error, started, evidence=evidence)
            return
        st.intended.append((comp.id, config))
        self.record(
            comp.id,
            st.name,
            HostRecord(
                status="built",
                changed=bool(outcome.diff.strip()),
                evidence=evidence,
                duration_s=time.perf_counter() - started,
                reason="dry run: diff computed, nothing sent",
            ),
        )

    def _validate(self, st: _HostState) -> None:
        """Ask the device's own parser about every line the dry run would push on a host."""
        assert st.session is not None
        result = st.session.validate()
        with self.lock:
            summary = self.summaries.setdefault(st.name, {})
            summary["validated_by"] = result.validated_by
            summary["unvalidated"] = result.unvalidated
        for (cid, _config), refused in zip(st.intended, result.refused, strict=False):
            rec = self.records[cid][st.name]
            for refusal in refused:
                line = show_path(tuple(refusal["path"]))
                self.deviate(
                    "rejected_line",
                    cid,
                    st.name,
                    f"the device would refuse it: {refusal['reason']}",
                    expected=line,
                    evidence=rec.evidence,
                    line=line,
                )
            if result.unvalidated and rec.changed:  # no line to push, nothing to validate
                self.deviate(
                    "unvalidated",
                    cid,
                    st.name,
                    f"not validated with the device's own parser: {result.unvalidated}",
                    evidence=rec.evidence,
                )
            reason = (
                f"dry run: {len(refused)} line(s) would be refused"
                if refused
                else "dry run: nothing to change"
                if not rec.changed
                else "dry run: not validated"
                if result.unvalidated
                else "dry run: every line validated, nothing sent"
            )
            status = "failed" if refused else "built"
            self.record(cid, st.name, rec.model_copy(update={"status": status, "reason": reason}))

    def _command(self, comp: CommandTemplate, st: _HostState, started: float) -> None:
        step = self.steps[st.name][comp.id]
        assert st.session is not None
        if self.opts.check:
            self.record(
                comp.id,
                st.name,
                HostRecord(status="skipped", reason="dry run: checks run after a real apply"),
            )
            return
        ctx = render_context(self.ws, st.name, comp.vars)
        parser = self.by_id.get(comp.parser) if comp.parser else None
        deadline = time.monotonic() + (comp.wait.timeout_s if comp.wait else 0.0)
        attempt = 0
        while True:
            attempt += 1
            outputs = st.session.commands(list(step.commands))
            results, evidence = evaluate_outputs(
                self.ws, self.evidence, comp, st.name, step.commands, outputs, parser, ctx
            )
            failed = [r for r in results if not r["passed"] and not self._waiver(r, st.name)]
            if not failed or comp.wait is None or time.monotonic() >= deadline:
                break
            time.sleep(comp.wait.interval_s)
            st.wait_s += comp.wait.interval_s
        for r in results:
            waiver = None if r["passed"] else self._waiver(r, st.name)
            if waiver is not None:
                r["waived"] = {
                    "by": waiver.by,
                    "reason": waiver.reason,
                    "expires": str(waiver.expires) if waiver.expires else None,
                }
                self.deviate(
                    "waived",
                    comp.id,
                    st.name,
                    f"{r['check_id']} failed and is waived by {waiver.by}: {waiver.reason}",
                    expected=r["expected"],
                    actual=r["found"],
                    evidence=evidence,
                    check=r["check_id"],
                )
        if failed:
            for r in failed:
                self.deviate(
                    "acceptance_failed",
                    comp.id,
                    st.name,
                    r["reason"],
                    expected=r["expected"],
                    actual=r["found"],
                    evidence=evidence,
                    check=r["check_id"],
                )
            self._fail(
                comp.id,
                st,
                None,
                # the terminal's failure line names the checks (the deviations hold the rest)
                f"{len(failed)} acceptance check(s) failed: "
                + "; ".join(f"{r['check_id']}: {r['reason']}" for r in failed),
                started,
                evidence=evidence,
                checks=results,
                attempts=attempt,
            )
            return
        self.record(
            comp.id,
            st.name,
            HostRecord(
                status="built",
                checks=results,
                evidence=evidence,
                attempts=attempt,
                duration_s=time.perf_counter() - started,
            ),
        )

    def _waiver(self, result: dict[str, Any], host: str) -> Any:
        for waiver in self.opts.waivers:
            if waiver.covers(result["check_id"], host):
                return waiver
        return None

    def _fail(
        self,
        cid: str,
        st: _HostState,
        cls: str | None,
        reason: str,
        started: float,
        evidence: list[str] | None = None,
        expected: Any = None,
        checks: list[dict[str, Any]] | None = None,
        attempts: int = 0,
    ) -> None:
        if cls is not None:
            self.deviate(cls, cid, st.name, reason, expected=expected, evidence=evidence)
        self.record(
            cid,
            st.name,
            HostRecord(
                status="failed",
                reason=reason,
                evidence=evidence or [],
                checks=checks or [],
                attempts=attempts,
                duration_s=time.perf_counter() - started,
            ),
        )
        if st.checked:
            return  # nothing was changed on a check target: nothing to roll back
        if self.model.build.rollback == "on_failure" and not self.opts.check:
            self._rollback(st, cid)
        elif self.model.build.rollback == "never":
            # Dependents are blocked by the dependency rule; independent branches go on.
            return

    def _rollback(self, st: _HostState, failed: str) -> None:
        """Restore the backup and believe only the read-back: ``rolled_back`` when the device
        equals its backup again, else ``rollback_failed`` listing every line left."""
        assert st.session is not None
        assert st.backup is not None
        self.journal.write("rollback_started", host=st.name, component=failed)
        # Always compared with the backup, touched or not: DeviceSession.restore reads the
        # device (complete read), sends only what differs, and reads it back.
        outcome = st.session.restore(st.backup)
        st.restore = outcome
        evidence = [
            self.evidence.write(st.name, "restore.json", outcome.dump()),
            f"evidence/{st.name}/pre.cfg",
        ]
        if not outcome.verified:
            st.state = "changed"
            st.stopped = f"rollback after '{failed}' failed: the device differs from its backup"
            self.journal.write(
                "rollback_failed",
                host=st.name,
                left=[self.evidence.mask(r) for r in outcome.left],
                missing=[self.evidence.mask(r) for r in outcome.missing],
                error=self.evidence.mask(outcome.error or ""),
            )
            self.deviate(
                "rollback_failed",
                failed,
                st.name,
                f"{outcome.summary()}; repair with `sdd-build rollback {self.build_dir.name}`",
                expected="pre-build config",
                actual={
                    "left": [self.evidence.mask(r) for r in outcome.left],
                    "missing": [self.evidence.mask(r) for r in outcome.missing],
                }
                if outcome.read_back
                else "unknown: the device could not be read back",
                evidence=evidence,
            )
            return
        with self.lock:
            for cid, hosts in self.records.items():
                rec = hosts.get(st.name)
                if rec is not None and rec.status == "built" and cid in st.committed:
                    hosts[st.name] = rec.model_copy(update={"status": "rolled_back"})
        touched = st.touched or st.state != "unchanged"
        st.state = "restored" if touched else "unchanged"
        st.stopped = f"host rolled back after '{failed}' failed"
        self.journal.write("rollback_done", host=st.name, strategies=outcome.strategies)
        self.deviate(
            "rolled_back",
            failed,
            st.name,
            f"rolled back to the pre-build config, {outcome.summary()}"
            if touched
            else f"no commit was made on this host; {outcome.summary()}",
            expected="pre-build config",
            actual="pre-build config",
            evidence=evidence,
        )
        st.committed.clear()
        st.intended.clear()
        st.touched = False

    def _read_back(self, st: _HostState) -> str:
        """The closing read; when the worker holding the session was lost, recorded, then
        read once more through the executor's new holder (a read changes nothing)."""
        assert st.session is not None
        try:
            return st.session.read()
        except SddBuildError as exc:
            if deviation_class(exc, "") != "worker_lost":
                raise
            self.deviate("worker_lost", None, st.name, f"{exc}; read back from another worker")
            return st.session.read()

    def finish_host(self, task: Task) -> Result:
        st = self.hosts[task.host.name]
        if st.session is None or st.backup is None:
            return Result(host=task.host, result="skipped")
        try:
            post = self._read_back(st)  # complete: reconciling a partial read would lie
        except Exception as exc:
            if not st.stopped:
                if st.state != "unchanged":
                    st.state = "changed"
                self.deviate(
                    deviation_class(exc, "unreachable"),
                    None,
                    st.name,
                    f"cannot read the device back after the build: {_oneline(exc)}",
                )
            return Result(host=task.host, failed=True, result="unread")
        post_ref = self.evidence.write(st.name, "post.cfg", post)
        if self.opts.check:
            self._validate(st)
            unchanged = st.session.normalise(post) == st.session.normalise(st.backup)
            with self.lock:
                self.summaries.setdefault(st.name, {})["unchanged"] = unchanged
            if not unchanged:
                self.deviate(
                    "unexpected_change",
                    None,
                    st.name,
                    "the running config changed during a dry run",
                    evidence=[post_ref],
                )
            self._sync_evidence(st.name)
            return Result(host=task.host, result="checked")
        if st.stopped:
            self._sync_evidence(st.name)
            return Result(host=task.host, result="stopped")
        findings, summary = reconcile_host(
            st.session, st.intended, st.backup, post, strategy=self.model.build.strategy
        )
        if summary:
            with self.lock:
                self.summaries.setdefault(st.name, {})["reconciliation"] = summary
        for finding in findings:
            self.deviate(
                finding.kind,
                finding.component,
                st.name,
                finding.reason,
                expected=finding.expected,
                actual=finding.actual,
                evidence=[post_ref],
                line=finding.line,
            )
        self._sync_evidence(st.name)
        return Result(host=task.host, result="reconciled")

    def _sync_evidence(self, host: str) -> None:
        """The host's evidence to disk now, while other hosts still work (what fails here is
        synced, or refused, before the record by the build's closing ``evidence.sync``)."""
        with contextlib.suppress(OSError):
            self.evidence.sync_host(host)


def evaluate_outputs(
    ws: Workspace,
    store: EvidenceStore,
    comp: CommandTemplate,
    host: str,
    commands: tuple[str, ...],
    outputs: dict[str, str],
    parser: Any,
    ctx: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Parse a command component's outputs and evaluate its checks; evidence for each."""
    evidence: list[str] = []
    parsed: list[Any] = []
    for i, cmd in enumerate(commands):
        raw = outputs.get(cmd, "")
        evidence.append(store.write(host, f"{comp.id}.{i}.raw.txt", raw))
        data: Any = raw
        if i == 0 and isinstance(parser, Parser):
            try:
                data = parse(
                    parser.engine,
                    raw,
                    template=parser_template_path(ws, parser),
                    platform=parser.platform,
                    command=parser.command,
                    origin=f"{host}: {cmd}",
                    source=ws.design.repo.source,
                )
            except SddBuildError as exc:
                data = None
                evidence.append(store.write(host, f"{comp.id}.{i}.parse-error.txt", str(exc)))
            evidence.append(store.write(host, f"{comp.id}.{i}.parsed.json", data))
        parsed.append(data)
    results = []
    for check in comp.acceptance:
        index = min(check.command, len(parsed) - 1)

        def render_expected(value: Any) -> Any:
            return ws.templates.render_string(str(value), ctx, host=host, origin=ws.design.display)

        res = evaluate(
            check,
            parsed[index],
            host=host,
            render_expected=render_expected,
            input_ref=evidence[0] if evidence else None,
            raw=outputs.get(commands[index], ""),
        )
        results.append(res.model_dump(mode="json"))
    evidence.append(store.write(host, f"{comp.id}.checks.json", results))
    return results, evidence


def deviation_class(exc: BaseException, default: str) -> str:
    """The deviation class a failure records: its own (``WorkerLostError``: ``worker_lost``)
    where it names one, else the step's ``default``."""
    own = getattr(exc, "deviation", None)
    return own if isinstance(own, str) else default


def _oneline(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]


def inventory_secrets(ws: Workspace) -> list[str]:
    return secrets_of(ws.inventory)


def secrets_of(inventory: LoadedInventory) -> list[str]:
    """The credential strings of an inventory (masked wherever text is written)."""
    found: list[str] = []
    inv = inventory.inventory
    for host in inv.hosts.values():
        params = host.get_connection_parameters()
        if params.password:
            found.append(params.password)
        for plugin in ("napalm", "netmiko"):
            extras = host.get_connection_parameters(plugin).extras or {}
            for key in ("secret", "shell_password"):
                if extras.get(key):
                    found.append(str(extras[key]))
            for key, value in (extras.get("optional_args") or {}).items():
                if "password" in key or key == "secret":
                    found.append(str(value))
    return found


def new_build_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + pysecrets.token_hex(2)


def builds_dir(ws: Workspace) -> Path:
    return ws.design.directory / "builds"


def refuse_if_unfinished(ws: Workspace) -> None:
    unfinished = find_unfinished(builds_dir(ws))
    if unfinished:
        names = ", ".join(p.name for p in unfinished)
        raise GateError(
            f"an earlier build did not finish: {names}; the devices may be half-changed",
            file=str(unfinished[0] / "journal.jsonl"),
            hint=f"run `sdd-build build <design> --recover {unfinished[0].name}` "
            "(rolls touched hosts back) or add --accept to record the state as it is",
        )


def make_nornir(
    inventory: LoadedInventory,
    targets: list[str],
    workers: int,
    runner: PooledRunner | None = None,
) -> Nornir:
    """Only the target hosts exist for this Nornir: the blast radius, structurally."""
    inv = inventory.inventory
    hosts = Hosts({h: inv.hosts[h] for h in targets})
    # before the plugins: nornir_napalm imports napalm, which would load every bundled driver
    preload_drivers({host.platform or "" for host in hosts.values()})
    register_connections()  # napalm and netmiko by name, no other installed entry point
    return Nornir(
        inventory=Inventory(hosts=hosts, groups=inv.groups, defaults=inv.defaults),
        runner=runner or PooledRunner(num_workers=max(1, workers)),
        config=Config(),
    )


def run_build(report: ValidationReport, opts: RunOptions) -> tuple[AsBuilt, Path]:
    """Carry out a validated, gate-checked plan. Returns the as-built record and its folder."""
    ws, plan = report.workspace, report.plan
    if ws is None or plan is None or not report.ok:
        raise DesignError.from_problems(report.problems)
    model = ws.design.model
    t_start = time.perf_counter()
    started = utcnow()
    build_id = opts.build_id or new_build_id()
    bdir = builds_dir(ws) / build_id
    hosts = [ws.inventory.inventory.hosts[h] for h in ws.hosts]
    workers = max(1, opts.workers or model.build.workers)
    # before the locks and the journal: drivers or plugins that cannot load leave no
    # unfinished build behind (``make_nornir`` finds them loaded)
    preload_drivers({ws.inventory.inventory.hosts[h].platform or "" for h in ws.all_hosts})
    register_connections()
    with (
        # every host's worker thread starts while the locks are taken and the journal begun
        PooledRunner(workers, warm=len(ws.all_hosts)) as runner,
        build_lock(builds_dir(ws), model.design, opts.wait_lock_s, build_id),
        lock_hosts(
            hosts,
            "check" if opts.check else "build",
            design=model.design,
            build_id=build_id,
            repository=ws.design.repo.root,
            wait_s=opts.wait_lock_s,
            on_wait=lambda message: opts.emit("warning", message=message),
        ) as devices,
        contextlib.ExitStack() as stack,
    ):
        # Under the lock: a journal without an end is a crashed build, not a running one.
        refuse_if_unfinished(ws)
        prepare_build(ws.design.repo.root, build_id)  # unusable state dir: refused, no contact
        # before the journal: an executor that cannot start leaves no unfinished build
        executor = stack.enter_context(open_executor(_executor_spec(ws, opts)))
        b = _start(ws, plan, opts, bdir)
        b.devices = devices
        b.open_session = executor.open_session
        executor.attach(b.journal.write, opts.emit)
        opts.emit(
            "build_started",
            build_id=build_id,
            hosts=ws.all_hosts,
            layers=plan.layers,
            check=opts.check,
        )
        nr = make_nornir(ws.inventory, ws.all_hosts, runner.num_workers, runner)
        acting_layers: list[tuple[int, list[str]]] = []
        for index, layer in enumerate(plan.layers):
            for cid in layer:
                if isinstance(b.by_id[cid], Parser):
                    b.records[cid] = {}  # parsers run offline only
            acting = [c for c in layer if ws.component_hosts.get(c)]
            if acting:
                acting_layers.append((index, acting))
        # Layers are barriers (a check may need every host's config); connecting and the
        # closing reconciliation are not: a host starts layer 0 as soon as it is connected and
        # reconciles and logs out as soon as its last layer is done.
        try:
            opts.emit("phase", name="connect")
            if not acting_layers:
                nr.run(task=b.host_step, name="connect", layer=[], first=True, last=True)
            for pos, (index, acting) in enumerate(acting_layers):
                opts.emit("layer_started", layer=index, components=acting)
                nr.run(
                    task=b.host_step,
                    name=f"layer {index}",
                    layer=acting,
                    first=pos == 0,
                    last=pos == len(acting_layers) - 1,
                    on_failed=True,
                )
                opts.emit("layer_finished", layer=index)
            opts.emit("phase", name="reconcile")
        finally:
            nr.close_connections(on_failed=True)
        # Governance = time on the critical path spent neither on a device nor in declared
        # waiting: offline layer, rendering, diffing, checks, evidence, journal, reconciliation.
        busiest = max(
            ((st.session.device_s if st.session else 0.0) + st.wait_s for st in b.hosts.values()),
            default=0.0,
        )
        device_s = sum(st.session.device_s for st in b.hosts.values() if st.session)
        finished = utcnow()
        asbuilt = _as_built(
            b, build_id, started, finished, opts, time.perf_counter() - t_start, device_s, busiest
        )
        try:
            b.evidence.sync()  # the record refers to it: on disk before the record
            write_record(bdir, asbuilt)
            b.journal.write_ahead("build_finished", result=asbuilt.result)
        except (OSError, RecordError) as exc:
            b.journal.close()
            raise RecordError(
                f"build {build_id} ran but its record could not be written ({_oneline(exc)}); "
                "it stays unfinished",
                file=str(bdir / "as-built.json"),
                hint=f"free space, then `sdd-build build <design> --recover {build_id}`: every "
                "host is compared with its backup and restored (or --accept records it as is)",
            ) from None
        b.journal.close()
    opts.emit(
        "build_finished",
        build_id=build_id,
        result=asbuilt.result,
        deviations=len(asbuilt.deviations),
        path=str(bdir),
    )
    return asbuilt, bdir


def _executor_spec(ws: Workspace, opts: RunOptions) -> ExecutorSpec:
    model = ws.design.model
    return ExecutorSpec(
        name=opts.executor,
        scheduler=opts.scheduler,
        shard_by=opts.shard_by,
        inventory=ws.inventory,
        hosts=tuple(ws.hosts),
        timeout_s=model.build.timeout_s,
        workers=opts.workers or model.build.workers,
        path=opts.path,
    )


def _start(ws: Workspace, plan: BuildPlan, opts: RunOptions, bdir: Path) -> _Build:
    """The build folder and its journal's first entry, written ahead of any device contact;
    if they cannot be written, nothing is left behind that reads as an unfinished build."""
    model = ws.design.model
    try:
        bdir.mkdir(parents=True, exist_ok=False)
        b = _Build(ws, plan, opts, bdir)
        b.journal.write_ahead(
            "build_started",
            build_id=bdir.name,
            design=model.design,
            version=model.version,
            hosts=ws.hosts,
            check=opts.check,
            design_sha256=ws.design.repo.sha256(ws.design.path),
            approvals=opts.approvals,  # a recovered record embeds them
        )
    except (OSError, RecordError) as exc:
        shutil.rmtree(bdir, ignore_errors=True)
        raise RecordError(
            f"the build could not start its record ({_oneline(exc)}); no device was contacted",
            file=str(bdir),
            hint="free space on the file system of builds/ (or make it writable)",
        ) from None
    return b


def write_record(bdir: Path, asbuilt: AsBuilt) -> None:
    """``as-built.json``, atomically (a reader sees the old record or the whole new one)."""
    write_json(bdir / "as-built.json", asbuilt.dump())  # masked, atomic, fsynced


def record_sha256(bdir: Path) -> str:
    """The sha256 of ``as-built.json`` as written: what the audit chain binds of a record."""
    return sha256_file(bdir / "as-built.json")


def record_header(ws: Workspace) -> dict[str, Any]:
    """What every record of a design says about it: design, spec, graph, requirements and
    acceptance checks (a build's and a recovered build's alike)."""
    model = ws.design.model
    spec_path = ws.design.repo.confine(ws.design.directory, model.spec)
    return {
        "design": {
            "id": model.design,
            "version": model.version,
            "sha256": ws.design.repo.sha256(ws.design.path),
            "path": ws.design.display,
        },
        "spec": {
            "sha256": ws.design.repo.sha256(spec_path) if spec_path else None,
            "path": ws.spec.file,
        },
        "layers": ws.graph.layers,
        "edges": [[u, v] for u, v in sorted(ws.graph.graph.edges)],
        "requirements": [r.model_dump() for r in ws.spec.requirements],
        "acceptance": [
            {
                "id": chk.id,
                "component": cid,
                "covers": list(chk.covers),
                "description": chk.description,
                "query": chk.expect.query,
                "op": chk.expect.op,
            }
            for cid, chk in model.checks()
        ],
    }


def _as_built(
    b: _Build,
    build_id: str,
    started: str,
    finished: str,
    opts: RunOptions,
    wall_s: float,
    device_s: float,
    busiest_s: float,
) -> AsBuilt:
    ws, model = b.ws, b.model
    components: list[ComponentRecord] = []
    pairs = with_evidence = 0
    for cid in ws.graph.order:
        comp = b.by_id[cid]
        hosts = dict(sorted(b.records.get(cid, {}).items()))
        components.append(
            ComponentRecord(
                id=cid,
                kind=comp.kind,
                layer=ws.graph.layer_of[cid],
                reuse=getattr(comp, "reuse", None) is not None,
                hosts=hosts,
            )
        )
        if isinstance(comp, Workflow):
            continue  # a workflow's evidence is its children's
        for rec in hosts.values():
            pairs += 1
            with_evidence += bool(rec.evidence)
    reusable = [c for c in model.components if isinstance(c, ConfigTemplate | Parser)]
    deviating = {(d.component, d.host) for d in b.deviations.items if is_open(d.class_)}
    result = build_result(
        (d.class_ for d in b.deviations.items),
        (r.status for hosts in b.records.values() for r in hosts.values()),
        dry_run=opts.check,
    )
    ttv = None
    if opts.spec_approved_at and not opts.check:  # a dry run delivers nothing: no time to value
        try:
            t0 = datetime.fromisoformat(opts.spec_approved_at.replace("Z", "+00:00"))
            t1 = datetime.fromisoformat(finished.replace("Z", "+00:00"))
            ttv = round((t1 - t0).total_seconds(), 3)
        except ValueError:
            ttv = None
    hosts_summary = {}
    for h, st in b.hosts.items():
        summary = {
            "reachable": st.session is not None and (st.checked or st.backup is not None),
            **({"role": "check"} if st.checked else {}),
            "stopped": st.stopped,
            "state": st.state,
            **b.summaries.get(h, {}),
        }
        if st.state == "changed":
            # which lines may be where: the backup is the pre-build config; these components
            # were committed (their diffs are evidence), the restore left what follows
            summary["committed"] = list(st.committed)
            summary["partially_applied"] = list(st.partial)
        if st.restore is not None and not st.restore.verified:
            summary["left"] = st.restore.left
            summary["missing"] = st.restore.missing
            summary["read_back"] = st.restore.read_back
        hosts_summary[h] = summary
    return AsBuilt(
        attention=attention(build_id, hosts_summary),
        build_id=build_id,
        mode="check" if opts.check else "build",
        **record_header(ws),
        approvals=opts.approvals,
        agent=opts.agent,
        started=started,
        finished=finished,
        result=result,
        hosts=hosts_summary,
        components=components,
        deviations=b.deviations.items,
        metrics=Metrics(
            deviation_rate=round(len({p for p in deviating if p[0]}) / pairs, 4) if pairs else 0.0,
            reuse_rate=round(sum(1 for c in reusable if c.reuse) / len(reusable), 4)
            if reusable
            else 0.0,
            reconciliation=round(with_evidence / pairs, 4) if pairs else 1.0,
            time_to_value_s=ttv,
            governance_s=round(max(0.0, wall_s - busiest_s), 3),
            device_s=round(device_s, 3),
            wall_s=round(wall_s, 3),
        ),
    )
