"""``sdd-build lab up|down|status|inventory|impair|generate`` — run containerlab topologies.

Exit codes: 0 done (also: ``up`` of a lab that is already up, ``down`` of a lab that is not up —
both are no-ops, so CI cleanup steps can always run them); 1 the runtime failed (not root, a
daemon did not start, not converged within ``--timeout``); 2 bad input (topology errors with
file:line, a lab name already used by another topology file, unsupported features).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from rich.table import Table

from sdd_build.cli._options import json_option
from sdd_build.cli._output import console, print_json, print_wide
from sdd_build.secrets import sink


def _progress(quiet: bool) -> Callable[[str], None]:
    def emit(message: str) -> None:
        if not quiet:
            sink.err(f"  {message}\n")

    return emit


_TOPOLOGY = click.argument(
    "topology", type=click.Path(dir_okay=False, path_type=Path, exists=False)
)


@click.group("lab")
def lab() -> None:
    """Run containerlab topologies (FRR routers in network namespaces without containerlab).

    With containerlab on PATH, up/down/status delegate to it; otherwise each FRR node runs
    as an FRR instance in its own network namespace, reachable over SSH on 127.0.0.1.
    """


@lab.command("up")
@_TOPOLOGY
@click.option("--wait", is_flag=True, help="Also wait for declared convergence (labels "
              "sdd.expect.*; default: every link interface up).")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=1), default=120.0, show_default=True,
              help="Seconds to wait for convergence with --wait.")  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@json_option("Print the result as JSON.")
def up_cmd(topology: Path, wait: bool, timeout: float, quiet: bool, as_json: bool) -> None:
    """Bring a lab up (idempotent); ready when every router answers over SSH."""
    from sdd_build import lab as labapi

    handle = labapi.up(topology, wait=wait, timeout=timeout, progress=_progress(quiet))
    res = handle.result
    assert res is not None
    if as_json:
        print_json({
            "lab": handle.name,
            "already_up": res.already_up,
            "provider": res.provider,
            "ready_s": round(res.ready_s, 3),
            "converged_s": None if res.converged_s is None else round(res.converged_s, 3),
            "notes": res.notes,
            "warnings": res.warnings,
            "inventory": str(handle.inventory_dir),
            "hosts": {n: {"hostname": h.hostname, "port": h.port}
                      for n, h in handle.hosts.items()},
        })  # fmt: skip
        return
    if res.already_up:
        console.print(f"lab [bold]{handle.name}[/] is already up (nothing changed)")
    else:
        console.print(f"lab [bold]{handle.name}[/] is up ({res.provider}), ready in "
                      f"{res.ready_s:.1f}s")  # fmt: skip
    if quiet:  # else the progress said it already, as soon as it was known
        for warning in res.warnings:
            sink.err(f"warning: {warning}\n")
    for note in res.notes:
        console.print(f"note: {note}")
    if res.converged_s is not None:
        console.print(f"converged in {res.converged_s:.1f}s")
    console.print(f"inventory: {handle.inventory_dir}")
    for name, h in handle.hosts.items():
        console.print(f"  {name}: ssh -p {h.port} {h.username}@{h.hostname}")
    for name, lh in handle.linux_hosts.items():
        if lh.port:  # a Linux host's bash login (a design's check target)
            console.print(f"  {name}: ssh -p {lh.port} {lh.username}@127.0.0.1 (linux host)")


@lab.command("down")
@_TOPOLOGY
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
def down_cmd(topology: Path, quiet: bool) -> None:
    """Remove everything the lab made (works after a crash too). Not up: exit 0."""
    from sdd_build import lab as labapi

    if labapi.down(topology, progress=_progress(quiet)):
        console.print(f"lab [bold]{labapi.read_lab_name(topology)}[/] is down")
    else:
        console.print(f"lab [bold]{labapi.read_lab_name(topology)}[/] is not up; "
                      "nothing to do")  # fmt: skip


@lab.command("status")
@_TOPOLOGY
@json_option("Print the status as JSON.")
def status_cmd(topology: Path, as_json: bool) -> None:
    """Nodes, SSH ports, daemons alive and adjacencies."""
    from sdd_build import lab as labapi

    st = labapi.status(topology)
    if as_json:
        print_json(st.as_dict())
        return
    if not st.up and not st.nodes:
        console.print(f"lab [bold]{st.name}[/] is not up")
        return
    title = f"lab {st.name} ({st.provider})"
    if not st.up:
        title += f" — {st.phase}: an interrupted run; `sdd-build lab down` cleans it up"
    table = Table(title=title)
    for col in ("node", "role", "netns", "ssh port", "daemons", "ssh", "ifaces up",
                "OSPF Full", "BGP Estab."):  # fmt: skip
        table.add_column(col, no_wrap=True)
    for n in st.nodes:
        daemons = {k: v for k, v in n.alive.items() if k not in ("sshd", "socat")}
        dead = sorted(k for k, v in daemons.items() if not v)
        daemons_txt = (f"[red]{', '.join(dead)} down[/]" if dead
                       else f"[green]{len(daemons)} up[/]" if daemons else "-")  # fmt: skip
        ssh_dead = [k for k in ("sshd", "socat") if k in n.alive and not n.alive[k]]
        ssh_txt = (
            "-"
            if "sshd" not in n.alive
            else f"[red]{', '.join(ssh_dead)} down[/]"
            if ssh_dead
            else "[green]up[/]"
        )
        table.add_row(
            n.name, n.role, n.netns or "-", str(n.port or "-"), daemons_txt, ssh_txt,
            f"{n.interfaces_up}/{n.interfaces_total}" if n.interfaces_total is not None
            else "-",
            "-" if n.ospf_full is None else str(n.ospf_full),
            "-" if n.bgp_established is None else str(n.bgp_established),
        )  # fmt: skip
    # a wide table on a narrow or non-tty console would be cropped into ellipses
    print_wide(table, 132)
    shells = [(n.name, n.extra["vtysh"]) for n in st.nodes if n.extra.get("vtysh")]
    if shells:
        console.print("a router's own vtysh (-N names its FRR instance):")
        for name, command in shells:
            console.print(f"  {name}: {command}", markup=False, highlight=False)


@lab.command("inventory")
@_TOPOLOGY
@json_option("Hosts with their SSH ports (no "
              "passwords).")  # fmt: skip
def inventory_cmd(topology: Path, as_json: bool) -> None:
    """Print the path of the lab's Nornir inventory folder."""
    from sdd_build import lab as labapi

    handle = labapi.attach(topology)
    if not as_json:
        sink.out(f"{handle.inventory_dir}\n")
        return
    print_json({
        "lab": handle.name,
        "inventory": str(handle.inventory_dir),
        "hosts": {
            n: {
                "hostname": h.hostname,
                "port": h.port,
                "username": h.username,
                "shell_username": h.shell_username,
                "netns": h.netns,
                "frr_instance": h.frr_instance,
                "groups": list(handle.topology.nodes[n].groups),
            }
            for n, h in handle.hosts.items()
        },
    })  # fmt: skip


