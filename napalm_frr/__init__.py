"""NAPALM driver for FRRouting: ``napalm.get_network_driver("frr")`` resolves this package."""

from __future__ import annotations

from napalm_frr.frr import FRRDriver, MergeRejected, ReplaceRejected, RestoreError

__all__ = ["FRRDriver", "MergeRejected", "ReplaceRejected", "RestoreError"]
