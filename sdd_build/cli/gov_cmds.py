"""Governance commands: ``approve``, ``gates check``, ``keys generate``, ``audit verify``.

Exit codes (PRODUCT.md §4): 0 done / gates hold / chain intact; 2 bad input (an invalid
artifact, a malformed approvers.yaml or key file, usage); 3 refused by a gate (Gate 1 not
passed, approvers.yaml forbids the approval, an approval missing, stale or tampered) and, for
``audit verify``, a broken audit chain.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sdd_build.cli._options import by_option, json_option, key_option, note_option, root_option
from sdd_build.cli._output import console, print_json
from sdd_build.errors import EXIT_GATE
from sdd_build.secrets import sink


@click.command("approve")
@click.argument("artifact", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--gate",
    type=click.Choice(["spec", "design"]),
    required=True,
    help="spec: Gate 1 (customer-spec.md); design: Gate 2 (solution-design.yaml).",
)
@by_option()
@key_option()
@note_option("Free text kept in the record (a ticket, ...).")
@root_option
@json_option("Print the approval summary as JSON.")
def approve_cmd(
    artifact: Path,
    gate: str,
    by: str,
    key: Path | None,
    note: str | None,
    root: Path | None,
    as_json: bool,
) -> None:
    """Record a gate approval bound to the content hashes of ARTIFACT and all it references.

    A design must validate and its spec must be approved first (Gate 1). Writes
    approvals/<gate>.json (and a history copy) beside the artifact and appends an
    'approval' entry to the audit log. Exit 2: invalid artifact; 3: refused.
    """
    from sdd_build.gates import approve

    result = approve(
        artifact,
        gate="spec" if gate == "spec" else "design",
        by=by,
        key=key,
        note=note,
        root=root,
    )
    summary = result.approval.as_dict()
    if as_json:
        print_json(
            {**summary, "history": str(result.history), "audit_seq": result.audit_entry["seq"]}
        )
        return
    record = result.approval.record
    what = (
        f"design {record.design.id} v{record.design.version}"
        if record.design is not None
        else f"spec ({len(record.requirements)} requirements)"
    )
    signed = f"signed {summary['fingerprint']}" if summary["signed"] else "unsigned"
    console.print(
        f"[green]approved[/] {what}: {record.artifact} by {record.approver}, "
        f"{len(record.files)} file(s) bound, {signed}\n"
        f"record {summary['record']} (audit seq {result.audit_entry['seq']})"
    )


@click.group("gates")
def gates() -> None:
    """Gate status of designs (for people and CI)."""


@gates.command("check")
@click.argument("design", type=click.Path(path_type=Path, dir_okay=False))
@root_option
@json_option("Machine output: ok, gates.")
def gates_check_cmd(design: Path, root: Path | None, as_json: bool) -> None:
    """Show whether DESIGN passes Gate 1 (spec) and Gate 2 (design): approved, stale (which
    file changed), missing or invalid. Exit 0 when both hold, 3 otherwise."""
    from sdd_build.gates import gate_status

    report = gate_status(design, root=root)
    if as_json:
        print_json(report.to_json())
        sys.exit(0 if report.ok else EXIT_GATE)
    model = report.design.model if report.design is not None else None
    title = f"design {model.design} v{model.version}" if model else "design"
    console.print(f"{title} ({report.display})")
    for label, status in (("Gate 1 (spec)", report.gate1), ("Gate 2 (design)", report.gate2)):
        colour = "green" if status.ok else "red"
        line = f"{label}: [{colour}]{status.status}[/]"
        if status.approval is not None:
            rec = status.approval.record
            sig = (
                f", signed {status.approval.fingerprint}"
                if status.approval.signed
                else ", unsigned"
            )
            line += f" — approved by {rec.approver} at {rec.approved_at}{sig}"
        console.print(line)
        for finding in status.findings:
            console.print(f"  {finding.kind}: {finding.problem}", markup=False)
    if not report.ok:
        sys.exit(EXIT_GATE)


@click.group("keys")
def keys() -> None:
    """Ed25519 keys for signed approvals."""


@keys.command("generate")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Where to write the private key (PEM, mode 0600). Keep it secret.",
)
@click.option("--force", is_flag=True, help="Replace an existing key file.")
def keys_generate_cmd(out: Path, force: bool) -> None:
    """Create a signing key; print its public key for approvers.yaml (never the private
    key)."""
    from sdd_build.gates import generate_key

    info = generate_key(out, force=force)
    sink.out(f"{info.public_key}\n")
    sink.err(
        f"wrote private key {out} (mode 0600); fingerprint {info.fingerprint}\n"
        "add the public key above to approvers.yaml:\n"
        f'  - name: <you>\n    public_key: "{info.public_key}"\n    gates: [spec, design]\n'
    )


@click.group("audit")
def audit() -> None:
    """The hash-chained audit log (<repo>/audit/audit.jsonl)."""


@audit.command("verify")
@click.argument(
    "directory",
    required=False,
    type=click.Path(path_type=Path, file_okay=False, exists=True),
)
@json_option("Machine output: ok, entries, problems.")
def audit_verify_cmd(directory: Path | None, as_json: bool) -> None:
    """Verify the audit log of the repository DIRECTORY (default: the one around the
    current directory). Names every edited, deleted, inserted or reordered entry by line
    and seq, and every as-built record that no longer has the bytes the chain binds. Exit 0
    when both are intact, 3 when not."""
    from sdd_build.audit import verify_log
    from sdd_build.design.loader import find_root

    root = directory if directory is not None else find_root(Path.cwd())
    report = verify_log(root, records=True)
    if as_json:
        print_json(report.to_json())
        sys.exit(0 if report.ok else EXIT_GATE)
    for warning in report.warnings:
        sink.err(f"warning: {warning}\n")
    if not report.exists and report.ok:
        console.print(f"no audit log at {report.path} (nothing recorded yet)", markup=False)
        return
    report.raise_for_problems()
    absent = f", {report.records_missing} not in the repository" if report.records_missing else ""
    console.print(
        f"[green]audit log intact[/]: {report.entries} entries, seq "
        f"{report.first_seq}..{report.last_seq}, head {(report.last_hash or '')[:12]} "
        f"({report.display}); {report.records_checked} as-built record(s) as logged{absent}"
    )
