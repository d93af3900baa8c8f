"""Run locks: no two runs of one system, or of one working directory, overlap, across every copy of the project.

A run holds two ``flock`` locks: one for its system and one for its working directory, keyed by the directory's
real path. They live in one folder shared by every copy of the project on the machine (``$MLPERF_COMPLIANCE_LOCKS``,
default ``<tmp>/mlperf-compliance-locks``), so two clones sharing a harness directory wait for each other too. The
lock descriptors are inherited by the benchmark's processes (:mod:`compliance.pipeline.launch.local`), so a
benchmark that outlives a killed doit keeps its locks until it ends: the next run waits for it, and says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from compliance.plan import RunPlan

ENV = "MLPERF_COMPLIANCE_LOCKS"


def folder() -> str:
    """The machine-wide lock folder (created, writable by everyone, with the sticky bit, like /tmp)."""
    path = os.environ.get(ENV) or os.path.join(tempfile.gettempdir(), "mlperf-compliance-locks")
    if not os.path.isdir(path):
        os.makedirs(path, exist_ok=True)
        try:
            os.chmod(path, 0o1777)
        except OSError:
            pass
    return path


@dataclass(frozen=True)
class Held:
    """The locks of a run: open descriptors, to be inherited by the benchmark's processes."""

    fds: tuple[int, ...]


def names(run: RunPlan) -> list[tuple[str, str]]:
    """(file name, what it protects) for each lock of ``run``."""
    real = os.path.realpath(run.workdir)
    return [(f"system-{run.system}.lock", f"system {run.system}"),
            ("workdir-" + hashlib.sha256(real.encode()).hexdigest()[:16] + ".lock", f"working directory {real}")]


def _holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return "another run"
    return f"{data.get('label', 'another run')} (pid {data.get('pid', '?')}, since {data.get('since', '?')})"


@contextmanager
def held(run: RunPlan, say: Callable[[str], None] = print) -> Iterator[Held]:
    """Hold the locks of ``run`` (waiting for them, and saying who holds them) for the ``with`` block."""
    fds: list[int] = []
    try:
        for name, what in names(run):
            fd = os.open(os.path.join(folder(), name), os.O_RDWR | os.O_CREAT, 0o666)
            fds.append(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(f"  waiting for the {what}: held by {_holder(fd)}")
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"label": run.label, "pid": os.getpid(),
                                      "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode(), 0)
        yield Held(tuple(fds))
    finally:
        for fd in reversed(fds):
            os.close(fd)  # releases the lock unless a benchmark process still holds the descriptor
