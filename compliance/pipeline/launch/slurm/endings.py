"""How a run's Slurm job ended: the job's status file (the protocol between the job script and this process) and
the mapping of Slurm's view, that file and what this process did to a :class:`Launched`.

The status file (``run.job/status``, written atomically by the job when it ends) has one ``key=value`` a line:
``job`` (its id), ``node`` and ``host`` (where it ran), ``exit`` (the command's exit status, the shell's: 128+N
when signal N ended it), ``signal`` (TERM, INT, HUP: the job was signalled before the command ended), ``refused``
and ``failed`` (the id of the staging rule that stopped the run, :data:`compliance.pipeline.staging.RULES`, or of
the job's own check, :data:`JOB_FAILURES`), ``aftermath`` (the id of the rule that fired after the command) and
``audit`` (none: nothing placed, removed, absent: the command deleted it, replaced). The job writes ids only, never
a sentence or a path: the sentences are rendered here, from the same table as for local runs. The controller
trusts that file, not the job's state: a job whose launch failed can read COMPLETED 0:0 (docs/slurm.md of the
shared facts), so a finished job without a status file is a launch failure.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from compliance.pipeline import locks, staging
from compliance.pipeline.launch.base import Ending, Launched, Where
from compliance.pipeline.launch.slurm.client import JobInfo
from compliance.plan import RunPlan

#: Job states whose run is submitted again on resume (the command did not get to its end)
RESUBMIT = frozenset({"PREEMPTED", "NODE_FAIL", "BOOT_FAIL"})
#: Reasons a pending job keeps until its spec is changed (squeue(1), JOB REASON CODES): such a job is cancelled
#: and the run fails, instead of waiting for ever
NEVER_STARTS = frozenset(
    {
        "PartitionTimeLimit",
        "PartitionNodeLimit",
        "DependencyNeverSatisfied",
        "InvalidAccount",
        "InvalidQOS",
        "BadConstraints",
    }
)
#: What the job checks itself before staging (``failed=<id>``), and the sentence for each
JOB_FAILURES = {
    "no-sha256sum": "sha256sum is not on PATH on {node}: the job cannot tell its audit.config",
    "lock-system": "cannot open or create the lock file {lock} on {node} (docs/slurm.md: run locks)",
    "lock-workdir": "cannot open or create the lock file {lock} on {node} (docs/slurm.md: run locks)",
}


@dataclass(frozen=True)
class Status:
    """What the job script wrote to its status file when it ended."""

    job: str
    node: str
    exit: int | None  # the command's exit status (the shell's: 128+N when a signal N ended it)
    signal: str | None  # the job was signalled (TERM, INT, HUP) before the command ended
    refused: str | None  # the id of the staging rule that refused to run
    failed: str | None  # the id of the rule or check that could not prepare the run
    audit: str  # none (nothing placed), removed, absent (the command deleted it), replaced
    aftermath: str  # the id of the rule that fired after the command (replaced), or ""
    host: str = ""

    @property
    def placed_file_gone(self) -> bool:
        """The job said what became of the file: nothing of ours is left where it ran."""
        return self.audit in ("none", "removed", "absent", "replaced")


def read_status(path: str, job_id: str) -> Status | None:
    """The status file of job ``job_id`` (None when absent, unreadable, or written by another job)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key] = value
    if values.get("job") != job_id or "audit" not in values:
        return None
    code = values.get("exit")
    return Status(
        job_id,
        values.get("node", ""),
        int(code) if code and code.isdigit() else None,
        values.get("signal"),
        values.get("refused"),
        values.get("failed"),
        values["audit"],
        values.get("aftermath", ""),
        values.get("host", ""),
    )


