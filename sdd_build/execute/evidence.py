"""Evidence files under ``builds/<id>/evidence/<host>/``, with secrets masked.

Evidence is read by auditors and attached to reports: it must never carry a secret. Every
text is masked twice: known secret-bearing config syntax (passwords, keys) and the literal
credential strings of the inventory. Backups needed to roll a host back (which hold device
secrets) are not evidence: they go to the private state directory (``execute/private.py``),
outside the repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["MASK", "EvidenceStore", "mask_secrets"]

MASK = "<redacted>"

# Platform knowledge as data: config syntax that carries a secret in its last token(s).
_SECRET_PATTERNS = [
    re.compile(r"(?P<keep>^\s*(?:enable\s+)?password\s+(?:\d\s+)?)(?P<secret>\S+)", re.M),
    re.compile(r"(?P<keep>\bneighbor\s+\S+\s+password\s+)(?P<secret>\S+)", re.M),
    re.compile(r"(?P<keep>\bmessage-digest-key\s+\d+\s+md5\s+)(?P<secret>\S+)", re.M),
    re.compile(r"(?P<keep>\bauthentication-key\s+)(?P<secret>\S+)", re.M),
    re.compile(r"(?P<keep>\bkey-string\s+)(?P<secret>\S+)", re.M),
    re.compile(r"(?P<keep>\bsecret\s+(?:\d\s+)?)(?P<secret>\S+)", re.M),
]


def mask_secrets(text: str, literals: Iterable[str] = ()) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group("keep") + MASK, text)
    for literal in literals:
        if literal and len(literal) >= 4:
            text = text.replace(literal, MASK)
    return text


class EvidenceStore:
    def __init__(self, build_dir: Path, secrets: Iterable[str] = ()) -> None:
        self.build_dir = build_dir
        self.root = build_dir / "evidence"
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.root.mkdir(parents=True, exist_ok=True)

    def mask(self, text: str) -> str:
        return mask_secrets(text, self._secrets)

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
            content = json.dumps(content, indent=2, sort_keys=True, default=str) + "\n"
        path = self.root / _safe(host) / _safe(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.mask(content), encoding="utf-8")
        return str(path.relative_to(self.build_dir))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name)[:200]
