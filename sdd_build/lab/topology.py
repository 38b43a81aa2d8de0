"""containerlab topology files: pydantic models, a line-aware loader, and the resolved lab.

The models follow the topology format current containerlab releases accept (``name``,
``prefix``, ``mgmt``, ``topology.defaults|kinds|groups|nodes|links``). containerlab
unmarshals strictly, so unknown keys are errors here too.

Loading never stops at the first problem: YAML duplicate keys, schema errors (pydantic
locations mapped back to lines through ruamel's round-trip marks) and semantic errors (unknown
node in a link, interface used twice, missing startup-config file, ...) are collected and raised
together as one ``LabError`` with ``file:line`` per problem.

Node settings inherit ``defaults < kinds < groups < node``: scalars are overridden, ``env`` and
``labels`` are merged key by key, ``binds`` are merged by container path (the more specific
level wins for the same destination), ``exec`` is replaced by the most specific level that sets
it (as containerlab does).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from sdd_build.errors import LabError, Problem, YamlLoadError
from sdd_build.lab.yamlkeys import keys_as_text, plain_key_texts
from sdd_build.labpaths import LAB_NAME_RE as _NAME_RE
from sdd_build.labpaths import quick_lab_name as _quick_name
from sdd_build.yamlsafe import decode_yaml, guarded_plain

__all__ = [
    "Endpoint",
    "LabTopology",
    "LinkSpec",
    "NodeSpec",
    "TopologyFile",
    "load_topology",
    "read_lab_name",
]

# Interface names are Linux netdev names: at most 15 characters, no slash or whitespace.
_IFACE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,15}$")
# Node and lab names end up in namespace, instance and file names.
# containerlab's special endpoint "nodes" that are not nodes of the topology.
_SPECIAL_NODES = ("host", "mgmt-net", "macvlan", "ovs-bridge", "bridge")


class _Strict(BaseModel):
    # aliases only (containerlab's spelling): ``startup_config`` is an unknown key, as there
    # The schemas are built on first use (defer_build): a build imports the lab package for a
    # lab's inventory path and never validates a topology.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class NodeSettings(_Strict):
    """Fields shared by ``defaults``, ``kinds.<kind>``, ``groups.<group>`` and nodes."""

    kind: str | None = None
    group: str | None = None
    type: str | None = None
    image: str | None = None
    image_pull_policy: str | None = Field(None, alias="image-pull-policy")
    license: str | None = None
    position: str | None = None
    entrypoint: str | None = None
    cmd: str | None = None
    startup_config: str | None = Field(None, alias="startup-config")
    startup_delay: int | None = Field(None, alias="startup-delay")
    enforce_startup_config: bool | None = Field(None, alias="enforce-startup-config")
    suppress_startup_config: bool | None = Field(None, alias="suppress-startup-config")
    auto_remove: bool | None = Field(None, alias="auto-remove")
    restart_policy: str | None = Field(None, alias="restart-policy")
    mgmt_ipv4: str | None = Field(None, alias="mgmt-ipv4")
    mgmt_ipv6: str | None = Field(None, alias="mgmt-ipv6")
    publish: list[str] | None = None
    env: dict[str, str | int | float | bool] | None = None
    env_files: list[str] | None = Field(None, alias="env-files")
    user: str | None = None
    binds: list[str] | None = None
    devices: list[str] | None = None
    ports: list[str] | None = None
    network_mode: str | None = Field(None, alias="network-mode")
    labels: dict[str, str | int | float | bool] | None = None
    runtime: str | None = None
    cpu: float | None = None
    cpu_set: str | None = Field(None, alias="cpu-set")
    memory: str | None = None
    exec_: list[str] | None = Field(None, alias="exec")
    sysctls: dict[str, str | int] | None = None
    wait_for: list[str] | None = Field(None, alias="wait-for")
    dns: dict[str, Any] | None = None
    certificate: dict[str, Any] | None = None
    healthcheck: dict[str, Any] | None = None
    extras: dict[str, Any] | None = None
    stages: dict[str, Any] | None = None
    aliases: list[str] | None = None
    shm_size: str | None = Field(None, alias="shm-size")
    cap_add: list[str] | None = Field(None, alias="cap-add")
    components: list[Any] | None = None
    config: dict[str, Any] | None = None


class EndpointModel(_Strict):
    node: str
    interface: str
    mac: str | None = None


class BriefLink(_Strict):
    endpoints: list[str] = Field(min_length=2, max_length=2)
    mtu: int | None = None
    labels: dict[str, Any] | None = None
    vars: dict[str, Any] | None = None


class ExtendedLink(_Strict):
    type: Literal["veth", "host", "mgmt-net", "macvlan", "vxlan", "vxlan-stitched", "dummy"]
    endpoints: list[EndpointModel] | None = None
    endpoint: EndpointModel | None = None
    host_interface: str | None = Field(None, alias="host-interface")
    mode: str | None = None
    remote: str | None = None
    vni: int | None = None
    udp_port: int | None = Field(None, alias="udp-port")
    mtu: int | None = None
    labels: dict[str, Any] | None = None
    vars: dict[str, Any] | None = None


def _link_tag(value: Any) -> str:
    if isinstance(value, dict) and "type" in value:
        return "extended"
    if isinstance(value, BaseModel):
        return "extended" if isinstance(value, ExtendedLink) else "brief"
    return "brief"


LinkModel = Annotated[
    Annotated[BriefLink, Tag("brief")] | Annotated[ExtendedLink, Tag("extended")],
    Discriminator(_link_tag),
]


class TopologySection(_Strict):
    defaults: NodeSettings | None = None
    kinds: dict[str, NodeSettings] | None = None
    groups: dict[str, NodeSettings] | None = None
    nodes: dict[str, NodeSettings | None]
    links: list[LinkModel] | None = None


class TopologyFile(_Strict):
    """A ``*.clab.yml`` file as written."""

    name: str
    prefix: str | None = None
    mgmt: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    topology: TopologySection


# ---------------------------------------------------------------------------------------------
# The resolved lab


@dataclass(frozen=True, slots=True)
class Endpoint:
    node: str
    interface: str
    mac: str | None = None

    def __str__(self) -> str:
        return f"{self.node}:{self.interface}"


@dataclass(frozen=True, slots=True)
class LinkSpec:
    a: Endpoint
    b: Endpoint
    mtu: int | None
    line: int | None
    type: str = "veth"


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node after inheritance, with paths resolved against the topology's directory."""

    name: str
    kind: str
    image: str | None
    startup_config: Path | None
    startup_config_text: str | None  # inline startup-config (a multi-line string)
    binds: tuple[tuple[str, str, str], ...]  # (host path, container path, options)
    env: dict[str, str]
    exec: tuple[str, ...]
    mgmt_ipv4: str | None
    labels: dict[str, str]
    groups: tuple[str, ...]
    line: int | None
    settings: NodeSettings

    @property
    def is_frr(self) -> bool:
        """containerlab has no FRR kind of its own; ``kind: linux`` + an FRR image is the norm."""
        if self.kind == "frr":
            return True
        return self.kind == "linux" and "frr" in (self.image or "").lower()

    @property
    def is_host(self) -> bool:
        return self.kind == "linux" and not self.is_frr

    @property
    def is_bridge(self) -> bool:
        """containerlab's ``kind: bridge``: a Linux bridge joining the links that end on it."""
        return self.kind == "bridge"


