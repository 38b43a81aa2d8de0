"""Hosts split into shards: by their site (an inventory data key), else by a stable hash.

A shard is the unit of placement: one actor on one worker holds the device sessions of all
its hosts for the whole build. A host whose data names a site (``data.site: a``, key chosen
with ``--shard-by``) belongs to that site's shard, which only a worker offering the resource
``site-a`` may hold (``dask worker ... --resources site-a=1``): devices reachable only from a
site's own jump host are driven from there. Hosts without a site are spread over
``buckets`` shards by a hash of their name that is the same in every process and on every
machine (Python's ``hash`` of a string is not), and may be held by any worker.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["RESOURCE_PREFIX", "Shard", "plan_shards", "resource_for"]

#: a site's worker resource is ``site-<value>``: never confused with GPU, MEMORY, ...
RESOURCE_PREFIX = "site-"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Shard:
    name: str
    hosts: tuple[str, ...]
    #: the worker resource a holder must offer (``None``: any worker may hold it)
    resource: str | None = None


def resource_for(site: Any) -> str:
    """The worker resource of a site value (``a`` -> ``site-a``)."""
    return RESOURCE_PREFIX + _SAFE.sub("-", str(site).strip())


def _bucket(host: str, buckets: int) -> int:
    digest = hashlib.sha256(host.encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def plan_shards(sites: Mapping[str, Any], buckets: int) -> list[Shard]:
    """Shards for ``sites`` (host -> its site value, ``None`` when it has none), in a stable
    order: site shards by site name, then hash shards by number; empty shards are left out."""
    by_site: dict[str, list[str]] = {}
    by_hash: dict[int, list[str]] = {}
    for host in sorted(sites):
        site = sites[host]
        if site is None or str(site).strip() == "":
            by_hash.setdefault(_bucket(host, max(1, buckets)), []).append(host)
        else:
            by_site.setdefault(resource_for(site), []).append(host)
    shards = [Shard(res, tuple(hosts), res) for res, hosts in sorted(by_site.items())]
    shards += [Shard(f"hash-{i}", tuple(hosts)) for i, hosts in sorted(by_hash.items())]
    return shards
