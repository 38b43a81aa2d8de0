"""Write an N-router ring topology for benchmarks: ``python bench/gen_topology.py N [OUT_DIR]``.

Same as ``sdd-build lab generate --routers N``; see ``sdd_build/lab/generate.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sdd_build.lab.generate import write_ring


def main(argv: list[str]) -> int:
    if not argv or not argv[0].isdigit() or int(argv[0]) < 2:
        sys.stderr.write("usage: gen_topology.py N [OUT_DIR]   (N >= 2 routers)\n")
        return 2
    out = Path(argv[1]) if len(argv) > 1 else Path("labs")
    sys.stdout.write(f"{write_ring(int(argv[0]), out)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