@dataclass(frozen=True, slots=True)
class LabTopology:
    name: str
    prefix: str
    path: Path
    nodes: dict[str, NodeSpec]
    links: tuple[LinkSpec, ...]
    model: TopologyFile
    extended_links: tuple[tuple[str, int | None], ...] = field(default=())
    dummies: tuple[LinkSpec, ...] = field(default=())  # type dummy: ``a`` only (``b`` is ``a``)

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def workdir(self) -> Path:
        """containerlab's lab directory: ``<topology dir>/clab-<name>/``."""
        return self.directory / f"clab-{self.name}"

    def long_name(self, node: str) -> str:
        """containerlab's container naming: ``<prefix>-<lab>-<node>``, or bare with prefix ''."""
        return f"{self.prefix}-{self.name}-{node}" if self.prefix else node

    def interfaces(self, node: str) -> list[str]:
        out: list[str] = []
        for link in self.links:
            for ep in (link.a, link.b):
                if ep.node == node:
                    out.append(ep.interface)
        out += [d.a.interface for d in self.dummies if d.a.node == node]
        return out


# ---------------------------------------------------------------------------------------------
# Loading


def _yaml() -> YAML:
    y = YAML(typ="rt")
    # Duplicate keys are found on the composed node tree (all of them, with lines) before
    # construction; construction itself must then not stop at the first one.
    y.allow_duplicate_keys = True
    return y


