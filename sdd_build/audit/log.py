"""The append-only, hash-chained audit log: ``<repo root>/audit/audit.jsonl``.

One JSON object per line, in this key order (the order is for people; hashes do not depend
on it)::

    {"seq": 7, "ts": "2025-01-31T09:15:02.123456Z", "event": "approval",
     "actor": "a.smith", "design": "ospf-underlay", ...event data..., "prev": "<hex>",
     "hash": "<hex>"}

* ``seq`` counts from 1 without gaps; ``ts`` is UTC ISO 8601; ``event`` is an open string
  (``approval``, ``discovery``, ``build``, ``component``, ``deviation``, ``waiver``, ...);
  ``actor`` and ``design`` may be ``null``; the event's data keys sit beside them.
* ``prev`` is the ``hash`` of entry ``seq - 1`` (64 zeros for the first entry), and ``hash`` is
  the sha256 of the canonical JSON (:mod:`sdd_build.audit.canonical`) of the entry without its
  ``hash`` key. Editing, deleting, inserting or reordering entries therefore breaks either an
  entry's own hash, the ``seq`` sequence, or the link to its predecessor, and
  :func:`verify_log` says which line.
* ``audit.head.json`` beside the log holds ``{"seq", "hash"}`` of the last entry, rewritten
  atomically after each append. It is what reveals entries cut off the *end* of the log,
  which a chain alone cannot show.

Writers (threads or processes) serialise on an exclusive ``fcntl.flock`` of the log file
held around read-last-entry, append, fsync and head update, so concurrent builds never
interleave or fork the chain. The log holds only what callers pass; :meth:`AuditLog.append`
refuses data keys that name secrets (password, secret, token, private key, ...) and values
that contain a PEM private key.

A chain proves order and integrity against accidental or casual edits; someone who can
rewrite the whole file *and* its head can forge a consistent history. Protect the log as you
protect the repository (append-only storage, shipping entries to a log server).

Errors: bad arguments to ``append`` are :class:`AuditError` (exit 2); a broken chain found by
``verify`` or a damaged tail found by ``append`` is :class:`AuditChainError`, a ``GateError``
(exit 3): nothing may build on a log that cannot be trusted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import fcntl
import functools
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from sdd_build.audit.canonical import sha256_canonical, sha256_file
from sdd_build.errors import AuditChainError, AuditError, GateError, Problem, SddBuildError
from sdd_build.limits import json_loads
from sdd_build.secrets import mask_data
from sdd_build.secrets.sink import write_bound, write_bound_file

__all__ = [
    "AUDIT_DIR",
    "AUDIT_FILE",
    "AUDIT_HEAD",
    "GENESIS",
    "AuditChainError",
    "AuditError",
    "AuditLog",
    "AuditProblem",
    "AuditReport",
    "verify_log",
]

AUDIT_DIR = "audit"
AUDIT_FILE = "audit.jsonl"
AUDIT_HEAD = "audit.head.json"
GENESIS = "0" * 64

_RESERVED = frozenset({"seq", "ts", "event", "actor", "design", "prev", "hash"})
_EVENT = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,99}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# Compared against a key lower-cased with everything but letters and digits removed, so
# ``enable_secret``, ``apiKey`` and ``ssh-password`` are all caught.
_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "privatekey",
    "apikey",
    "credential",
)
_SECRET_EXACT = frozenset({"pwd", "pass", "psk"})
_PEM_PRIVATE = "PRIVATE KEY-----"
_READ_CHUNK = 1 << 16


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@functools.lru_cache(maxsize=1024)
def _is_secret_key(key: str) -> bool:
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return norm in _SECRET_EXACT or any(word in norm for word in _SECRET_WORDS)


def _plain(value: Any, where: str) -> Any:
    """``value`` as plain JSON data (what will be hashed is exactly what is read back)."""
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and _PEM_PRIVATE in value:
            raise AuditError(
                f"refusing to write '{where}' to the audit log: it contains a private key"
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditError(f"audit data '{where}' is {value}, which JSON cannot represent")
        return value
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _plain(value.value, where)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditError(f"audit data '{where}' has a non-string key {key!r}")
            if _is_secret_key(key):
                raise AuditError(
                    f"refusing to write '{where}.{key}' to the audit log: the name says it "
                    "is a secret; log a reference to it, never the value"
                )
            out[key] = _plain(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    model_dump = getattr(value, "model_dump", None)  # pydantic models, without importing it
    if callable(model_dump):
        return _plain(model_dump(mode="json"), where)
    raise AuditError(
        f"audit data '{where}' is a {type(value).__name__}, not JSON data "
        "(str, int, float, bool, None, list, dict)"
    )


def _line_bytes(entry: Mapping[str, Any]) -> bytes:
    # ensure_ascii keeps each entry on one physical line whatever the data holds (U+2028...).
    text = json.dumps(entry, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("ascii")


def _body(event: str, data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(event, str) or not _EVENT.match(event):
        raise AuditError(f"bad audit event name {event!r}: a letter, then letters, digits, '_.:-'")
    reserved = sorted(_RESERVED.intersection(data))
    if reserved:
        raise AuditError(f"audit data may not use the reserved key(s) {', '.join(reserved)}")
    body: dict[str, Any] = _plain(dict(data), "data")
    # masked before it is hashed: what the chain binds is what is written
    masked: dict[str, Any] = mask_data(body)
    return masked


class AuditLog:
    """The audit log of one repository.

    Args:
        root: the repository root; the log is ``<root>/audit/audit.jsonl``.

    Safe to use from many threads and processes at once (see the module docstring).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.directory = self.root / AUDIT_DIR
        self.path = self.directory / AUDIT_FILE
        self.head_path = self.directory / AUDIT_HEAD

    def append(
        self, event: str, *, actor: str | None = None, design: str | None = None, **data: Any
    ) -> dict[str, Any]:
        """Append one entry and return it (with ``seq``, ``ts``, ``prev`` and ``hash``).

        Raises:
            AuditError: a bad event name, a reserved or secret-looking data key, non-JSON data.
            AuditChainError: the log's last line is incomplete or unreadable.
        """
        return self.append_many([(event, data)], actor=actor, design=design)[0]

    def append_many(
        self,
        events: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        actor: str | None = None,
        design: str | None = None,
    ) -> list[dict[str, Any]]:
        """Append ``(event, data)`` entries in order, chained, as one write and one fsync under
        one lock: all of them or (on a bad event) none. Returns the entries written."""
        for name, value in (("actor", actor), ("design", design)):
            if value is not None and not isinstance(value, str):
                raise AuditError(f"audit '{name}' must be a string, got {type(value).__name__}")
        bodies = [(event, _body(event, data)) for event, data in events]
        if not bodies:
            return []
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = self._last_entry(fd)
            seq, prev = (0, GENESIS) if last is None else last
            entries: list[dict[str, Any]] = []
            for event, body in bodies:
                entry: dict[str, Any] = {
                    "seq": seq + 1,
                    "ts": _now(),
                    "event": event,
                    "actor": actor,
                    "design": design,
                    **body,
                    "prev": prev,
                }
                entry["hash"] = sha256_canonical(entry)
                entries.append(entry)
                seq, prev = entry["seq"], entry["hash"]
            write_bound(fd, b"".join(_line_bytes(e) for e in entries), what="audit entries")
            os.fsync(fd)
            self._write_head(seq, prev)
        finally:
            os.close(fd)  # also releases the flock
        return entries

    def read(self) -> list[dict[str, Any]]:
        """Every entry, in file order (no verification; see :meth:`verify`)."""
        if not self.path.exists():
            return []
        return [json_loads(line) for line in self.path.read_bytes().split(b"\n") if line.strip()]

    def verify(self) -> AuditReport:
        """Check the whole chain; see :func:`verify_log`."""
        return verify_log(self.root)

    # -- internals --------------------------------------------------------------------------

    def _last_entry(self, fd: int) -> tuple[int, str] | None:
        """``(seq, hash)`` of the last entry, read backwards from the end; ``None`` if empty."""
        size = os.fstat(fd).st_size
        if size == 0:
            return None
        if os.pread(fd, 1, size - 1) != b"\n":
            raise AuditChainError(
                "the audit log ends with an incomplete entry (a writer was interrupted); "
                "nothing more is appended until it is repaired",
                file=self._display(),
                hint="run `sdd-build audit verify` and restore the log from a good copy",
            )
        end = size - 1  # the final newline
        buf = b""
        start = end
        while start > 0:
            start = max(0, start - _READ_CHUNK)
            buf = os.pread(fd, end - start, start)
            if b"\n" in buf:
                break
        line = buf[buf.rfind(b"\n") + 1 :]
        try:
            last = json_loads(line)
            seq, digest = last["seq"], last["hash"]
        except (ValueError, TypeError, KeyError):
            seq, digest = None, None
        if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(digest, str):
            raise AuditChainError(
                "the last entry of the audit log is unreadable; nothing more is appended "
                "until it is repaired",
                file=self._display(),
                hint="run `sdd-build audit verify`",
            )
        return seq, digest

    def _write_head(self, seq: int, digest: str) -> None:
        # Called with the log lock held, so one fixed temporary name is enough.
        write_bound_file(
            self.head_path,
            (json.dumps({"seq": seq, "hash": digest}) + "\n").encode("utf-8"),
            what="the audit head",
        )

    def _display(self) -> str:
        return f"{AUDIT_DIR}/{AUDIT_FILE}"


