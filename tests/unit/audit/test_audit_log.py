"""The hash-chained audit log: entries, the chain, and every kind of tampering named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sdd_build.audit import (
    GENESIS,
    AuditChainError,
    AuditError,
    AuditLog,
    canonical_json,
    sha256_canonical,
    verify_log,
)


def _log(tmp_path: Path, n: int = 6) -> AuditLog:
    log = AuditLog(tmp_path)
    for i in range(n):
        log.append("build", actor="ci", design="ospf-underlay", step=i)
    return log


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines(keepends=True)


def _write(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(lines))


def _rehash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    entry["hash"] = sha256_canonical(body)
    return json.dumps(entry, separators=(",", ":")) + "\n"


def _messages(tmp_path: Path) -> list[str]:
    report = verify_log(tmp_path)
    assert not report.ok
    return [str(p) for p in report.problems]


def test_entries_form_a_chain(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    first = log.append("approval", actor="a.smith", design="x", gate="spec", files=1)
    second = log.append("build", build_id="b1", hosts=["r1", "r2"], path=Path("a/b"))
    assert list(first) == ["seq", "ts", "event", "actor", "design", "gate", "files", "prev", "hash"]
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["prev"] == GENESIS
    assert second["prev"] == first["hash"]
    assert second["actor"] is None
    assert second["path"] == "a/b"
    assert first["ts"].endswith("Z")
    body = {k: v for k, v in first.items() if k != "hash"}
    import hashlib

    assert first["hash"] == hashlib.sha256(canonical_json(body)).hexdigest()
    assert log.read() == [first, second]
    report = verify_log(tmp_path)
    assert report.ok
    assert (report.entries, report.first_seq, report.last_seq) == (2, 1, 2)
    assert report.last_hash == second["hash"]
    assert json.loads((tmp_path / "audit" / "audit.head.json").read_text()) == {
        "seq": 2,
        "hash": second["hash"],
    }


def test_non_ascii_and_line_separators_stay_on_one_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    log.append("deviation", reason="device rewrote\nthe line\u2028— naïve")
    log.append("deviation", reason="second")
    assert len(log.path.read_bytes().split(b"\n")) == 3
    assert verify_log(tmp_path).ok


def test_edited_entry_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[2] = lines[2].replace('"step":2', '"step":9')
    _write(log, lines)
    assert _messages(tmp_path) == ["line 3 (seq 3): edited: its content no longer matches its hash"]


def test_edited_and_rehashed_entry_breaks_the_next_link(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    entry = json.loads(lines[2])
    entry["actor"] = "mallory"
    lines[2] = _rehash(entry)
    _write(log, lines)
    messages = _messages(tmp_path)
    assert messages[0] == (
        "line 4 (seq 4): does not chain to seq 3 (line 3): that entry was rewritten, "
        "or this one was inserted"
    )


def test_deleted_entry_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    del lines[3]
    _write(log, lines)
    assert _messages(tmp_path) == ["line 4 (seq 5): entry seq 4 deleted (seq jumps from 3 to 5)"]


def test_deleted_first_entry(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _write(log, _lines(log)[1:])
    assert _messages(tmp_path) == ["line 1 (seq 2): entry seq 1 deleted (seq jumps from 0 to 2)"]


def test_deleted_last_entries_are_caught_by_the_head(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _write(log, _lines(log)[:-2])
    assert _messages(tmp_path) == [
        "end of log (seq 6): entry seq 5-6 deleted from the end (the head records seq 6, "
        "the log ends at seq 4)"
    ]


def test_inserted_copy_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines.insert(4, lines[1])
    _write(log, lines)
    assert _messages(tmp_path) == ["line 5 (seq 2): repeats seq 2 of line 2: entry inserted"]


def test_inserted_forged_entry_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    forged = json.loads(lines[2])  # a well-formed seq 4 that links to seq 3
    forged.update(seq=4, event="waiver", prev=json.loads(lines[2])["hash"])
    lines.insert(3, _rehash(forged))
    _write(log, lines)
    messages = _messages(tmp_path)
    assert "line 5 (seq 4): repeats seq 4 of line 4: entry inserted" in messages


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[2], lines[3] = lines[3], lines[2]
    _write(log, lines)
    assert _messages(tmp_path) == [
        "line 3 (seq 4): out of order: seq 3 belongs here but is on line 4: entries reordered",
        "line 4 (seq 3): out of order: comes after seq 4: entries reordered or inserted",
    ]


def test_garbage_and_blank_lines(tmp_path: Path) -> None:
    log = _log(tmp_path, 3)
    lines = _lines(log)
    _write(log, [lines[0], "\n", "{not json\n", *lines[1:]])
    assert _messages(tmp_path) == ["line 2: blank line inserted", "line 3: not valid JSON: edited"]


def test_torn_tail_is_reported_and_blocks_appends(tmp_path: Path) -> None:
    log = _log(tmp_path, 3)
    with log.path.open("a") as fh:
        fh.write('{"seq":4,"ts":"x"')
    assert "line 4: incomplete last entry (no newline): a torn write" in _messages(tmp_path)
    with pytest.raises(AuditChainError) as info:
        log.append("build")
    assert info.value.exit_code == 3


def test_unreadable_last_entry_blocks_appends(tmp_path: Path) -> None:
    log = _log(tmp_path, 2)
    with log.path.open("a") as fh:
        fh.write("garbage\n")
    with pytest.raises(AuditChainError, match="unreadable"):
        log.append("build")


def test_head_rewritten_entry(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    head = tmp_path / "audit" / "audit.head.json"
    head.write_text(json.dumps({"seq": 3, "hash": "f" * 64}))
    assert _messages(tmp_path) == [
        "line 3 (seq 3): differs from the entry recorded in audit.head.json: rewritten"
    ]
    head.write_text("{")
    assert _messages(tmp_path) == ["end of log: audit.head.json is unreadable: edited"]


def test_missing_log_and_head(tmp_path: Path) -> None:
    report = verify_log(tmp_path)
    assert report.ok
    assert not report.exists
    _log(tmp_path, 2)
    (tmp_path / "audit" / "audit.head.json").unlink()
    report = verify_log(tmp_path)
    assert report.ok
    assert "no audit.head.json" in report.warnings[0]
    (tmp_path / "audit" / "audit.jsonl").unlink()
    AuditLog(tmp_path)._write_head(2, "a" * 64)
    assert "missing" in _messages(tmp_path)[0]


def test_raise_for_problems_is_a_gate_error(tmp_path: Path) -> None:
    log = _log(tmp_path, 3)
    _write(log, _lines(log)[1:])
    with pytest.raises(AuditChainError) as info:
        verify_log(tmp_path).raise_for_problems()
    assert info.value.exit_code == 3
    assert info.value.problems[0].file == "audit/audit.jsonl"
    assert info.value.problems[0].line == 1


@pytest.mark.parametrize(
    "data",
    [
        {"password": "x"},
        {"enable_secret": "x"},
        {"api_token": "x"},
        {"apiKey": "x"},
        {"ssh-passphrase": "x"},
        {"private_key": "x"},
        {"creds": {"db_password": "x"}},
        {"hosts": [{"name": "r1", "secret": "x"}]},
        {"pwd": "x"},
        {"blob": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"},
    ],
)
def test_secrets_are_refused(tmp_path: Path, data: dict[str, Any]) -> None:
    with pytest.raises(AuditError) as info:
        AuditLog(tmp_path).append("build", **data)
    assert info.value.exit_code == 2
    assert not (tmp_path / "audit" / "audit.jsonl").exists()


def test_bad_appends_are_refused(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    with pytest.raises(AuditError, match="reserved"):
        log.append("build", seq=3)
    with pytest.raises(AuditError, match="reserved"):
        log.append("build", hash="x")
    with pytest.raises(AuditError, match="event name"):
        log.append("bad event\n")
    with pytest.raises(AuditError, match="not JSON data"):
        log.append("build", thing=object())
    with pytest.raises(AuditError, match="cannot represent"):
        log.append("build", rate=float("nan"))
    with pytest.raises(AuditError, match="non-string key"):
        log.append("build", table={1: "a"})
    # Ordinary governance data is fine.
    entry = log.append("approval", fingerprint="SHA256:abc", public_key_fingerprint="x", key_id="k")
    assert entry["seq"] == 1


def test_append_many_chains_in_order_with_one_write(tmp_path: Path) -> None:
    log = _log(tmp_path, 2)
    written = log.append_many(
        [("component_result", {"host": "r1", "status": "built"}), ("deviation", {"id": "D1"})],
        design="ospf-underlay",
    )
    assert [e["seq"] for e in written] == [3, 4]
    assert written[0]["prev"] == log.read()[1]["hash"]
    assert written[1]["prev"] == written[0]["hash"]
    assert log.read()[2:] == written
    assert verify_log(tmp_path).ok
    assert log.append("build")["prev"] == written[1]["hash"]


def test_append_many_with_one_bad_event_writes_none(tmp_path: Path) -> None:
    log = _log(tmp_path, 1)
    before = log.path.read_bytes()
    with pytest.raises(AuditError, match="reserved"):
        log.append_many([("component_result", {"host": "r1"}), ("deviation", {"seq": 9})])
    assert log.path.read_bytes() == before
    assert log.append_many([]) == []


def test_the_entries_verified_are_the_entries_acted_on(tmp_path: Path) -> None:
    """A command acts on the very entries the chain check read (one read, nothing between
    them to differ); a log with a problem hands out none."""
    from sdd_build.gates.chain import verified_chain

    log = _log(tmp_path)
    report = verify_log(tmp_path)
    assert report.ok
    assert report.verified == log.read()
    assert verified_chain(tmp_path) == log.read()
    lines = _lines(log)
    lines[2] = lines[2].replace('"actor":"ci"', '"actor":"mallory"', 1)
    _write(log, lines)
    broken = verify_log(tmp_path)
    assert not broken.ok
    assert broken.verified == []
    with pytest.raises(AuditChainError):
        verified_chain(tmp_path)
