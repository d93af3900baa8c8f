"""How a benchmark command is started. Today a local process; a cluster scheduler (Slurm) can take its place.

A launcher runs one :class:`~compliance.plan.RunPlan` and reports how it ended. The local launcher starts the
command with the shell, in its working directory, with the run's environment, in a new process group (LoadGen keeps
process-global state, so each run is its own process), with stdout and stderr appended to the run's log file. On a
timeout, SIGINT or SIGTERM it stops the whole group (SIGTERM, then SIGKILL after a grace period) before returning or
re-raising, so the caller's cleanup (removing the staged audit.config) always runs after the benchmark is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Protocol

from compliance.plan import RunPlan

GRACE_S = 5.0


class Terminated(BaseException):
    """SIGTERM arrived while a run was going on (raised like KeyboardInterrupt, so cleanup code runs)."""


@dataclass(frozen=True)
class Launched:
    """How a run ended."""

    returncode: int | None
    timed_out: bool
    duration_s: float


class Launcher(Protocol):
    def launch(self, run: RunPlan) -> Launched: ...


def _stop(proc: subprocess.Popen) -> None:
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


class LocalLauncher:
    """Runs the command on this machine."""

    def launch(self, run: RunPlan) -> Launched:
        env = {**os.environ, **run.env}
        start = time.monotonic()
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum, frame):  # noqa: ARG001
            raise Terminated()

        with open(run.stdout_log, "ab") as log:
            log.write(f"$ cd {run.workdir} && {run.command}\n".encode())
            log.flush()
            proc = subprocess.Popen(run.command, shell=True, cwd=run.workdir, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                signal.signal(signal.SIGTERM, on_sigterm)
            except ValueError:  # not the main thread: doit's own handling applies
                pass
            try:
                proc.wait(timeout=run.timeout)
                return Launched(proc.returncode, False, time.monotonic() - start)
            except subprocess.TimeoutExpired:
                _stop(proc)
                return Launched(proc.returncode, True, time.monotonic() - start)
            except BaseException:
                _stop(proc)
                raise
            finally:
                try:
                    signal.signal(signal.SIGTERM, previous)
                except (ValueError, TypeError):
                    pass
