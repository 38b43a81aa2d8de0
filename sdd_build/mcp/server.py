"""``sdd-build mcp``: the Model Context Protocol server for one repository.

Agents read, draft, ask and act; they never approve, waive, edit policy or touch the audit log
or keys — no tool exists for any of those, and the drafting tool's one path-confinement
function (:mod:`sdd_build.mcp.confine`) refuses every governance path. ``discover`` runs behind
Gate 1 and ``build`` behind Gate 2 exactly as the CLI does (the same services, the same gate
checks; a refusal contacts no device). Every call is an ``mcp_call`` entry of the audit chain
naming the agent (configured name, plus the client's reported name and version) and the
outcome; every result passes the masker before it reaches the wire.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from sdd_build import __version__
from sdd_build.audit.log import AuditLog
from sdd_build.errors import SddBuildError
from sdd_build.mcp import views
from sdd_build.mcp.confine import read_target
from sdd_build.mcp.drafts import write_draft
from sdd_build.mcp.requests import request_approval
from sdd_build.secrets import mask, mask_data
from sdd_build.secrets.sink import mcp_wire

__all__ = ["AgentConfig", "create_server", "serve_stdio"]

T = TypeVar("T")

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
DRAFT = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)
ASK = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
DEVICE_READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
DISCOVER = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
BUILD = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)


class AgentConfig:
    """The repository served, the agent's configured name and the device connection data."""

    def __init__(
        self, root: Path, agent: str, *, lab: Path | None = None, inventory: Path | None = None
    ) -> None:
        self.root = root.resolve()
        self.agent = agent
        self.lab = lab
        self.inventory = inventory


def _identity(config: AgentConfig, ctx: Context) -> dict[str, Any]:
    client: dict[str, Any] = {}
    try:
        params = ctx.session.client_params
    except (ValueError, AttributeError):
        params = None
    if params is not None and params.client_info is not None:
        client = {"name": params.client_info.name, "version": params.client_info.version}
    return {
        "actor": f"agent:{config.agent}",
        "name": config.agent,
        "client": {k: str(v)[:100] for k, v in client.items()},
    }


def _one_line(exc: SddBuildError) -> str:
    problems = [str(p) for p in exc.problems[:5]] or [str(exc)]
    text = "; ".join(problems)
    if exc.hint:
        text += f" (hint: {exc.hint})"
    return mask(f"refused (exit {exc.exit_code}): {text}")


def _summary(args: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str) and len(value) > 200:
            out[key] = {"sha256": hashlib.sha256(value.encode()).hexdigest(), "chars": len(value)}
        else:
            out[key] = value
    return out


async def _call(
    config: AgentConfig, ctx: Context, tool: str, args: dict[str, Any], fn: Callable[[], T]
) -> T:
    """Run ``fn`` in a worker thread; audit the call with the agent; errors as tool errors."""
    who = _identity(config, ctx)
    log = AuditLog(config.root)
    try:
        result = await anyio.to_thread.run_sync(fn)
    except SddBuildError as exc:
        message = _one_line(exc)
        # a broken log is already why most tools refuse; the refusal stands either way
        with contextlib.suppress(SddBuildError):
            await anyio.to_thread.run_sync(
                functools.partial(
                    log.append,
                    "mcp_call",
                    actor=who["actor"],
                    tool=tool,
                    arguments=mask_data(_summary(args)),
                    agent=who,
                    outcome="refused",
                    exit_code=exc.exit_code,
                    message=message[:500],
                )
            )
        raise ToolError(message) from None
    log.append(
        "mcp_call",
        actor=who["actor"],
        tool=tool,
        arguments=mask_data(_summary(args)),
        agent=who,
        outcome="ok",
    )
    return result


