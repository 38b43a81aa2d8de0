"""Per-device locks: one build at a time on a device, across designs and repositories.

A build (and ``build --recover``, ``rollback``, ``discover``) takes the locks of every host it
targets **before any device contact** and holds them until its last device operation
(rollback included). A second command that needs a locked device refuses at once (exit 3,
naming the holder: command, build id, design, repository, pid) or, with ``wait_s``, waits.

Keys. A device is known by two keys and is locked under both; a clash on either refuses:

* ``addr:<host>:<port>``, the address the connection plugin will really dial (the address as
  written and every address it resolves to). Two repositories that name one device differently
  still collide.
* ``name:<identity>``, the host name the device must answer as (its inventory name, or an
  approved ``data.identity.hostname``). The build checks that identity on the device before
  any change (``identity_mismatch``), so a device answering as ``r1`` is only ever changed
  under ``name:r1``: the same device reached through another path (a proxy, a jump host, NAT,
  a DNS alias) still collides. The price: two *different* devices of one name, built from two
  repositories on one machine, take turns.

The locks are ``flock`` on files in a machine-wide directory (``$SDD_LOCK_DIR``, default
``/var/lib/sdd-build/devices`` for root, ``$XDG_STATE_HOME/sdd-build/devices`` otherwise;
refused unless private to its owner): the kernel frees them when the holder exits or
crashes, so a killed build never leaves a stale lock. Each lock file holds its holder as JSON
while locked (nothing secret). Beside each lock, the device's last change
(``sdd_build.execute.ledger``): persistent, so that a build killed by a power cut still keeps
other designs off the devices it left half-changed after the reboot.

Use (a command that restores build X's backups, e.g. ``rollback``)::

    with lock_hosts(hosts, "rollback", design=..., build_id=X, repository=repo_root,
                    wait_s=wait_lock_s, restores_from=<X's build_started ts>) as devices:
        if devices.changed_since(host):   # another build changed it since X's backup:
            ...                           #   never put the backup back over that change
        devices.changing(host)            # before the restore (RecordError: do not restore)
        ...restore, read back...
        devices.settle([hosts whose state is now recorded])
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nornir.core.inventory import Host

from sdd_build.errors import HostLockedError, InventoryError
from sdd_build.execute.identity import expected_identity
from sdd_build.execute.journal import utcnow
from sdd_build.execute.ledger import Change, HeldDevices
from sdd_build.limits import json_loads
from sdd_build.platforms import lookup
from sdd_build.secrets.sink import write_fd

__all__ = [
    "HeldDevices",
    "Holder",
    "device_keys",
    "host_keys",
    "host_locks",
    "lock_dir",
    "lock_hosts",
]

ENV = "SDD_LOCK_DIR"
_POLL_S = 0.2
_RESOLVE_S = 3.0


@dataclass(frozen=True)
class Holder:
    """Who holds a device: what the refused command prints."""

    command: str  # build | check | recover | rollback | discover
    design: str | None = None
    build_id: str | None = None
    repository: str | None = None
    pid: int = field(default_factory=os.getpid)
    since: str = field(default_factory=utcnow)

    def describe(self) -> str:
        what = self.command if self.build_id is None else f"{self.command} {self.build_id}"
        parts = [what]
        if self.design:
            parts.append(f"of design '{self.design}'")
        if self.repository:
            parts.append(f"in {self.repository}")
        return " ".join(parts) + f" (pid {self.pid}, since {self.since})"

    @classmethod
    def read(cls, text: str) -> Holder | None:
        try:
            data = json_loads(text)
            return cls(**{k: data[k] for k in data if k in cls.__dataclass_fields__})
        except (ValueError, TypeError):
            return None


def lock_dir() -> Path:
    """The machine-wide lock directory, created private to its owner if missing; refused if
    another user could write to it (they could hold or fake every lock)."""
    env = os.environ.get(ENV)
    if env:
        path = Path(env)
    elif os.geteuid() == 0:
        path = Path("/var/lib/sdd-build/devices")
    else:
        xdg = os.environ.get("XDG_STATE_HOME")
        state = Path(xdg) if xdg else Path.home() / ".local" / "state"
        path = state / "sdd-build" / "devices"
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = os.stat(path, follow_symlinks=False)
    except OSError as exc:
        raise InventoryError(
            f"cannot use the device lock directory {path}: {exc.strerror}",
            hint=f"set {ENV} to a directory you own",
        ) from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise InventoryError(
            f"the device lock directory {path} is not a directory owned by you and writable "
            "only by you; refusing to trust its locks",
            hint=f"fix its owner and mode, or set {ENV} to a private directory",
        )
    return path


# ----- keys --------------------------------------------------------------------------------


def _address(host: Host) -> tuple[str, int]:
    """The host and port the platform's connection plugin will dial (its extras win, as in
    nornir_napalm and nornir_netmiko)."""
    info = lookup(host.platform)
    plugin = info.connection if info else "napalm"
    params = host.get_connection_parameters(plugin)
    extras = dict(params.extras or {})
    hostname = str(extras.get("hostname") or extras.get("host") or params.hostname or host.name)
    optional = extras.get("optional_args") or {}
    port = optional.get("port") or extras.get("port") or params.port or 22
    return hostname, int(port)


def _canonical(hostname: str) -> str:
    name = hostname.strip().rstrip(".").casefold()
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(name.strip("[]")).compressed
    return name


def _resolve(name: str) -> set[str]:
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return set()
    return {ipaddress.ip_address(str(info[4][0]).split("%")[0]).compressed for info in infos}


def device_keys(host: Host, resolved: Mapping[str, set[str]] | None = None) -> list[str]:
    """The lock keys of one inventory host (see the module docstring)."""
    hostname, port = _address(host)
    canonical = _canonical(hostname)
    addresses = {canonical} | set((resolved or {}).get(canonical, set()))
    keys = {f"addr:{a}:{port}" for a in addresses}
    keys.add(f"name:{_canonical(expected_identity(host))}")
    return sorted(keys)


def host_keys(hosts: Iterable[Host]) -> dict[str, list[str]]:
    """Keys per host name; names are resolved concurrently, each lookup bounded in time."""
    hosts = list(hosts)
    names = {_canonical(_address(h)[0]) for h in hosts}
    names = {n for n in names if not _is_ip(n)}
    resolved: dict[str, set[str]] = {}
    if names:
        pool = ThreadPoolExecutor(max_workers=min(16, len(names)))
        futures = {n: pool.submit(_resolve, n) for n in names}
        deadline = time.monotonic() + _RESOLVE_S
        for name, fut in futures.items():
            try:
                resolved[name] = fut.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                resolved[name] = set()  # the name itself stays a key
        pool.shutdown(wait=False, cancel_futures=True)
    return {h.name: device_keys(h, resolved) for h in hosts}


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


# ----- locking -----------------------------------------------------------------------------


def _file_for(directory: Path, key: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", key)[:80]
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return directory / f"{safe}.{digest}.lock"


@dataclass
class _Held:
    key: str
    fd: int


def _try(directory: Path, key: str, holder: Holder) -> _Held | Holder | None:
    """Lock one key without waiting: the held lock, or who holds it (None when unknown)."""
    path = _file_for(directory, key)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:  # a planted symlink (ELOOP), a full or read-only directory
        raise InventoryError(
            f"cannot open the device lock {path}: {exc.strerror}",
            hint=f"remove it if it is not a plain file, or set {ENV} to a private directory",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise
        return _holder_of(path)
    os.ftruncate(fd, 0)
    write_fd(fd, json.dumps({**asdict(holder), "key": key}))  # at 0: the fd is fresh
    return _Held(key, fd)


def _holder_of(path: Path) -> Holder | None:
    # The holder writes its record right after taking the lock: a reader may come in between.
    for _ in range(10):
        with contextlib.suppress(OSError):
            found = Holder.read(path.read_text(encoding="utf-8"))
            if found is not None:
                return found
        time.sleep(0.02)
    return None


def _release(held: list[_Held]) -> None:
    for h in reversed(held):
        with contextlib.suppress(OSError):
            os.ftruncate(h.fd, 0)
        os.close(h.fd)
    held.clear()


@contextmanager
def host_locks(
    keys: Mapping[str, Iterable[str]],
    holder: Holder,
    wait_s: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
    restores_from: str | None = None,
) -> Iterator[HeldDevices]:
    """Hold every key of every host (``{host: keys}``) for the body, or refuse.

    All or nothing: the keys are tried in one global order; when one is held elsewhere, every
    lock taken so far is released, and the call either raises ``HostLockedError`` (exit 3,
    naming the host and its holder) or, while ``wait_s`` lasts, tries again (``on_wait`` hears
    once per holder whom it waits for). Held, it also refuses a device the ledger puts out of
    bounds (``sdd_build.execute.ledger``), and yields the ``HeldDevices`` through which the
    body records its changes; a body that ends normally settles them.
    """
    owner = {k: host for host, ks in keys.items() for k in ks}
    if not owner:
        yield HeldDevices({}, build_id=holder.build_id, command=holder.command)
        return
    directory = lock_dir()
    deadline = time.monotonic() + max(0.0, wait_s)
    held: list[_Held] = []
    announced: Holder | None = None
    try:
        while True:
            blocked: tuple[str, Holder | None] | None = None
            for key in sorted(owner):
                got = _try(directory, key, holder)
                if isinstance(got, _Held):
                    held.append(got)
                    continue
                blocked = (key, got)
                break
            if blocked is None:
                break
            _release(held)
            key, other = blocked
            if time.monotonic() >= deadline:
                raise _locked(owner[key], key, other, wait_s)
            if on_wait is not None and other != announced:
                announced = other
                who = other.describe() if other is not None else "another process"
                on_wait(f"host {owner[key]} is locked by {who}; waiting up to {wait_s:g} s")
            time.sleep(_POLL_S)
        devices = HeldDevices(
            {h: [_file_for(directory, k) for k in ks] for h, ks in keys.items()},
            build_id=holder.build_id,
            command=holder.command,
            design=holder.design,
            repository=holder.repository,
            restores_from=restores_from,
        )
        in_the_way = devices.blocking()
        if in_the_way is not None:
            raise _unfinished(*in_the_way)
        yield devices
        devices.settle()  # not after an exception: the build did not end normally
    finally:
        _release(held)


def _unfinished(host: str, last: Change) -> HostLockedError:
    why = f"host {host} was left half-changed by {last.describe()}, which never finished"
    hint = f"recover that build first: `sdd-build build <its design> --recover {last.build_id}`"
    if last.repository:
        hint += f" in {last.repository}"
    return HostLockedError(
        f"{why}; refusing before any device contact",
        host=host,
        holder=asdict(last),
        hint=hint,
    )


def _locked(host: str, key: str, other: Holder | None, waited_s: float) -> HostLockedError:
    who = other.describe() if other is not None else "another process (no holder record)"
    waited = f" after waiting {waited_s:g} s" if waited_s > 0 else ""
    return HostLockedError(
        f"host {host} is locked by {who}{waited} (lock {key}); refusing before any device contact",
        host=host,
        holder=asdict(other) if other is not None else None,
        hint="wait for it to finish, or retry with --wait-lock SECONDS",
    )


def lock_hosts(
    hosts: Iterable[Host],
    command: str,
    *,
    design: str | None = None,
    build_id: str | None = None,
    repository: Path | None = None,
    wait_s: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
    restores_from: str | None = None,
) -> contextlib.AbstractContextManager[HeldDevices]:
    """``host_locks`` for inventory hosts: their keys, and a holder record naming the caller.
    A recovery or rollback of a build passes ``restores_from`` (when that build started)."""
    holder = Holder(
        command,
        design=design,
        build_id=build_id,
        repository=str(repository) if repository is not None else None,
    )
    return host_locks(host_keys(hosts), holder, wait_s, on_wait, restores_from)
