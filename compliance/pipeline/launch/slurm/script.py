"""A run's batch job: its settings, the sbatch command line, the job script and the data it receives.

The script is the template ``job.sh`` with the staging rules of :mod:`compliance.pipeline.staging` as shell:
``stage.sh`` (one function per :class:`~compliance.pipeline.staging.Check`) and the bodies of ``stage_in`` and
``stage_out``, generated from :data:`~compliance.pipeline.staging.RULES` (a line per rule that applies to the run:
its index, id, check, file and outcome, all constants of that table). Every value of the run reaches the job as
data, in its environment (:func:`job_environment`; sbatch passes its own environment to the job, ``--export=ALL``):
paths, the command, the spec's environment, the audit.config text and the sentences the job prints. So no path or
command, whatever it holds (``$(...)``, quotes, backslashes, newlines, ``%``), is ever shell code of the job, and
any path that works locally works under Slurm.
"""

from __future__ import annotations

import json
import math
import os
import shlex
from dataclasses import dataclass
from importlib import resources

from compliance import layout
from compliance.pipeline import locks, staging
from compliance.plan import RunPlan
from compliance.specs import sbatch

TIME_MARGIN_MIN = 1  # minutes added to the run's timeout for Slurm's own time limit (the backstop)
EXIT_REFUSED = 97  # the job's exit status when staging refused (a foreign audit.config, a folder not ours)
EXIT_SETUP = 98  # ... when the job could not prepare the run (no such directory, no sha256sum, a lock)
PREFIX = "MLPERF_COMPLIANCE_JOB_"  # the job's data in its environment


@dataclass(frozen=True)
class Settings:
    """A ``launcher: {kind: slurm, ...}`` block, as the spec loader resolved it (its defaults filled in)."""

    partition: str | None
    nodelist: str | None
    constraint: str | None
    account: str | None
    qos: str | None
    exclusive: bool
    sbatch_options: tuple[str, ...]

    @classmethod
    def of(cls, run: RunPlan) -> Settings:
        data = dict(run.launcher.settings)
        return cls(
            data.get("partition"),
            data.get("nodelist"),
            data.get("constraint"),
            data.get("account"),
            data.get("qos"),
            bool(data["exclusive"]),
            tuple(data["sbatch_options"]),
        )

    def options(self) -> list[str]:
        flags = [
            f"--{name}={value}"
            for name, value in (
                ("partition", self.partition),
                ("nodelist", self.nodelist),
                ("constraint", self.constraint),
                ("account", self.account),
                ("qos", self.qos),
            )
            if value
        ]
        return flags + (["--exclusive"] if self.exclusive else []) + list(self.sbatch_options)

    def problems(self) -> list[str]:
        """What sbatch would read in the spec's options that the launcher must refuse (checked by validate too)."""
        return sbatch.problems(self.sbatch_options)

    def where(self) -> str:
        parts = [
            f"{name} {value}"
            for name, value in (
                ("partition", self.partition),
                ("nodes", self.nodelist),
                ("constraint", self.constraint),
            )
            if value
        ]
        return ", ".join((parts or ["default partition"]) + (["exclusive"] if self.exclusive else []))


def job_name(run: RunPlan) -> str:
    """The job name of every run of the run's system: with ``--dependency=singleton`` one runs at a time."""
    return f"mlperf-compliance.{run.system}"


def time_limit_minutes(timeout: float) -> int:
    """Slurm's ``--time`` for a run: its timeout in whole minutes, rounded up, and a margin."""
    return math.ceil(timeout / 60) + TIME_MARGIN_MIN


def _output_option(path: str) -> tuple[str, str | None]:
    """sbatch's ``--output`` for the run's output file, and the path the script must write itself when sbatch
    cannot name it. sbatch expands ``%j``, ``%N``... there (``%%`` is a literal %), and a path holding a backslash
    is taken with every backslash removed (measured on Slurm 22.05): such a path goes to the script as data."""
    path = os.path.abspath(path)
    if "\\" in path:
        return "--output=/dev/null", path
    return f"--output={path.replace('%', '%%')}", None