@lab.command("impair")
@_TOPOLOGY
@click.argument("targets", nargs=-1, required=True)
@click.option("--link", type=click.Choice(["down", "up"]), help="Set the interface down/up.")
@click.option("--delay", help="netem delay, e.g. 200ms.")
@click.option("--jitter", help="netem jitter (with --delay), e.g. 20ms.")
@click.option("--loss", type=float, help="netem loss in percent, e.g. 10.")
@click.option("--rate", help="netem rate limit, e.g. 1mbit.")
@click.option("--clear", is_flag=True, help="Remove the netem qdisc.")
@click.option("--sshd", type=click.Choice(["stop", "start"]), help="Stop/start the sshd.")
@click.option("--daemon", help="An FRR daemon (bgpd, ospfd, ...) for --stop/--start.")
@click.option("--stop", "daemon_action", flag_value="stop", help="Stop --daemon.")
@click.option("--start", "daemon_action", flag_value="start", help="Start --daemon.")
def impair_cmd(
    topology: Path,
    targets: tuple[str, ...],
    link: str | None,
    delay: str | None,
    jitter: str | None,
    loss: float | None,
    rate: str | None,
    clear: bool,
    sshd: str | None,
    daemon: str | None,
    daemon_action: str | None,
) -> None:
    """Inject faults on NODE or NODE:IFACE targets (like containerlab tools netem).

    \b
    sdd-build lab impair labs/triangle.clab.yml r1:eth1 --link down
    sdd-build lab impair labs/triangle.clab.yml r1:eth1 r2:eth1 --delay 200ms --loss 10
    sdd-build lab impair labs/triangle.clab.yml r1:eth1 --clear
    sdd-build lab impair labs/triangle.clab.yml r2 --sshd stop
    sdd-build lab impair labs/triangle.clab.yml r3 --daemon bgpd --stop
    """
    from sdd_build import lab as labapi

    for target in targets:
        done = labapi.impair(
            topology, target, link=link, delay=delay, jitter=jitter, loss=loss, rate=rate,
            clear=clear, sshd=sshd, daemon=daemon, daemon_action=daemon_action,
        )  # fmt: skip
        console.print(done)


@lab.command("generate")
@click.option("--routers", "-n", type=click.IntRange(2, 250), required=True)
@click.option("--name", default=None, help="Lab name (default ring<N>).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("labs"), show_default=True)  # fmt: skip
def generate_cmd(routers: int, name: str | None, out_dir: Path) -> None:
    """Write an N-router ring topology (OSPF + eBGP, converged startup configs)."""
    from sdd_build.lab.generate import write_ring

    path = write_ring(routers, out_dir, name=name)
    sink.out(f"{path}\n")
