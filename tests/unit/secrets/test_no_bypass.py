"""Bypassing the masking stage is impossible by construction: nothing in the package writes a
file or prints except ``sdd_build/secrets/sink.py`` (and the allow-listed writers below, each
for a stated reason). A new ``print``, ``write_text``, ``open(..., "w")``, ``os.write``,
``json.dump`` to a file, ``click.echo``, ``sys.stdout``/``sys.stderr`` or Rich ``Console``
anywhere else fails this test, naming the file and line."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGES = [Path(__file__).resolve().parents[3] / p for p in ("sdd_build", "napalm_frr")]
ROOT = PACKAGES[0].parent

# file (relative to the repository) -> why it may write without the sink
ALLOWED: dict[str, str] = {
    "sdd_build/secrets/sink.py": "the sink itself",
    "sdd_build/execute/private.py": "pre-build backups: real secrets by design, written only "
    "to the private 0700 state directory outside the repository, files 0600",
    "sdd_build/gates/keys.py": "the signing private key the user asked for (mode 0600, the "
    "path the user gave); its public half is printed through the sink",
    "sdd_build/lab/netns/frr.py": "the lab runtime: a router's FRR files in the node's private /etc/frr (a tmpfs of "
    "its own mount namespace), and FRR's start-up output in clab-<lab>/logs",
    "sdd_build/lab/netns/sshd.py": "the lab runtime: a router's sshd_config and host key in "
    "the node's private /run (a tmpfs of its own mount namespace), never the repository",
    "sdd_build/lab/netns/execs.py": "the log of a node's exec commands in the lab's working "
    "directory (clab-<lab>/logs, git-ignored)",
    "sdd_build/lab/state.py": "lab state (0600) under /var/lib/sdd-build/labs",
    "sdd_build/lab/inventory.py": "the lab's generated credentials (0600) under "
    "/var/lib/sdd-build/labs: the connection data a lab build reads; never the repository",
    "sdd_build/lab/clab.py": "containerlab's own files for the lab runtime",
    "sdd_build/plan/forked.py": "a pipe from the forked render child to its own parent (the "
    "rendered half of the plan, pickled, read at once): never a file, a log or a terminal",
    "napalm_frr/scratch.py": "the scratch FRR instance's runtime files (/etc/frr/<name>, "
    "/run/frr/<name>, frr-owned 0750): candidate lines are handed to the local FRR as to a "
    "device and the load file is removed right after",
}

_WRITE_MODES = set("wax+")
_CONSOLE_NAMES = {"Console"}


def _mode_of(call: ast.Call, position: int) -> str | None:
    """The mode argument; "w?" when it is not a constant (it could be anything)."""
    for kw in call.keywords:
        if kw.arg == "mode":
            return str(kw.value.value) if isinstance(kw.value, ast.Constant) else "w?"
    if len(call.args) > position:
        arg = call.args[position]
        return str(arg.value) if isinstance(arg, ast.Constant) else "w?"
    return None


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _violations(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _dotted(node) in (
            "sys.stdout",
            "sys.stderr",
            "sys.__stdout__",
            "sys.__stderr__",
        ):
            found.append((node.lineno, _dotted(node)))
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        if name in ("print", "pprint", "pprint.pprint", "traceback.print_exc") or name in (
            "click.echo",
            "click.secho",
            "echo",
            "secho",
        ):
            found.append((node.lineno, name))
        elif last in ("write_text", "write_bytes") and isinstance(node.func, ast.Attribute):
            if not name.startswith("sink."):  # Path.write_text; the sink's own is a function
                found.append((node.lineno, name))
        elif name in ("os.write", "os.writev", "os.pwrite", "os.sendfile"):
            found.append((node.lineno, name))
        elif name in ("json.dump", "yaml.dump", "yaml.safe_dump", "pickle.dump", "marshal.dump"):
            if (
                name == "json.dump"
                or len(node.args) > 1
                or any(kw.arg == "stream" for kw in node.keywords)
            ):
                found.append((node.lineno, name))
        elif name == "os.open":
            continue  # a descriptor is not a write: os.write / os.fdopen(..., "w") are
        elif name == "open" or name.endswith((".open", "io.open", "codecs.open")):
            mode = _mode_of(node, 1 if name in ("open", "io.open", "codecs.open") else 0)
            if mode is not None and _WRITE_MODES & set(mode):
                found.append((node.lineno, f"{name}(mode={mode!r})"))
        elif name == "os.fdopen":
            mode = _mode_of(node, 1)
            if mode is not None and _WRITE_MODES & set(mode):
                found.append((node.lineno, f"os.fdopen(mode={mode!r})"))
        elif (
            last in _CONSOLE_NAMES
            or name.startswith("tempfile.")
            or name in ("mkstemp", "NamedTemporaryFile")
            or name in ("logging.StreamHandler", "logging.FileHandler", "StreamHandler")
            or name.startswith("shutil.copy")
            or name in ("shutil.move", "os.link", "os.symlink")
        ):
            found.append((node.lineno, name))
    return found


def test_only_the_sink_writes_or_prints() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted(package.rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in ALLOWED:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            offenders += [f"{rel}:{line}: {what}" for line, what in _violations(tree)]
    assert not offenders, (
        "write or print outside sdd_build/secrets/sink.py (use sink.write_text/write_json/"
        "LineLog/out/err/console, or add the file to ALLOWED with a reason):\n"
        + "\n".join(offenders)
    )


def test_the_scanner_catches_each_kind() -> None:
    """The scanner is not vacuous: each forbidden form is found."""
    source = "\n".join(
        [
            "print('x')",
            "click.echo('x')",
            "sys.stdout.write('x')",
            "Path('a').write_text('x')",
            "open('a', 'w')",
            "p.open('a')",
            "os.fdopen(fd, 'w')",
            "open(p, mode)",
            "os.write(fd, b'x')",
            "json.dump(d, fh)",
            "yaml.safe_dump(d, fh)",
            "Console()",
            "tempfile.mkstemp()",
            "shutil.copy(a, b)",
        ]
    )
    lines = {line for line, _ in _violations(ast.parse(source))}
    assert lines == set(range(1, 15))
    harmless = "open('a')\np.open('rb')\njson.dumps(d)\nyaml.safe_dump(d)\nos.open(p, os.O_RDONLY)"
    assert _violations(ast.parse(harmless)) == []


def test_every_allowed_file_exists() -> None:
    for rel in ALLOWED:
        assert (ROOT / rel).is_file(), f"stale allow-list entry {rel}"
