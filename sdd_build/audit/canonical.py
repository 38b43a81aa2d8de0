"""Canonical JSON: the one byte serialisation that hashes and signatures are computed over.

Both the audit chain (``hash`` of an entry) and approval signatures need the *same bytes* for
the same data, whoever writes the file and however it is pretty-printed. The canonical form is:

* ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
  allow_nan=False)`` encoded as UTF-8;
* i.e. object keys sorted by code point, no whitespace between tokens, non-ASCII characters
  written as themselves (not ``\\uXXXX``), ``NaN``/``Infinity`` refused;
* values are JSON types only: strings, integers, booleans, ``null``, lists and objects with
  string keys (our records hold no floats; Python's shortest round-trip repr is used if one
  appears).

It is close to RFC 8785 (JCS) for the data we write; a verifier in another language
reproduces it with any JSON library that can sort keys and drop whitespace.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

__all__ = ["canonical_json", "sha256_canonical", "sha256_file"]


def canonical_json(obj: Any) -> bytes:
    """The canonical UTF-8 bytes of ``obj`` (see the module docstring)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_canonical(obj: Any) -> str:
    """Hex sha256 of ``canonical_json(obj)``."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks (a record, an approved artifact)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