def sentence(run: RunPlan, rule_id: str, node: str) -> str:
    """What the user reads for a rule or check id the job reported."""
    where = f" on {node or '?'}"
    if rule_id in staging.BY_ID:
        return staging.BY_ID[rule_id].message(run, where)
    if rule_id in JOB_FAILURES:
        system_lock, workdir_lock = (os.path.join(locks.folder_path(), name) for name, _ in locks.names(run))
        lock = system_lock if rule_id == "lock-system" else workdir_lock
        return JOB_FAILURES[rule_id].format(node=node or "?", lock=lock)
    return f"the job reported {rule_id!r}{where}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def ending(
    run: RunPlan, job_id: str, info: JobInfo | None, status: Status | None, stopped: str | None, duration_s: float
) -> Launched:
    """How a run's job ended, from Slurm's view (``info``; None: Slurm no longer knows the job), the job's status
    file (None: it wrote none) and what this process did (``stopped``: "timeout" when it cancelled the job at the
    run's timeout, "never:<Reason>" when it cancelled a job Slurm would never start). ``duration_s`` runs from the
    launch, queueing included."""
    log = f"(log: {run.files.output})"
    nodes = (status.node if status else "") or (info.nodes if info else "") or "?"
    where = Where(host=status.host if status else "", job_id=job_id, node=nodes if nodes != "?" else "")
    aftermath = sentence(run, status.aftermath, nodes) if status and status.aftermath else ""

    def end(how: Ending, returncode: int | None, reason: str) -> Launched:
        return Launched(how, returncode, reason, duration_s, aftermath, where)

    if status is not None and status.refused:
        return end(Ending.REFUSED, None, sentence(run, status.refused, nodes))
    if status is not None and status.failed:
        return end(Ending.LAUNCH_FAILED, None, f"{sentence(run, status.failed, nodes)} (Slurm job {job_id}) {log}")
    if stopped is not None and stopped.startswith("never:"):
        return end(
            Ending.LAUNCH_FAILED,
            None,
            f"Slurm would never start job {job_id} (pending with reason "
            f"{stopped[6:]}): it was cancelled; change the launcher settings of "
            f"system {run.system}",
        )
    if stopped == "timeout":
        return end(Ending.TIMEOUT, None, f"timed out after {run.timeout:g} s; Slurm job {job_id} was cancelled {log}")
    if status is not None and status.exit is not None and status.signal is None:  # the command got to its end
        code = status.exit
        if code > 128 and code - 128 in signal.valid_signals():
            return end(
                Ending.SIGNALLED,
                code,
                f"killed by {_signal_name(code - 128)} (exit status {code}) in Slurm job {job_id} {log}",
            )
        return end(Ending.EXITED, code, f"exit status {code} (Slurm job {job_id}) {log}" if code else "")
    state = info.state if info else None
    if state in ("TIMEOUT", "DEADLINE"):
        limit = info.fields.get("TimeLimit", "?") if info else "?"
        return end(Ending.TIMEOUT, None, f"Slurm ended job {job_id} at its time limit ({limit}) {log}")
    if state == "CANCELLED":
        return end(Ending.CANCELLED, None, f"Slurm job {job_id} was cancelled from outside (scancel) {log}")
    if state == "PREEMPTED":
        return end(Ending.PREEMPTED, None, f"Slurm job {job_id} on {nodes} was preempted; run again to resubmit {log}")
    if state == "NODE_FAIL":
        return end(Ending.NODE_FAILURE, None, f"node {nodes} of Slurm job {job_id} failed; run again to resubmit {log}")
    if state == "BOOT_FAIL":
        return end(Ending.LAUNCH_FAILED, None, f"node {nodes} of Slurm job {job_id} failed to boot {log}")
    if state == "OUT_OF_MEMORY":
        return end(Ending.SIGNALLED, None, f"Slurm job {job_id} ran out of memory on {nodes} and was killed {log}")
    if status is not None and status.signal:
        return end(Ending.SIGNALLED, None, f"Slurm job {job_id} got SIG{status.signal} on {nodes} {log}")
    if info is None:
        return end(
            Ending.NODE_FAILURE,
            None,
            f"Slurm no longer knows job {job_id} and it wrote no status: the job was lost; run again to resubmit {log}",
        )
    return end(
        Ending.LAUNCH_FAILED,
        None,
        f"Slurm reports job {job_id} {state} {info.exit_code} (reason: {info.reason or 'none'}) on {nodes}, "
        f"but its script wrote no status: the command never ran {log}",
    )
