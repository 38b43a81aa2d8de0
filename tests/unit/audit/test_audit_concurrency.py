"""Concurrent writers — threads and separate processes — never corrupt or fork the chain."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sdd_build.audit import AuditLog, verify_log

REPO = Path(__file__).resolve().parents[3]

_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from sdd_build.audit import AuditLog

    root, worker, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    log = AuditLog(root)
    sys.stdin.readline()  # start together: maximum contention
    for i in range(count):
        log.append("component", actor=f"worker-{worker}", design="ospf-underlay",
                   worker=worker, i=i, note="x" * (i * 37 % 3000))
    """
)


def _check(root: Path, writers: int, per_writer: int) -> None:
    report = verify_log(root)
    assert report.ok, [str(p) for p in report.problems]
    assert report.warnings == []
    assert report.entries == writers * per_writer
    assert (report.first_seq, report.last_seq) == (1, writers * per_writer)
    entries = AuditLog(root).read()
    assert sorted((e["worker"], e["i"]) for e in entries) == sorted(
        (w, i) for w in range(writers) for i in range(per_writer)
    )
    # Each writer's own entries keep their order.
    for w in range(writers):
        assert [e["i"] for e in entries if e["worker"] == w] == list(range(per_writer))


def test_eight_processes_fifty_appends_each(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), str(w), "50"],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for w in range(8)
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    _check(tmp_path, 8, 50)


def test_eight_threads_fifty_appends_each(tmp_path: Path) -> None:
    def work(w: int) -> None:
        log = AuditLog(tmp_path)  # each writer its own object: the file lock serialises them
        for i in range(50):
            log.append("component", actor=f"thread-{w}", worker=w, i=i)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))
    _check(tmp_path, 8, 50)


def test_one_shared_log_object_across_threads(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)

    def work(w: int) -> None:
        for i in range(25):
            log.append("component", worker=w, i=i)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))
    _check(tmp_path, 8, 25)
