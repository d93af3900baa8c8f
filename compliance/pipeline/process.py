"""The one way this tool starts a command (a benchmark, an accuracy command): through a guard process that ends it
and everything it started, whatever happens to it or to doit.

:func:`run` starts :mod:`compliance.pipeline.guard` in a session of its own, which runs the command in a process
group of its own; the guard enforces the timeout and the output limit, and ends what the command left running,
``setsid`` children included (it is their subreaper), also when doit is SIGKILLed (it gets SIGTERM when doit
dies). Here doit waits for the guard; on Ctrl-C or SIGTERM it asks the guard to stop the command, waits until it
has (the signals wait meanwhile), and lets the interruption go on.

Only this package starts processes (docs/architecture.md): the verify layer gets :func:`accuracy_runner` to run an
accuracy command (:class:`compliance.verify.scoring.Runner`).
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.verify import scoring

GUARD = Path(__file__).with_name("guard.py")
GRACE_S = 5.0  # SIGTERM, then SIGKILL this much later (the group, then what it left)
#: How long past the command's timeout doit waits for the guard before it ends the guard itself (a guard stops the
#: group and what it left within about 3 grace periods)
GUARD_MARGIN_S = 4 * GRACE_S + 30.0


@dataclass(frozen=True)
class Command:
    """A command to run: ``/bin/sh -c shell`` in ``cwd`` with ``env`` added to this process's environment."""

    shell: str
    cwd: str
    env: Mapping[str, str]
    timeout_s: float
    output: str  # the file that receives its stdout and stderr (written afresh)
    header: str = ""  # written at the top of the output, before the command's
    output_limit: int | None = None  # bytes of output kept; a command printing more is stopped
    pass_fds: tuple[int, ...] = ()  # descriptors the command inherits (the run locks)


@dataclass(frozen=True)
class Ran:
    """How a command ended."""

    returncode: int | None  # exit status, negative for the signal that ended it; None: it did not start
    timed_out: bool = False
    overflowed: bool = False  # it printed more than the output limit, and was stopped
    stopped: str | None = None  # "asked" (Ctrl-C, SIGTERM to doit), "parent" (doit died)
    left: int = 0  # processes it left running, ended after it
    error: str | None = None  # why it did not start, or why its end is not known
    duration_s: float = 0.0


def _read_reports(fd: int) -> list[dict[str, Any]]:
    """The guard's reports: one Python literal (a dict of numbers, booleans, None and strings) a line."""
    chunks = []
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    reports = []
    for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
        try:
            found = ast.literal_eval(line)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(found, dict):
            reports.append(found)
    return reports


@contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (pending, not lost) until the block is done."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _end_guard(guard: subprocess.Popen[bytes], patience: float) -> None:
    """Ask the guard to stop the command, wait for it; SIGKILL it (and its session) when it does not end."""
    try:
        guard.send_signal(signal.SIGTERM)
        guard.wait(timeout=patience)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(guard.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        guard.wait()


def run(command: Command, started: Callable[[int], None] | None = None) -> Ran:
    """Run ``command`` to its end; ``started`` gets the session id of its processes (the guard's pid) once it runs.

    Re-raises KeyboardInterrupt and :class:`compliance.errors.Interrupted` once the command and everything it
    started have ended.
    """
    begin = time.monotonic()
    reader, writer = os.pipe()
    args = [
        command.cwd,
        repr(float(command.timeout_s)),
        repr(GRACE_S),
        str(command.output_limit if command.output_limit is not None else -1),
        str(writer),
        str(os.getpid()),
        ",".join(str(fd) for fd in command.pass_fds),
        "--",
        command.shell,
        *(f"{name}={value}" for name, value in command.env.items()),
    ]
    try:
        os.makedirs(os.path.dirname(command.output) or ".", exist_ok=True)
        with open(command.output, "wb") as out:
            out.write(command.header.encode("utf-8", "replace"))
            out.flush()
            try:
                guard = subprocess.Popen(
                    [sys.executable, "-I", "-S", str(GUARD), *args],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C at a terminal reaches doit only; doit tells the guard
                    pass_fds=(writer, *command.pass_fds),
                )
            except OSError as exc:
                return Ran(None, error=f"cannot start {sys.executable}: {exc.strerror or exc}")
            os.close(writer)
            writer = -1
            try:
                if started is not None:
                    started(guard.pid)
                guard.wait(timeout=command.timeout_s + GUARD_MARGIN_S)
            except subprocess.TimeoutExpired:
                with signals_held():
                    _end_guard(guard, 3 * GRACE_S)
                return Ran(None, error="its guard process did not end in time and was killed")
            except BaseException:  # Ctrl-C, SIGTERM (Interrupted), a bug: nothing it started outlives it
                with signals_held():
                    _end_guard(guard, 4 * GRACE_S)
                raise
    finally:
        if writer >= 0:
            os.close(writer)
        reports = _read_reports(reader)
        os.close(reader)
    duration = time.monotonic() - begin
    end = reports[-1] if reports else {}
    if "error" in end:
        return Ran(None, error=str(end["error"]), duration_s=duration)
    if "exit" not in end:
        return Ran(
            None,
            error=f"its guard process ended without a report (exit status {guard.returncode})",
            duration_s=duration,
        )
    return Ran(
        end["exit"] if isinstance(end["exit"], int) else None,
        bool(end.get("timed_out")),
        bool(end.get("overflowed")),
        end.get("stopped") if isinstance(end.get("stopped"), str) else None,
        int(end.get("left") or 0),
        None,
        duration,
    )


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit} bytes"


def accuracy_runner(
    command: str, cwd: Path, env: Mapping[str, str], timeout_s: float, output: Path, limit: int
) -> int | str:
    """Run an accuracy command (:class:`compliance.verify.scoring.Runner`): its exit status (negative: the signal
    that ended it), or why it did not run to its end."""
    ran = run(Command(command, str(cwd), env, timeout_s, str(output), output_limit=limit))
    if ran.error is not None:
        return f"the accuracy command {ran.error}" if ran.error.startswith("its ") else ran.error
    if ran.timed_out:
        return f"the accuracy command timed out after {timeout_s:g} s and was stopped"
    if ran.overflowed:
        return f"the accuracy command printed more than {_size(limit)} and was stopped"
    if ran.stopped is not None:
        return "the accuracy command was stopped (doit was interrupted)"
    assert ran.returncode is not None
    return ran.returncode


RUN_ACCURACY: scoring.Runner = accuracy_runner  # what the verify layer is given (the type it declares)
