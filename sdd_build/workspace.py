"""Assemble everything a design needs from disk: design, spec, inventory, graph, libraries.

This is the I/O edge of the offline pipeline; what it returns is pure data that the offline
layer, the planner and the executor consume, and ``render_context`` is what a template sees.
A stage of its own (``.importlinter``): above design, graph and render, below offline and plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdd_build.design.inventory import (
    LoadedInventory,
    load_inventory,
    overlay_connections,
    resolve_targets,
)
from sdd_build.design.loader import LoadedDesign, Repository, load_design
from sdd_build.design.models import CommandTemplate, Parser, Workflow
from sdd_build.design.secret_vars import register_design_secrets
from sdd_build.design.spec import Spec, load_spec
from sdd_build.errors import DesignError, Problem, SddBuildError
from sdd_build.graph.compile import CompiledGraph, compile_graph
from sdd_build.platforms import lookup
from sdd_build.render import TemplateLibrary

__all__ = [
    "Workspace",
    "connections_for",
    "lab_connections",
    "open_workspace",
    "render_context",
]


@dataclass
class Workspace:
    design: LoadedDesign
    spec: Spec
    inventory: LoadedInventory
    graph: CompiledGraph
    templates: TemplateLibrary
    hosts: list[str]
    component_hosts: dict[str, list[str]] = field(default_factory=dict)
    #: hosts that are only checked (``check_targets``): never configured, backed up or locked
    check_hosts: list[str] = field(default_factory=list)

    @property
    def all_hosts(self) -> list[str]:
        """Every host a build contacts: the targets, then the check targets."""
        return [*self.hosts, *self.check_hosts]

    @property
    def root(self) -> Path:
        return self.design.repo.root

    def host_components(self, host: str) -> list[str]:
        """The components that act on ``host``, in build order (leaf-first)."""
        sets = self._host_sets
        return [c for c in self.graph.order if host in sets[c]]

    @property
    def _host_sets(self) -> dict[str, frozenset[str]]:
        cached: dict[str, frozenset[str]] | None = getattr(self, "_hs", None)
        if cached is None:
            cached = {c: frozenset(h) for c, h in self.component_hosts.items()}
            self._hs = cached
        return cached


def render_context(
    ws: Workspace, host: str, comp_vars: Mapping[str, Any], host_ctx: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a template sees: ``host`` (name, platform, groups, data), ``design``, ``vars``."""
    model = ws.design.model
    return {
        "host": host_ctx if host_ctx is not None else ws.inventory.view(host).context(),
        "design": {"id": model.design, "version": model.version},
        "vars": {**model.vars, **comp_vars} if comp_vars else model.vars,
    }


def lab_connections(lab: Path | None) -> Path | None:
    """The inventory folder of a running lab (how to reach its nodes), or ``None``."""
    if lab is None:
        return None
    from sdd_build.labpaths import inventory_dir  # not the lab package: a build needs only this

    path = inventory_dir(lab)
    if not (path / "hosts.yaml").is_file():
        raise DesignError(
            f"lab {lab} is not up (no inventory at {path})",
            hint=f"run `sdd-build lab up {lab}` first",
        )
    return path


def connections_for(lab: Path | None, inventory: Path | None) -> Path | None:
    """Where connection data comes from: a running lab's inventory, or ``--inventory``.

    Either only says how to reach the design's hosts (address, port, credentials, platform):
    which hosts exist, their groups and data come from the design's own inventory, which the
    Gate-2 approval binds. A targeted host the connection inventory lacks is refused.
    """
    if lab is not None and inventory is not None:
        raise DesignError(
            "--lab and --inventory both give connection data; use one",
            hint="--lab <topology> for a running lab, --inventory <folder> for real devices",
        )
    return lab_connections(lab) if lab is not None else inventory


