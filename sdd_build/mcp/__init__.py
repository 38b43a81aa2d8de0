"""Agents under governance: the MCP server (``sdd-build mcp``), its path confinement, drafts
validated on write and approval requests a human acts on.

The application layer: it calls the services, gates and audit log; nothing in the stages
imports it.
"""