def _duplicate_keys(
    node: Node | None, file: str, seen_nodes: set[int] | None = None
) -> Iterator[Problem]:
    """Every duplicate key with its line; each composed node once (an alias is a shared node:
    walking it again per reference would be the alias bomb ``_plain`` guards against)."""
    visited = set() if seen_nodes is None else seen_nodes
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = getattr(key_node, "value", None)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int) and key in seen:
                yield Problem(
                    f"duplicate key {key!r} (first defined on line {seen[key]})", file, line
                )
            elif isinstance(key, str | int):
                seen[key] = line
            yield from _duplicate_keys(value_node, file, visited)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item, file, visited)


def _line_of(data: Any, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest part of a pydantic error location found in ``data``."""
    line: int | None = None
    cur = data
    if isinstance(cur, CommentedMap | CommentedSeq):
        line = cur.lc.line + 1
    for part in loc:
        if isinstance(cur, CommentedMap) and part in cur:
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                line = cur.lc.key(part)[0] + 1
            cur = cur[part]
        elif isinstance(cur, CommentedSeq) and isinstance(part, int) and 0 <= part < len(cur):
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                line = cur.lc.item(part)[0] + 1
            cur = cur[part]
        # anything else is a pydantic union tag or a missing key: keep the line we have
    return line


def _plain(data: Any, file: str) -> Any:
    """ruamel round-trip containers -> plain dict/list for pydantic, through the alias-bomb and
    depth guards every user YAML passes (``sdd_build.yamlsafe``)."""
    try:
        return guarded_plain(data, file)
    except YamlLoadError as exc:
        raise LabError.from_problems(exc.problems) from None


def _read_yaml(path: Path) -> tuple[Any, list[Problem]]:
    """The round-trip tree (for lines) and the duplicate keys, through the same guards as a
    design's YAML (size, NUL bytes, UTF-8); the tree is expanded only by ``_plain``."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LabError("topology file not found", file=file) from None
    except OSError as exc:
        raise LabError(f"cannot read topology file: {exc}", file=file) from None
    try:
        text = decode_yaml(raw, file)
    except YamlLoadError as exc:
        raise LabError.from_problems(exc.problems) from None
    y = _yaml()
    try:
        composed = y.compose(text)
        problems = list(_duplicate_keys(composed, file))
        data = y.load(text)
        keys_as_text(data, plain_key_texts(composed))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = f"invalid YAML: {exc.problem or exc.context or exc}"
        raise LabError(msg, file=file, line=line) from None
    except RecursionError:
        raise LabError("YAML nesting is too deep", file=file) from None
    return data, problems


def read_lab_name(path: str | Path) -> str:
    """Only the lab's name, even from a topology that no longer validates (``down`` needs it)."""
    p = Path(path)
    name = _quick_name(p)
    if name is not None:
        return name
    data, _ = _read_yaml(p)
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise LabError("topology has no valid top-level 'name'", file=str(p), line=1)
    return name


def _merge(levels: Sequence[NodeSettings | None]) -> dict[str, Any]:
    """Apply defaults < kind < group < node. Returns field-name keyed values."""
    out: dict[str, Any] = {}
    binds: dict[str, str] = {}
    for level in levels:
        if level is None:
            continue
        for name in level.model_fields_set:
            value = getattr(level, name)
            if value is None:
                continue
            if name in ("env", "labels"):
                merged = dict(out.get(name, {}))
                merged.update(value)
                out[name] = merged
            elif name == "binds":
                for bind in value:
                    parts = bind.split(":")
                    dest = parts[1] if len(parts) > 1 else parts[0]
                    binds[dest] = bind
            else:
                out[name] = value
    if binds:
        out["binds"] = list(binds.values())
    return out


def _label_groups(labels: dict[str, str]) -> list[str]:
    raw = labels.get("sdd.groups", "")
    return [g.strip() for g in raw.split(",") if g.strip()]


def _parse_endpoint(text: str) -> tuple[str, str] | None:
    if text.count(":") != 1:
        return None
    node, iface = text.split(":")
    if not node or not iface:
        return None
    return node, iface


def load_topology(path: str | Path) -> LabTopology:
    """Load, validate and resolve a containerlab topology; every problem at once, with lines."""
    p = Path(path).resolve()
    file = str(path)
    data, problems = _read_yaml(p)
    if not isinstance(data, dict):
        problems.append(Problem("a topology must be a mapping with 'name' and 'topology'", file, 1))
        raise LabError.from_problems(problems)

    try:
        model = TopologyFile.model_validate(_plain(data, file))
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(str(x) for x in loc if not _is_tag(x))
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (containerlab does not accept it)"
            problems.append(Problem(f"{where}: {msg}" if where else msg, file, _line_of(data, loc)))
        raise LabError.from_problems(problems) from None

    topo = model.topology
    if not _NAME_RE.match(model.name):
        problems.append(
            Problem(
                f"lab name {model.name!r}: use letters, digits, '-', '_', '.'",
                file,
                _line_of(data, ("name",)),
            )
        )
    if (
        model.prefix is not None
        and model.prefix not in ("", "__lab-name")
        and not _NAME_RE.match(model.prefix)
    ):
        problems.append(
            Problem(
                f"prefix {model.prefix!r} is not a valid name", file, _line_of(data, ("prefix",))
            )
        )

    kinds = topo.kinds or {}
    groups = topo.groups or {}
    nodes: dict[str, NodeSpec] = {}
    for name, settings in topo.nodes.items():
        line = _line_of(data, ("topology", "nodes", name))
        node_settings = settings or NodeSettings.model_validate({})
        if not _NAME_RE.match(name):
            problems.append(
                Problem(f"node name {name!r}: use letters, digits, '-', '_', '.'", file, line)
            )
        group_name = node_settings.group
        if group_name is None and topo.defaults is not None:
            group_name = topo.defaults.group
        group = groups.get(group_name) if group_name else None
        # The kind picks the ``kinds`` level, so it is looked up most specific first.
        kind = (
            node_settings.kind
            or (group.kind if group else None)
            or (topo.defaults.kind if topo.defaults else None)
        )
        levels: list[NodeSettings | None] = [
            topo.defaults,
            kinds.get(kind) if kind else None,
            group,
            node_settings,
        ]
        merged = _merge(levels)
        kind = merged.get("kind")
        if not kind:
            problems.append(
                Problem(
                    f"node {name!r} has no kind (set it on the node, its group "
                    "or topology.defaults)",
                    file,
                    line,
                )
            )
            continue
        labels = {k: _label_str(v) for k, v in merged.get("labels", {}).items()}
        env = {k: _label_str(v) for k, v in merged.get("env", {}).items()}
        startup: Path | None = None
        startup_text: str | None = None
        sc = merged.get("startup_config")
        if sc is not None:
            if "\n" in sc:
                startup_text = sc
            else:
                startup = (p.parent / sc).resolve()
                if not startup.is_file():
                    problems.append(
                        Problem(
                            f"node {name!r}: startup-config file not found: {sc}",
                            file,
                            _node_key_line(data, name, "startup-config", line),
                        )
                    )
        binds: list[tuple[str, str, str]] = []
        for bind in merged.get("binds", []):
            parts = bind.split(":")
            if len(parts) < 2 or len(parts) > 3 or not parts[0] or not parts[1]:
                problems.append(
                    Problem(
                        f"node {name!r}: bind {bind!r} is not 'host:container'",
                        file,
                        _node_key_line(data, name, "binds", line),
                    )
                )
                continue
            src = (p.parent / parts[0]).resolve()
            if not src.exists():
                problems.append(
                    Problem(
                        f"node {name!r}: bind source not found: {parts[0]}",
                        file,
                        _node_key_line(data, name, "binds", line),
                    )
                )
            binds.append((str(src), parts[1], parts[2] if len(parts) == 3 else ""))
        node_groups = [g for g in [group_name, *_label_groups(labels)] if g]
        nodes[name] = NodeSpec(
            name=name,
            kind=kind,
            image=merged.get("image"),
            startup_config=startup,
            startup_config_text=startup_text,
            binds=tuple(binds),
            env=env,
            exec=tuple(merged.get("exec_", ())),
            mgmt_ipv4=merged.get("mgmt_ipv4"),
            labels=labels,
            groups=tuple(dict.fromkeys(node_groups)),
            line=line,
            settings=NodeSettings.model_validate(
                {
                    (NodeSettings.model_fields[k].alias or k): v
                    for k, v in merged.items()
                    if v is not None
                }
            ),
        )

    links: list[LinkSpec] = []
    dummies: list[LinkSpec] = []
    extended: list[tuple[str, int | None]] = []
    used: dict[tuple[str, str], int | None] = {}
    for idx, link in enumerate(topo.links or []):
        line = _line_of(data, ("topology", "links", idx))
        eps: list[Endpoint] = []
        if isinstance(link, BriefLink):
            for text in link.endpoints:
                parsed = _parse_endpoint(text)
                if parsed is None:
                    problems.append(
                        Problem(f"link endpoint {text!r} is not 'node:interface'", file, line)
                    )
                    continue
                eps.append(Endpoint(*parsed))
            mtu = link.mtu
            ltype = "veth"
        else:
            ltype = link.type
            mtu = link.mtu
            if link.type == "veth":
                if not link.endpoints or len(link.endpoints) != 2:
                    problems.append(Problem("a veth link needs exactly two endpoints", file, line))
                    continue
                eps = [Endpoint(e.node, e.interface, e.mac) for e in link.endpoints]
            elif link.type == "dummy":
                if link.endpoint is None:
                    problems.append(Problem("a dummy link needs 'endpoint'", file, line))
                    continue
                e = link.endpoint
                eps = [Endpoint(e.node, e.interface, e.mac)]
            else:
                extended.append((link.type, line))
                continue
        if len(eps) != (1 if ltype == "dummy" else 2):
            continue
        bad = False
        for ep in eps:
            if ep.node in _SPECIAL_NODES:
                extended.append((ep.node, line))
                bad = True
                continue
            if ep.node not in topo.nodes:
                problems.append(
                    Problem(f"link endpoint {ep}: unknown node {ep.node!r}", file, line)
                )
                bad = True
            if not _IFACE_RE.match(ep.interface):
                problems.append(
                    Problem(
                        f"link endpoint {ep}: interface name must be 1-15 "
                        "letters, digits, '.', '-', '_'",
                        file,
                        line,
                    )
                )
                bad = True
            elif ep.interface in ("eth0", "lo"):
                problems.append(
                    Problem(
                        f"link endpoint {ep}: {ep.interface} is reserved (management/loopback)",
                        file,
                        line,
                    )
                )
                bad = True
            key = (ep.node, ep.interface)
            if key in used:
                first = used[key]
                problems.append(
                    Problem(
                        f"interface {ep} is used by more than one link"
                        + (f" (first on line {first})" if first else ""),
                        file,
                        line,
                    )
                )
                bad = True
            else:
                used[key] = line
        if not bad and ltype == "dummy":
            dummies.append(LinkSpec(eps[0], eps[0], mtu, line, ltype))
        elif not bad:
            links.append(LinkSpec(eps[0], eps[1], mtu, line, ltype))

    if problems:
        raise LabError.from_problems(problems)

    prefix = "clab" if model.prefix is None else model.prefix
    if prefix == "__lab-name":
        prefix = model.name
    return LabTopology(
        name=model.name,
        prefix=prefix,
        path=p,
        nodes=nodes,
        links=tuple(links),
        model=model,
        extended_links=tuple(extended),
        dummies=tuple(dummies),
    )


def _is_tag(part: int | str) -> bool:
    return part in ("brief", "extended") or (isinstance(part, str) and "[" in part)


def _label_str(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _node_key_line(data: Any, node: str, key: str, default: int | None) -> int | None:
    line = _line_of(data, ("topology", "nodes", node, key))
    return line if line is not None else default
