"""What a launcher is: how a run's command is started, by kind (``launcher: {kind: local}`` in a system or
benchmark spec).

What every launcher guarantees (the run action relies on it, and the tests check it for each kind):

1. **audit.config is in the working directory only while the command runs.** The launcher places the run's
   rendered config (:func:`compliance.pipeline.staging.place`) just before the command starts and removes it
   (:func:`~compliance.pipeline.staging.remove`) when the command has ended, on every way out it can catch: exit,
   failure, timeout, SIGINT, SIGTERM. A file that is not ours is never placed over, and never removed.
2. **Nothing of the run outlives it.** When :meth:`Launcher.launch` returns, no process of the run is left (the
   whole process group, and any process that left it, has been ended), so the logs it reads are final.
3. **Logs are where the run plan says**: in ``run.files.logs`` (the command writes them there through
   ``{log_dir}``, or the launcher collects them from the harness's own folder).
4. **The run's end is reported exactly once**, as a :class:`Launched` with an :class:`Ending` and a reason, whether
   the command exited, timed out, was signalled, or (for a scheduler) was preempted, lost with its node or never
   started; an interruption of the tool itself is re-raised as :class:`compliance.errors.Interrupted` or
   KeyboardInterrupt, after the cleanup above.

Adding a launcher: a module beside this one with a class having ``kind`` and ``launch(run) -> Launched``, one line
in the table of :mod:`compliance.pipeline.launch`, and its kind (and settings) in ``schemas/system.schema.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from compliance import layout
from compliance.fsutil import rotate
from compliance.plan import RunPlan
from compliance.records import Where  # defined with the run's record, which keeps it


class Ending(str, Enum):
    """How a run ended."""

    EXITED = "exited"  # the command ended by itself, with an exit status (0 or not)
    TIMEOUT = "timeout"  # stopped at the run's timeout
    SIGNALLED = "signalled"  # the command died of a signal it did not get from us
    CANCELLED = "cancelled"  # cancelled from outside (e.g. scancel)
    PREEMPTED = "preempted"  # a scheduler took its resources
    NODE_FAILURE = "node failure"  # the machine it ran on failed
    LAUNCH_FAILED = "launch failed"  # the command never started (e.g. no such directory, no shell)
    REFUSED = "refused"  # the launcher would not start it (e.g. a foreign audit.config in the directory)


@dataclass(frozen=True)
class Launched:
    """How a run ended: the ending, the command's exit status when it has one, a reason for people."""

    ending: Ending
    returncode: int | None
    reason: str
    duration_s: float
    aftermath: str = ""  # a problem found once the command had ended (e.g. it replaced the staged audit.config)
    where: Where = Where()  # recorded with the run (records: a run's record says where it ran)

    @property
    def ok(self) -> bool:
        return self.ending is Ending.EXITED and self.returncode == 0 and not self.aftermath

    @property
    def problem(self) -> str | None:
        """None when the run succeeded, else the reason."""
        return None if self.ok else (self.aftermath or self.reason)


def clear_logs(run: RunPlan) -> None:
    """Remove the LoadGen logs of an earlier run before a new command starts, and set its output aside (``run.log``
    becomes ``run.log.1``, ...; ``RunFiles.KEPT_OUTPUTS`` are kept), so each run writes an output file of its own
    and ``run.log`` is always the newest. A launcher that re-attaches to a run that is already going on, or
    finished, keeps them."""
    os.makedirs(run.files.logs, exist_ok=True)
    for name in layout.LOG_FILES:
        Path(run.files.logs, name).unlink(missing_ok=True)
    rotate(run.files.output, run.files.KEPT_OUTPUTS)


class Launcher(Protocol):
    """Starts one run and reports how it ended (the guarantees are in the module docstring)."""

    kind: str

    def launch(self, run: RunPlan) -> Launched: ...
