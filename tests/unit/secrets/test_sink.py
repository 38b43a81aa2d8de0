"""The sink: every file and every line of output passes the masker."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from rich.table import Table

from sdd_build.secrets import MASK, register_secrets, sink

SECRET = "Sink-Secret-Value-42"


@pytest.fixture(autouse=True)
def _known() -> None:
    register_secrets([SECRET])


def test_files_are_masked(tmp_path: Path) -> None:
    sink.write_text(tmp_path / "a" / "x.txt", f"x {SECRET}\n enable password Other-1\n")
    sink.write_json(tmp_path / "x.json", {"k": SECRET, "password": "short", "n": [SECRET]})
    sink.append_text(tmp_path / "spec.md", f"- {SECRET}\n")
    log = sink.LineLog(tmp_path / "j.jsonl")
    log.write_json({"expected": f"hostname r1\n neighbor 1.1.1.1 password {SECRET}\n"})
    log.write_line(f"raw {SECRET}")
    log.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert SECRET not in text, path
            assert "Other-1" not in text, path
            assert MASK in text
            assert stat.S_IMODE(path.stat().st_mode) == 0o644 or path.suffix in (".md", ".jsonl")
    assert json.loads((tmp_path / "x.json").read_text())["password"] == MASK
    assert [json.loads(x) for x in (tmp_path / "j.jsonl").read_text().splitlines()[:1]]


def test_bound_bytes_with_a_secret_are_refused(tmp_path: Path) -> None:
    with pytest.raises(sink.SecretInBoundDataError):
        sink.write_bound_file(tmp_path / "rec.json", f'{{"c": "{SECRET}"}}'.encode(), what="r")
    assert not (tmp_path / "rec.json").exists()
    sink.write_bound_file(tmp_path / "rec.json", b'{"c": "clean"}', what="r")


def test_output_streams_mask_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    with sink.masked_output():
        print(f"plain {SECRET}")
        sys.stderr.write(f"half {SECRET[:5]}")
        sys.stderr.write(f"{SECRET[5:]} end\n")  # a secret split over two writes
        sink.console().print(f"[red]styled[/] {SECRET}")
        table = Table()
        table.add_column("reason", overflow="fold", max_width=8)
        table.add_row(f"password {SECRET}")  # would wrap over several lines
        sink.console(width=20).print(table)
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    for piece in (SECRET[:8], SECRET[8:]):
        assert piece not in out.replace("\n", "").replace("│", "").replace(" ", "")
    assert out.count(MASK) >= 2
    assert MASK in err


def test_secrets_shown_lifts_stdout_only(capsys: pytest.CaptureFixture[str]) -> None:
    with sink.masked_output(), sink.secrets_shown():
        sink.out(f"{SECRET}\n")
        sink.err(f"{SECRET}\n")
        sink.out_json({"k": SECRET})
    out, err = capsys.readouterr()
    assert out.count(SECRET) == 2
    assert SECRET not in err


def test_the_stream_offers_no_buffer_to_write_around_it() -> None:
    target = io.StringIO()
    stream = sink._MaskingStream(target, stdout=True)
    assert not hasattr(stream, "buffer")
    stream.write(f"a {SECRET}")
    stream.flush()
    assert target.getvalue() == f"a {MASK}"


def test_lock_file_writes_are_masked(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        sink.write_fd(fd, f"pid 1 {SECRET}")
    finally:
        os.close(fd)
    assert (tmp_path / "lock").read_text() == f"pid 1 {MASK}"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000])
def test_atomic_files_have_exactly_their_mode(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        sink.write_text(tmp_path / "new" / "folder" / "a.txt", "a\n")  # folders made on demand
        sink.write_text(tmp_path / "b.txt", "b\n", mode=0o600)
        sink.write_text(tmp_path / "b.txt", "b2\n", mode=0o600, sync=False)  # replaced
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new/folder/a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600
    assert (tmp_path / "b.txt").read_text() == "b2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt", "new"]  # no temporary left


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink.write_text(tmp_path / "r.json", "old\n")

    def full(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sink.os, "write", full)
    with pytest.raises(OSError, match="No space"):
        sink.write_text(tmp_path / "r.json", "new\n")
    monkeypatch.undo()
    assert (tmp_path / "r.json").read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_an_atomic_write_never_follows_a_planted_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary name is opened exclusively, without following a link: a link planted
    under that name makes the write fail, the link's target is untouched."""
    target = tmp_path / "target"
    target.write_text("keep\n")
    monkeypatch.setattr(sink.os, "urandom", lambda n: b"\x00" * n)
    (tmp_path / f".r.txt.{'00' * 6}").symlink_to(target)
    with pytest.raises(FileExistsError):
        sink.write_text(tmp_path / "r.txt", "x\n")
    assert target.read_text() == "keep\n"
    assert not (tmp_path / "r.txt").exists()
