from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from sdd_build.errors import GateError
from sdd_build.execute.evidence import MASK, EvidenceStore, mask_secrets
from sdd_build.execute.journal import Journal, build_lock, find_unfinished, read_journal


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (" neighbor 10.0.0.2 password s3cr3t-bgp", "s3cr3t-bgp"),
        ("password zebra-pass", "zebra-pass"),
        ("enable password 8 abcdefgh", "abcdefgh"),
        (" ip ospf message-digest-key 1 md5 ospfkey1", "ospfkey1"),
        (" ip ospf authentication-key plainkey", "plainkey"),
    ],
)
def test_config_secrets_are_masked(line: str, secret: str) -> None:
    masked = mask_secrets(f"hostname r1\n{line}\n")
    assert secret not in masked
    assert MASK in masked


def test_inventory_literals_are_masked(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, secrets=["hunter2-lab-password"])
    ref = store.write("r1", "out.txt", "login hunter2-lab-password ok")
    assert ref == "evidence/r1/out.txt"
    assert "hunter2" not in (tmp_path / ref).read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence"]  # no private/ folder


# What a journal entry or a JSON evidence file can carry, and where: a check's output with
# the platform's syntax, a literal known as secret, a value under a secret key, a secret in a
# key itself. Both are masked once, as data: the bytes on disk are what is asserted.
_LITERAL = "lit-Secret-7731"
_CARRIERS = {
    "checks": [{"found": " neighbor 10.0.0.2 password bgp-s3cr3t-9", "passed": False}],
    "output": f"login {_LITERAL} accepted\nline two",
    "nested": {"enable_secret": "enable-s3cr3t-4", "rows": [{"auth_key": "ak-s3cr3t-5"}]},
    f"key {_LITERAL}": "a secret in a key",
}
_SECRETS = ("bgp-s3cr3t-9", _LITERAL, "enable-s3cr3t-4", "ak-s3cr3t-5")


def test_a_journal_entry_reaches_the_disk_masked(tmp_path: Path) -> None:
    EvidenceStore(tmp_path / "b1", secrets=[_LITERAL])
    journal = Journal(tmp_path / "b1")
    journal.write("component_result", host="r1", **_CARRIERS)
    journal.write_ahead("commit_intent", host="r1", detail=_CARRIERS)
    journal.close()
    raw = (tmp_path / "b1" / "journal.jsonl").read_bytes().decode()
    for secret in _SECRETS:
        assert secret not in raw
    [first, second] = read_journal(tmp_path / "b1")
    assert first["checks"][0]["found"] == f" neighbor 10.0.0.2 password {MASK}"
    assert first["nested"]["enable_secret"] == MASK
    assert second["detail"]["output"] == f"login {MASK} accepted\nline two"


def test_a_json_evidence_file_reaches_the_disk_masked(tmp_path: Path) -> None:
    for defer in (False, True):
        store = EvidenceStore(tmp_path / f"b{defer}", secrets=[_LITERAL], defer_sync=defer)
        ref = store.write("r1", "checks.json", _CARRIERS)
        store.sync()
        raw = (tmp_path / f"b{defer}" / ref).read_text()
        for secret in _SECRETS:
            assert secret not in raw
        assert json.loads(raw)["nested"]["rows"][0]["auth_key"] == MASK
        assert raw.endswith("}\n")


def test_journal_survives_a_torn_line_and_marks_unfinished(tmp_path: Path) -> None:
    builds = tmp_path / "builds"
    j = Journal(builds / "b1")
    j.write("build_started", hosts=["r1"])
    j.write("apply_committed", host="r1", component="c")
    j.close()
    with (builds / "b1" / "journal.jsonl").open("a") as fh:
        fh.write('{"event": "torn')
    assert [e["event"] for e in read_journal(builds / "b1")] == ["build_started", "apply_committed"]
    done = Journal(builds / "b2")
    done.write("build_started")
    done.write("build_finished", result="as_designed")
    done.close()
    assert find_unfinished(builds) == [builds / "b1"]


def _hold_lock(path: str, ready: object, release: object) -> None:
    with build_lock(Path(path), "d"):
        ready.set()  # type: ignore[attr-defined]
        release.wait(10)  # type: ignore[attr-defined]


def test_second_build_refuses_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    proc.start()
    try:
        assert ready.wait(10)
        with (
            pytest.raises(GateError, match="another build of design 'd' is running"),
            build_lock(tmp_path, "d"),
        ):
            pass
    finally:
        release.set()
        proc.join(10)
    with build_lock(tmp_path, "d"):
        pass
    assert json.dumps({"ok": True})
