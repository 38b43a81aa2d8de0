"""The Nornir SimpleInventory (hosts.yaml, groups.yaml, defaults.yaml), loaded with positions.

We build nornir's own ``Inventory`` objects (so data inheritance — host < groups < defaults —
is exactly what Nornir resolves at run time) but read the files ourselves, so that a broken
inventory is a located error instead of a traceback out of the plugin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir.core.inventory import (
    ConnectionOptions,
    Defaults,
    Group,
    Groups,
    Host,
    Hosts,
    Inventory,
    ParentGroups,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdd_build.design.models import Targets
from sdd_build.design.source import DiskSource, Source
from sdd_build.design.yamlpos import LoadedYaml, YamlLoadError, load_yaml
from sdd_build.errors import InventoryError, Problem
from sdd_build.secrets import learn_secrets

__all__ = [
    "HostView",
    "LoadedInventory",
    "load_inventory",
    "overlay_connections",
    "resolve_targets",
]

_FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml")


class _Reach(BaseModel):
    """How to reach a device: shared by inventory entries and their connection options."""

    model_config = ConfigDict(extra="forbid")
    hostname: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    platform: str | None = None


class _ConnOpts(_Reach):
    extras: dict[str, Any] | None = None


class _Element(_Reach):
    groups: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    connection_options: dict[str, _ConnOpts] = Field(default_factory=dict)


class _DefaultsModel(_Element):
    groups: list[str] = Field(default_factory=list, max_length=0)


@dataclass(frozen=True)
class HostView:
    """What templates and checks see of one host: ``host.name``, ``host.data.x``, ..."""

    name: str
    hostname: str | None
    platform: str | None
    groups: tuple[str, ...]
    data: Mapping[str, Any]

    def context(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hostname": self.hostname,
            "platform": self.platform,
            "groups": list(self.groups),
            "data": self.data,
        }


@dataclass
class LoadedInventory:
    directory: Path
    display: str
    inventory: Inventory
    files: dict[str, LoadedYaml] = field(default_factory=dict)
    connected: frozenset[str] | None = None  # with a lab overlay: the hosts the lab has
    _views: dict[str, HostView] = field(default_factory=dict)

    def view(self, name: str) -> HostView:
        """Resolved host data (defaults < groups < host), computed once per host."""
        cached = self._views.get(name)
        if cached is not None:
            return cached
        host: Host = self.inventory.hosts[name]
        view = HostView(
            name=name,
            hostname=host.hostname,
            platform=host.platform,
            groups=tuple(g.name for g in host.extended_groups()),
            data=dict(host.extended_data()),
        )
        self._views[name] = view
        return view

    def paths(self) -> list[Path]:
        return [self.directory / f for f in _FILES if (self.directory / f).is_file()]


def _conn(data: Mapping[str, _ConnOpts]) -> dict[str, ConnectionOptions]:
    return {
        name: ConnectionOptions(
            hostname=o.hostname,
            port=o.port,
            username=o.username,
            password=o.password,
            platform=o.platform,
            extras=o.extras,
        )
        for name, o in data.items()
    }


def _load_file(
    directory: Path,
    name: str,
    display: str,
    problems: list[Problem],
    machine_written: bool,
    source: Source,
) -> LoadedYaml | None:
    path = directory / name
    if not source.is_file(path):
        return None
    try:
        loaded = load_yaml(
            path, display=f"{display}/{name}", positions=not machine_written, source=source
        )
    except YamlLoadError as exc:
        problems.append(exc.problem)
        return None
    if loaded.data is None:
        loaded.data = {}
    if not isinstance(loaded.data, dict):
        problems.append(Problem("expected a mapping of names to entries", loaded.file, 1))
        return None
    return loaded


def _validate(
    loaded: LoadedYaml,
    model: type[_Element],
    key: tuple[str | int, ...],
    value: Any,
    problems: list[Problem],
) -> _Element | None:
    if value is None:
        value = {}
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = key + tuple(p for p in err["loc"] if isinstance(p, str | int))
            msg = (
                f"unknown key '{err['loc'][-1]}'"
                if err["type"] == "extra_forbidden"
                else f"{'.'.join(map(str, loc))}: {err['msg']}"
            )
            problems.append(loaded.problem(loc, msg))
        return None


def load_inventory(
    directory: Path,
    *,
    display: str | None = None,
    machine_written: bool = False,
    source: Source | None = None,
) -> LoadedInventory:
    """Load a SimpleInventory folder. Raises ``InventoryError`` listing every problem.

    ``machine_written``: a lab's inventory (``sdd-build lab up`` writes it as YAML 1.1), read
    fast and without line numbers (see ``load_yaml``).
    """
    display = display or str(directory)
    source = source or DiskSource()
    if not source.is_file(directory / "hosts.yaml"):
        raise InventoryError(
            f"no hosts.yaml in the inventory folder {directory.resolve()}",
            file=display,
            hint="point --inventory at a Nornir SimpleInventory folder, or use --lab <topology>",
        )
    problems: list[Problem] = []
    files: dict[str, LoadedYaml] = {}
    for name in _FILES:
        got = _load_file(directory, name, display, problems, machine_written, source)
        if got is not None:
            files[name] = got
    if problems:
        raise InventoryError.from_problems(problems)

    defaults = Defaults()
    if "defaults.yaml" in files:
        d = _validate(
            files["defaults.yaml"], _DefaultsModel, (), files["defaults.yaml"].data, problems
        )
        if d is not None:
            defaults = Defaults(
                hostname=d.hostname,
                port=d.port,
                username=d.username,
                password=d.password,
                platform=d.platform,
                data=d.data,
                connection_options=_conn(d.connection_options),
            )
    groups = Groups()
    group_refs: dict[str, list[str]] = {}
    if "groups.yaml" in files:
        gf = files["groups.yaml"]
        for gname, gdata in gf.data.items():
            g = _validate(gf, _Element, (gname,), gdata, problems)
            if g is None:
                continue
            groups[str(gname)] = _element(Group, str(gname), g, defaults)
            group_refs[str(gname)] = g.groups
        cycle = _group_cycle(group_refs)
        if cycle:
            problems.append(gf.problem((cycle[0], "groups"), f"group cycle: {' -> '.join(cycle)}"))
            raise InventoryError.from_problems(problems)
        for gname, parents in group_refs.items():
            _check_refs(gf, (gname, "groups"), parents, groups, problems)
            groups[gname].groups = ParentGroups([groups[p] for p in parents if p in groups])
    hosts = Hosts()
    hf = files["hosts.yaml"]
    for hname, hdata in hf.data.items():
        h = _validate(hf, _Element, (hname,), hdata, problems)
        if h is None:
            raw_groups = hdata.get("groups") if isinstance(hdata, dict) else None
            if isinstance(raw_groups, list):
                _check_refs(hf, (hname, "groups"), [str(g) for g in raw_groups], groups, problems)
            continue
        _check_refs(hf, (hname, "groups"), h.groups, groups, problems)
        host = _element(Host, str(hname), h, defaults)
        host.groups = ParentGroups([groups[p] for p in h.groups if p in groups])
        hosts[str(hname)] = host
    if not problems and not hosts:
        problems.append(Problem("the inventory has no hosts", hf.file, 1))
    if problems:
        raise InventoryError.from_problems(problems)
    for loaded in files.values():
        learn_secrets(loaded.data)  # credentials are masked in everything written from now on
    return LoadedInventory(
        directory=directory,
        display=display,
        inventory=Inventory(hosts=hosts, groups=groups, defaults=defaults),
        files=files,
    )


def _group_cycle(refs: Mapping[str, list[str]]) -> list[str]:
    """A cycle among group parents (nornir would recurse forever), as a path, or []."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for parent in refs.get(node, []):
            if state.get(parent) == 1:
                return [*path[path.index(parent) :], parent]
            if parent in refs and parent not in state and (found := visit(parent)):
                return found
        state[node] = 2
        path.pop()
        return []

    for start in refs:
        if start not in state and (found := visit(start)):
            return found
    return []


