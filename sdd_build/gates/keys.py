"""Ed25519 keys for signed approvals: generate, load, fingerprint, sign, verify.

Formats:

* A private key is a PKCS#8 PEM file (``-----BEGIN PRIVATE KEY-----``), unencrypted, mode 0600,
  as written by ``sdd-build keys generate``. It is never printed or logged.
* A public key in ``approvers.yaml`` is either a PEM ``PUBLIC KEY`` block, an OpenSSH
  ``ssh-ed25519 AAAA...`` line, or the base64 of the raw 32 key bytes (what ``keys generate``
  prints).
* A fingerprint is ``SHA256:`` + unpadded base64 of the sha256 of the raw 32 key bytes (the
  OpenSSH style, so people can compare it with ``ssh-keygen -lf``).
* A signature is the base64 of the 64-byte Ed25519 signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sdd_build.errors import KeyFileError

# cryptography (~20 ms of imports) is loaded by the functions that use it: a build whose
# approvals are unsigned never needs it.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "KeyFileError",
    "PublicKeyInfo",
    "fingerprint",
    "generate_key",
    "load_private_key",
    "parse_public_key",
    "public_key_b64",
    "sign",
    "verify_signature",
]

MAX_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class PublicKeyInfo:
    """What may be shown of a key pair: the public key and its fingerprint."""

    public_key: str  # base64 of the raw 32 bytes
    fingerprint: str


def _raw(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64(public: Ed25519PublicKey) -> str:
    """Base64 of the raw 32 public key bytes."""
    return base64.b64encode(_raw(public)).decode("ascii")


def fingerprint(public: Ed25519PublicKey) -> str:
    """``SHA256:<unpadded base64>`` of the raw public key bytes."""
    digest = hashlib.sha256(_raw(public)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def info(public: Ed25519PublicKey) -> PublicKeyInfo:
    return PublicKeyInfo(public_key=public_key_b64(public), fingerprint=fingerprint(public))


def generate_key(out: Path, *, force: bool = False) -> PublicKeyInfo:
    """Write a new Ed25519 private key to ``out`` (PEM, mode 0600); return its public half.

    Refuses to overwrite an existing file unless ``force``: a lost approval key cannot be
    recovered, and old approvals would no longer match the approver's listed key.
    """
    out = Path(out)
    if out.exists() and not force:
        raise KeyFileError(
            "key file already exists; refusing to overwrite a key",
            file=str(out),
            hint="choose another --out path, or pass --force to replace it",
        )
    if not out.parent.is_dir():
        raise KeyFileError("directory does not exist", file=str(out.parent))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created 0600 from the first byte (not chmod'ed afterwards) and moved into place
    # atomically, so the key is never readable by others, even briefly.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, out)
    return info(key.public_key())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Load an Ed25519 private key (PKCS#8 or OpenSSH PEM). Raises ``KeyFileError``."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    display = str(path)
    if not path.is_file():
        raise KeyFileError("key file not found", file=display)
    if path.stat().st_size > MAX_KEY_FILE_BYTES:
        raise KeyFileError("not a key file (too large)", file=display)
    data = path.read_bytes()
    key: object
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(
            "the key is encrypted; sdd-build needs an unencrypted key file (mode 0600)",
            file=display,
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(
            "not a PEM private key", file=display, hint="create one with `sdd-build keys generate`"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(
            f"not an Ed25519 key ({type(key).__name__.removeprefix('_')})",
            file=display,
            hint="create one with `sdd-build keys generate`",
        )
    return key


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, OpenSSH or raw base64 text. Raises ``ValueError``."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
            raise ValueError("not a valid PEM public key") from None
    elif text.startswith("ssh-"):
        try:
            key = serialization.load_ssh_public_key(text.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
            raise ValueError("not a valid OpenSSH public key") from None
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(
                "not base64 (expected the public key printed by `sdd-build keys generate`, "
                "or a PEM/OpenSSH public key)"
            ) from None
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key is 32 bytes, this is {len(raw)}")
        return Ed25519PublicKey.from_public_bytes(raw)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"not an Ed25519 public key ({type(key).__name__.removeprefix('_')})")
    return key


def sign(key: Ed25519PrivateKey, payload: bytes) -> str:
    """Base64 Ed25519 signature of ``payload``."""
    return base64.b64encode(key.sign(payload)).decode("ascii")


def verify_signature(public: Ed25519PublicKey, signature_b64: str, payload: bytes) -> bool:
    """Whether ``signature_b64`` is a valid signature of ``payload`` by ``public``."""
    from cryptography.exceptions import InvalidSignature

    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public.verify(signature, payload)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True