@dataclass(frozen=True)
class AuditProblem:
    """One break in the chain, located by line (1-based) and the entry's ``seq``."""

    line: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "end of log"
        if self.seq is not None:
            where += f" (seq {self.seq})"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "seq": self.seq, "message": self.message}


@dataclass
class AuditReport:
    """The result of verifying a log: entries seen, problems (a broken chain), warnings."""

    path: Path
    display: str
    exists: bool
    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    problems: list[AuditProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: as-built records held against the chain (``verify_log(records=True)``), and those the
    #: chain binds that are not in the repository
    records_checked: int = 0
    records_missing: int = 0
    #: the entries verified, in file order, when there is no problem (the very bytes checked:
    #: a caller that acts on them needs no second read that could differ)
    verified: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "log": self.display,
            "exists": self.exists,
            "entries": self.entries,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": list(self.warnings),
            "records_checked": self.records_checked,
            "records_missing": self.records_missing,
        }

    def raise_for_problems(self) -> None:
        """Raise :class:`AuditChainError` (exit 3) listing every problem, if there are any."""
        if self.problems:
            raise AuditChainError(
                f"{len(self.problems)} problem(s)",
                problems=[
                    Problem(
                        (f"seq {p.seq}: " if p.seq is not None else "") + p.message,
                        self.display,
                        p.line,
                    )
                    for p in self.problems
                ],
                hint="the audit log (or a record it binds) was altered; restore it from a "
                "trusted copy and investigate who changed it",
            )


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def _as_entry(obj: Any) -> dict[str, Any] | None:
    if not isinstance(obj, dict):
        return None
    seq, prev, digest = obj.get("seq"), obj.get("prev"), obj.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return None
    if not isinstance(prev, str) or not isinstance(digest, str) or not _HEX64.match(digest):
        return None
    if not isinstance(obj.get("event"), str) or not isinstance(obj.get("ts"), str):
        return None
    return obj


