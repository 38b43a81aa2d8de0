"""NAPALM driver for FRRouting: ``napalm.get_network_driver("frr")`` resolves this package."""

from __future__ import annotations

from napalm_frr.extras import IncompleteRead
from napalm_frr.frr import FRRDriver, MergeRejected, ReplaceRejected, RestoreError
from napalm_frr.restore import RestoreReport

__all__ = [
    "FRRDriver",
    "IncompleteRead",
    "MergeRejected",
    "ReplaceRejected",
    "RestoreError",
    "RestoreReport",
]
