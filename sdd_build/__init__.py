"""sdd-build: the governed build engine of Spec-Driven Development for network automation."""

from __future__ import annotations

from sdd_build.errors import (
    CheckError,
    DesignError,
    DeviceError,
    GateError,
    GraphError,
    InventoryError,
    LabError,
    OfflineTestError,
    ParseError,
    Problem,
    RenderError,
    SddBuildError,
)

__version__ = "0.1.0"

__all__ = [
    "CheckError",
    "DesignError",
    "DeviceError",
    "GateError",
    "GraphError",
    "InventoryError",
    "LabError",
    "OfflineTestError",
    "ParseError",
    "Problem",
    "RenderError",
    "SddBuildError",
    "__version__",
]
