"""``sdd-build build`` and ``discover``: progress for people, JSON events for machines."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
from rich.console import COLOR_SYSTEMS, Console
from rich.markup import escape
from rich.style import Style
from rich.table import Table

from sdd_build.cli._options import (
    design_argument,
    hosts_option,
    inventory_option,
    json_option,
    lab_option,
    path_option,
    root_option,
    wait_lock_option,
)
from sdd_build.cli._output import err_console, print_attention, print_error
from sdd_build.errors import EXIT_DEVIATIONS, EXIT_OK, SddBuildError
from sdd_build.execute.policy import is_open, policy
from sdd_build.secrets.sink import console_line, dumps_json, out

_STYLE = {
    "built": "green",
    "failed": "red",
    "blocked": "yellow",
    "rolled_back": "magenta",
    "skipped": "dim",
}

#: deviation severity (``execute.policy``) -> terminal style
SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}


class _HumanProgress:
    """Progress people can follow: layers, components, hosts, elapsed (stderr).

    Called from the Nornir worker threads: the frequent lines (one per component per host)
    are formatted here, styled with escape codes rendered once per style, masked and written
    in one call; no Rich markup is parsed or laid out per event (``console.print`` only for
    the rare deviation lines, whose markup escapes record text)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.t0 = time.perf_counter()
        self.lock = threading.Lock()
        self._styles: dict[str, tuple[str, str]] = {}

    def _style(self, style: str) -> tuple[str, str]:
        """The escape codes around a text in ``style`` on this console ('' when plain)."""
        codes = self._styles.get(style)
        if codes is None:
            system = COLOR_SYSTEMS.get(self.console.color_system or "")
            parsed = Style.parse(style)
            if self.console.no_color:
                parsed = parsed.without_color
            marked = parsed.render("\0", color_system=system) if system else "\0"
            before, _, after = marked.partition("\0")
            codes = self._styles[style] = (before, after)
        return codes

    def _styled(self, text: str, style: str) -> str:
        before, after = self._style(style)
        return f"{before}{text}{after}"

    def _line(self, plain: str, styled: str) -> None:
        with self.lock:
            console_line(self.console, plain, styled)

    def __call__(self, event: str, **data: Any) -> None:
        seconds = f"{time.perf_counter() - self.t0:6.1f}s"
        elapsed = self._styled(seconds, "dim")
        if event == "build_started":
            mode = " (dry run)" if data.get("check") else ""
            text = (
                f"build {data['build_id']}{mode}: {len(data['hosts'])} hosts, "
                f"{len(data['layers'])} layers"
            )
            self._line(f"{seconds} {text}", f"{elapsed} {text}")
        elif event == "phase":
            self._line(f"{seconds} {data['name']}", f"{elapsed} {data['name']}")
        elif event == "layer_started":
            head, tail = f"layer {data['layer']}", f": {', '.join(data['components'])}"
            self._line(f"{seconds} {head}{tail}", f"{elapsed} {self._styled(head, 'bold')}{tail}")
        elif event == "component_host":
            status = str(data["status"])
            style = _STYLE.get(status, "white")
            reason = f" — {data['reason']}" if data.get("reason") else ""
            where = f"{data['component']} @ {data['host']}: "
            self._line(
                f"{seconds}   {where}{status}{reason}",
                f"{elapsed}   {where}{self._styled(status, style)}{reason}",
            )
        elif event == "warning":
            text = f": {data['message']}"
            self._line(
                f"{seconds} warning{text}", f"{elapsed} {self._styled('warning', 'yellow')}{text}"
            )
        elif event == "deviation" and not policy(data["class"]).derived:
            with self.lock:
                self.console.print(f"[dim]{seconds}[/]   {deviation_line(data)}")


def deviation_line(dev: dict[str, Any]) -> str:
    """One deviation as a terminal line (rich markup): class, component @ host, the check or
    configuration line it is about, the reason."""
    style = SEVERITY_STYLE[policy(dev["class"]).severity]
    subject = dev.get("check") or dev.get("line")
    about = f" [bold]{escape(subject)}[/]" if subject else ""
    where = f"{dev.get('component') or '(no component)'} @ {dev.get('host') or '(no host)'}"
    return (
        f"[{style}]{dev['class']}[/] {dev['id']} {escape(where)}:{about} — "
        f"{escape(str(dev['reason']))}"
    )


