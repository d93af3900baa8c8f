"""Run locks: no two runs of one system, or of one working directory, overlap, across every copy of the project and
every user of the machine.

A run holds two ``flock`` locks: one for its system and one for its working directory, keyed by the directory's
real path. They live in one folder shared by every copy of the project and every user on the machine
(``$MLPERF_COMPLIANCE_LOCKS``, default ``<tmp>/mlperf-compliance-locks``), so two clones sharing a harness
directory wait for each other, and so do two users running one system.

Shared by every user (docs/slurm.md, "Run locks on a shared machine"): the folder is made world-writable with the
sticky bit (like /tmp: anyone adds a file, nobody removes another's), each lock file is created mode 0666 whatever
the umask (``fchmod`` after an exclusive create), and an existing file is opened without ``O_CREAT`` (Linux's
``protected_regular`` forbids ``O_CREAT`` on another user's file in a sticky folder), without following a symbolic
link, and read-only when it cannot be opened for writing (a file an older release made 0644): ``flock`` needs no
write access; only the holder's note is then not written. Any failure to take a lock is a :class:`LockError`
naming the file and the remedy, which the launchers report as the run's failure.

The lock descriptors are inherited by the benchmark's processes (:mod:`compliance.pipeline.process`), so a
benchmark that outlives a killed doit keeps its locks until it ends; and each lock records the session of the run's
command, so a next run also waits for processes of that session that did not inherit the descriptors: it waits,
and says so.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from compliance import layout
from compliance.errors import InputError
from compliance.pipeline import procs
from compliance.plan import RunPlan

ENV = "MLPERF_COMPLIANCE_LOCKS"
FOLDER_MODE = 0o1777  # everyone adds lock files, nobody removes another's (the sticky bit)
FILE_MODE = 0o666


class LockError(InputError):
    """A run lock cannot be taken (its folder or file is not usable by this user); the message says what to do."""


def folder_path() -> str:
    """The machine-wide lock folder's path (``$MLPERF_COMPLIANCE_LOCKS``, or one in the temporary folder)."""
    return os.environ.get(ENV) or os.path.join(tempfile.gettempdir(), "mlperf-compliance-locks")


def folder() -> str:
    """The machine-wide lock folder (created world-writable with the sticky bit, like /tmp)."""
    path = folder_path()
    if not os.path.isdir(path):
        try:
            os.makedirs(path, exist_ok=True)
            os.chmod(path, FOLDER_MODE)  # makedirs applies the umask
        except OSError as exc:
            raise LockError(
                f"cannot make the lock folder {path}: {exc.strerror or exc}; set {ENV} to a folder every user of "
                "this machine can write"
            ) from None
    return path


def _folder_hint(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return ""
    if st.st_mode & 0o1777 == FOLDER_MODE:
        return ""
    return (
        f" (the folder {path} has mode {stat.S_IMODE(st.st_mode):o}: its owner, uid {st.st_uid}, can make it "
        f"shared with 'chmod 1777 {path}')"
    )


def open_lock(path: str) -> int:
    """A descriptor of the lock file ``path``, created (mode 0666) when missing.

    Raises:
        LockError: it cannot be opened or created, or it is not a regular file.
    """
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # no symlink followed, no FIFO waited on
    for _ in range(5):
        try:
            try:
                fd = os.open(path, os.O_RDWR | flags)
            except PermissionError:
                fd = os.open(path, os.O_RDONLY | flags)  # another user's file not writable by us: flock still works
        except FileNotFoundError:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | flags, FILE_MODE)
            except FileExistsError:
                continue  # another run made it meanwhile: open that one
            except OSError as exc:
                hint = _folder_hint(os.path.dirname(path))
                raise LockError(f"cannot create the lock file {path}: {exc.strerror or exc}{hint}") from None
            try:
                os.fchmod(fd, FILE_MODE)  # the umask narrowed it: every user must be able to open it
            except OSError:
                pass
        except OSError as exc:
            why = "it is a symbolic link" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
            raise LockError(
                f"cannot open the lock file {path}: {why}; remove it (its owner or root can) or set {ENV} to "
                "another folder every user of this machine can write"
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise LockError(f"the lock file {path} is not a regular file: remove it")
        os.set_blocking(fd, True)
        return fd
    raise LockError(f"cannot open the lock file {path}: it keeps appearing and disappearing")


@dataclass(frozen=True)
class Held:
    """The locks of a run: open descriptors, to be inherited by the benchmark's processes."""

    fds: tuple[int, ...]
    label: str

    def started(self, session: int) -> None:
        """Record the session of the run's command in the locks, for the next run to wait for what outlives it."""
        for fd in self.fds:
            _write_holder(fd, _note(self.label, session=session))


def _note(label: str, **extra: object) -> dict[str, object]:
    return {"label": label, "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S"), **extra}


def _write_holder(fd: int, data: dict[str, object]) -> None:
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(data).encode(), 0)
    except OSError:  # opened read-only (another user's file): the lock holds, the note is not written
        pass


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
    if not isinstance(session, int) or session <= 1 or session == os.getsid(0):
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
    """(file name, what it protects) for each lock of ``run``: its system's, its working directory's."""
    real = os.path.realpath(run.workdir)
    return [
        (f"system-{run.system}.lock", f"system {run.system}"),
        (f"workdir-{layout.workdir_key(real)}.lock", f"working directory {real}"),
    ]


def _holder(fd: int) -> str:
    data = _read_holder(fd)
    return f"{data.get('label', 'another run')} (pid {data.get('pid', '?')}, since {data.get('since', '?')})"


def _tell(text: str) -> None:
    """Waiting is said at once, on stderr, which doit does not capture by default."""
    print(text, file=sys.stderr, flush=True)


def _take(path: str, what: str, label: str, say: Callable[[str], None], wait: bool) -> int | None:
    """Open and lock one lock file; its descriptor, or None when ``wait`` is false and another run holds it."""
    fd = open_lock(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                os.close(fd)
                return None
            say(f"  waiting for the {what}: held by {_holder(fd)}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        _wait_for_orphans(fd, what, say)
        _write_holder(fd, _note(label))
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def held(run: RunPlan, say: Callable[[str], None] = _tell) -> Iterator[Held]:
    """Hold the locks of ``run`` (waiting for them, and saying who holds them) for the ``with`` block.

    Raises:
        LockError: a lock cannot be taken.
    """
    fds: list[int] = []
    try:
        base = folder()
        for name, what in names(run):
            fd = _take(os.path.join(base, name), what, run.label, say, wait=True)
            assert fd is not None
            fds.append(fd)
        yield Held(tuple(fds), run.label)
    finally:
        for fd in reversed(fds):
            os.close(fd)  # releases the lock unless a benchmark process still holds the descriptor


@contextmanager
def workdir_held(run: RunPlan, say: Callable[[str], None] = _tell, wait: bool = True) -> Iterator[bool]:
    """Hold the run's working-directory lock only (a batch job's controller updating the staging record); yields
    False when ``wait`` is false and another run holds it.

    Raises:
        LockError: the lock cannot be taken.
    """
    name, what = names(run)[1]
    fd = _take(os.path.join(folder(), name), what, run.label, say, wait)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            os.close(fd)
