"""The local launcher: the command runs on this machine, under the run locks, with audit.config staged around it.

:meth:`LocalLauncher.launch` is the run's sequence of steps: take the locks, apply the staging rules before the
command (make the working directory, remove our stale config, refuse a foreign one), place the config, run the
command, remove the config. The command runs through :func:`compliance.pipeline.process.run`: ``/bin/sh -c`` in
its working directory, with the run's environment, its stdout and stderr in the run's output file (written afresh
for each run), under a guard process. The guarantees (:mod:`compliance.pipeline.launch.base`) are kept so:

* the lock descriptors are inherited by the command, so a benchmark that outlives a killed doit still holds them;
* the guard ends every process the command started (``setsid`` ones included) when the command ends, at its
  timeout, on SIGINT or SIGTERM, and when doit dies, before the config is removed; an interruption then goes on as
  :class:`compliance.errors.Interrupted` or KeyboardInterrupt;
* a lock that cannot be taken, and a staging rule that refuses, end the run with the reason, before anything runs.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from compliance.errors import Interrupted
from compliance.pipeline import locks, process, staging
from compliance.pipeline.launch.base import Ending, Launched, Where, clear_logs
from compliance.plan import RunPlan


def _restore(handler: Any) -> None:
    try:
        signal.signal(signal.SIGTERM, handler)
    except (ValueError, TypeError):
        pass


def stopped(problem: staging.Problem, duration_s: float, where: Where) -> Launched:
    """A run that a staging rule did not let start (refused, or its folder or file could not be made)."""
    ending = Ending.REFUSED if problem.outcome is staging.Outcome.REFUSED else Ending.LAUNCH_FAILED
    return Launched(ending, None, problem.message, duration_s, where=where)


class LocalLauncher:
    """Runs the command on this machine (the default launcher)."""

    kind = "local"

    def launch(self, run: RunPlan, say: Callable[[str], None] = print) -> Launched:
        start = time.monotonic()
        where = Where(host=socket.gethostname())
        try:
            with locks.held(run) as held:
                problem = staging.before(run, say)
                if problem is not None:
                    return stopped(problem, time.monotonic() - start, where)
                # From the moment the config is placed (recorded first, then written), whatever happens removes it:
                # a Ctrl-C while the old logs are cleared or the command is started included; its removal is not
                # cut short by a second signal (held until it is done).
                try:
                    problem = staging.place(run)
                    if problem is not None:
                        return stopped(problem, time.monotonic() - start, where)
                    clear_logs(run)
                    ended = self._execute(run, held, say, where)
                except KeyboardInterrupt:
                    raise Interrupted("SIGINT", f"run {run.label}", "its audit.config was removed") from None
                finally:
                    with process.signals_held():
                        removal = staging.remove(run)
        except locks.LockError as exc:
            return Launched(Ending.LAUNCH_FAILED, None, str(exc), time.monotonic() - start, where=where)
        if removal is not None:
            return Launched(
                ended.ending, ended.returncode, removal.message, ended.duration_s, removal.message, ended.where
            )
        return ended

    def _execute(self, run: RunPlan, held: locks.Held, say: Callable[[str], None], where: Where) -> Launched:
        start = time.monotonic()
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            raise Interrupted("SIGTERM", f"run {run.label}", "its audit.config was removed")

        try:
            signal.signal(signal.SIGTERM, on_sigterm)  # before the command starts: a SIGTERM names the run
        except ValueError:  # not the main thread: doit's own handling applies
            pass
        say(f"  {run.label}: {run.command}  (log: {run.files.output})")
        command = process.Command(
            run.command,
            run.workdir,
            run.env,
            run.timeout,
            run.files.output,
            header=f"$ cd {run.workdir} && {run.command}\n",
            pass_fds=held.fds,
        )
        try:
            ran = process.run(command, started=held.started)
        finally:
            _restore(previous)
        if ran.left:
            with open(run.files.output, "ab") as log:
                log.write(f"mlperf-compliance: ended {ran.left} process(es) the command left running\n".encode())
        duration = time.monotonic() - start
        if ran.error is not None:
            return Launched(Ending.LAUNCH_FAILED, None, ran.error, duration, where=where)
        if ran.timed_out:
            reason = f"timed out after {run.timeout:g} s and was stopped (log: {run.files.output})"
            return Launched(Ending.TIMEOUT, ran.returncode, reason, duration, where=where)
        assert ran.returncode is not None
        ending, reason = self._exit(ran.returncode, run)
        return Launched(ending, ran.returncode, reason, duration, where=where)

    @staticmethod
    def _exit(returncode: int, run: RunPlan) -> tuple[Ending, str]:
        if returncode < 0:
            name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
            return Ending.SIGNALLED, f"killed by {name} (log: {run.files.output})"
        if returncode:
            return Ending.EXITED, f"exit status {returncode} (log: {run.files.output})"
        return Ending.EXITED, ""
