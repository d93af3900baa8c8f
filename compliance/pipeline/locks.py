"""Run locks: no two runs of one system, or of one working directory, overlap, across every copy of the project.

A run holds two ``flock`` locks: one for its system and one for its working directory, keyed by the directory's
real path. They live in one folder shared by every copy of the project on the machine (``$MLPERF_COMPLIANCE_LOCKS``,
default ``<tmp>/mlperf-compliance-locks``), so two clones sharing a harness directory wait for each other too. The
lock descriptors are inherited by the benchmark's processes (:mod:`compliance.pipeline.launch.local`), so a
benchmark that outlives a killed doit keeps its locks until it ends; and each lock records the session of the run's
command, so a next run also waits for processes of that session that did not inherit the descriptors (a wrapper's
children): it waits, and says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from compliance.pipeline import procs
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
    label: str

    def started(self, session: int) -> None:
        """Record the session of the run's command in the locks, for the next run to wait for what outlives it."""
        for fd in self.fds:
            _write_holder(
                fd,
                {
                    "label": self.label,
                    "pid": os.getpid(),
                    "session": session,
                    "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                },
            )


def _write_holder(fd: int, data: dict[str, object]) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(data).encode(), 0)


def _read_holder(fd: int) -> dict[str, object]:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def session_members(session: int) -> list[int]:
    """The live processes of ``session`` (zombies excluded)."""
    return [p.pid for p in procs.processes() if p.session == session and p.state != "Z"]


def _wait_for_orphans(fd: int, what: str, say: Callable[[str], None]) -> None:
    """A run of an earlier doit that was killed may have left its benchmark running: wait until it has ended."""
    previous = _read_holder(fd)
    session = previous.get("session")
    if not isinstance(session, int) or session == os.getsid(0):
        return
    told = False
    while session_members(session):
        if not told:
            say(
                f"  waiting for the {what}: processes of an earlier run ({previous.get('label')}, session "
                f"{session}) are still running: {', '.join(map(str, session_members(session)[:5]))}"
            )
            told = True
        time.sleep(0.5)


def names(run: RunPlan) -> list[tuple[str, str]]:
    """(file name, what it protects) for each lock of ``run``."""
    real = os.path.realpath(run.workdir)
    return [
        (f"system-{run.system}.lock", f"system {run.system}"),
        ("workdir-" + hashlib.sha256(real.encode()).hexdigest()[:16] + ".lock", f"working directory {real}"),
    ]


def _holder(fd: int) -> str:
    data = _read_holder(fd)
    return f"{data.get('label', 'another run')} (pid {data.get('pid', '?')}, since {data.get('since', '?')})"


def _tell(text: str) -> None:
    """Waiting is said at once, on stderr, which doit does not capture by default."""
    print(text, file=sys.stderr, flush=True)


@contextmanager
def held(run: RunPlan, say: Callable[[str], None] = _tell) -> Iterator[Held]:
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
            _wait_for_orphans(fd, what, say)
            _write_holder(fd, {"label": run.label, "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")})
        yield Held(tuple(fds), run.label)
    finally:
        for fd in reversed(fds):
            os.close(fd)  # releases the lock unless a benchmark process still holds the descriptor