def verify_log(root: Path, *, records: bool = False) -> AuditReport:
    """Verify ``<root>/audit/audit.jsonl`` end to end, naming every break by line and seq.

    Detected: an edited entry (its hash no longer matches its content), a deleted entry (a
    gap in ``seq``; at the end, against the head file), an inserted entry (a repeated ``seq``
    or a link that does not match), reordered entries (``seq`` out of order), a rewritten entry
    whose hash was recomputed (its successor's ``prev`` no longer matches), a torn last line.
    A missing log is reported as such (``exists`` false) and is not a problem.

    With ``records`` (``sdd-build audit verify``; not the gates), an intact chain is also held
    against the as-built records it binds (:func:`_check_records`).
    """
    log = AuditLog(root)
    display = f"{AUDIT_DIR}/{AUDIT_FILE}"
    report = AuditReport(path=log.path, display=display, exists=log.path.is_file())
    if not report.exists:
        if log.head_path.exists():
            report.problems.append(
                AuditProblem(None, None, "the log is missing but its head file exists: deleted")
            )
        return report

    pieces = log.path.read_bytes().split(b"\n")
    torn = pieces[-1] != b""
    if not torn:
        pieces.pop()
    entries: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(pieces, start=1):
        if torn and number == len(pieces):
            report.problems.append(
                AuditProblem(number, None, "incomplete last entry (no newline): a torn write")
            )
            continue
        if not raw.strip():
            report.problems.append(AuditProblem(number, None, "blank line inserted"))
            continue
        try:
            obj = json_loads(raw)
        except ValueError:
            report.problems.append(AuditProblem(number, None, "not valid JSON: edited"))
            continue
        entry = _as_entry(obj)
        if entry is None:
            report.problems.append(
                AuditProblem(number, None, "not an audit entry (seq/ts/event/prev/hash): edited")
            )
            continue
        entries.append((number, entry))

    lines_of: dict[int, list[int]] = {}
    first_hash: dict[int, tuple[int, str]] = {}
    for number, entry in entries:
        lines_of.setdefault(entry["seq"], []).append(number)
        first_hash.setdefault(entry["seq"], (number, entry["hash"]))

    expected = 1
    for number, entry in entries:
        seq: int = entry["seq"]
        recorded: str = entry["hash"]
        body = {k: v for k, v in entry.items() if k != "hash"}
        if sha256_canonical(body) != recorded:
            report.problems.append(
                AuditProblem(number, seq, "edited: its content no longer matches its hash")
            )
        if seq > expected:
            skipped = range(expected, seq)
            missing = [s for s in skipped if s not in lines_of]
            later = [s for s in skipped if s in lines_of]
            if missing:
                report.problems.append(
                    AuditProblem(
                        number,
                        seq,
                        f"entry seq {_ranges(missing)} deleted (seq jumps from "
                        f"{expected - 1} to {seq})",
                    )
                )
            if later:
                report.problems.append(
                    AuditProblem(
                        number,
                        seq,
                        f"out of order: seq {later[0]} belongs here but is on line "
                        f"{lines_of[later[0]][0]}: entries reordered",
                    )
                )
        elif seq < expected:
            first_line = lines_of[seq][0]
            if first_line != number:
                report.problems.append(
                    AuditProblem(
                        number, seq, f"repeats seq {seq} of line {first_line}: entry inserted"
                    )
                )
            else:
                report.problems.append(
                    AuditProblem(
                        number,
                        seq,
                        f"out of order: comes after seq {expected - 1}: entries reordered "
                        "or inserted",
                    )
                )
        # The link is checked by seq, not position, so a reordering is reported once above
        # instead of as a cascade of broken links.
        if lines_of[seq][0] == number:
            if seq == 1:
                if entry["prev"] != GENESIS:
                    report.problems.append(
                        AuditProblem(
                            number, seq, "first entry does not start the chain: entry inserted"
                        )
                    )
            elif seq - 1 in first_hash:
                pred_line, pred_hash = first_hash[seq - 1]
                if entry["prev"] != pred_hash:
                    report.problems.append(
                        AuditProblem(
                            number,
                            seq,
                            f"does not chain to seq {seq - 1} (line {pred_line}): that entry "
                            "was rewritten, or this one was inserted",
                        )
                    )
        expected = max(expected, seq + 1)

    report.entries = len(entries)
    if entries:
        report.first_seq = entries[0][1]["seq"]
        report.last_seq = entries[-1][1]["seq"]
        report.last_hash = entries[-1][1]["hash"]
    _check_head(log, report, first_hash)
    if report.ok:
        report.verified = [entry for _number, entry in entries]
        if records:
            _check_records(Path(root), entries, report)
    return report