def create_server(config: AgentConfig) -> MCPServer:
    """The server with every tool registered (nothing runs until a client calls)."""
    server = MCPServer(
        name="sdd-build",
        version=__version__,
        instructions=(
            "sdd-build governs network builds. Read use cases and artifacts, draft specs, "
            "designs, templates, parsers and fixtures, validate, then ask a human to approve "
            "(request_approval). discover needs Gate 1 (spec approved), build needs Gate 2 "
            "(design approved, nothing changed since). No tool approves anything."
        ),
    )
    root = config.root

    def design_path(design: str) -> Path:
        return read_target(root, design)[0]

    # -- read ---------------------------------------------------------------------------

    @server.tool(annotations=READ)
    async def use_cases(ctx: Context) -> dict[str, Any]:
        """Every use case (designs/*) and where it stands: both gates, last build, baseline,
        feasibility."""
        return await _call(config, ctx, "use_cases", {}, lambda: views.use_cases(root))

    @server.tool(annotations=READ)
    async def read_artifact(path: str, ctx: Context) -> dict[str, Any]:
        """Read one file of the repository (spec, design, feasibility, as-built, baseline,
        templates...), relative to the repository root; masked, at most 256 KiB."""
        return await _call(
            config, ctx, "read_artifact", {"path": path}, lambda: views.read_artifact(root, path)
        )

    @server.tool(annotations=READ)
    async def audit_entries(ctx: Context, last: int = 50) -> dict[str, Any]:
        """The last entries (at most 500) of the verified audit chain."""
        return await _call(
            config, ctx, "audit_entries", {"last": last}, lambda: views.audit_entries(root, last)
        )

    @server.tool(annotations=READ)
    async def audit_verify(ctx: Context) -> dict[str, Any]:
        """Verify the audit chain (sdd-build audit verify)."""
        return await _call(config, ctx, "audit_verify", {}, lambda: views.audit_verify(root))

    @server.tool(annotations=READ)
    async def metrics(ctx: Context) -> dict[str, Any]:
        """SDD metrics per use case (deviation, reuse, reconciliation, time to value)."""
        return await _call(config, ctx, "metrics", {}, lambda: views.metrics(root))

    @server.tool(annotations=READ)
    async def schema(ctx: Context) -> dict[str, Any]:
        """The JSON Schema of solution-design.yaml."""
        return await _call(config, ctx, "schema", {}, views.schema)

    @server.tool(annotations=READ)
    async def validate(design: str, ctx: Context) -> dict[str, Any]:
        """Validate a design (schema, references, graph, renders, offline tests); no device."""
        return await _call(
            config,
            ctx,
            "validate",
            {"design": design},
            lambda: views.validate(design_path(design), config.lab, config.inventory),
        )

    @server.tool(annotations=READ)
    async def plan(design: str, ctx: Context) -> dict[str, Any]:
        """The build order and every host's rendered configuration; no device."""
        return await _call(
            config,
            ctx,
            "plan",
            {"design": design},
            lambda: views.plan(design_path(design), config.lab, config.inventory),
        )

    @server.tool(annotations=READ)
    async def graph(design: str, ctx: Context) -> dict[str, Any]:
        """The design's dependency graph: nodes, edges, layers."""
        return await _call(
            config, ctx, "graph", {"design": design}, lambda: views.graph(design_path(design))
        )

    @server.tool(annotations=READ)
    async def diff(design: str, ctx: Context) -> dict[str, Any]:
        """What this design changes relative to its reconciled baseline; no device."""
        return await _call(
            config,
            ctx,
            "diff",
            {"design": design},
            lambda: views.diff(design_path(design), config.inventory),
        )

    @server.tool(annotations=READ)
    async def gates(design: str, ctx: Context) -> dict[str, Any]:
        """Both gates of a design (sdd-build gates check --json); changes nothing."""
        return await _call(
            config, ctx, "gates", {"design": design}, lambda: views.gates(design_path(design))
        )

    # -- draft --------------------------------------------------------------------------

    @server.tool(annotations=DRAFT)
    async def write_draft_file(path: str, content: str, ctx: Context) -> dict[str, Any]:
        """Write or replace a spec, design, template, parser or fixture. Only inside a use
        case folder (designs/<use-case>/...) or the asset library (templates/, parsers/);
        validated before writing; never approvals, audit, builds, waivers, policy or keys."""
        return await _call(
            config,
            ctx,
            "write_draft_file",
            {"path": path, "content": content},
            lambda: write_draft(root, path, content),
        )

    # -- ask ----------------------------------------------------------------------------

    @server.tool(name="request_approval", annotations=ASK)
    async def request_approval_tool(
        gate: str, artifact: str, note: str, ctx: Context
    ) -> dict[str, Any]:
        """Ask a human to approve an artifact at a gate ('spec' or 'design'). Records a pending
        request with the artifact's exact sha256; approves nothing."""
        who = _identity(config, ctx)
        return await _call(
            config,
            ctx,
            "request_approval",
            {"gate": gate, "artifact": artifact, "note": note},
            lambda: request_approval(root, gate, artifact, note, agent=who),
        )

    # -- act ----------------------------------------------------------------------------

    @server.tool(annotations=DISCOVER)
    async def discover(artifact: str, ctx: Context) -> dict[str, Any]:
        """Read-only discovery of the devices for a spec or design (Gate 1 enforced: the spec
        must be approved); writes feasibility.json/.md beside it."""
        return await _call(
            config,
            ctx,
            "discover",
            {"artifact": artifact},
            lambda: views.discover(design_path(artifact), config.lab, config.inventory),
        )

    @server.tool(annotations=BUILD)
    async def build(
        design: str,
        ctx: Context,
        check: bool = False,
        path: Literal["auto", "napalm", "netmiko"] = "auto",
    ) -> dict[str, Any]:
        """Build an approved design on the devices (Gate 2 enforced); check=true is a dry run
        that changes nothing; path forces how hosts are configured (auto: NAPALM where the
        platform has a driver, Netmiko otherwise). A design conforming to a pattern of the
        approved policy.yaml is approved by the policy; otherwise it becomes a pending request
        for a person. Progress is sent as notifications; returns the as-built summary."""
        total = 0
        who = _identity(config, ctx)
        token = anyio.lowlevel.current_token()
        lock = threading.Lock()

        def emit(event: str, **data: Any) -> None:
            # called from the build's worker threads (Nornir's pool too): sent through the
            # event loop's token; a client that went away never fails the build
            nonlocal total
            with lock:
                total += 1
                count = total
            detail = " ".join(
                f"{k}={data[k]}" for k in ("component", "host", "status") if k in data
            )
            with contextlib.suppress(Exception):
                anyio.from_thread.run(
                    ctx.report_progress, count, None, mask(f"{event} {detail}"), token=token
                )

        return await _call(
            config,
            ctx,
            "build",
            {"design": design, "check": check, "path": path},
            lambda: views.build(
                design_path(design),
                config.lab,
                config.inventory,
                check=check,
                emit=emit,
                agent=who,
                via=path,
            ),
        )

    @server.tool(annotations=DEVICE_READ)
    async def drift(design: str, ctx: Context) -> dict[str, Any]:
        """Compare the devices now with the design's reconciled baseline (read-only)."""
        return await _call(
            config,
            ctx,
            "drift",
            {"design": design},
            lambda: views.drift(design_path(design), config.lab, config.inventory),
        )

    return server


async def serve_stdio(server: MCPServer) -> None:
    """Serve over stdin/stdout; every message written passes the masker (the sink's wire)."""
    from mcp.server.stdio import stdio_server

    wire_in, wire_out = mcp_wire()
    async with stdio_server(anyio.wrap_file(wire_in), anyio.wrap_file(wire_out)) as (read, write):
        low = server._lowlevel_server  # as the SDK's run_stdio_async
        await low.run(read, write, low.create_initialization_options())
