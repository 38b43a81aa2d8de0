"""The engine's questions to FRR about one device: :class:`Oracle`, built around an open
:class:`napalm_frr.frr.FRRDriver` (``sdd_build``'s platform table names it). Its dry run and
its reconciliation use it; the driver's NAPALM API stays NAPALM's (which allows no extra public
methods). The answers come from :mod:`napalm_frr.dryrun` (a scratch FRR instance)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from napalm_frr import config as cfg
from napalm_frr import scratch
from napalm_frr.dryrun import (
    Path,
    expected,
    identity,
    parse_daemons,
    unavailable_for,
    validate,
)

__all__ = ["Oracle"]


class Oracle:
    """FRR's answers about one device, through an open :class:`napalm_frr.frr.FRRDriver`
    (the engine's dry run and reconciliation use it; the driver's NAPALM API stays NAPALM's).

    Reads of the device: its running config (the driver's, reused when fresh), ``show daemons``
    once, ``show version`` when the config names no version. Nothing is ever configured on it.
    """

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        #: the running config as the candidates checked so far would leave it (dry run)
        self._dry_base: str | None = None
        self._pending: list[list[str]] = []
        self._daemons: set[str] | None = None

    def _identity(self, running: str) -> tuple[str | None, str]:
        version, profile = identity(running)
        if version is None:
            version, profile = identity(running, self.driver._show("show version"))
        return version, profile

    def identity(self, running: str) -> tuple[str | None, str]:
        """(FRR version, defaults profile) named by a running config, without asking."""
        return identity(running)

    def check(self, config: str, mode: str = "merge") -> dict[str, Any]:
        """The diff of a candidate and the commands a commit would send, without changing the
        device; the candidate is queued for :meth:`validate`.

        Candidates checked one after the other build on each other (a second component sees
        the first one's lines), as a build commits them. Returns ``diff``, ``commands``."""
        if mode not in ("merge", "replace"):
            raise ValueError(f"mode must be merge or replace, not {mode!r}")
        with self.driver._lock:
            base = self._dry_base if self._dry_base is not None else self.driver._running(True)
            candidate = cfg.parse(config)
            target = cfg.merge(cfg.parse(base), candidate) if mode == "merge" else candidate
            change = cfg.diff(cfg.parse(base), target)
            commands = change.commands()
            self._pending.append(commands)
            self._dry_base = "\n".join(target.render()) + "\n"
            return {"diff": change.text(), "commands": commands}

    def validate(self) -> dict[str, Any]:
        """Every line of the candidates checked so far that FRR would refuse (one scratch FRR
        instance of the device's version, loaded with the device's running config, judged
        against the daemons the device runs), in the order they were checked; clears them.

        Returns ``refused`` (per candidate, [{``path``, ``line``, ``reason``, ``kind``}]),
        ``validated_by`` (what answered) and ``unvalidated`` (why nothing could)."""
        with self.driver._lock:
            batches, self._pending = self._pending, []
            device = self.driver._running(reuse=True)
            version, profile = self._identity(device)
            out: dict[str, Any] = {
                "refused": [[] for _ in batches],
                "validated_by": None,
                "unvalidated": unavailable_for(version),
            }
            if out["unvalidated"] is not None or not any(batches):
                return out
            if self._daemons is None:
                self._daemons = parse_daemons(self.driver._show("show daemons"))
            daemons = self._daemons
        try:
            checked = validate(device, batches, profile=profile, device_daemons=daemons)
        except scratch.ScratchError as exc:
            out["unvalidated"] = f"the scratch FRR instance failed: {exc}"
            return out
        out["refused"] = [[r.as_dict() for r in v.refused] for v in checked]
        out["validated_by"] = (
            f"FRR {version} (a scratch instance, defaults {profile}); the device runs "
            f"{' '.join(sorted(daemons)) or 'no daemon'}"
        )
        return out

    def expected(self, base: str, configs: list[str], probe: Iterable[Path] = ()) -> dict[str, Any]:
        """``show running-config`` as the device's FRR version renders ``base`` and then
        ``configs`` (on a scratch instance): what reconciliation compares the device with.
        Returns ``running`` (``None`` when it cannot be known), ``refused`` [{``path``,
        ``line``, ``reason``, ``kind``}], ``effects`` [{``path``, ``added``, ``removed``}]
        for the lines of ``probe`` FRR does not show, ``version``, ``profile``, ``source``
        (who answered) and ``unavailable`` (why nobody could)."""
        with self.driver._lock:
            version, profile = self._identity(self.driver._running(reuse=True))
        out: dict[str, Any] = {
            "running": None,
            "refused": [],
            "version": version,
            "profile": profile,
            "source": f"FRR {version} (a scratch instance, defaults {profile})",
            "unavailable": unavailable_for(version),
        }
        if out["unavailable"] is not None:
            return out
        try:
            result = expected(base, configs, profile=profile, probe=probe)
        except scratch.ScratchError as exc:
            out["unavailable"] = f"the scratch FRR instance failed: {exc}"
            return out
        out["running"] = result.running
        out["refused"] = [r.as_dict() for r in result.refused.values()]
        out["effects"] = [
            {
                "path": list(path),
                "added": sorted(map(list, added)),
                "removed": sorted(map(list, gone)),
            }
            for path, (added, gone) in result.effects.items()
        ]
        return out