def _dry_run(console: Console, asbuilt: Any) -> None:
    """Per host: the diff of each component and what the device's parser would refuse."""
    for host, summary in sorted(asbuilt.hosts.items()):
        diffs = {c: d for c, d in (summary.get("diff") or {}).items() if d.strip()}
        said = (
            f"validated by {summary['validated_by']}"
            if summary.get("validated_by")
            else f"NOT validated: {summary['unvalidated']}"
            if summary.get("unvalidated")
            else "nothing to validate"
        )
        console.print(f"[bold]{escape(host)}[/] — {len(diffs)} component(s) change; {escape(said)}")
        for component, diff in diffs.items():
            console.print(f"  [bold]{escape(component)}[/]")
            for line in diff.rstrip("\n").splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                text = escape(line)
                console.print(f"    [{style}]{text}[/]" if style else f"    {text}")


class _JsonEvents:
    """One JSON object per line on stdout: machines follow the build as it happens."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, event: str, **data: Any) -> None:
        line = dumps_json({"event": event, **data})
        with self.lock:
            out(line + "\n")


def _summary(console: Console, asbuilt: Any, path: Path) -> None:
    hosts = sorted(asbuilt.hosts)
    comps = [c for c in asbuilt.components if c.hosts]
    # ids and statuses are never cut: a table that does not fit becomes one line per
    # component and status (which wraps between host names, never inside an id)
    widest = max([len(r.status) for c in comps for r in c.hosts.values()] + [1])
    ids = max([len(c.id) for c in comps] + [len("component")])
    if 8 + ids + 3 + sum(max(len(h), widest) + 3 for h in hosts) + 1 > console.width:
        console.print(f"as-built {asbuilt.build_id}: {asbuilt.result}", highlight=False)
        for comp in comps:
            by_status: dict[str, list[str]] = {}
            for h in hosts:
                if h in comp.hosts:
                    by_status.setdefault(comp.hosts[h].status, []).append(h)
            said = "; ".join(
                f"[{_STYLE.get(st, 'white')}]{st}[/] {escape(', '.join(hs))}"
                for st, hs in by_status.items()
            )
            console.print(f"  layer {comp.layer} {escape(comp.id)}: {said}", highlight=False)
    else:
        table = Table(title=f"as-built {asbuilt.build_id}: {asbuilt.result}")
        table.add_column("layer", justify="right", no_wrap=True)
        table.add_column("component", no_wrap=True)
        for h in hosts:
            table.add_column(h, no_wrap=True)
        for comp in comps:
            cells = []
            for h in hosts:
                rec = comp.hosts.get(h)
                cells.append(f"[{_STYLE.get(rec.status, 'white')}]{rec.status}[/]" if rec else "-")
            table.add_row(str(comp.layer), comp.id, *cells)
        console.print(table)
    if asbuilt.mode == "check":
        _dry_run(console, asbuilt)
    if asbuilt.deviations:
        console.print(f"[red]{len(asbuilt.deviations)} deviation(s)[/] recorded")
        for dev in asbuilt.deviations:
            if not policy(dev.class_).derived:
                console.print("  " + deviation_line(dev.dump()))
    print_attention(console, asbuilt.attention)
    console.print(f"record: {path}")


def _lab_hint(console: Console, unreachable: set[str]) -> None:
    """Hosts tried at the design inventory's addresses (no --lab) that a running lab holds."""
    if not unreachable:
        return
    from sdd_build.lab.state import labs_holding

    for name, topology in labs_holding(unreachable):
        console.print(
            f"hint: lab '{name}' is up and holds {', '.join(sorted(unreachable))}: "
            f"did you mean --lab {topology}?",
            markup=False,
            highlight=False,
        )


