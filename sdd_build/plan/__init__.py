"""plan stage: workspace assembly, per-host build plan, validation (Gate-2 criteria)."""
