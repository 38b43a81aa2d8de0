"""Application services: what a command does from end to end (gates, validation, the build,
the audit trail, the reports), above every stage. The CLI, the MCP server and the pytest
plugin call these; no stage imports them (``.importlinter``)."""