def sbatch_args(run: RunPlan, settings: Settings, files: layout.JobFiles, token: str) -> list[str]:
    """The sbatch command line for the run's job (the spec's options last; the ones that would change what the
    launcher sets are refused beforehand, :func:`compliance.specs.sbatch.problems`). ``--chdir`` is taken as
    written (no ``%`` expansion)."""
    return [
        "sbatch",
        "--parsable",
        f"--job-name={job_name(run)}",
        "--dependency=singleton",
        f"--comment={token}",
        _output_option(run.files.output)[0],
        "--open-mode=truncate",
        f"--chdir={os.path.abspath(files.folder)}",
        "--no-requeue",
        f"--time={time_limit_minutes(run.timeout)}",
        *settings.options(),
        os.path.abspath(files.script),
    ]


def applied_rules(run: RunPlan, phase: staging.Phase) -> list[tuple[int, staging.Rule]]:
    """The rules of ``phase`` that apply to ``run``, with their index in the table."""
    return [(i, r) for i, r in enumerate(staging.RULES) if r.phase is phase and r.applies_to(run)]


def _rule_lines(run: RunPlan, phases: tuple[staging.Phase, ...]) -> str:
    lines = []
    for phase in phases:
        for index, rule in applied_rules(run, phase):
            call = ["stage_rule", str(index), rule.id, rule.check.value, rule.file, rule.outcome.value]
            lines.append("    " + " ".join(shlex.quote(part) for part in call) + " || return")
    return "\n".join(lines) or "    :"


def _template(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def stage_shell(run: RunPlan) -> str:
    """The staging part of the job script: ``stage.sh`` with the rules that apply to ``run`` (no value of it)."""
    stage = _template("stage.sh")
    stage = stage.replace("@STAGE_IN@", _rule_lines(run, (staging.Phase.BEFORE, staging.Phase.PLACE)))
    return stage.replace("@STAGE_OUT@", _rule_lines(run, (staging.Phase.AFTER,)))


def job_script(run: RunPlan) -> str:
    """The job script of ``run``: the templates, with the staging rules that apply to it (no value of the run)."""
    script = _template("job.sh").replace("@STAGE@", stage_shell(run).rstrip("\n"))
    return script.replace("@EXIT_REFUSED@", str(EXIT_REFUSED)).replace("@EXIT_SETUP@", str(EXIT_SETUP))


def job_environment(run: RunPlan, files: layout.JobFiles) -> dict[str, str]:
    """The data of the run's job: what :func:`job_script` reads from its environment."""
    [(system_lock, system_what), (workdir_lock, workdir_what)] = locks.names(run)
    lock_dir = locks.folder_path()
    data = {
        "LABEL": run.label,
        "LABEL_JSON": json.dumps(run.label),
        "STATUS": os.path.abspath(files.status),
        "STARTED": os.path.abspath(files.started),
        "WORKDIR": os.path.abspath(run.workdir),
        "RECORD": os.path.abspath(staging.record_path(run)),
        "OURS": staging.text_sha(run),
        "ISOLATED": "1" if run.isolated else "",
        "MARKER": layout.ISOLATED_MARKER,
        "MARKER_TEXT": f"working directory of {run.label}",
        "COMMAND": run.command,
        "SHOWN": f"$ cd {run.workdir} && {run.command}",
        "LOCK_DIR": lock_dir,
        "LOCK_SYSTEM": os.path.join(lock_dir, system_lock),
        "LOCK_SYSTEM_WHAT": system_what,
        "LOCK_WORKDIR": os.path.join(lock_dir, workdir_lock),
        "LOCK_WORKDIR_WHAT": workdir_what,
        "ENV_NAMES": " ".join(sorted(run.env)),
    }
    if run.audit_text is not None:
        data["AUDIT_TEXT"] = run.audit_text
    own_output = _output_option(run.files.output)[1]
    if own_output is not None:
        data["OUTPUT"] = own_output
    for name, value in run.env.items():
        data[f"ENV_{name}"] = str(value)
    for phase in staging.Phase:
        for index, rule in applied_rules(run, phase):
            data[f"RULE_{index}"] = rule.message(run)
    return {PREFIX + key: value for key, value in data.items()}


def submission_environment(run: RunPlan, files: layout.JobFiles) -> dict[str, str]:
    """The environment sbatch runs with, which the job gets: this process's (without job data of an enclosing
    run) and the run's job data."""
    own = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    return {**own, **job_environment(run, files)}
