"""Where real secrets live: the pre-build backups a restore needs, outside the repository.

A backup is the device's running config as it was: it holds the device's own secrets (enable
password, BGP neighbor passwords, OSPF keys, SNMP communities, ...). Users commit ``builds/``,
so a backup is never written there. It lives in a private state directory on the build
machine, every level mode 0700, files 0600, keyed by repository and build id::

    <state root>/backups/<repo name>-<sha256(repo path)[:16]>/<build id>/<host>/pre-build.cfg

The state root is ``$SDD_STATE_DIR``; else ``/var/lib/sdd-build/state`` for root; else
``$XDG_STATE_HOME/sdd-build`` (``~/.local/state/sdd-build``). A state root inside the
repository is refused (its bytes would be committed with it), and so is one owned by another
user or reachable through a symlink (anyone able to retarget it could read or plant backups).

Guarantee: nothing under ``builds/`` ever holds a backup. Not guaranteed: secrecy against root
on the build machine, or after the state directory is copied elsewhere; a fresh clone on
another machine has no backups (restore needs the machine that made them).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from pathlib import Path

from sdd_build.errors import StateError

__all__ = [
    "BACKUP_NAME",
    "backup_path",
    "build_private_dir",
    "prepare_build",
    "read_backup",
    "state_root",
    "write_backup",
]

BACKUP_NAME = "pre-build.cfg"


def state_root() -> Path:
    """The private state root (not created here)."""
    env = os.environ.get("SDD_STATE_DIR")
    if env:
        return Path(env).expanduser().absolute()
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/sdd-build/state")
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base.absolute() / "sdd-build"


def _repo_key(repo_root: Path) -> str:
    resolved = repo_root.resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:16]
    return f"{_safe(resolved.name) or 'repo'}-{digest}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name).lstrip(".")[:200]


def build_private_dir(repo_root: Path, build_id: str) -> Path:
    """The folder holding one build's backups (may not exist)."""
    if not _safe(build_id):
        raise StateError(f"invalid build id '{build_id}'")
    return state_root() / "backups" / _repo_key(repo_root) / _safe(build_id)


def backup_path(repo_root: Path, build_id: str, host: str) -> Path:
    """Where the pre-build backup of ``host`` in build ``build_id`` of this repository is."""
    if not _safe(host):
        raise StateError(f"invalid host name '{host}'")
    return build_private_dir(repo_root, build_id) / _safe(host) / BACKUP_NAME


def _check_outside(repo_root: Path, root: Path) -> None:
    repo = repo_root.resolve()
    target = root.resolve()
    if target == repo or repo in target.parents:
        raise StateError(
            f"the private state directory {root} is inside the repository {repo}: backups "
            "hold device secrets and must not be committed; set SDD_STATE_DIR outside it"
        )


def _private_dir(path: Path) -> None:
    """Create ``path`` mode 0700, or check an existing one is ours, a real dir, and private."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise StateError(f"{path} is not a directory (a symlink or a file); refusing")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise StateError(f"{path} belongs to another user (uid {info.st_uid}); refusing")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)


def _ensure_dirs(repo_root: Path, leaf: Path) -> None:
    root = state_root()
    _check_outside(repo_root, root)
    root.parent.mkdir(parents=True, exist_ok=True)
    _private_dir(root)
    current = root
    for part in leaf.relative_to(root).parts:
        current = current / part
        _private_dir(current)


def prepare_build(repo_root: Path, build_id: str) -> Path:
    """Create (0700) and return a build's private folder; call before any device contact so
    an unusable state directory refuses the build instead of losing a backup."""
    folder = build_private_dir(repo_root, build_id)
    _ensure_dirs(repo_root, folder)
    return folder


def write_backup(repo_root: Path, build_id: str, host: str, content: str) -> Path:
    """Write a host's pre-build backup (0600, fsynced) into the private state directory."""
    path = backup_path(repo_root, build_id, host)
    _ensure_dirs(repo_root, path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def read_backup(repo_root: Path, build_id: str, host: str) -> str | None:
    """The pre-build backup of ``host``, or None when this machine has none."""
    path = backup_path(repo_root, build_id, host)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StateError(f"cannot read the backup {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "r", encoding="utf-8") as fh:
        return fh.read()