def _inventory_dir(loaded: LoadedDesign) -> tuple[Path, str]:
    rel = loaded.model.inventory or "inventory"
    target = loaded.repo.confine(loaded.repo.root, rel)
    if target is None:
        raise DesignError(
            f"inventory path '{rel}' escapes the repository",
            file=loaded.display,
            line=loaded.yaml.locate(("inventory",))[0],
        )
    return target, loaded.repo.display(target)


def open_workspace(
    design_path: Path,
    *,
    root: Path | None = None,
    connections: Path | None = None,
    repo: Repository | None = None,
) -> Workspace:
    """Load and cross-check design, spec, inventory and graph.

    Design data (hosts, groups, defaults, memberships) comes only from the design's own
    inventory, read through the repository's source (an approved snapshot in a build): it is
    bound by the Gate-2 approval. ``connections`` is a second inventory (a lab's, or one given
    with ``--inventory``) that may only say how to reach those hosts (address, port,
    credentials, platform); see ``overlay_connections``.

    Raises one ``SddBuildError`` carrying every problem found in the stages that could run.
    """
    loaded = load_design(design_path, root=root, repo=repo)
    source = loaded.repo.source
    problems: list[Problem] = []

    spec: Spec | None = None
    spec_path = loaded.repo.confine(loaded.directory, loaded.model.spec)
    if spec_path is None:
        problems.append(
            loaded.problem(("spec",), f"spec path '{loaded.model.spec}' escapes the repository")
        )
    else:
        try:
            spec = load_spec(spec_path, display=loaded.repo.display(spec_path), source=source)
        except SddBuildError as exc:
            problems.extend(exc.problems)

    inventory: LoadedInventory | None = None
    try:
        inv_dir, inv_display = _inventory_dir(loaded)
        inventory = load_inventory(inv_dir, display=inv_display, source=source)
        if connections is not None:
            inventory = overlay_connections(
                inventory,
                load_inventory(connections, display=str(connections), machine_written=True),
            )
    except SddBuildError as exc:
        problems.extend(exc.problems)

    graph: CompiledGraph | None = None
    try:
        graph = compile_graph(loaded)
    except SddBuildError as exc:
        problems.extend(exc.problems)

    hosts: list[str] = []
    check_hosts: list[str] = []
    component_hosts: dict[str, list[str]] = {}
    if inventory is not None:
        hosts, bad_groups, bad_hosts = resolve_targets(inventory, loaded.model.targets)
        for g in bad_groups:
            problems.append(
                loaded.problem(
                    ("targets", "groups", loaded.model.targets.groups.index(g)),
                    f"target group '{g}' is not in the inventory ({inventory.display})",
                )
            )
        for h in bad_hosts:
            problems.append(
                loaded.problem(
                    ("targets", "hosts", loaded.model.targets.hosts.index(h)),
                    f"target host '{h}' is not in the inventory ({inventory.display})",
                )
            )
        if not hosts and not bad_groups and not bad_hosts:
            problems.append(loaded.problem(("targets",), "targets select no host in the inventory"))
        check_hosts = _check_hosts(loaded, inventory, hosts, problems)
        if inventory.connected is not None:
            for h in [*hosts, *check_hosts]:
                if h not in inventory.connected:
                    problems.append(
                        loaded.problem(
                            ("targets",),
                            f"target host '{h}' has no node in the lab inventory "
                            f"({connections}); add it to the topology",
                        )
                    )
        if graph is not None:
            component_hosts = _component_hosts(
                loaded, inventory, graph, hosts, problems, check_hosts
            )
        # before anything is rendered or printed: the declared secrets are masked from here on
        problems.extend(register_design_secrets(loaded, inventory))

    if problems or spec is None or inventory is None or graph is None:
        raise DesignError.from_problems(problems)

    templates = TemplateLibrary(loaded.repo.templates, display_root=loaded.repo.root, source=source)
    return Workspace(
        design=loaded,
        spec=spec,
        inventory=inventory,
        graph=graph,
        templates=templates,
        hosts=hosts,
        component_hosts=component_hosts,
        check_hosts=check_hosts,
    )


