"""A scratch FRR instance on the build machine: FRR itself answers what FRR would do.

The driver asks the *same FRR version* as the device, never a hand list, two questions no
text diff can answer:

* would the device refuse a line (``% Unknown command``, a semantic refusal, the owning daemon
  not running on the device)? -- the honest dry run (:mod:`napalm_frr.dryrun`);
* does FRR leave a line out of ``show running-config`` because it is the default (BFD
  ``detect-multiplier 3``), add lines of its own (``neighbor X bfd`` for ``neighbor X bfd
  profile P``), or store it in another form? -- reconciliation without false deviations.

A :class:`Scratch` is every FRR daemon of the local installation, started in a network
namespace of its own (and a UTS namespace of its own: a ``hostname`` line never renames the
build machine) under an FRR pathspace (``-N``) named ``sddscr<pid>x<n>``. Nothing of it touches
the host's routing or any lab: its daemons see only their namespace. Starting one takes about
a second, stopping it a fraction of one; a small pool (:func:`borrow`) shares them between
threads and a process exit stops them. Instances left by a killed process are removed by the
next one (their owner pid is in the name).

Needs root, ``ip`` and FRR's daemons under ``/usr/lib/frr``; :func:`unavailable` says why not.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from napalm_frr import config as cfg
from napalm_frr.transport import LineResult, classify, split_transcript, vtysh_file_errors

__all__ = [
    "DAEMONS",
    "Scratch",
    "ScratchError",
    "borrow",
    "local_version",
    "shutdown",
    "unavailable",
]

FRR_LIB = Path("/usr/lib/frr")
FRR_ETC = Path("/etc/frr")
FRR_RUN = Path("/var/run/frr")
VTYSH = "vtysh"
PREFIX = "sddscr"
#: Every routing daemon a scratch instance runs (zebra first): a line is only judged by the
#: daemon that owns it when that daemon runs.
DAEMONS: tuple[str, ...] = (
    "zebra", "bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd", "nhrpd",
    "eigrpd", "babeld", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd", "staticd",
)  # fmt: skip
POOL_SIZE = 2
TIMEOUT_S = 30.0
_NAME = re.compile(rf"^{PREFIX}(?P<pid>\d+)x\d+$")
#: An interface name the kernel accepts for a dummy link.
_IFNAME = re.compile(r"^[A-Za-z][\w.-]{0,14}$")


class ScratchError(Exception):
    """The scratch instance could not be started or did not answer."""


def unavailable() -> str | None:
    """Why no scratch instance can run here, or ``None`` when one can."""
    if os.geteuid() != 0:
        return "a scratch FRR instance needs root (network namespaces)"
    if not (FRR_LIB / "zebra").exists():
        return f"FRR is not installed on the build machine ({FRR_LIB / 'zebra'} missing)"
    if shutil.which("ip") is None or shutil.which(VTYSH) is None:
        return "the 'ip' and 'vtysh' commands are needed for a scratch FRR instance"
    return None


_VERSION = re.compile(r"\bversion (\S+)")
_version_cache: list[str] = []


def local_version() -> str | None:
    """The FRR version installed on the build machine (``zebra -v``), e.g. ``8.4.4``."""
    if _version_cache:
        return _version_cache[0] or None
    try:
        out = subprocess.run(
            [str(FRR_LIB / "zebra"), "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    match = _VERSION.search(out)
    _version_cache.append(match[1] if match else "")
    return match[1] if match else None


def _run(
    argv: list[str], *, timeout: float = TIMEOUT_S, stdin: str | None = None, stderr: bool = True
) -> str:
    """stdout, then stderr (vtysh's daemon messages before its per-line errors)."""
    try:
        proc = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ScratchError(f"{argv[0]} did not answer within {timeout:g}s") from exc
    except OSError as exc:
        raise ScratchError(f"cannot run {argv[0]}: {exc.strerror}") from exc
    return proc.stdout + (proc.stderr if stderr else "")


def _lines_of(text: str) -> list[str]:
    """Configuration text as vtysh reads it from a file: FRR's headers and ``end`` dropped."""
    out = []
    for line in cfg.normalize(text).splitlines():
        stripped = line.strip()
        if (
            not stripped
            or stripped == "end"
            or stripped.startswith(("frr version", "frr defaults"))
        ):
            continue
        out.append(line.rstrip())
    return out


@dataclass
class Scratch:
    """One scratch FRR instance (all of :data:`DAEMONS`) with the ``frr defaults`` profile of
    the device it stands in for."""

    profile: str = "traditional"
    name: str = ""
    running_daemons: tuple[str, ...] = ()
    dirty: bool = False
    _pids: list[int] = field(default_factory=list)

    _counter = 0
    _counter_lock = threading.Lock()

    def start(self) -> None:
        reason = unavailable()
        if reason:
            raise ScratchError(reason)
        _remove_orphans()
        with Scratch._counter_lock:
            Scratch._counter += 1
            self.name = f"{PREFIX}{os.getpid()}x{Scratch._counter}"
        etc, run_dir = FRR_ETC / self.name, FRR_RUN / self.name
        try:
            _run(["ip", "netns", "add", self.name])
            _run(["ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up"])
            for path in (etc, run_dir):
                path.mkdir(mode=0o750, parents=True, exist_ok=True)
                shutil.chown(path, "frr", "frr")
            (etc / "vtysh.conf").write_text("service integrated-vtysh-config\n")
            shutil.chown(etc / "vtysh.conf", "frr", "frr")
            # all at once (zebra first): the daemons connect to zebra when it is up
            procs = [
                subprocess.Popen(
                    self._daemon_argv(daemon),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for daemon in DAEMONS
            ]
            for proc in procs:
                try:
                    proc.wait(timeout=TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    raise ScratchError("a scratch FRR daemon did not start in time") from None
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _daemon_argv(self, daemon: str) -> list[str]:
        return [
            "ip", "netns", "exec", self.name, "unshare", "--uts",
            str(FRR_LIB / daemon), "-N", self.name, "-d", "-A", "127.0.0.1", "-F", self.profile,
        ]  # fmt: skip

    def _wait_ready(self) -> None:
        run_dir = FRR_RUN / self.name
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            ready = [d for d in DAEMONS if (run_dir / f"{d}.vty").exists()]
            if len(ready) == len(DAEMONS):
                break
            if time.monotonic() > deadline:
                missing = sorted(set(DAEMONS) - set(ready))
                raise ScratchError(f"scratch FRR: {', '.join(missing)} did not start")
            time.sleep(0.02)
        self._pids = []
        for daemon in DAEMONS:
            with contextlib.suppress(OSError, ValueError):
                self._pids.append(int((run_dir / f"{daemon}.pid").read_text().strip()))
        self.running_daemons = DAEMONS

    def vtysh(self, *args: str, stdin: str | None = None, stderr: bool = True) -> str:
        """Run vtysh against this instance (in its own UTS namespace, like the daemons)."""
        argv = ["unshare", "--uts", VTYSH, "-N", self.name, *args]
        return _run(argv, stdin=stdin, stderr=stderr)

    def load(self, text: str) -> tuple[list[str], list[tuple[int, LineResult]]]:
        """Apply configuration ``text`` (``vtysh -f``, which goes on past a refused line).

        Returns the lines sent and the refused ones (index into those lines, FRR's words)."""
        lines = _lines_of(text)
        if not lines:
            return [], []
        self._dummies(lines)
        path = FRR_RUN / self.name / f"load-{time.monotonic_ns()}.conf"
        path.write_text("\n".join(lines) + "\n")
        try:
            out = self.vtysh("-f", str(path))
        finally:
            path.unlink(missing_ok=True)
        return lines, vtysh_file_errors(out, lines)

    def session(self, lines: list[str]) -> list[LineResult]:
        """Type ``lines`` (vtysh commands, contexts entered and left explicitly) into an
        interactive vtysh in configuration mode, as the driver types them into the device's
        (``VtyshTransport``): vtysh goes on past a refused line, and each line's answer is
        classified exactly as the driver classifies the device's (``transport.classify``:
        errors, warnings such as "This command is deprecated", notices it knows)."""
        if not lines:
            return []
        self._dummies(lines)
        typed = ["configure terminal", *(ln.strip() for ln in lines), "end"]
        out = self.vtysh(stdin="\n".join(typed) + "\n", stderr=False).rstrip("\n")
        answers = split_transcript(out, typed)
        if answers is None:
            raise ScratchError(f"could not follow the scratch vtysh session: {out[-200:]!r}")
        return [
            LineResult(line, answer, classify(answer))
            for line, answer in zip(lines, answers[1:-1], strict=True)
        ]

    def _dummies(self, lines: list[str]) -> None:
        """A kernel interface for each ``interface X`` the text names (as on the device)."""
        names = {
            ln.split()[1]
            for ln in lines
            if ln.startswith("interface ") and len(ln.split()) == 2 and _IFNAME.match(ln.split()[1])
        }
        names.discard("lo")
        if not names:
            return
        have = _run(["ip", "netns", "exec", self.name, "ip", "-o", "link", "show"])
        existing = {m[1] for m in re.finditer(r"^\d+: ([^:@]+)[:@]", have, re.M)}
        script = "".join(
            f"link add {n} type dummy\nlink set {n} up\n" for n in sorted(names - existing)
        )
        if script:
            _run(["ip", "netns", "exec", self.name, "ip", "-force", "-batch", "-"], stdin=script)

    def running(self, daemon: str | None = None) -> str:
        """``show running-config`` of the instance (of one daemon with ``daemon``)."""
        args = ["-d", daemon] if daemon else []
        out = self.vtysh(*args, "-c", "show running-config")
        if "Current configuration" not in out and "frr version" not in out:
            raise ScratchError(f"scratch FRR did not show its configuration: {out.strip()[:200]}")
        return out

    def stop(self) -> None:
        """Stop the daemons (by the pids they wrote) and remove everything the start made."""
        if not self.name:
            return
        _teardown(self.name, self._pids)
        self._pids = []

    def restart(self) -> None:
        """A fresh, empty instance with the same profile (cheaper than clearing a config)."""
        self.stop()
        self.start()


def _pids_of(name: str) -> list[int]:
    pids = []
    for pidfile in (FRR_RUN / name).glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pids.append(int(pidfile.read_text().strip()))
    return pids


def _teardown(name: str, pids: list[int]) -> None:
    pids = sorted(set(pids) | set(_pids_of(name)))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if _alive(p)]
        time.sleep(0.02)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30, check=False)
    for base in (FRR_ETC, FRR_RUN):
        shutil.rmtree(base / name, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours is gone for our purposes
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def _remove_orphans() -> None:
    """Remove scratch instances whose owning process is gone (a killed build)."""
    # its config folder too: a build killed after the run folder and the namespace were gone
    # left /etc/frr/sddscr<pid>x<n> behind
    names = {p.name for base in (FRR_RUN, FRR_ETC) if base.is_dir() for p in base.iterdir()}
    listed = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    names |= {line.split()[0] for line in listed.splitlines() if line.strip()}
    for name in sorted(names):
        match = _NAME.match(name)
        if match is None or int(match["pid"]) == os.getpid() or _alive(int(match["pid"])):
            continue
        _teardown(name, [])


# ----------------------------------------------------------------------------- the pool
_pool_lock = threading.Lock()
_idle: list[Scratch] = []
_busy: list[Scratch] = []
_slots = threading.BoundedSemaphore(POOL_SIZE)


@contextlib.contextmanager
def borrow(profile: str = "traditional") -> Iterator[Scratch]:
    """A fresh (empty) scratch instance for the caller alone; at most :data:`POOL_SIZE` exist
    at once, and the process's exit stops them."""
    if not _slots.acquire(timeout=5 * TIMEOUT_S):
        raise ScratchError("no scratch FRR instance became free")
    scratch: Scratch | None = None
    try:
        with _pool_lock:
            for candidate in _idle:
                if candidate.profile == profile:
                    _idle.remove(candidate)
                    scratch = candidate
                    break
            if scratch is None and len(_idle) + len(_busy) >= POOL_SIZE and _idle:
                # another profile idles in the slot: this one takes its place
                _idle.pop(0).stop()
        if scratch is None:
            scratch = Scratch(profile=profile)
            scratch.start()
        elif scratch.dirty:
            scratch.restart()  # the borrower gets an empty one
        scratch.dirty = True
        with _pool_lock:
            _busy.append(scratch)
        yield scratch
    except ScratchError:
        if scratch is not None:
            scratch.stop()  # in an unknown state: never lent again
            with _pool_lock:
                if scratch in _busy:
                    _busy.remove(scratch)
            scratch = None
        raise
    finally:
        if scratch is not None:
            with _pool_lock:
                _busy.remove(scratch)
                _idle.append(scratch)
        _slots.release()


def shutdown() -> None:
    """Stop every scratch instance of this process."""
    with _pool_lock:
        instances = [*_idle, *_busy]
        _idle.clear()
        _busy.clear()
    for scratch in instances:
        scratch.stop()


atexit.register(shutdown)