def _element(typ: type[Any], name: str, el: _Element, defaults: Defaults) -> Any:
    return typ(
        name=name,
        hostname=el.hostname,
        port=el.port,
        username=el.username,
        password=el.password,
        platform=el.platform,
        data=dict(el.data),
        groups=None,
        defaults=defaults,
        connection_options=_conn(el.connection_options),
    )


def _check_refs(
    loaded: LoadedYaml,
    key: tuple[str | int, ...],
    refs: Iterable[str],
    groups: Groups,
    problems: list[Problem],
) -> None:
    for index, ref in enumerate(refs):
        if ref not in groups:
            problems.append(
                loaded.problem((*key, index), f"unknown group '{ref}' (not in groups.yaml)")
            )


def resolve_targets(
    inv: LoadedInventory, targets: Targets
) -> tuple[list[str], list[str], list[str]]:
    """Hosts in the blast radius, sorted; plus unknown group names and unknown host names."""
    unknown_groups = [g for g in targets.groups if g not in inv.inventory.groups]
    unknown_hosts = [h for h in targets.hosts if h not in inv.inventory.hosts]
    wanted_groups = {g for g in targets.groups if g in inv.inventory.groups}
    selected: set[str] = {h for h in targets.hosts if h in inv.inventory.hosts}
    if wanted_groups:
        for name in inv.inventory.hosts:
            if wanted_groups.intersection(inv.view(name).groups):
                selected.add(name)
    return sorted(selected), unknown_groups, unknown_hosts


def overlay_connections(design_inv: LoadedInventory, conn_inv: LoadedInventory) -> LoadedInventory:
    """Design data from ``design_inv``, how to reach each host from ``conn_inv`` (a lab's).

    The repository inventory carries what the design renders from (host data, groups); a lab
    brought up by sdd-build writes an inventory with the SSH ports and generated credentials of
    the same host names. Hosts of the design inventory that the lab does not have keep no
    connection data and are reported by the caller when targeted.
    """
    hosts = Hosts()
    base = design_inv.inventory
    for name, host in base.hosts.items():
        conn = conn_inv.inventory.hosts.get(name)
        if conn is None:
            hosts[name] = host
            continue
        # Resolve through the lab's own groups and defaults (its credentials live there).
        params = conn.get_connection_parameters()
        hosts[name] = Host(
            name=name,
            hostname=params.hostname,
            port=params.port,
            username=params.username,
            password=params.password,
            platform=params.platform or host.platform,
            data=dict(host.data),
            groups=host.groups,
            defaults=base.defaults,
            connection_options={
                plugin: conn.get_connection_parameters(plugin)
                for plugin in _connection_plugins(conn)
            },
        )
    return LoadedInventory(
        directory=design_inv.directory,
        display=f"{design_inv.display} + {conn_inv.display}",
        inventory=Inventory(hosts=hosts, groups=base.groups, defaults=base.defaults),
        files=design_inv.files,
        connected=frozenset(n for n in base.hosts if n in conn_inv.inventory.hosts),
    )


def _connection_plugins(host: Host) -> set[str]:
    names: set[str] = set(host.connection_options)
    for group in host.extended_groups():
        names.update(group.connection_options)
    names.update(host.defaults.connection_options)
    return names