def _check_records(
    root: Path, entries: list[tuple[int, dict[str, Any]]], report: AuditReport
) -> None:
    """Each as-built record the chain binds (``record``, ``as_built_sha256``: a build, its
    recovery, a rollback; the last entry for a record wins, as a rollback rewrites it) must have
    those bytes still. A record that is not there (a build folder not committed, or cleaned up)
    is counted, not a problem: the chain cannot say where its bytes went."""
    last: dict[str, tuple[int, int, str]] = {}
    for number, entry in entries:
        record, digest = entry.get("record"), entry.get("as_built_sha256")
        if isinstance(record, str) and isinstance(digest, str):
            last[record] = (number, entry["seq"], digest)
    for record, (number, seq, digest) in sorted(last.items()):
        rel = PurePath(record)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            report.problems.append(
                AuditProblem(number, seq, f"names a record outside the repository: {record}")
            )
            continue
        path = root / rel
        if not path.is_file():
            report.records_missing += 1
            continue
        found = sha256_file(path)
        report.records_checked += 1
        if found != digest:
            report.problems.append(
                AuditProblem(
                    number,
                    seq,
                    f"{record} changed after it was logged (sha256 {found[:12]}, the chain "
                    f"binds {digest[:12]})",
                )
            )


def _check_head(log: AuditLog, report: AuditReport, first_hash: dict[int, tuple[int, str]]) -> None:
    if not log.head_path.exists():
        if report.entries:
            report.warnings.append(
                f"no {AUDIT_HEAD}: entries removed from the end could not be detected"
            )
        return
    head: Any = None
    with contextlib.suppress(ValueError, OSError):
        head = json_loads(log.head_path.read_text(encoding="utf-8"))
    seq = head.get("seq") if isinstance(head, dict) else None
    digest = head.get("hash") if isinstance(head, dict) else None
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(digest, str):
        report.problems.append(AuditProblem(None, None, f"{AUDIT_HEAD} is unreadable: edited"))
        return
    top = max(first_hash, default=0)
    if seq > top:
        report.problems.append(
            AuditProblem(
                None,
                seq,
                f"entry seq {_ranges(list(range(top + 1, seq + 1)))} deleted from the end "
                f"(the head records seq {seq}, the log ends at seq {top or 'none'})",
            )
        )
    elif seq not in first_hash:
        report.problems.append(
            AuditProblem(None, seq, f"the entry recorded in {AUDIT_HEAD} is missing: deleted")
        )
    elif first_hash[seq][1] != digest:
        line = first_hash[seq][0]
        report.problems.append(
            AuditProblem(line, seq, f"differs from the entry recorded in {AUDIT_HEAD}: rewritten")
        )
    elif seq < top:
        report.warnings.append(
            f"{AUDIT_HEAD} records seq {seq}, the log goes on to seq {top} "
            "(a writer stopped between appending and updating the head)"
        )
