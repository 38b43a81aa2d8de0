"""Evidence files under ``builds/<id>/evidence/<host>/``, written through the masking sink.

Evidence is read by auditors and attached to reports: it never carries a secret. Every file is
written by ``sdd_build.secrets.sink`` (the platform's secret syntax and every literal secret
known to the process are masked); the literal credentials given here are registered with the
process's masker, so they are masked in every other artifact and line of output too. Backups
needed to roll a host back (which hold device secrets) are not evidence: they go to the private
state directory (``execute/private.py``), outside the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sdd_build.secrets import MASK, mask, register_secrets
from sdd_build.secrets.sink import dumps_json, write_text

__all__ = ["MASK", "EvidenceStore", "mask_secrets"]


def mask_secrets(text: str, literals: Iterable[str] = ()) -> str:
    """``text`` masked by the process's masker, after registering ``literals`` as secrets."""
    register_secrets(literals)
    return mask(text)


class EvidenceStore:
    def __init__(self, build_dir: Path, secrets: Iterable[str] = ()) -> None:
        self.build_dir = build_dir
        self.root = build_dir / "evidence"
        register_secrets(secrets)
        self.root.mkdir(parents=True, exist_ok=True)

    def mask(self, text: str) -> str:
        return mask(text)

    def mask_data(self, value: Any) -> Any:
        """``value`` (JSON-like) with every string in it masked."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, dict):
            return {k: self.mask_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.mask_data(v) for v in value]
        return value

    def write(self, host: str, name: str, content: str | Any) -> str:
        """Write ``evidence/<host>/<name>``; returns the path relative to the build folder."""
        if not isinstance(content, str):
            content = dumps_json(content, indent=2, sort_keys=True) + "\n"
        path = self.root / _safe(host) / _safe(name)
        write_text(path, content)
        return str(path.relative_to(self.build_dir))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name)[:200]
