"""Run a pure function over the halves of a list on two cores: a forked child takes the tail.

Rendering a plan is CPU-bound pure Python: threads do not help, and a process pool would have
to import sdd-build and load the design again. A child forked *after* loading starts with all
of it (compiled templates included) for free, renders the tail of the hosts while this
process renders the head, and sends its results back pickled through a pipe; the results are
joined in the original order, so the outcome is the same as one process would give.

Off by default, on with ``SDD_RENDER_PROCESSES=2``: measured on a quiet 2-core machine, sending
the child's results back (pickling half a million steps) costs more than the half it renders
(1,000 components x 1,000 hosts: 5.5 s forked against 4.2 s in one process,
bench/results/design_scale-1000x1000.txt). When on, used only where forking is safe: a POSIX
system with more than one core, no other thread in this process (a lock held by another
thread would stay held in the child for ever), and enough work. If the child fails in any
way, its half is done here: the fork is a speed-up, never a way for a result to differ.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["processes", "two_halves"]

T = TypeVar("T")
R = TypeVar("R")


def processes() -> int:
    """How many processes a render may use here: 1 or 2."""
    raw = os.environ.get("SDD_RENDER_PROCESSES", "").strip()
    if raw != "2" or not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    return 2 if (os.cpu_count() or 1) > 1 else 1


def two_halves(fn: Callable[[Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
    """``fn(items)``, computed as ``fn(head) + fn(tail)`` with the tail in a forked child."""
    if len(items) < 2 or processes() < 2:
        return fn(items)
    middle = len(items) // 2
    head, tail = items[:middle], items[middle:]
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running any exit handler
        status = 1
        try:
            os.close(read_fd)
            data = pickle.dumps(fn(tail), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        mine = fn(head)
    finally:
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()
        _, wait_status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(wait_status) != 0 or not data:
        return mine + fn(tail)  # the child failed: its half here (errors raised as usual)
    theirs: list[R] = pickle.loads(data)  # our own child's bytes
    return mine + theirs
