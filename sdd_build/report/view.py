"""What every report format shows, derived once from the record (pure, no I/O but ``stat``).

* the worst outcome per component across hosts (``failed > rolled_back > blocked > skipped >
  built``), for colouring the design graph;
* one *case* per config component per host (``apply``) and per acceptance check per host —
  the rows of the traceability matrix and the test cases of ``junit.xml``;
* evidence references, reduced to safe relative paths under ``evidence/``: anything else
  (``private/`` backups, absolute paths, ``..``, symlinks out of ``evidence/``) is never linked;
* every text taken from the record passes the masker (``sdd_build.secrets``) once more.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from sdd_build.execute.policy import Stage, policy
from sdd_build.execute.results import AsBuilt, ComponentRecord, Deviation, HostRecord
from sdd_build.secrets import mask, mask_data

__all__ = [
    "STATUS_ORDER",
    "Case",
    "EvidenceRef",
    "Outcome",
    "ReportView",
    "TraceRow",
    "safe_evidence_path",
]

# Worst first: the colour of a component is the worst status any host gave it.
STATUS_ORDER: tuple[str, ...] = ("failed", "rolled_back", "blocked", "skipped", "built")
NO_HOSTS = "offline"  # a component that runs on no device (parsers): no status of its own

Outcome = Literal["passed", "failed", "error", "waived", "blocked", "skipped"]
OUTCOMES: tuple[str, ...] = ("passed", "failed", "error", "waived", "blocked", "skipped")


def text(value: Any) -> str:
    """A record value as display text, with secret-bearing config syntax masked."""
    if value is None:
        return ""
    if isinstance(value, str):
        return mask(value)
    return json.dumps(mask_data(value), sort_keys=True, default=str)


def safe_evidence_path(
    path: str, build_dir: Path | None = None, folders: dict[str, str] | None = None
) -> str | None:
    """``path`` normalised when it is a relative path under ``evidence/``, else ``None``.

    ``folders`` (folder -> its real path) is filled and reused across calls (a view checks
    each host's folder once, not once per file; the file itself is resolved when it is a
    symlink)."""
    if not isinstance(path, str) or not path or "\\" in path or "\x00" in path:
        return None
    pure = PurePosixPath(path)
    parts = [p for p in pure.parts if p not in ("", ".")]
    if pure.is_absolute() or not parts or parts[0] != "evidence" or len(parts) < 2:
        return None
    if any(p == ".." or p.lower() == "private" or ":" in p for p in parts):
        return None
    clean = "/".join(parts)
    if build_dir is not None:
        known = {} if folders is None else folders
        root = _real_folder(build_dir, "evidence", known)
        folder, _, name = clean.rpartition("/")
        real = os.path.join(_real_folder(build_dir, folder, known), name)
        if os.path.islink(real):
            real = os.path.realpath(real)
        if real != root and not real.startswith(root + os.sep):
            return None  # a symlink leading out of evidence/ (e.g. into private/)
    return clean


def _real_folder(build_dir: Path, folder: str, known: dict[str, str]) -> str:
    real = known.get(folder)
    if real is None:
        real = known[folder] = os.path.realpath(os.path.join(build_dir, folder))
    return real


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    path: str  # safe, relative to the build folder
    exists: bool | None  # None when no build folder was given

    @property
    def label(self) -> str:
        return self.path.removeprefix("evidence/")


@dataclass(frozen=True, slots=True)
class Case:
    """One test case: a config component applied on a host, or an acceptance check on a host."""

    kind: Literal["apply", "check", "reconcile"]
    name: str  # "apply", the check id, or "reconcile" (lines of a host no component owns)
    component: str
    host: str
    layer: int
    outcome: Outcome
    message: str  # one line: why (empty when passed)
    detail: str  # several lines: expected / found / reason / query
    evidence: tuple[EvidenceRef, ...]
    duration_s: float
    notes: tuple[str, ...] = ()
    check: dict[str, Any] | None = None  # the CheckResult, when one was recorded


@dataclass(frozen=True, slots=True)
class TraceRow:
    requirement: dict[str, Any] | None  # None: a check that covers no requirement
    acceptance: dict[str, Any] | None  # None: a requirement no check covers
    cases: tuple[Case, ...]


@dataclass
class ReportView:
    record: AsBuilt
    build_dir: Path | None = None
    hosts: list[str] = field(init=False)
    by_id: dict[str, ComponentRecord] = field(init=False)
    status: dict[str, str] = field(init=False)
    layers: list[list[str]] = field(init=False)
    edges: list[tuple[str, str]] = field(init=False)
    cases: list[Case] = field(init=False)
    # each recorded path checked once per view (every format lists the same evidence)
    _refs: dict[str, EvidenceRef | None] = field(init=False, default_factory=dict, repr=False)
    _folders: dict[str, str] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        rec = self.record
        self.by_id = {c.id: c for c in rec.components}
        hosts = set(rec.hosts)
        for comp in rec.components:
            hosts.update(comp.hosts)
        self.hosts = sorted(hosts)
        self.status = {c.id: worst_status(c) for c in rec.components}
        self.layers = self._layers()
        known = {n for layer in self.layers for n in layer}
        self.edges = [
            (e[0], e[1]) for e in rec.edges if len(e) == 2 and e[0] in known and e[1] in known
        ]
        self.cases = self._cases()

    # -- graph -------------------------------------------------------------------------------

    def _layers(self) -> list[list[str]]:
        """``layers`` of the record; components missing from it go in by their ``layer``."""
        layers = [list(layer) for layer in self.record.layers]
        placed = {n for layer in layers for n in layer}
        for comp in self.record.components:
            if comp.id in placed:
                continue
            while len(layers) <= max(comp.layer, 0):
                layers.append([])
            layers[max(comp.layer, 0)].append(comp.id)
            placed.add(comp.id)
        return layers

    def kind(self, node: str) -> str:
        comp = self.by_id.get(node)
        return comp.kind if comp else "unknown"

    def layer_of(self, node: str) -> int:
        for index, layer in enumerate(self.layers):
            if node in layer:
                return index
        return 0

    # -- evidence -----------------------------------------------------------------------------

    def evidence(self, paths: list[str] | tuple[str, ...]) -> tuple[EvidenceRef, ...]:
        out: list[EvidenceRef] = []
        seen: set[str] = set()
        for raw in paths:
            ref = self._ref(raw)
            if ref is None or ref.path in seen:
                continue
            seen.add(ref.path)
            out.append(ref)
        return tuple(out)

    def _ref(self, raw: str) -> EvidenceRef | None:
        if raw not in self._refs:
            safe = safe_evidence_path(raw, self.build_dir, self._folders)
            exists = None
            if safe is not None and self.build_dir is not None:
                exists = os.path.isfile(os.path.join(self.build_dir, safe))
            self._refs[raw] = None if safe is None else EvidenceRef(safe, exists)
        return self._refs[raw]

    # -- cases --------------------------------------------------------------------------------

    def _deviations(self, component: str, host: str, stage: Stage) -> list[Deviation]:
        """Deviations of a component on a host from one stage (``execute.policy``)."""
        return [
            d
            for d in self.record.deviations
            if policy(d.class_).stage == stage
            and d.component == component
            and d.host in (host, None)
        ]

    def _waivers(self, component: str, host: str, check_id: str | None) -> list[Deviation]:
        """Waived deviations of a component on a host; of one check when ``check_id`` is
        given (older records carry no ``check``: the build worded them
        ``"<check id> failed and is waived by ..."``)."""
        return [
            d
            for d in self._deviations(component, host, "waiver")
            if check_id is None
            or d.check == check_id
            or (d.check is None and d.reason.startswith(f"{check_id} "))
        ]

    def _notes(self, component: str, host: str, check_id: str | None = None) -> tuple[str, ...]:
        notes = [
            f"{d.class_.replace('_', ' ')} ({d.id}): {text(d.reason)}"
            for d in self._deviations(component, host, "restore")
        ]
        notes += [
            f"waived ({d.id}): {text(d.reason)}" for d in self._waivers(component, host, check_id)
        ]
        if check_id is None:
            notes += [line_note(d) for d in self._deviations(component, host, "reconcile")]
        return tuple(notes)

    def _reconcile_cases(self) -> list[Case]:
        """Per host, the reconciliation findings no component owns (lines that changed
        outside the design): one case, failed when one of them is open."""
        cases: list[Case] = []
        for host in self.hosts:
            devs = [
                d
                for d in self.record.deviations
                if d.host == host and d.component is None and policy(d.class_).stage == "reconcile"
            ]
            if not devs:
                continue
            open_ = [d for d in devs if policy(d.class_).open]
            notes = tuple(line_note(d) for d in devs)
            cases.append(
                Case(
                    kind="reconcile",
                    name="reconcile",
                    component="(no component)",
                    host=host,
                    layer=len(self.layers),
                    outcome="failed" if open_ else "passed",
                    message="; ".join(f"{d.class_}: {text(d.line)}" for d in open_),
                    detail="\n".join(notes),
                    evidence=self.evidence([e for d in devs for e in d.evidence]),
                    duration_s=0.0,
                    notes=notes,
                )
            )
        return cases

    def _cases(self) -> list[Case]:
        cases: list[Case] = []
        checks_of: dict[str, list[dict[str, Any]]] = {}
        for acc in self.record.acceptance:
            checks_of.setdefault(str(acc.get("component")), []).append(acc)
        for layer_index, layer in enumerate(self.layers):
            for node in layer:
                comp = self.by_id.get(node)
                if comp is not None and comp.kind == "config_template":
                    never = HostRecord(status="skipped", reason="the component never ran")
                    cases += [
                        self._apply_case(comp, host, comp.hosts.get(host, never), layer_index)
                        for host in self._hosts_of(comp)
                    ]
                for acc in checks_of.get(node, []):
                    cases += self._check_cases(acc, comp, layer_index)
        return cases + self._reconcile_cases()

    def _hosts_of(self, comp: ComponentRecord | None) -> list[str]:
        """The hosts a component ran on; all of the build's when it ran nowhere (a component
        may narrow its targets, so a host missing beside others is not a host it skipped)."""
        return sorted(comp.hosts) if comp is not None and comp.hosts else self.hosts

    def _apply_case(self, comp: ComponentRecord, host: str, rec: HostRecord, layer: int) -> Case:
        notes = self._notes(comp.id, host)
        reason = text(rec.reason)
        outcome: Outcome
        lines = [d for d in self._deviations(comp.id, host, "reconcile") if policy(d.class_).open]
        if rec.status == "built" and lines:
            # applied, but the device does not show what was intended
            outcome = "failed"
            message = "; ".join(f"{d.class_}: {text(d.line)}" for d in lines)
        elif rec.status == "built":
            outcome, message = "passed", ""
        elif rec.status == "failed":
            outcome = "waived" if self._waivers(comp.id, host, None) else "failed"
            message = reason or "apply failed"
        elif rec.status == "rolled_back":
            outcome, message = "skipped", f"rolled back: {reason or 'the host was rolled back'}"
        elif rec.status == "blocked":
            outcome, message = "blocked", reason or "not run"
        else:
            outcome, message = "skipped", reason or "not run"
        detail = "\n".join(
            [f"status: {rec.status}", f"changed: {str(rec.changed).lower()}"]
            + ([f"reason: {reason}"] if reason else [])
            + list(notes)
        )
        return Case(
            kind="apply",
            name="apply",
            component=comp.id,
            host=host,
            layer=layer,
            outcome=outcome,
            message=message,
            detail=detail,
            evidence=self.evidence(rec.evidence),
            duration_s=max(rec.duration_s, 0.0),
            notes=notes,
        )

    def _check_cases(
        self, acc: dict[str, Any], comp: ComponentRecord | None, layer: int
    ) -> list[Case]:
        check_id = str(acc.get("id"))
        component = str(acc.get("component"))
        hosts = self._hosts_of(comp)
        n_checks = sum(1 for a in self.record.acceptance if a.get("component") == component)
        cases: list[Case] = []
        for host in hosts:
            rec = comp.hosts.get(host) if comp is not None else None
            notes = self._notes(component, host, check_id)
            result = None
            if rec is not None:
                result = next((c for c in rec.checks if c.get("check_id") == check_id), None)
            evidence: tuple[EvidenceRef, ...] = ()
            outcome: Outcome
            if rec is None:
                outcome, message = "skipped", "the component never ran on this host"
                detail = message
            elif result is not None:
                outcome = "passed" if result.get("passed") is True else "failed"
                message = "" if outcome == "passed" else text(result.get("reason")) or "failed"
                waiver = result.get("waived")
                if outcome == "failed" and waiver:
                    outcome = "waived"
                    if isinstance(waiver, dict):
                        expires = waiver.get("expires")
                        by = f"waived by {text(waiver.get('by'))}: {text(waiver.get('reason'))}"
                        notes = (
                            by + (f" (expires {text(expires)})" if expires else ""),
                            *(n for n in notes if not n.startswith("waived")),
                        )
                    message = "; ".join(n for n in notes if n.startswith("waived")) + (
                        f"; the check: {message}"
                    )
                detail = "\n".join(
                    [
                        f"query: {text(result.get('query', acc.get('query')))}",
                        f"op: {text(result.get('op', acc.get('op')))}",
                        f"expected: {text(result.get('expected'))}",
                        f"found: {text(result.get('found'))}",
                        f"reason: {text(result.get('reason'))}",
                        *list(notes),
                    ]
                )
                refs = [result["input_ref"]] if isinstance(result.get("input_ref"), str) else []
                evidence = self.evidence(refs + list(rec.evidence))
            elif rec.status in ("blocked", "skipped"):
                outcome = "blocked" if rec.status == "blocked" else "skipped"
                message = text(rec.reason) or "not run"
                detail = "\n".join([f"{rec.status}: {message}", *notes])
            elif rec.status == "rolled_back":
                outcome, message = "skipped", f"rolled back: {text(rec.reason) or 'not run'}"
                detail = "\n".join([message, *notes])
            else:  # built or failed, but no result: the check could not be evaluated
                outcome = "error"
                why = text(rec.reason) if rec.status == "failed" else ""
                message = f"not evaluated: {why or 'no result recorded for this check'}"
                detail = "\n".join([f"status: {rec.status}", message, *notes])
                evidence = self.evidence(rec.evidence)
            if outcome in ("failed", "error") and self._waivers(component, host, check_id):
                outcome = "waived"
                message = "; ".join(n for n in notes if n.startswith("waived")) or message
            duration = (rec.duration_s / max(n_checks, 1)) if rec is not None else 0.0
            cases.append(
                Case(
                    kind="check",
                    name=check_id,
                    component=component,
                    host=host,
                    layer=layer,
                    outcome=outcome,
                    message=message,
                    detail=detail,
                    evidence=evidence,
                    duration_s=max(duration, 0.0),
                    notes=notes,
                    check=result,
                )
            )
        return cases

    # -- tables -------------------------------------------------------------------------------

    def trace(self) -> list[TraceRow]:
        """Requirement → acceptance check → result per host → evidence."""
        rows: list[TraceRow] = []
        by_check: dict[str, list[Case]] = {}
        for case in self.cases:
            if case.kind == "check":
                by_check.setdefault(case.name, []).append(case)
        covered: set[str] = set()
        for req in self.record.requirements:
            rid = str(req.get("id"))
            accs = [a for a in self.record.acceptance if rid in (a.get("covers") or [])]
            if not accs:
                rows.append(TraceRow(req, None, ()))
            for acc in accs:
                covered.add(str(acc.get("id")))
                rows.append(TraceRow(req, acc, tuple(by_check.get(str(acc.get("id")), []))))
        for acc in self.record.acceptance:
            if str(acc.get("id")) not in covered:
                rows.append(TraceRow(None, acc, tuple(by_check.get(str(acc.get("id")), []))))
        return rows

    def status_counts(self, host: str) -> Counter[str]:
        return Counter(c.hosts[host].status for c in self.record.components if host in c.hosts)

    def outcome_counts(self, kind: str | None = None) -> Counter[str]:
        return Counter(c.outcome for c in self.cases if kind is None or c.kind == kind)

    def deviation_counts(self) -> Counter[str]:
        return Counter(d.class_ for d in self.record.deviations)


def line_note(dev: Deviation) -> str:
    """A reconciliation deviation as a note: class, id, the configuration line, the reason."""
    return f"{dev.class_.replace('_', ' ')} ({dev.id}): {text(dev.line) or '-'}: {text(dev.reason)}"


def worst_status(comp: ComponentRecord) -> str:
    statuses = {rec.status for rec in comp.hosts.values()}
    for status in STATUS_ORDER:
        if status in statuses:
            return status
    return NO_HOSTS
