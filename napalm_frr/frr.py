"""NAPALM driver for FRRouting (vtysh over SSH, through Netmiko).

FRR 8.4 applies every configuration line the moment vtysh receives it: there is no candidate
datastore, no commit, no commit-confirm and no rollback on the device (the northbound
``configure private``/``commit`` covers a few converted daemons only and vtysh does not expose
it). The driver makes up for it:

* the candidate lives in the driver; ``compare_config`` is a hierarchical diff of the running
  configuration and the candidate (merge: running + candidate; replace: the candidate) computed
  by :mod:`napalm_frr.config`, the way ``frr-reload.py`` computes it;
* ``commit_config`` takes a snapshot of the running configuration, sends exactly the commands
  of that diff, stops at the first line FRR answers with anything (an error, a warning, an
  unexpected message), and then restores the snapshot and verifies it byte for byte before it
  raises -- so a refused candidate leaves the running configuration as it was;
* ``rollback`` restores the snapshot taken before the last commit, and verifies it;
* ``commit_config(revert_in=N)`` arms a revert: with a shell login a detached job on the device
  (``sleep N`` then ``frr-reload.py --reload <snapshot>`` unless the commit was confirmed), which
  survives the driver; with a vtysh-only login a timer thread in the driver, which needs the
  driver process (``close`` with a commit still pending rolls back at once).

Error tree::

    napalm NapalmException
     +-- ConnectionException ........ cannot log in / session lost (no password in the text)
     +-- MergeConfigException
     |    +-- MergeRejected (also a CommitError) ...... FRR refused a line at commit
     +-- ReplaceConfigException
     |    +-- ReplaceRejected (also a CommitError) .... FRR refused a line at commit
     +-- CommitError
     |    +-- RestoreError ........... the running config could not be brought back exactly
     +-- IncompleteRead ............. vtysh did not reach every daemon: what it printed is not
                                      the whole running config (never used as one)
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import secrets
import shlex
import threading
import time
from typing import Any

from napalm.base import NetworkDriver, models
from napalm.base.exceptions import (
    CommitError,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)
from napalm.base.helpers import sanitize_config, sanitize_configs

from napalm_frr import config as cfg
from napalm_frr import parsers, platform
from napalm_frr.extras import Extras, RestoreTarget, complete_text
from napalm_frr.restore import RestoreReport, restore
from napalm_frr.transport import (
    LineResult,
    ShellTransport,
    SSHParams,
    Transport,
    TransportError,
    VtyshTransport,
)
from sdd_build.platforms.frr_options import passed_to_netmiko, problems

log = logging.getLogger(__name__)

#: a command that only reads (``cli`` types several of them ahead in one round trip)
_READ_ONLY = re.compile(r"\s*show\s")
#: how many parsed texts a session remembers (:meth:`FRRDriver._tree`): a running config and a
#: candidate, and the running config read after a commit
_PARSED_TEXTS = 4


class MergeRejected(MergeConfigException, CommitError):  # type: ignore[misc]
    """FRR refused a line of a merge candidate; the running configuration was restored."""

    def __init__(self, message: str, refused: list[LineResult], restored: bool) -> None:
        super().__init__(message)
        self.refused = refused
        self.restored = restored


class ReplaceRejected(ReplaceConfigException, CommitError):  # type: ignore[misc]
    """FRR refused a line of a replace candidate; the running configuration was restored."""

    def __init__(self, message: str, refused: list[LineResult], restored: bool) -> None:
        super().__init__(message)
        self.refused = refused
        self.restored = restored


class RestoreError(CommitError):  # type: ignore[misc]
    """The running configuration could not be brought back to the snapshot exactly."""


def _sanitize(text: str) -> str:
    return str(sanitize_config(text, platform.SANITIZE_FILTERS))


class FRRDriver(NetworkDriver):  # type: ignore[misc]
    """NAPALM driver for FRRouting.

    ``optional_args``:

    * ``login``: ``vtysh`` (default; the SSH login runs vtysh) or ``shell`` (a Linux shell that
      can run ``vtysh`` and ``frr-reload.py``);
    * ``vtysh_instance`` (alias ``frr_instance``): FRR pathspace instance (``vtysh -N <name>``),
      used by the shell login (a vtysh login's ForceCommand picks its own instance);
    * ``shell_username`` / ``shell_password``: with ``login: shell``, log in with these instead
      of ``username``/``password`` (so one inventory entry serves both login styles);
    * ``port`` (22), ``timeout`` (overrides the ``timeout`` argument; seconds, every operation);
    * ``state_dir``: shell login, where snapshots and the revert job live on the device
      (default ``$HOME/.napalm_frr/<instance>``);
    * ``strict`` (False): a commit whose candidate lines FRR accepted silently but did not keep
      (see ``not_kept``) is rolled back and raises, instead of logging a warning;
    * ``running_cache_s`` (0): ``compare_config`` and ``commit_config`` may reuse this
      session's last read of the running configuration when it is younger than this many
      seconds, no line was configured since and no commit awaits confirmation (saves a
      ``show running-config`` round trip each; a change made meanwhile by someone else is not
      seen). ``get_config`` always reads;
    * ``verify_commit`` (True): read the running configuration after a commit to find the lines
      FRR accepted silently but did not keep (``not_kept``); ``False`` saves that read for a
      caller that reconciles by itself (``strict`` always verifies);
    * ``ssh_client`` (``auto``): a vtysh login's SSH client: ``libssh`` (C; password logins),
      ``netmiko`` (paramiko; every Netmiko option), ``auto`` (libssh unless a Netmiko option is
      given; see ``sdd_build.platforms.frr_options.SSH_CLIENTS``);
    * any Netmiko ``ConnectHandler`` argument (``key_file``, ``use_keys``, ``ssh_config_file``,
      ``allow_agent``, ``ssh_strict`` ...).
    """

    platform = "frr"

    def __init__(
        self,
        hostname: str,
        username: str,
        password: str,
        timeout: int = 60,
        optional_args: dict[str, Any] | None = None,
    ) -> None:
        args = dict(optional_args or {})
        self.hostname = hostname
        self.username = username
        self.password = password
        self.timeout = int(args.get("timeout", timeout))
        refused = problems(args)
        if refused:
            raise ValueError(refused[0][1])
        self.login = str(args.get("login", "vtysh"))
        # frr_instance is what sdd-build's lab inventory calls it; a vtysh login ignores it
        # (its ForceCommand picks the instance)
        instance = args.get("vtysh_instance") or args.get("frr_instance")
        self.vtysh_instance: str | None = str(instance) if instance else None
        if self.login == "shell" and args.get("shell_username"):
            self.username = str(args["shell_username"])
            self.password = str(args.get("shell_password", ""))
        self.port = int(args.get("port", 22))
        self.state_dir: str | None = args.get("state_dir")
        self._netmiko_args: dict[str, Any] = passed_to_netmiko(args)
        self.ssh_client = str(args.get("ssh_client", "auto"))
        self._transport: Any = None
        self._lock = threading.RLock()
        self._candidate: str | None = None
        self._candidate_mode: str | None = None
        self._rollback_config: str | None = None
        self._timer: threading.Timer | None = None
        self._pending_token: str | None = None
        #: candidate lines FRR accepted without a word but did not keep, after the last commit
        self.not_kept: list[str] = []
        self.strict = bool(args.get("strict", False))
        self.running_cache_s = float(args.get("running_cache_s", 0))
        self.verify_commit = bool(args.get("verify_commit", True))
        #: (monotonic time, text) of the last running-config read; None once a line is sent
        self._running_read: tuple[float, str] | None = None
        #: the last few texts parsed, by text (see :meth:`_tree`)
        self._trees: dict[str, cfg.Node] = {}
        #: FRR keeps no commit history: the message of the last commit lives here (and, with a
        #: shell login, in ``<state_dir>/commits.log`` on the device)
        self.last_commit_message = ""
        #: how the last restore went (strategies, commands, what was left)
        self.last_restore: RestoreReport | None = None
        #: what FRR needs beyond NAPALM's API (complete reads, verified restores)
        self.extras = Extras(self)
        self.force_no_enable = True
        self.use_canonical_interface = False

    # ------------------------------------------------------------------ session
    def _params(self) -> SSHParams:
        return SSHParams(
            self.hostname,
            self.port,
            self.username,
            self.password,
            float(self.timeout),
            self._netmiko_args,
            self.ssh_client,
        )

    def _new_transport(self) -> Any:
        if self.login == "shell":
            instance = self.vtysh_instance or "default"
            state_dir = self.state_dir or f"$HOME/.napalm_frr/{instance}"
            return ShellTransport(self._params(), self.vtysh_instance, state_dir)
        return VtyshTransport(self._params())

    def open(self) -> None:
        self._running_read = None
        transport = self._new_transport()
        try:
            transport.open()
        except TransportError as exc:
            raise ConnectionException(f"{self.hostname}: {exc}") from exc
        self._transport = transport

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                # a driver-side revert cannot outlive the session: unconfirmed means reverted
                log.warning("%s: closing with an unconfirmed commit, rolling back", self.hostname)
                try:
                    self._revert_now()
                except Exception as exc:
                    log.error("%s: revert on close failed: %s", self.hostname, exc)
            if self._transport is not None:
                self._transport.close()
                self._transport = None

    def is_alive(self) -> models.AliveDict:
        return {"is_alive": bool(self._transport is not None and self._transport.is_alive())}

    def _t(self) -> Transport:
        if self._transport is None:
            raise ConnectionException(f"{self.hostname}: not connected, call open() first")
        transport: Transport = self._transport
        return transport

    def _show(self, command: str) -> str:
        try:
            return self._t().show(command, timeout=self.timeout)
        except TransportError as exc:
            raise ConnectionException(f"{self.hostname}: {exc}") from exc

    def _show_many(self, commands: list[str], *, blank_rows: bool = False) -> list[str]:
        """Several shows in one round trip where the login allows it (see ``show_many``)."""
        try:
            return self._t().show_many(commands, timeout=self.timeout, blank_rows=blank_rows)
        except TransportError as exc:
            raise ConnectionException(f"{self.hostname}: {exc}") from exc

    def _configure(self, lines: list[str]) -> list[LineResult]:
        self._running_read = None
        try:
            return self._t().configure(lines, timeout=self.timeout)
        except TransportError as exc:
            raise ConnectionException(f"{self.hostname}: {exc}") from exc

    def _shell(self) -> ShellTransport | None:
        return self._transport if isinstance(self._transport, ShellTransport) else None

    def _running(self, reuse: bool = False) -> str:
        """The running configuration; with ``reuse``, the last read may serve (see
        ``running_cache_s``)."""
        last = self._running_read
        if (
            reuse
            and last is not None
            and self._timer is None
            and self._pending_token is None
            and time.monotonic() - last[0] <= self.running_cache_s
        ):
            return last[1]
        return self._accept_running(self._show("show running-config"))

    def _accept_running(self, raw: str) -> str:
        """``raw`` output of ``show running-config`` as the running configuration (this
        session's last read), or :class:`IncompleteRead` when vtysh talked in it."""
        self._running_read = None
        text = complete_text(self.hostname, raw)
        self._running_read = (time.monotonic(), text)
        return text

    # ------------------------------------------------------------------ candidate
    def _load(self, mode: str, filename: str | None, config: str | None) -> None:
        error = MergeConfigException if mode == "merge" else ReplaceConfigException
        if filename is not None:
            try:
                with open(filename, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise error(f"cannot read {filename}: {exc.strerror}") from exc
        elif config is not None:
            text = config
        else:
            raise error("give a filename or a config string")
        talk = cfg.noise(text)
        if talk:
            raise error(
                f"the candidate holds vtysh output, not configuration: {talk[0]!r}"
                + (f" (and {len(talk) - 1} more)" if len(talk) > 1 else "")
            )
        tree = self._tree(text)
        if mode == "replace" and not tree.children:
            raise error("empty replace candidate: it would delete the whole configuration")
        shell = self._shell()
        if shell is not None:
            # the device checks every line without applying any (vtysh -C, dry run)
            lines = [ln for ln in cfg.normalize(text).splitlines() if ln.strip()]
            try:
                refused = shell.check(lines, timeout=self.timeout)
            except TransportError as exc:
                raise ConnectionException(f"{self.hostname}: {exc}") from exc
            if refused:
                raise error(f"{self.hostname}: candidate refused: {_describe(refused)}")
        self._candidate = text
        self._candidate_mode = mode

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._load("merge", filename, config)

    def load_replace_candidate(
        self, filename: str | None = None, config: str | None = None
    ) -> None:
        self._load("replace", filename, config)

    def _target(self, running: str) -> cfg.Node:
        if self._candidate is None:
            raise CommitError("no candidate loaded")
        candidate = self._tree(self._candidate)
        if self._candidate_mode == "merge":
            return cfg.merge(self._tree(running), candidate)
        return candidate

    def _tree(self, text: str) -> cfg.Node:
        """``text`` parsed, remembered until the candidate is committed or discarded: one
        commit reads the running config and the candidate up to four times each (load,
        compare, target, diff). The trees are only ever read (``cfg.merge`` copies,
        ``cfg.diff`` reads)."""
        tree = self._trees.get(text)
        if tree is None:
            if len(self._trees) >= _PARSED_TEXTS:
                del self._trees[next(iter(self._trees))]
            tree = self._trees[text] = cfg.parse(text)
        return tree

    def compare_config(self) -> str:
        if self._candidate is None:
            return ""
        running = self._running(reuse=True)
        return cfg.diff(self._tree(running), self._target(running)).text()

    def discard_config(self) -> None:
        self._candidate = None
        self._candidate_mode = None
        self._trees.clear()  # kept for one load-compare-commit: a session lives a whole build

    # ------------------------------------------------------------------ commit
    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        with self._lock:
            if self.has_pending_commit():
                raise CommitError(
                    f"{self.hostname}: a commit awaits confirmation; confirm or roll back first"
                )
            if self._candidate is None:
                raise CommitError(f"{self.hostname}: no candidate loaded")
            mode = self._candidate_mode or "merge"
            before = self._running(reuse=True)
            target = self._target(before)
            self._rollback_config = before
            self._apply(target, before, mode)
            self._record_commit(before, message)
            self.last_commit_message = message
            log.info("%s: committed (%s)", self.hostname, message or "no message")
            self.discard_config()
            if revert_in is not None:
                self._arm_revert(int(revert_in), before)

    def _apply(self, target: cfg.Node, before: str, mode: str) -> None:
        self.not_kept = []
        change = cfg.diff(self._tree(before), target)
        if not change:
            return
        refused: list[LineResult] = []
        try:
            refused = [r for r in self._configure(change.commands()) if r.failed]
            if not refused and mode == "replace":
                # a deletion can take lines with it (no neighbor X remote-as N drops every
                # neighbor X line): send the additions that are still missing once more.
                # Not for merge: there a missing line was overwritten on purpose (a merged
                # "description b" replaces "description a", which the merged tree still holds)
                again = cfg.diff(self._tree(self._running()), target)
                missing = again.commands(additions_only=True)
                if missing:
                    # FRR took every line of the first pass; what looks missing now may only
                    # be stored in another form ('int lo' is 'interface lo') and sending it
                    # again is not always idempotent ('ipv6 ospf6 area 0.0.0.0': "lo already
                    # attached to Area 0"): a refusal here is logged, not a failed commit --
                    # what is really missing is the caller's reconciliation (or not_kept)
                    for result in self._configure(missing):
                        if result.failed:
                            log.info("%s: resend: %s", self.hostname, _describe([result]))
        except ConnectionException:
            # the session died half-way: log in again and put the snapshot back
            try:
                self._transport.close()
                self.open()
            except ConnectionException as exc:
                raise RestoreError(
                    f"{self.hostname}: session lost during commit and cannot log in again; "
                    "the running configuration may be partly changed"
                ) from exc
            self._restore_or_raise(before, "after a lost session during commit")
            raise
        if not refused and (self.verify_commit or self.strict):
            self.not_kept = self._not_kept(mode)
            if self.not_kept:
                # vtysh accepts some lines silently and keeps nothing (a command of a daemon
                # that is not running, e.g. key chain without ripd/eigrpd); others FRR rewrites
                message = "; ".join(repr(_sanitize(line)) for line in self.not_kept)
                if not self.strict:
                    log.warning("%s: FRR did not keep: %s", self.hostname, message)
                    return
                refused = [
                    LineResult(line.strip(), "accepted but not kept", "not_kept")
                    for line in self.not_kept
                ]
        if refused:
            restored = self._restore(before)
            error = MergeRejected if mode == "merge" else ReplaceRejected
            state = "running configuration restored" if restored else "RESTORE INCOMPLETE"
            raise error(
                f"{self.hostname}: FRR refused the candidate: {_describe(refused)}; {state}",
                refused,
                restored,
            )

    def _not_kept(self, mode: str) -> list[str]:
        """Candidate lines missing from the running configuration after a commit."""
        after = self._tree(self._running())
        candidate = self._tree(self._candidate or "")
        target = cfg.merge(after, candidate) if mode == "merge" else candidate
        missing = cfg.diff(after, target).additions
        return [" " * len(c.path) + c.line for c in missing]

    def _record_commit(self, before: str, message: str) -> None:
        shell = self._shell()
        if shell is None:
            return
        try:
            shell.write_file(f"{shell.state_dir}/rollback.conf", before)
            if message:
                line = json.dumps({"message": message})
                shell.run(f"echo {shlex.quote(line)} >> {shell.state_dir}/commits.log")
        except TransportError as exc:
            log.warning(
                "%s: could not store the rollback snapshot on the device: %s", self.hostname, exc
            )

    def _restore(self, snapshot: str) -> bool:
        """Bring the running configuration back to ``snapshot`` (see :mod:`napalm_frr.restore`:
        strategy after strategy, each judged by reading the device back); True when nothing
        differs any more."""
        if self._running() == snapshot:
            self.last_restore = RestoreReport()
            return True
        report = restore(RestoreTarget(self), snapshot)
        self.last_restore = report
        for attempt in report.attempts:
            for refused in attempt.refused:
                log.info("%s: restore (%s): %s", self.hostname, attempt.strategy, refused)
        return report.ok

    def _restore_or_raise(self, snapshot: str, when: str) -> None:
        try:
            ok = self._restore(snapshot)
        except ConnectionException:
            ok = False
        if not ok:
            raise RestoreError(f"{self.hostname}: running configuration not restored {when}")

    def rollback(self) -> None:
        with self._lock:
            self._disarm_revert()
            snapshot = self._rollback_config
            shell = self._shell()
            if snapshot is None and shell is not None:
                rc, text = shell.run(f"cat {shell.state_dir}/rollback.conf 2>/dev/null")
                snapshot = cfg.normalize(text) if rc == 0 and text.strip() else None
            if snapshot is None:
                raise CommitError(f"{self.hostname}: no commit to roll back")
            if not self._restore(snapshot):
                remaining = "".join(
                    difflib.unified_diff(
                        snapshot.splitlines(True), self._running().splitlines(True), n=0
                    )
                )
                raise RestoreError(f"{self.hostname}: rollback incomplete:\n{_sanitize(remaining)}")

    # ------------------------------------------------------------------ commit-confirm
    def _arm_revert(self, seconds: int, snapshot: str) -> None:
        shell = self._shell()
        if shell is not None and shell.has_frr_reload():
            token = secrets.token_hex(6)
            d = shell.state_dir
            shell.write_file(f"{d}/revert-{token}.conf", snapshot)
            shell.run(f": > {d}/pending-{token}")
            script = f"{d}/revert-{token}.sh"
            job = (
                f"echo $$ > {d}/job-{token}.pid\n"
                f"sleep {seconds}\n"
                f"if [ -f {d}/pending-{token} ]; then\n"
                f"  rm -f {d}/pending-{token}\n"
                f"  {shell.frr_reload_command(f'{d}/revert-{token}.conf')}"
                f" > {d}/revert-{token}.log 2>&1\n"
                f"fi\n"
                f"rm -f {d}/revert-{token}.conf {script} {d}/job-{token}.pid\n"
            )
            shell.write_file(script, job)
            # started from a subshell: the login shell keeps no job entry, so it never prints
            # "[1]+ Terminated" into the session (which would shift Netmiko's reads)
            rc, _ = shell.run(f"(nohup setsid sh {script} </dev/null >/dev/null 2>&1 &)")
            if rc != 0:
                raise CommitError(f"{self.hostname}: could not start the revert job")
            self._pending_token = token
            return
        timer = threading.Timer(seconds, self._revert_on_timer)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _revert_on_timer(self) -> None:
        with self._lock:
            if self._timer is None:
                return
            try:
                self._revert_now()
            except Exception as exc:
                log.error("%s: commit-confirm revert failed: %s", self.hostname, exc)

    def _revert_now(self) -> None:
        self._timer = None
        snapshot = self._rollback_config
        if snapshot is None:
            return
        if self._transport is None or not self._transport.is_alive():
            self.open()
        self._restore_or_raise(snapshot, "by the commit-confirm timer")

    def _disarm_revert(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        shell = self._shell()
        if shell is not None:
            # remove the markers (the job then does nothing), and end the sleeping jobs this
            # driver family started: each job's shell by its recorded pid, its sleep by parent
            d = shell.state_dir
            shell.run(
                f"(cd {d} && rm -f pending-* && for p in job-*.pid; do [ -f $p ] || continue; "
                "j=$(cat $p); pkill -P $j sleep; kill $j; rm -f $p; done; "
                "rm -f revert-*.sh revert-*.conf) 2>/dev/null"
            )
        self._pending_token = None

    def confirm_commit(self) -> None:
        with self._lock:
            if not self.has_pending_commit():
                raise CommitError(f"{self.hostname}: no commit awaits confirmation")
            self._disarm_revert()

    def has_pending_commit(self) -> bool:
        if self._timer is not None:
            return True
        shell = self._shell()
        if shell is None:
            return False
        try:
            _rc, out = shell.run(f"ls {shell.state_dir} 2>/dev/null")
        except TransportError as exc:
            raise ConnectionException(f"{self.hostname}: {exc}") from exc
        return any(name.startswith("pending-") for name in out.split())

    # ------------------------------------------------------------------ getters
    def get_facts(self) -> models.FactsDict:
        return parsers.facts(
            self._show("show version"),
            self._show("show interface json"),
            self._show("show zebra client summary"),
        )

    def get_interfaces(self) -> dict[str, models.InterfaceDict]:
        return parsers.interfaces(self._show("show interface json"))

    def get_interfaces_ip(self) -> dict[str, models.InterfacesIPDict]:
        return parsers.interfaces_ip(self._show("show interface json"))

    def get_bgp_neighbors(self) -> dict[str, models.BGPStateNeighborsPerVRFDict]:
        return parsers.bgp_neighbors(
            self._show("show bgp vrf all neighbors json"),
            self._show("show bgp vrf all summary json"),
        )

    def get_route_to(
        self, destination: str = "", protocol: str = "", longer: bool = False
    ) -> dict[str, models.RouteDict]:
        family = "ipv6" if ":" in destination else "ip"
        suffix = " longer-prefixes" if longer else ""
        target = f" {destination}" if destination else ""
        routes_text = self._show(f"show {family} route{target}{suffix} json")
        bgp: dict[str, str] = {}
        afi = "ipv6" if family == "ipv6" else "ipv4"
        for prefix, entries in parsers.loads(routes_text).items():
            if any(e.get("protocol") == "bgp" for e in entries):
                bgp[prefix] = self._show(f"show bgp {afi} unicast {prefix} json")
        local_as = parsers.bgp_local_as(self._show("show bgp summary json")) if bgp else 0
        # napalm's annotation says RouteDict; its documentation and drivers return lists of them
        return parsers.route_to(routes_text, bgp, protocol, local_as)

    def get_config(
        self,
        retrieve: str = "all",
        full: bool = False,
        sanitized: bool = False,
        format: str = "text",
    ) -> models.ConfigDict:
        configs: models.ConfigDict = {"running": "", "startup": "", "candidate": ""}
        if retrieve in ("all", "running"):
            configs["running"] = self._running()
        if retrieve in ("all", "startup"):
            configs["startup"] = self._startup()
        if retrieve in ("all", "candidate"):
            configs["candidate"] = self._candidate or ""
        if sanitized:
            return sanitize_configs(configs, platform.SANITIZE_FILTERS)
        return configs

    def _startup(self) -> str:
        """The saved integrated config; vtysh has no ``show startup-config``."""
        shell = self._shell()
        if shell is None:
            return ""
        base = f"/etc/frr/{self.vtysh_instance}" if self.vtysh_instance else "/etc/frr"
        rc, text = shell.run(f"cat {shlex.quote(base)}/frr.conf")
        return text.strip("\n") + "\n" if rc == 0 else ""

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str | dict[str, Any]]:
        if encoding not in ("text", "json"):
            raise NotImplementedError(f"encoding {encoding!r} (text or json)")
        result: dict[str, str | dict[str, Any]] = {}
        self._running_read = None  # a command may be one that changes the configuration
        if encoding == "text" and len(commands) > 1 and all(map(_READ_ONLY.match, commands)):
            # shows cannot ask a question that the next typed-ahead command would answer:
            # one round trip for all of them (see ``show_many``)
            outputs = self._show_many(list(commands), blank_rows=True)
            return dict(zip(commands, outputs, strict=True))
        for command in commands:
            if encoding == "json":
                query = command if re.search(r"\bjson$", command) else f"{command} json"
                result[command] = parsers.loads(self._show(query))
            else:
                result[command] = self._show(command)
        return result


def _describe(refused: list[LineResult]) -> str:
    """The refused lines and FRR's answers, with secrets masked (FRR echoes the line)."""
    parts = []
    for result in refused:
        line, output = result.line, result.output.strip() or result.kind
        masked = _sanitize(line)
        if line and masked != line:
            output = output.replace(line, masked)
        parts.append(f"{masked!r}: {output}" if line else output)
    return "; ".join(parts)
