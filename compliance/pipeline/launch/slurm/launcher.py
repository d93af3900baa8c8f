"""The Slurm launcher: each run is one batch job, and its audit.config is staged inside the job, on the node
(docs/slurm.md). The job's script, data and sbatch line are :mod:`~compliance.pipeline.launch.slurm.script`'s,
talking to Slurm is :mod:`~compliance.pipeline.launch.slurm.client`'s, a launch's lifecycle
:mod:`~compliance.pipeline.launch.slurm.job`'s, and how it ended :mod:`~compliance.pipeline.launch.slurm.endings`'s.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable
from types import FrameType

from compliance.errors import Interrupted
from compliance.pipeline.launch.base import Ending, Launched
from compliance.pipeline.launch.slurm.client import COMMANDS
from compliance.pipeline.launch.slurm.job import Job
from compliance.plan import RunPlan

KIND = "slurm"


class SlurmLauncher:
    """Runs each command as a Slurm batch job (``launcher: {kind: slurm, ...}``)."""

    kind = KIND

    def launch(self, run: RunPlan, say: Callable[[str], None] = print) -> Launched:
        missing = [name for name in COMMANDS if shutil.which(name) is None]
        if missing:
            return Launched(
                Ending.LAUNCH_FAILED,
                None,
                f"system {run.system} runs with the Slurm launcher, but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not on PATH here: install the Slurm client "
                "(or load its module) on the machine that runs doit",
                0.0,
            )
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            raise Interrupted(
                "SIGTERM", f"run {run.label}", "its Slurm job was cancelled, and the job removed its audit.config"
            )

        try:
            signal.signal(signal.SIGTERM, on_sigterm)
        except ValueError:  # not the main thread: doit's own handling applies
            pass
        try:
            return Job(run, say).go()
        finally:
            try:
                signal.signal(signal.SIGTERM, previous)
            except (ValueError, TypeError):
                pass
