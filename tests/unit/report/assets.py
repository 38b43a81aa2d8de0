"""Test assets fetched once, then used offline: the Mermaid browser bundle.

``as-built.md`` carries a Mermaid block; the tests render it with the real Mermaid library
in headless Chromium, as GitHub/GitLab would. The library is the ``mermaid`` npm package's
self-contained ``dist/mermaid.min.js``, taken from the package tarball (``npm pack``: one
download, no dependency tree, no ``node_modules``), checked against a pinned hash, and cached.

Prefetch it at setup time (CI), so the tests then run offline::

    python -m tests.unit.report.assets        # prints the cached path

``SDD_MERMAID_JS`` points at an existing bundle instead; ``SDD_TEST_CACHE`` moves the cache
(default ``~/.cache/sdd-build-tests``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MERMAID_VERSION = "12.3.0"
# sha1 of mermaid-12.3.0.tgz as the npm registry publishes it ("shasum" in `npm view`).
MERMAID_TGZ_SHA1 = "e860165e0a19778ebef98038c0436bbee6783ba9"
BUNDLE_MEMBER = "package/dist/mermaid.min.js"


class AssetError(RuntimeError):
    pass


def cache_dir() -> Path:
    root = os.environ.get("SDD_TEST_CACHE") or str(Path.home() / ".cache" / "sdd-build-tests")
    return Path(root) / f"mermaid-{MERMAID_VERSION}"


def mermaid_js(*, fetch: bool = True) -> Path:
    """The path of ``mermaid.min.js``; fetched with ``npm pack`` when not cached yet."""
    explicit = os.environ.get("SDD_MERMAID_JS")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise AssetError(f"SDD_MERMAID_JS={explicit} is not a file")
        return path
    target = cache_dir() / "mermaid.min.js"
    if target.is_file():
        return target
    if not fetch:
        raise AssetError(f"{target} is not cached")
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError("npm not found: cannot fetch the mermaid package")
    with tempfile.TemporaryDirectory(prefix="sdd-mermaid-") as tmp:
        try:
            subprocess.run(
                [
                    npm,
                    "pack",
                    f"mermaid@{MERMAID_VERSION}",
                    "--pack-destination",
                    tmp,
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                ],
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
                cwd=tmp,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise AssetError(
                f"npm pack mermaid@{MERMAID_VERSION} failed: {detail.strip()}"
            ) from exc
        tgz = Path(tmp) / f"mermaid-{MERMAID_VERSION}.tgz"
        if not tgz.is_file():
            raise AssetError(f"npm pack did not produce {tgz.name}")
        digest = hashlib.sha1(tgz.read_bytes()).hexdigest()
        if digest != MERMAID_TGZ_SHA1:
            raise AssetError(f"{tgz.name}: sha1 {digest}, expected {MERMAID_TGZ_SHA1}")
        with tarfile.open(tgz) as tar:
            member = tar.extractfile(BUNDLE_MEMBER)
            if member is None:
                raise AssetError(f"{tgz.name} has no {BUNDLE_MEMBER}")
            data = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(target)
    return target


if __name__ == "__main__":
    try:
        print(mermaid_js())
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