@click.command("build")
@design_argument
@click.option("--check", is_flag=True, help="Dry run: the diffs each host would get.")
@lab_option
@inventory_option
@click.option("--workers", type=click.IntRange(1, 1000), default=None, help="Concurrency.")
@json_option("JSON events on stdout, one a line.")
@click.option("--recover", "recover_id", default=None, help="Close an unfinished build.")
@click.option("--accept", is_flag=True, help="With --recover: record the state as it is.")
@click.option(
    "--executor",
    type=click.Choice(["local", "dask", "ray"]),
    default="local",
    show_default=True,
    help="Where device sessions live: this process, or shard actors on Dask workers.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDR",
    help="With --executor dask: the scheduler (tcp://HOST:8786); none: a local cluster.",
)
@click.option(
    "--shard-by",
    default="site",
    show_default=True,
    metavar="KEY",
    help="With --executor dask: the inventory data key naming a host's site.",
)
@path_option
@wait_lock_option
@root_option
def build_cmd(
    design: Path,
    check: bool,
    lab: Path | None,
    inventory: Path | None,
    workers: int | None,
    as_json: bool,
    recover_id: str | None,
    accept: bool,
    executor: str,
    scheduler: str | None,
    shard_by: str,
    via: str,
    wait_lock: float,
    root: Path | None,
) -> None:
    """The governed build: gates, offline layer, leaf-first apply + checks, as-built."""
    from sdd_build.app.service import build_service

    emit = _JsonEvents() if as_json else _HumanProgress(err_console)
    try:
        asbuilt, path = build_service(
            design,
            check=check,
            lab=lab,
            inventory=inventory,
            workers=workers,
            emit=emit,
            recover_id=recover_id,
            accept=accept,
            wait_lock_s=wait_lock,
            root=root,
            executor=executor,
            scheduler=scheduler,
            shard_by=shard_by,
            via=via,
        )
    except SddBuildError as exc:
        if as_json:
            emit(
                "error",
                exit_code=exc.exit_code,
                problems=[p.as_dict() for p in exc.problems],
            )
        print_error(exc)
        sys.exit(exc.exit_code)
    if not as_json:
        _summary(err_console, asbuilt, path)
        if lab is None and inventory is None:
            unreachable = {d.host for d in asbuilt.deviations if d.class_ == "unreachable"}
            _lab_hint(err_console, {h for h in unreachable if h})
    open_deviations = [d for d in asbuilt.deviations if is_open(d.class_)]
    sys.exit(EXIT_DEVIATIONS if open_deviations or asbuilt.result == "failed" else EXIT_OK)


@click.command("discover")
@click.argument("artifact", type=click.Path(path_type=Path, dir_okay=False))
@lab_option
@inventory_option
@click.option("--group", "groups", multiple=True, help="With a spec: target group(s).")
@hosts_option(help="With a spec: target host(s).")
@json_option("Print feasibility.json to stdout.")
@wait_lock_option
@root_option
def discover_cmd(
    artifact: Path,
    lab: Path | None,
    inventory: Path | None,
    groups: tuple[str, ...],
    hosts: tuple[str, ...],
    as_json: bool,
    wait_lock: float,
    root: Path | None,
) -> None:
    """Feasibility facts from the devices (read-only); refused before Gate 1.

    Per host: facts, FRR version, running daemons and capabilities; with a design, what
    it needs that a host lacks (e.g. bfd lines on a host without bfdd) as a finding.
    Exit 1 when a host is unreachable, answers as another device or has a finding."""
    from sdd_build.app.service import discover_service

    json_path, md_path, feas = discover_service(
        artifact,
        lab=lab,
        inventory=inventory,
        groups=list(groups),
        hosts=list(hosts),
        wait_lock_s=wait_lock,
        root=root,
    )
    failed = any(
        not e.get("reachable") or e.get("identity_mismatch") or e.get("findings")
        for e in feas.hosts.values()
    )
    if as_json:
        out(dumps_json(feas.as_dict(), indent=2) + "\n")
        sys.exit(EXIT_DEVIATIONS if failed else EXIT_OK)
    for host, entry in feas.hosts.items():
        state = "[green]reachable[/]" if entry.get("reachable") else "[red]unreachable[/]"
        if entry.get("identity_mismatch"):
            state = f"[red]identity mismatch[/]: {entry['identity_mismatch']}"
        facts = entry.get("facts", {})
        err_console.print(
            f"{host}: {state} {facts.get('vendor', '')} {facts.get('os_version', '')}"
        )
        if entry.get("daemons"):
            err_console.print(
                f"  FRR {entry.get('frr_version') or '?'}, daemons: {', '.join(entry['daemons'])}",
                markup=False,
            )
        for finding in entry.get("findings", []):
            err_console.print(f"  [red]feasibility[/]: {escape(finding)}")
    err_console.print(f"wrote {json_path} and {md_path}")
    if lab is None and inventory is None:
        _lab_hint(err_console, {h for h, e in feas.hosts.items() if not e.get("reachable")})
    if failed:
        sys.exit(EXIT_DEVIATIONS)
