"""The Slurm launcher (``launcher: {kind: slurm}``), a package: :mod:`.launcher` (the launcher),
:mod:`.job` (a launch's lifecycle), :mod:`.script` (settings, sbatch line, job script and its data; the shell is in
``job.sh`` and ``stage.sh``), :mod:`.endings` (the status file and how a run ended), :mod:`.client` (Slurm's
commands, retried). The names below are what the rest of the tool and the tests use."""

from __future__ import annotations

from compliance.pipeline.launch.slurm.client import JobInfo, parse_job
from compliance.pipeline.launch.slurm.endings import Status, ending, read_status
from compliance.pipeline.launch.slurm.launcher import KIND, SlurmLauncher
from compliance.pipeline.launch.slurm.script import Settings, job_environment, job_script, sbatch_args

__all__ = [
    "KIND",
    "JobInfo",
    "Settings",
    "SlurmLauncher",
    "Status",
    "ending",
    "job_environment",
    "job_script",
    "parse_job",
    "read_status",
    "sbatch_args",
]
