"""The local launcher: the command runs on this machine, under the run locks, with audit.config staged around it.

:meth:`LocalLauncher.launch` is the run's sequence of steps, each returning a problem or nothing: take the locks,
prepare the working directory, clear our stale config, refuse a foreign one, place the config, start the command,
wait, end what is left of it, remove the config. The command runs with ``/bin/sh -c`` in its working directory,
with the run's environment, in a process group of its own, with stdout and stderr in the run's output file
(written afresh for each run). The guarantees (:mod:`compliance.pipeline.launch.base`) are kept so:

* the lock descriptors are inherited by the command, so a benchmark that outlives a killed doit still holds them;
  the command gets SIGKILL when the process that started it dies (Linux ``PR_SET_PDEATHSIG``);
* this process is a child subreaper (``PR_SET_CHILD_SUBREAPER``): processes the command started and left behind,
  even in a session of their own, become our children, and are ended (SIGTERM, then SIGKILL) before launch returns;
* on a timeout, SIGINT or SIGTERM the whole group is stopped (SIGTERM, then SIGKILL after a grace period) before
  the config is removed, then the interruption goes on as :class:`compliance.errors.Interrupted` or
  KeyboardInterrupt.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from compliance.errors import Interrupted
from compliance.pipeline import locks, procs, staging
from compliance.pipeline.launch.base import Ending, Launched, Where, clear_logs
from compliance.plan import RunPlan

GRACE_S = 5.0
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the locks and the process group still apply
        pass


def _die_with_parent() -> None:  # runs in the child between fork and exec
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _children() -> set[int]:
    """The pids of this process's children."""
    me = os.getpid()
    return {p.pid for p in procs.processes() if p.parent == me}


def _signal_all(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _reap(pids: set[int], deadline: float) -> set[int]:
    """Wait for ``pids`` (our children) to end until ``deadline``; the ones still alive."""
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                alive.discard(pid)
        if alive:
            time.sleep(0.05)
    return alive


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's process group, SIGKILL after the grace period."""
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _end_leftovers(before: set[int], proc: subprocess.Popen[bytes]) -> int:
    """End every process of the run that is still there: its group, and children left to us; how many there were."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        group_left = True
    except ProcessLookupError:
        group_left = False
    orphans = _children() - before - {proc.pid}
    _signal_all(orphans, signal.SIGTERM)
    alive = _reap(orphans, time.monotonic() + GRACE_S)
    if alive or group_left:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _signal_all(alive, signal.SIGKILL)
        _reap(alive, time.monotonic() + GRACE_S)
    return len(orphans) + (1 if group_left else 0)


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (pending, not lost) until the block is done."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _restore(handler: Any) -> None:
    try:
        signal.signal(signal.SIGTERM, handler)
    except (ValueError, TypeError):
        pass


class LocalLauncher:
    """Runs the command on this machine (the default launcher)."""

    kind = "local"

    def launch(self, run: RunPlan, say: Callable[[str], None] = print) -> Launched:
        start = time.monotonic()
        with locks.held(run) as held:
            for step in (staging.prepare_workdir, staging.clear_stale, staging.refuse_foreign):
                problem = step(run)
                if problem is not None:
                    return Launched(Ending.REFUSED, None, problem, time.monotonic() - start)
            _prctl(_PR_SET_CHILD_SUBREAPER, 1)
            before = _children()
            # From the moment the config is placed (recorded first, then written), whatever happens removes it: a
            # Ctrl-C while the old logs are cleared or the command is started included; its removal is not cut
            # short by a second signal (held until it is done).
            try:
                problem = staging.place(run)
                if problem is not None:
                    return Launched(Ending.REFUSED, None, problem, time.monotonic() - start)
                clear_logs(run)
                ended = self._execute(run, held, say, before)
            except KeyboardInterrupt:  # before the command was waited for (e.g. while it was being started)
                orphans = _children() - before
                _signal_all(orphans, signal.SIGKILL)
                _reap(orphans, time.monotonic() + GRACE_S)
                raise Interrupted("SIGINT", f"run {run.label}", "its audit.config was removed") from None
            finally:
                with _signals_held():
                    removal = staging.remove(run)
        if removal is not None:
            return Launched(
                ended.ending, ended.returncode, removal, ended.duration_s, aftermath=removal, where=ended.where
            )
        return ended

    def _execute(self, run: RunPlan, held: locks.Held, say: Callable[[str], None], before: set[int]) -> Launched:
        env = {**os.environ, **run.env}
        start = time.monotonic()
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            raise Interrupted("SIGTERM", f"run {run.label}", "its audit.config was removed")

        try:
            signal.signal(signal.SIGTERM, on_sigterm)  # before the command starts: a SIGTERM names the run
        except ValueError:  # not the main thread: doit's own handling applies
            pass
        os.makedirs(os.path.dirname(run.files.output) or ".", exist_ok=True)
        with open(run.files.output, "wb") as log:
            log.write(f"$ cd {run.workdir} && {run.command}\n".encode())
            log.flush()
            say(f"  {run.label}: {run.command}  (log: {run.files.output})")
            try:
                proc = subprocess.Popen(
                    run.command,
                    shell=True,
                    cwd=run.workdir,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                    pass_fds=held.fds,
                    preexec_fn=_die_with_parent,
                )
            except OSError as exc:
                _restore(previous)
                return Launched(
                    Ending.LAUNCH_FAILED, None, f"cannot start the command in {run.workdir}: {exc.strerror or exc}", 0.0
                )
            held.started(proc.pid)  # start_new_session: the session id is the command's pid
            try:
                proc.wait(timeout=run.timeout)
                ending, reason = self._exit(proc.returncode, run)
            except subprocess.TimeoutExpired:
                _stop_group(proc)
                ending, reason = (
                    Ending.TIMEOUT,
                    f"timed out after {run.timeout:g} s and was stopped (log: {run.files.output})",
                )
            except KeyboardInterrupt:
                _stop_group(proc)
                _end_leftovers(before, proc)
                raise Interrupted("SIGINT", f"run {run.label}", "its audit.config was removed") from None
            except BaseException:
                _stop_group(proc)
                _end_leftovers(before, proc)
                raise
            finally:
                _restore(previous)
            left = _end_leftovers(before, proc)
            if left:
                log.write(f"mlperf-compliance: ended {left} process(es) the command left running\n".encode())
        return Launched(ending, proc.returncode, reason, time.monotonic() - start, where=Where(socket.gethostname()))

    @staticmethod
    def _exit(returncode: int, run: RunPlan) -> tuple[Ending, str]:
        if returncode < 0:
            name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
            return Ending.SIGNALLED, f"killed by {name} (log: {run.files.output})"
        if returncode:
            return Ending.EXITED, f"exit status {returncode} (log: {run.files.output})"
        return Ending.EXITED, ""