def _check_hosts(
    loaded: LoadedDesign, inventory: LoadedInventory, hosts: list[str], problems: list[Problem]
) -> list[str]:
    """The design's ``check_targets``, resolved: disjoint from its targets. A target whose
    platform has no configuration sdd-build manages (``linux``) must be a check target."""
    for h in hosts:
        info = lookup(inventory.view(h).platform)
        if info is not None and info.check_only:
            problems.append(
                loaded.problem(
                    ("targets",),
                    f"target host '{h}' (platform '{info.name}') is never configured: "
                    "list it under check_targets",
                )
            )
    wanted = loaded.model.check_targets
    if wanted is None:
        return []
    found, bad_groups, bad_hosts = resolve_targets(inventory, wanted)
    for key, bad in (("groups", bad_groups), ("hosts", bad_hosts)):
        for name in bad:
            problems.append(
                loaded.problem(
                    ("check_targets", key, getattr(wanted, key).index(name)),
                    f"check target {key[:-1]} '{name}' is not in the inventory "
                    f"({inventory.display})",
                )
            )
    both = sorted(set(found) & set(hosts))
    if both:
        problems.append(
            loaded.problem(
                ("check_targets",),
                f"hosts both configured and only checked: {', '.join(both[:10])}; a host is "
                "in targets or in check_targets",
            )
        )
    if not found and not bad_groups and not bad_hosts:
        problems.append(
            loaded.problem(("check_targets",), "check_targets select no host in the inventory")
        )
    return [h for h in found if h not in hosts]


def _component_hosts(
    loaded: LoadedDesign,
    inventory: LoadedInventory,
    graph: CompiledGraph,
    design_hosts: list[str],
    problems: list[Problem],
    check_hosts: Sequence[str] = (),
) -> dict[str, list[str]]:
    """Hosts per component: the design's targets, narrowed per component; a workflow acts on
    the union of its steps' hosts; parsers act on none (they run offline). Only a
    command_template's own ``targets`` may select check targets."""
    checked = set(check_hosts)
    allowed = set(design_hosts) | checked
    result: dict[str, list[str]] = {}
    by_id = {c.id: c for c in loaded.model.components}
    index_of = {c.id: i for i, c in enumerate(loaded.model.components)}  # not list.index: O(n)
    for cid in graph.order:
        comp = by_id[cid]
        index = index_of[cid]
        if isinstance(comp, Parser):
            result[cid] = []
        elif isinstance(comp, Workflow):
            union: set[str] = set()
            for step in comp.steps:
                union.update(result.get(step, []))
            result[cid] = sorted(union)
        elif comp.targets is not None:
            selected, bad_groups, bad_hosts = resolve_targets(inventory, comp.targets)
            for g in bad_groups:
                problems.append(
                    loaded.problem(
                        ("components", index, "targets", "groups"),
                        f"component '{cid}': target group '{g}' is not in the inventory",
                    )
                )
            for h in bad_hosts:
                problems.append(
                    loaded.problem(
                        ("components", index, "targets", "hosts"),
                        f"component '{cid}': target host '{h}' is not in the inventory",
                    )
                )
            outside = sorted(set(selected) - allowed)
            if outside:
                problems.append(
                    loaded.problem(
                        ("components", index, "targets"),
                        f"component '{cid}' targets hosts outside the design's targets "
                        "and check_targets: "
                        f"{', '.join(outside[:10])}{' ...' if len(outside) > 10 else ''}",
                    )
                )
            only_checked = sorted(set(selected) & checked)
            if only_checked and not isinstance(comp, CommandTemplate):
                problems.append(
                    loaded.problem(
                        ("components", index, "targets"),
                        f"component '{cid}' ({comp.kind}) targets hosts that are only checked "
                        f"(check_targets): {', '.join(only_checked[:10])}; only a "
                        "command_template runs there",
                    )
                )
            result[cid] = [h for h in selected if h in allowed]
        else:
            result[cid] = list(design_hosts)
    return result
