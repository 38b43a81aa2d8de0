"""A router's ``/etc/frr`` as the topology describes it (pure: files in, texts out).

Sources, most specific last: a directory bound on ``/etc/frr`` (``leaf1/:/etc/frr/``, its
regular files), files bound into it (``r1/frr.conf:/etc/frr/frr.conf``), the node's
``startup-config`` (as ``frr.conf``, unless a bind gave one). Per-daemon files
(``zebra.conf``, ``ospfd.conf``, ...: FRR's split-config mode) are used as they are when there
is no ``frr.conf``; each such daemon runs. The ``daemons`` file is always sdd-build's own (the
daemons from the user's file, the ``sdd.daemons`` label and the split files; FRR's options for
a lab), and ``vtysh.conf`` is the user's, else integrated or split to match the files.

The files are *copied* into the node's private ``/etc/frr`` at ``up``: ``write memory`` in the
lab changes the node's copy, never the files in your repository (containerlab binds them, so
there it would).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sdd_build.lab.impair import FRR_DAEMONS
from sdd_build.lab.topology import NodeSpec

__all__ = ["DEFAULT_DAEMONS", "FrrFiles", "daemons_file", "frr_files"]

DEFAULT_DAEMONS = ("bgpd", "ospfd", "staticd")
FRR_DIR = "/etc/frr"


@dataclass(slots=True)
class FrrFiles:
    files: dict[str, str] = field(default_factory=dict)  # name in /etc/frr -> text
    origin: dict[str, str] = field(default_factory=dict)  # name -> where it came from
    daemons: list[str] = field(default_factory=list)  # besides zebra

    @property
    def split(self) -> bool:
        return "frr.conf" not in self.files

    def configs(self) -> list[str]:
        """The config files FRR loads: frr.conf, or each daemon's own file."""
        if not self.split:
            return ["frr.conf"]
        return [f"{d}.conf" for d in FRR_DAEMONS if f"{d}.conf" in self.files]


def _user_daemons(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        key, _, val = line.partition("=")
        if val.strip().strip("\"'") in ("yes", "1") and key.strip() in FRR_DAEMONS:
            out.append(key.strip())
    return out


def frr_files(node: NodeSpec) -> FrrFiles:
    got = FrrFiles()
    user_daemons: str | None = None

    def put(name: str, src: Path) -> None:
        nonlocal user_daemons
        text = src.read_text(errors="replace")
        if name == "daemons":
            user_daemons = text
            return
        got.files[name] = text
        got.origin[name] = str(src)

    for src, dst, _o in node.binds:
        if dst.rstrip("/") == FRR_DIR and Path(src).is_dir():
            for f in sorted(Path(src).iterdir()):
                if f.is_file():
                    put(f.name, f)
    for src, dst, _o in node.binds:
        target = dst.rstrip("/")
        if target.startswith(FRR_DIR + "/") and Path(src).is_file():
            put(target[len(FRR_DIR) + 1 :], Path(src))
    split_files = [d for d in FRR_DAEMONS if f"{d}.conf" in got.files]
    if "frr.conf" not in got.files and not split_files:
        if node.settings.suppress_startup_config:
            got.files["frr.conf"] = f"hostname {node.name}\n"
        elif node.startup_config_text is not None:
            got.files["frr.conf"] = node.startup_config_text
        elif node.startup_config is not None:
            got.files["frr.conf"] = node.startup_config.read_text()
            got.origin["frr.conf"] = str(node.startup_config)
        else:
            got.files["frr.conf"] = f"frr defaults traditional\nhostname {node.name}\n!\n"
    wanted = _user_daemons(user_daemons) if user_daemons is not None else []
    label = node.labels.get("sdd.daemons")
    if label is not None:
        wanted += [d.strip() for d in label.split(",") if d.strip()]
    if got.split:
        wanted += split_files
    if not wanted:
        wanted = list(DEFAULT_DAEMONS)
    got.daemons = [d for d in dict.fromkeys(wanted) if d not in ("zebra", "watchfrr")]
    if "vtysh.conf" not in got.files:
        got.files["vtysh.conf"] = "" if got.split else "service integrated-vtysh-config\n"
    got.files["daemons"] = daemons_file(node.name, got.daemons)
    return got


def daemons_file(node: str, wanted: list[str]) -> str:
    lines = [f"# sdd-build lab node {node}"]
    # zebra and staticd always run (frrcommon.sh)
    lines += [
        f"{d}={'yes' if d in wanted else 'no'}"
        for d in FRR_DAEMONS
        if d not in ("zebra", "staticd")
    ]
    lines += [
        "vtysh_enable=yes",
        'zebra_options="-A 127.0.0.1 -s 90000000"',
        *(f'{d}_options="-A 127.0.0.1"' for d in FRR_DAEMONS if d != "zebra"),
        'frr_profile="traditional"',
    ]
    return "\n".join(lines) + "\n"
