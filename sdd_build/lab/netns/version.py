"""The FRR version a topology asks for (its image tags) against the FRR installed here.

The namespace provider runs this machine's FRR whatever the image says: ``frr:10.5.1`` and
``v7.5.0`` both run the installed 8.4. ``up`` says so, naming both versions, and a startup
line FRR rejects then carries the same remark (the line may be another version's syntax).
"""

from __future__ import annotations

import functools
import re

from sdd_build.lab.procs import FRR_LIB
from sdd_build.lab.provider import run
from sdd_build.lab.topology import LabTopology

__all__ = ["image_version", "installed_frr", "rejection_note", "version_warnings"]

_TAG = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def image_version(image: str | None) -> str | None:
    """``quay.io/frrouting/frr:10.5.1`` -> ``10.5.1``; None for no tag or a tag that names no
    version (``latest``)."""
    if not image:
        return None
    name = image.split("@", 1)[0]
    if ":" not in name.rsplit("/", 1)[-1]:
        return None
    m = _TAG.match(name.rsplit(":", 1)[1])
    return ".".join(g for g in m.groups() if g is not None) if m else None


@functools.cache
def installed_frr() -> str | None:
    proc = run([str(FRR_LIB / "zebra"), "--version"], check=False, timeout=10)
    m = re.search(r"version (\d+\.\d+(?:\.\d+)?)", proc.stdout + proc.stderr)
    return m.group(1) if m else None


def _same(tag: str, installed: str) -> bool:
    """Same major.minor: a patch release keeps the configuration syntax."""
    return tag.split(".")[:2] == installed.split(".")[:2]


def version_warnings(topo: LabTopology, installed: str | None) -> list[str]:
    """One warning per image whose tag names another FRR than the installed one."""
    if installed is None:
        return []
    nodes_by_image: dict[str, list[str]] = {}
    for node in topo.nodes.values():
        tag = image_version(node.image) if node.is_frr else None
        if tag is not None and node.image and not _same(tag, installed):
            nodes_by_image.setdefault(node.image, []).append(node.name)
    return [
        f"image {image} (FRR {image_version(image)}) of {', '.join(nodes)} runs as this "
        f"machine's FRR {installed}: the namespace provider uses the installed FRR"
        for image, nodes in nodes_by_image.items()
    ]


def rejection_note(topo: LabTopology, installed: str | None) -> str:
    """Added to an "FRR rejects" error when the topology asks for another FRR version."""
    warnings = version_warnings(topo, installed)
    if not warnings:
        return ""
    tags = sorted({v for n in topo.nodes.values() if (v := image_version(n.image)) and n.is_frr})
    return (
        f" (the topology's images ask for FRR {', '.join(tags)}, this machine runs FRR "
        f"{installed}: the line may be another version's syntax)"
    )
