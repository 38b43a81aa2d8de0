"""Faults for reliability tests: the request model and the commands it becomes (pure).

One ``Impairment`` targets ``node`` or ``node:iface`` and asks for any of:

* ``link``: ``down`` | ``up`` — the interface's admin state (the veth peer loses carrier);
* ``delay`` / ``jitter`` (``200ms``, ``1s``, ``500us``), ``loss`` (percent), ``rate``
  (``1mbit``) — a tc netem qdisc on the interface, replacing any earlier one
  (like ``containerlab tools netem set``); ``rate`` alone uses a tbf qdisc instead, which
  kernels without ``sch_netem`` still have;
* ``clear`` — remove the netem qdisc;
* ``sshd``: ``stop`` | ``start`` — the node's SSH server (connections then fail);
* ``daemon`` + ``daemon_action``: ``stop`` | ``start`` an FRR daemon (``bgpd``, ``ospfd``, ...).
  Stopping also stops the instance's watchfrr, which would otherwise restart it at once;
  starting restarts watchfrr, which starts what is missing and loads the saved config
  (``/etc/frr/<instance>/frr.conf``) into it: running changes not saved with ``write memory``
  are lost for that daemon, as after a real crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sdd_build.lab.provider import LabInputError

__all__ = ["FRR_DAEMONS", "Impairment", "netem_argv", "parse_target"]

FRR_DAEMONS = (
    "zebra", "bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd", "nhrpd",
    "eigrpd", "babeld", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd", "staticd",
)  # fmt: skip

_TIME_RE = re.compile(r"^\d+(\.\d+)?(us|ms|s)$")
_RATE_RE = re.compile(r"^\d+(\.\d+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$")


@dataclass(frozen=True, slots=True)
class Impairment:
    node: str
    interface: str | None = None
    link: Literal["up", "down"] | None = None
    delay: str | None = None
    jitter: str | None = None
    loss: float | None = None
    rate: str | None = None
    clear: bool = False
    sshd: Literal["start", "stop"] | None = None
    daemon: str | None = None
    daemon_action: Literal["start", "stop"] | None = None

    @property
    def wants_netem(self) -> bool:
        return any(v is not None for v in (self.delay, self.jitter, self.loss, self.rate))

    def validate(self) -> None:
        problems: list[str] = []
        if not (self.link or self.wants_netem or self.clear or self.sshd or self.daemon_action):
            problems.append(
                "nothing to do: give --link, --delay/--jitter/--loss/--rate, --clear, --sshd or "
                "--daemon NAME --stop|--start"
            )
        needs_iface = self.link is not None or self.wants_netem or self.clear
        if needs_iface and not self.interface:
            problems.append(f"{self.node}: link faults need an interface: {self.node}:eth1")
        for name, value in (("delay", self.delay), ("jitter", self.jitter)):
            if value is not None and not _TIME_RE.match(value):
                problems.append(f"--{name} {value!r}: use a time like 200ms, 1s, 500us")
        if self.jitter is not None and self.delay is None:
            problems.append("--jitter needs --delay")
        if self.loss is not None and not 0 <= self.loss <= 100:
            problems.append(f"--loss {self.loss}: a percentage from 0 to 100")
        if self.rate is not None and not _RATE_RE.match(self.rate):
            problems.append(f"--rate {self.rate!r}: use a rate like 1mbit, 500kbit")
        if self.clear and self.wants_netem:
            problems.append("--clear cannot be combined with --delay/--jitter/--loss/--rate")
        if (self.daemon is None) != (self.daemon_action is None):
            problems.append("--daemon NAME needs --stop or --start (and they need --daemon)")
        if self.daemon is not None and self.daemon not in FRR_DAEMONS:
            problems.append(f"--daemon {self.daemon!r}: one of {', '.join(FRR_DAEMONS)}")
        if problems:
            raise LabInputError("; ".join(problems))


def parse_target(text: str) -> tuple[str, str | None]:
    """``r1`` or ``r1:eth1`` -> (node, interface)."""
    if text.count(":") > 1 or text.startswith(":") or text.endswith(":"):
        raise LabInputError(f"target {text!r}: use NODE or NODE:INTERFACE")
    node, _, iface = text.partition(":")
    return node, iface or None


def netem_argv(netns: str, imp: Impairment) -> list[str]:
    """tc command for the netem part of an impairment (``replace`` is idempotent)."""
    assert imp.interface is not None
    if imp.clear:
        return ["tc", "-n", netns, "qdisc", "del", "dev", imp.interface, "root"]
    if imp.rate is not None and imp.delay is None and imp.loss is None:
        # rate alone needs no netem (absent from some kernels): a token bucket does it
        return ["tc", "-n", netns, "qdisc", "replace", "dev", imp.interface, "root", "tbf",
                "rate", imp.rate, "burst", "32kbit", "latency", "400ms"]  # fmt: skip
    argv = ["tc", "-n", netns, "qdisc", "replace", "dev", imp.interface, "root", "netem"]
    if imp.delay is not None:
        argv += ["delay", imp.delay]
        if imp.jitter is not None:
            argv.append(imp.jitter)
    if imp.loss is not None:
        argv += ["loss", f"{imp.loss:g}%"]
    if imp.rate is not None:
        argv += ["rate", imp.rate]
    return argv
