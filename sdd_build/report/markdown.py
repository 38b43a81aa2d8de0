"""``as-built.md``: the auditor's reading of a build record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["render_markdown", "write_markdown"]


def render_markdown(record: dict[str, Any]) -> str:
    lines = [
        f"# As-built {record['build_id']}: {record['result']}",
        "",
        f"Design `{record['design']['id']}` v{record['design']['version']} "
        f"(sha256 `{record['design']['sha256']}`), mode {record.get('mode', 'build')}, "
        f"{record['started']} → {record.get('finished')}.",
        "",
        "## Components",
        "",
    ]
    hosts = sorted(record.get("hosts", {}))
    lines.append("| layer | component | kind | " + " | ".join(hosts) + " |")
    lines.append("|---|---|---|" + "---|" * len(hosts))
    for comp in record["components"]:
        cells = [comp["hosts"].get(h, {}).get("status", "-") for h in hosts]
        lines.append(
            f"| {comp['layer']} | {comp['id']} | {comp['kind']} | " + " | ".join(cells) + " |"
        )
    lines += ["", "## Deviations", ""]
    if not record["deviations"]:
        lines.append("None: built as designed.")
    for dev in record["deviations"]:
        lines.append(
            f"- **{dev['id']}** `{dev['class']}` {dev.get('component') or '-'} @ "
            f"{dev.get('host') or '-'}: {dev['reason']}"
        )
    return "\n".join(lines) + "\n"


def write_markdown(build_dir: Path) -> Path:
    record = json.loads((build_dir / "as-built.json").read_text(encoding="utf-8"))
    path = build_dir / "as-built.md"
    path.write_text(render_markdown(record), encoding="utf-8")
    return path
