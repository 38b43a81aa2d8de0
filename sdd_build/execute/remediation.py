"""Remediation per configuration syntax family: from a running config and a candidate, the
lines to send, the human diff, and what a device still lacks afterwards (pure, no I/O).

* ``frr``: FRR's own logic, the way ``frr-reload.py`` computes it, as :mod:`napalm_frr.config`
  has it (the NAPALM path's driver uses the very same functions);
* any other family is a ``hier_config`` platform (``CISCO_IOS``, ``ARISTA_EOS``,
  ``CISCO_NXOS``, ``CISCO_XR``, ``JUNIPER_JUNOS``, ...).

The Netmiko path (:mod:`sdd_build.execute.netmiko_path`) reads these; a family is one class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["FAMILIES", "FrrSyntax", "HierSyntax", "NoConfig", "Syntax", "syntax_for"]

Show = Callable[[str], str]


class Syntax(Protocol):
    #: whether ``napalm_frr.extras`` (complete reads, verified restores) serves this family
    extras: bool

    def read(self, hostname: str, raw: str) -> str:
        """The backup command's output as configuration (raises when it is not whole)."""
        ...

    def check_candidate(self, config: str, mode: str) -> None: ...
    def commands(self, running: str, candidate: str, mode: str) -> list[str]: ...
    def resend(self, running: str, candidate: str, mode: str) -> list[str]: ...
    def diff(self, running: str, candidate: str, mode: str) -> str: ...
    def missing(self, running: str, candidate: str, mode: str) -> list[str]: ...
    def facts(self, show: Show) -> dict[str, Any]: ...
    def interfaces(self, show: Show) -> dict[str, Any]: ...


class FrrSyntax:
    """FRR: :mod:`napalm_frr.config`'s tree, merge and diff (frr-reload's logic)."""

    extras = True

    def read(self, hostname: str, raw: str) -> str:
        from napalm_frr.extras import complete_text

        return complete_text(hostname, raw)

    def check_candidate(self, config: str, mode: str) -> None:
        from napalm_frr import config as cfg

        talk = cfg.noise(config)
        if talk:
            raise ValueError(f"the candidate holds vtysh output, not configuration: {talk[0]!r}")
        if mode == "replace" and not cfg.parse(config).children:
            raise ValueError("empty replace candidate: it would delete the whole configuration")

    def _change(self, running: str, candidate: str, mode: str) -> Any:
        from napalm_frr import config as cfg

        now, cand = cfg.parse(running), cfg.parse(candidate)
        target = cfg.merge(now, cand) if mode == "merge" else cand
        return cfg.diff(now, target)

    def commands(self, running: str, candidate: str, mode: str) -> list[str]:
        return list(self._change(running, candidate, mode).commands())

    def resend(self, running: str, candidate: str, mode: str) -> list[str]:
        # replace only: in a merge a line that looks missing was overwritten on purpose
        if mode != "replace":
            return []
        return list(self._change(running, candidate, mode).commands(additions_only=True))

    def diff(self, running: str, candidate: str, mode: str) -> str:
        return str(self._change(running, candidate, mode).text())

    def missing(self, running: str, candidate: str, mode: str) -> list[str]:
        change = self._change(running, candidate, mode)
        return [" " * len(c.path) + c.line for c in change.additions]

    def facts(self, show: Show) -> dict[str, Any]:
        from napalm_frr import parsers

        return dict(
            parsers.facts(
                show("show version"),
                show("show interface json"),
                show("show zebra client summary"),
            )
        )

    def interfaces(self, show: Show) -> dict[str, Any]:
        from napalm_frr import parsers

        return dict(parsers.interfaces(show("show interface json")))


class HierSyntax:
    """A ``hier_config`` platform: its remediation (``WorkflowRemediation``) and diff."""

    extras = False

    def __init__(self, platform: str) -> None:
        from hier_config import Platform

        self.platform = Platform[platform]

    def _parse(self, text: str) -> Any:
        from hier_config import get_hconfig

        return get_hconfig(self.platform, text)

    def _target(self, running: str, candidate: str, mode: str) -> tuple[Any, Any]:
        now, cand = self._parse(running), self._parse(candidate)
        if mode == "merge":
            merged = now.deep_copy()
            merged.merge(cand)
            return now, merged
        return now, cand

    def read(self, hostname: str, raw: str) -> str:
        return raw

    def check_candidate(self, config: str, mode: str) -> None:
        if mode == "replace" and not config.strip():
            raise ValueError("empty replace candidate: it would delete the whole configuration")

    def commands(self, running: str, candidate: str, mode: str) -> list[str]:
        from hier_config import WorkflowRemediation

        now, target = self._target(running, candidate, mode)
        remediation = WorkflowRemediation(now, target).remediation_config
        return list(remediation.lines(sectional_exiting=True))

    def resend(self, running: str, candidate: str, mode: str) -> list[str]:
        return []

    def diff(self, running: str, candidate: str, mode: str) -> str:
        now, target = self._target(running, candidate, mode)
        rows = list(now.unified_diff(target))
        return "\n".join(rows) + ("\n" if rows else "")

    def missing(self, running: str, candidate: str, mode: str) -> list[str]:
        now, target = self._target(running, candidate, mode)
        absent = target.difference(now)
        return list(absent.lines())

    def facts(self, show: Show) -> dict[str, Any]:
        raise NotImplementedError(f"facts of a {self.platform.name} device on the Netmiko path")

    def interfaces(self, show: Show) -> dict[str, Any]:
        raise NotImplementedError(
            f"interfaces of a {self.platform.name} device on the Netmiko path"
        )


class NoConfig:
    """A check target (``syntax: None``, e.g. a Linux host): commands run on it, no
    configuration is managed, so any candidate is refused before anything is sent."""

    extras = False

    def read(self, hostname: str, raw: str) -> str:
        return raw

    def check_candidate(self, config: str, mode: str) -> None:
        raise ValueError("no configuration is managed on this platform (a check target)")

    def commands(self, running: str, candidate: str, mode: str) -> list[str]:
        return []

    def resend(self, running: str, candidate: str, mode: str) -> list[str]:
        return []

    def diff(self, running: str, candidate: str, mode: str) -> str:
        return ""

    def missing(self, running: str, candidate: str, mode: str) -> list[str]:
        return []

    def facts(self, show: Show) -> dict[str, Any]:
        return {}

    def interfaces(self, show: Show) -> dict[str, Any]:
        return {}


#: syntax families with tooling of their own; any other is a ``hier_config`` platform name
FAMILIES: dict[str | None, Callable[[], Syntax]] = {"frr": FrrSyntax, None: NoConfig}


def syntax_for(family: str | None) -> Syntax:
    """The remediation of a syntax family (``frr``, a ``hier_config`` platform name, or
    ``None``: a check target)."""
    own = FAMILIES.get(family)
    if own is None and family is not None:
        return HierSyntax(family)
    return (own or NoConfig)()
