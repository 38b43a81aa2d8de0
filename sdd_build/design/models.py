"""The solution design: the execution contract, as pydantic v2 models.

Unknown keys are refused everywhere (``extra="forbid"``): a typo in an approved contract is a
validation error, never a silently ignored option. Paths are repository-relative strings and
are resolved (and confined to the repository) by the loader, not here.

Path conventions (documented in the README):

* ``config_template.template`` and ``command_template.template``: relative to ``templates/``.
* ``parser.template``: relative to ``parsers/``.
* ``reuse.asset``: relative to the repository root (``templates/...`` or ``parsers/...``).
* ``spec`` and every offline-test fixture: relative to the design's own directory.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "COMPARISON_OPS",
    "AcceptanceCheck",
    "BuildOptions",
    "CheckTest",
    "CommandTemplate",
    "Component",
    "ConfigTemplate",
    "Design",
    "Expect",
    "Parser",
    "ParserTest",
    "RenderTest",
    "Reuse",
    "Targets",
    "Wait",
    "Workflow",
]

ComponentId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"),
    Field(description="Component id: letters, digits, '.', '_' or '-'; at most 100 characters."),
]
CheckId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"),
    Field(description="Acceptance check id, e.g. AC-1; unique within the design."),
]
RequirementId = Annotated[
    str,
    StringConstraints(pattern=r"^REQ-[0-9]+$"),
    Field(description="A requirement id from the customer spec, e.g. REQ-1."),
]
RelPath = Annotated[
    str,
    StringConstraints(min_length=1, max_length=1024),
    Field(description="A relative path inside the repository (no '..' escaping it)."),
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:@-]{1,200}$")]

COMPARISON_OPS: tuple[str, ...] = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "contains",
    "matches",
    "length",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Targets(_Strict):
    """The blast radius: no host outside it is ever touched."""

    groups: list[Name] = Field(default_factory=list, description="Inventory groups.")
    hosts: list[Name] = Field(default_factory=list, description="Inventory hosts.")

    @model_validator(mode="after")
    def _not_empty(self) -> Targets:
        if not self.groups and not self.hosts:
            raise ValueError("targets must name at least one group or host")
        return self


class Reuse(_Strict):
    """A reused library asset, pinned by content hash at design time."""

    asset: RelPath = Field(description="Repository-relative path, e.g. parsers/frr/x.textfsm.")
    sha256: Sha256 = Field(description="sha256 of the asset's bytes when the design was made.")


class RenderTest(_Strict):
    """Offline golden render: the template rendered with these variables must equal ``expect``."""

    host: Name | None = Field(
        default=None, description="Inventory host whose resolved data is the context."
    )
    host_vars: RelPath | None = Field(
        default=None,
        description="YAML file of host data (relative to the design), instead of a host.",
    )
    expect: RelPath = Field(description="Golden output file, relative to the design.")

    @model_validator(mode="after")
    def _one_source(self) -> RenderTest:
        if (self.host is None) == (self.host_vars is None):
            raise ValueError("a render test needs exactly one of 'host' or 'host_vars'")
        return self


class ParserTest(_Strict):
    """Offline parser fixture: parsing ``input`` must give the JSON in ``expect``."""

    input: RelPath = Field(description="Recorded raw device output, relative to the design.")
    expect: RelPath = Field(description="Expected parsed data (JSON), relative to the design.")


_TEMPLATED = "Templated: a string is rendered with Jinja2 per host ({{ host.data.x }})."


class CheckTest(_Strict):
    """Offline check test: recorded outputs of a command_template's commands on one host, and
    the outcome each named check must have on them (``validate`` runs it; no device)."""

    host: Name = Field(description="Inventory host whose data renders the checks' values.")
    outputs: list[RelPath] = Field(
        min_length=1,
        description="Recorded raw output per command, in the order of 'commands' (relative "
        "to the design); parsed as on the device (the parser applies to the first).",
    )
    expect: dict[CheckId, Literal["pass", "fail"]] = Field(
        min_length=1, description="Check id -> the outcome it must have on these outputs."
    )


class Expect(_Strict):
    """A JMESPath query over parsed output and exactly one comparison.

    String expected values are Jinja2 templates rendered with the host's data, so
    ``gte: "{{ host.data.ospf_peers }}"`` compares against a per-host number. The query is
    NOT templated: it is the same JMESPath on every host, and ``{{`` in it is refused (a
    template inside a JMESPath literal would silently compare as text).
    """

    query: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description=(
            "JMESPath expression evaluated over the parsed output. Not templated: the same on "
            "every host ('{{' is refused); put per-host values in the comparison, which is."
        )
    )
    eq: Any = Field(default=None, description=f"Equal to. {_TEMPLATED}")
    ne: Any = Field(default=None, description=f"Not equal to. {_TEMPLATED}")
    lt: Any = Field(default=None, description=f"Less than. {_TEMPLATED}")
    lte: Any = Field(default=None, description=f"At most. {_TEMPLATED}")
    gt: Any = Field(default=None, description=f"Greater than. {_TEMPLATED}")
    gte: Any = Field(default=None, description=f"At least. {_TEMPLATED}")
    contains: Any = Field(default=None, description=f"Holds this item/substring. {_TEMPLATED}")
    matches: str | None = Field(
        default=None, description=f"Python regular expression (search). {_TEMPLATED}"
    )
    length: int | str | None = Field(
        default=None, description=f"The query result has exactly this many items. {_TEMPLATED}"
    )

    @field_validator("query")
    @classmethod
    def _not_templated(cls, value: str) -> str:
        if "{{" in value or "{%" in value:
            raise ValueError(
                "expect.query is not templated (one JMESPath for every host): move the "
                "per-host value into the comparison, e.g. {query: routerId, eq: "
                "'{{ host.data.loopback | ip_address }}'}; eq/ne/lt/lte/gt/gte/contains/"
                "matches/length strings are rendered per host"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one_op(self) -> Expect:
        given = [op for op in COMPARISON_OPS if op in self.model_fields_set]
        if len(given) != 1:
            raise ValueError(
                f"expect needs exactly one comparison of {', '.join(COMPARISON_OPS)}; "
                f"got {', '.join(given) or 'none'}"
            )
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"'matches' is not a valid regular expression: {exc}") from exc
        return self

    @property
    def op(self) -> str:
        return next(op for op in COMPARISON_OPS if op in self.model_fields_set)

    @property
    def expected(self) -> Any:
        return getattr(self, self.op)


class AcceptanceCheck(_Strict):
    """A declarative check on the device, traced to the requirements it proves."""

    id: CheckId
    covers: list[RequirementId] = Field(min_length=1)
    description: str | None = None
    command: int = Field(
        default=0,
        ge=0,
        description=(
            "Index of the command (of a command_template) whose output is checked. Only "
            "command 0 is parsed (by the component's parser); any other is raw text, on "
            "which only the query '@' is allowed (validate refuses others)."
        ),
    )
    expect: Expect


class _ComponentBase(_Strict):
    id: ComponentId
    description: str | None = None
    depends_on: list[ComponentId] = Field(default_factory=list)
    targets: Targets | None = Field(
        default=None, description="Narrow the design's targets for this component (a subset)."
    )

    @field_validator("depends_on")
    @classmethod
    def _unique_deps(cls, value: list[str]) -> list[str]:
        dupes = sorted({v for v in value if value.count(v) > 1})
        if dupes:
            raise ValueError(f"duplicate entries: {', '.join(dupes)}")
        return value


class ConfigTemplate(_ComponentBase):
    """Configuration primitive: a Jinja2 template rendered per host into config lines.

    It is verified by the acceptance checks of the command templates that depend on it
    (Gate 2 requires at least one, or a reasoned ``acceptance_exempt``).
    """

    kind: Literal["config_template"]
    template: RelPath = Field(description="Relative to templates/.")
    reuse: Reuse | None = None
    vars: dict[str, Any] = Field(default_factory=dict, description="Component variables.")
    tests: list[RenderTest] = Field(default_factory=list)
    acceptance_exempt: Annotated[str, StringConstraints(min_length=10)] | None = Field(
        default=None,
        description=(
            "Why no command_template with acceptance checks verifies this device-changing "
            "component (a reasoned exemption, at least 10 characters)."
        ),
    )


class Wait(_Strict):
    """Declared patience: re-run the commands until every check passes or the time is up.

    Protocols converge after configuration (OSPF Full, routes installed); a design says how
    long it is willing to wait. Each attempt is recorded; nothing is retried silently.
    """

    timeout_s: float = Field(gt=0, le=600)
    interval_s: float = Field(default=1.0, gt=0, le=60)


class CommandTemplate(_ComponentBase):
    """Exec/show commands (pre/post checks); outputs parsed and checked."""

    kind: Literal["command_template"]
    commands: list[Annotated[str, StringConstraints(min_length=1, max_length=1000)]] = Field(
        min_length=1, description="Jinja2 strings rendered per host, one command each."
    )
    parser: ComponentId | None = Field(
        default=None,
        description=(
            "Id of the parser component applied to the FIRST command only; the other "
            "commands' outputs stay raw text (checks on them may only query '@')."
        ),
    )
    vars: dict[str, Any] = Field(default_factory=dict)
    tests: list[RenderTest] = Field(default_factory=list)
    acceptance: list[AcceptanceCheck] = Field(default_factory=list)
    check_tests: list[CheckTest] = Field(
        default_factory=list,
        description="Offline tests of the acceptance checks on recorded outputs "
        "(sdd-build fixtures record writes them).",
    )
    wait: Wait | None = Field(
        default=None, description="Re-run until the checks pass, up to timeout_s (convergence)."
    )


class Parser(_ComponentBase):
    """Parsing logic, validated offline against recorded outputs."""

    kind: Literal["parser"]
    engine: Literal["textfsm", "ttp", "json", "ntc"]
    template: RelPath | None = Field(
        default=None, description="Relative to parsers/; required for textfsm and ttp."
    )
    platform: str | None = Field(
        default=None, description="ntc-templates platform, e.g. cisco_ios."
    )
    command: str | None = Field(default=None, description="ntc-templates command.")
    reuse: Reuse | None = None
    tests: list[ParserTest] = Field(default_factory=list)

    @model_validator(mode="after")
    def _engine_needs(self) -> Parser:
        if self.engine in ("textfsm", "ttp") and not self.template:
            raise ValueError(f"engine '{self.engine}' needs a 'template'")
        if self.engine == "ntc" and not (self.platform and self.command):
            raise ValueError("engine 'ntc' needs 'platform' and 'command'")
        if self.engine == "json" and self.template:
            raise ValueError("engine 'json' takes no 'template'")
        return self


class Workflow(_ComponentBase):
    """Parent workflow: composes tested children; built after all of its steps."""

    kind: Literal["workflow"]
    steps: list[ComponentId] = Field(min_length=1)


Component = Annotated[
    ConfigTemplate | CommandTemplate | Parser | Workflow,
    Field(discriminator="kind"),
]


class BuildOptions(_Strict):
    strategy: Literal["merge", "replace"] = "merge"
    rollback: Literal["on_failure", "never"] = "on_failure"
    workers: int = Field(default=20, ge=1, le=1000)
    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="Per device operation.")


class Design(_Strict):
    """``solution-design.yaml``: the approved execution contract (Gate 2 input)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"title": "sdd-build solution design"},
    )

    design: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")] = Field(
        description="Design id (lower-case)."
    )
    version: int = Field(ge=1)
    author: Name
    description: str | None = None
    spec: RelPath = Field(default="customer-spec.md", description="Relative to the design.")
    inventory: RelPath | None = Field(
        default=None,
        description="Inventory folder, relative to the repository (default inventory/).",
    )
    extends: RelPath | None = Field(
        default=None,
        description=(
            "Day-2: the use-case folder (relative to this design) whose reconciled baseline "
            "this design starts from, until it has a baseline of its own."
        ),
    )
    targets: Targets
    check_targets: Targets | None = Field(
        default=None,
        description=(
            "Hosts that are only ever checked (e.g. kind-linux lab hosts, platform 'linux'): "
            "command templates whose 'targets' select them run there after the layers they "
            "depend on; nothing is configured, backed up, locked, rolled back or reconciled on "
            "them. Disjoint from 'targets'; components without 'targets' never act on them."
        ),
    )
    vars: dict[str, Any] = Field(default_factory=dict, description="Design variables.")
    secrets: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")]] = (
        Field(
            default_factory=list,
            description=(
                "Names of variables whose values are secret (design vars, component vars, "
                "inventory data keys, at any depth): masked by value in every artifact and "
                "line of output, `plan` included (unless --show-secrets)."
            ),
        )
    )
    components: list[Component] = Field(min_length=1)
    build: BuildOptions = Field(default_factory=BuildOptions)

    def component(self, component_id: str) -> ConfigTemplate | CommandTemplate | Parser | Workflow:
        for comp in self.components:
            if comp.id == component_id:
                return comp
        raise KeyError(component_id)

    def checks(self) -> list[tuple[str, AcceptanceCheck]]:
        """Every acceptance check with the id of its component."""
        out: list[tuple[str, AcceptanceCheck]] = []
        for comp in self.components:
            if isinstance(comp, CommandTemplate):
                out.extend((comp.id, check) for check in comp.acceptance)
        return out
