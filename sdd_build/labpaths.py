"""Where a lab's files are, known without loading the lab package.

A build with ``--lab`` needs only the lab's inventory folder; ``sdd_build.lab`` (topology
models, providers, state: ~16 ms of imports) would never be used by it. ``sdd_build.lab``
re-exports ``inventory_dir`` from here, and ``lab.topology.read_lab_name`` (the full reading,
which explains what is wrong with a topology) starts with ``quick_lab_name``.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["LAB_NAME_RE", "inventory_dir", "quick_lab_name"]

#: a lab's name: the topology's ``name`` and ``prefix``, and the ``clab-<name>`` folder
LAB_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def quick_lab_name(path: Path) -> str | None:
    """The name through libyaml (a build looks it up to find the lab's inventory, and the
    round-trip parser takes ~50 ms on a 30-node topology); ``None`` sends the caller the full
    way (``lab.topology.read_lab_name``), which also explains what is wrong."""
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (AttributeError, OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and LAB_NAME_RE.match(name) else None


def inventory_dir(topology: str | Path) -> Path:
    """The lab's Nornir inventory folder: ``clab-<name>/inventory`` beside the topology."""
    topo_path = Path(topology).resolve()
    name = quick_lab_name(topo_path)
    if name is None:
        from sdd_build.lab.topology import read_lab_name  # the full reading, or a located error

        name = read_lab_name(topo_path)
    return topo_path.parent / f"clab-{name}" / "inventory"
