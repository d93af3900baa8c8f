"""The Slurm launcher: each run is one batch job, and its audit.config is staged inside the job, on the node.

What this module owns (the user's side is in docs/slurm.md):

* **The job script** (``run.job/job.sh`` in the build folder, beside ``run.log``): it takes the run's locks on its
  node, stages the audit.config with the rules of :mod:`compliance.pipeline.staging` rendered as shell
  (:func:`~compliance.pipeline.staging.job_shell`), runs the command with ``/bin/sh -c`` and the run's
  environment, removes the audit.config on every way out a shell can catch (the command's end, SIGTERM from
  ``scancel``, Slurm's time limit or preemption, SIGINT, SIGHUP), and writes what happened to ``run.job/status``
  atomically. The controller trusts that file, not the job's state: a job whose launch failed can read COMPLETED 0:0
  (docs/slurm.md of the shared facts), so a finished job without a status file is a launch failure.
* **The submission**: ``sbatch --parsable`` with a job name per system and ``--dependency=singleton`` (runs of one
  system never overlap, runs of different systems go in parallel), the spec's partition, node list, constraint,
  account, QOS, ``--exclusive`` and extra options, ``--no-requeue`` (a command runs at most once per job) and a
  ``--time`` derived from the run's timeout (a backstop: Slurm rounds it up to whole minutes and enforces it about
  30 s late, so the controller keeps the exact deadline and cancels at it). The job's output is the run's
  ``run.log`` (``--output``, on the shared filesystem).
* **The job record** (``run.job/job.json``): the run's signature and a token (the job's ``--comment``) are written
  before ``sbatch``, the job id right after it. A doit started after the controller died finds the record of the
  same run and waits for that job, or collects its finished result, instead of submitting another; a job that was
  preempted, lost with its node, or forgotten by Slurm without a status is submitted again. A collected end is
  forgotten, so the next doit submits a new job.
* **Waiting and ending**: ``scontrol show job -o`` about once a second (there is no ``sacct`` without slurmdbd),
  until the job has left COMPLETING (its processes are gone); ``scancel`` at the run's timeout, on Ctrl-C and on
  SIGTERM (then the interruption goes on, as for the local launcher); the end mapped to :class:`Launched`
  (:func:`ending`). A controller that does not answer is retried with growing pauses (the jobs survive a restart).

Locks: the controller holds none while a job waits or runs, so no run of another system is blocked by a queued
job. The job takes the run's two locks (system, working directory; :mod:`compliance.pipeline.locks`) with
``flock`` in the lock folder of its node, so a job and a local run of one directory on one machine exclude each
other; the controller takes the directory's lock only for the moments it updates the staging record.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from compliance.errors import Interrupted
from compliance.fsutil import write_atomic
from compliance.pipeline import locks, staging
from compliance.pipeline.launch.base import Ending, Launched, clear_logs
from compliance.plan import RunPlan
from compliance.specs.loader import launcher_defaults

KIND = "slurm"
COMMANDS = ("sbatch", "scontrol", "scancel", "squeue")
POLL_S = 1.0  # the pause between two polls of a job (sbatch --wait would poll up to 32 s late)
FIRST_POLL_S = 0.2  # ... in the first seconds after a submission, when short runs end
FIRST_POLLS_FOR_S = 3.0
#: How long a finished job's status file may take to appear: NFS caches a folder's attributes (acdirmin, 30 s by
#: default), so a file created on another host may be invisible that long.
STATUS_GRACE_S = 30.0
#: How long a cancelled job may take to end: SIGTERM, then SIGKILL after the cluster's KillWait (30 s by default),
#: then the epilog.
END_WAIT_S = 120.0
#: How long the controller may stay unreachable before a run is given up (the job record is kept for a re-attach).
CONTACT_S = 300.0
TIME_MARGIN_MIN = 1  # minutes added to the run's timeout for Slurm's own time limit (the backstop)
EXIT_REFUSED = 97  # the job's exit status when staging refused (a foreign audit.config, a folder not ours)
EXIT_SETUP = 98  # ... when the job could not prepare the run (no such directory, no sha256sum)
#: Job states after which no process of the job is left (COMPLETING comes before them)
FINISHED = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "NODE_FAIL",
        "PREEMPTED",
        "BOOT_FAIL",
        "DEADLINE",
        "OUT_OF_MEMORY",
        "REVOKED",
        "SPECIAL_EXIT",
    }
)
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
#: sbatch, scontrol, scancel errors that pass (the controller restarts, is busy, or the network hiccups)
_TRANSIENT = re.compile(
    r"Unable to contact|Socket timed out|Zero Bytes|Connection refused|connect failure|"
    r"Communication|temporarily unavailable|Transport endpoint|timed out|standby|"
    r"Resource temporarily",
    re.I,
)
_FIELD = re.compile(r"(?:^|\s)([A-Za-z][\w:/.]*)=")  # a key of scontrol's one-line output (values may hold spaces)


class _NoContact(Exception):
    """The Slurm controller has not answered for CONTACT_S seconds."""


class _SubmitError(Exception):
    """sbatch refused the job (the message is sbatch's)."""


# -- what Slurm and the job report ---------------------------------------------------------------------------------


def parse_fields(line: str) -> dict[str, str]:
    """The ``Key=Value`` fields of one line of ``scontrol show job -o``; a value runs to the next key, so values
    with spaces (``Reason=launch failed requeued held``, paths) are kept whole."""
    keys = list(_FIELD.finditer(line))
    fields: dict[str, str] = {}
    if not keys:
        return fields
    for here, after in zip(keys, [*keys[1:], None], strict=True):
        fields[here.group(1)] = line[here.end() : after.start() if after else len(line)].strip()
    return fields


@dataclass(frozen=True)
class JobInfo:
    """A job as ``scontrol show job -o`` shows it."""

    job_id: str
    state: str  # JobState: PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
    exit_status: int | None  # ExitCode=<status>:<signal> of the batch script
    exit_signal: int | None
    reason: str
    nodes: str
    fields: dict[str, str]

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def exit_code(self) -> str:
        return self.fields.get("ExitCode", "?")


def parse_job(text: str) -> JobInfo | None:
    """The job in ``scontrol show job -o <id>`` output, or None when there is none."""
    for line in text.splitlines():
        fields = parse_fields(line.strip())
        if "JobId" not in fields:
            continue
        state = (fields.get("JobState", "").split() or ["UNKNOWN"])[0]
        status: int | None = None
        sig: int | None = None
        match = re.fullmatch(r"(\d+):(\d+)", fields.get("ExitCode", ""))
        if match:
            status, sig = int(match.group(1)), int(match.group(2))
        nodes = fields.get("NodeList", "")
        return JobInfo(
            fields["JobId"], state, status, sig, fields.get("Reason", ""), "" if nodes == "(null)" else nodes, fields
        )
    return None


@dataclass(frozen=True)
class Status:
    """What the job script wrote to its status file when it ended."""

    job: str
    node: str
    exit: int | None  # the command's exit status (the shell's: 128+N when a signal N ended it)
    signal: str | None  # the job was signalled (TERM, INT, HUP) before the command ended
    refused: str | None  # staging refused to run (the reason)
    failed: str | None  # the job could not prepare the run (the reason)
    audit: str  # none (nothing placed), removed, absent (the command deleted it), replaced
    aftermath: str  # the problem the removal found (replaced), or ""

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
    )


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
    aftermath = status.aftermath if status else ""

    def end(how: Ending, returncode: int | None, reason: str) -> Launched:
        return Launched(how, returncode, reason, duration_s, aftermath)

    if status is not None and status.refused:
        return end(Ending.REFUSED, None, status.refused)
    if status is not None and status.failed:
        return end(Ending.LAUNCH_FAILED, None, f"{status.failed} (Slurm job {job_id}) {log}")
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
    nodes = (status.node if status else "") or (info.nodes if info else "") or "?"
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


# -- the settings, the job's files, the script ---------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """A ``launcher: {kind: slurm, ...}`` block (its defaults come from the system schema)."""

    partition: str | None
    nodelist: str | None
    constraint: str | None
    account: str | None
    qos: str | None
    exclusive: bool
    sbatch_options: tuple[str, ...]

    @classmethod
    def of(cls, run: RunPlan) -> Settings:
        data: dict[str, Any] = {**launcher_defaults(KIND), **dict(run.launcher.settings)}
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


@dataclass(frozen=True)
class JobFiles:
    """The files of a run's job, in its job folder (``RunFiles.job``)."""

    folder: str

    @property
    def script(self) -> str:
        return os.path.join(self.folder, "job.sh")

    @property
    def record(self) -> str:
        return os.path.join(self.folder, "job.json")

    @property
    def status(self) -> str:
        return os.path.join(self.folder, "status")

    @property
    def started(self) -> str:
        return os.path.join(self.folder, "started")


def job_name(run: RunPlan) -> str:
    """The job name of every run of the run's system: with ``--dependency=singleton`` one runs at a time."""
    return f"mlperf-compliance.{run.system}"


def time_limit_minutes(timeout: float) -> int:
    """Slurm's ``--time`` for a run: its timeout in whole minutes, rounded up, and a margin."""
    return math.ceil(timeout / 60) + TIME_MARGIN_MIN


def _slurm_path(path: str) -> str:
    """A path for sbatch's --output and --chdir: absolute, with '%' escaped (sbatch expands %j, %N, ...)."""
    return os.path.abspath(path).replace("%", "%%")


def sbatch_args(run: RunPlan, settings: Settings, files: JobFiles, token: str) -> list[str]:
    """The sbatch command line for the run's job (the spec's options last, so they win over ours where allowed)."""
    return [
        "sbatch",
        "--parsable",
        f"--job-name={job_name(run)}",
        "--dependency=singleton",
        f"--comment={token}",
        f"--output={_slurm_path(run.files.output)}",
        "--open-mode=truncate",
        f"--chdir={_slurm_path(files.folder)}",
        "--no-requeue",
        f"--time={time_limit_minutes(run.timeout)}",
        *settings.options(),
        os.path.abspath(files.script),
    ]


def job_script(run: RunPlan, files: JobFiles) -> str:
    """The job script of ``run`` (POSIX sh; see the module docstring)."""
    q = shlex.quote
    status = os.path.abspath(files.status)
    started = os.path.abspath(files.started)
    lock_lines = []
    for number, (name, what) in zip((8, 9), locks.names(run), strict=True):
        holder = json.dumps(run.label)
        lock = f'"$JOB_LOCKS"/{q(name)}'
        lock_lines += [
            f"    if command exec {number}>>{lock}; then",
            f'        flock -n {number} || {{ echo "mlperf-compliance: waiting for the {what}: held by $(cat {lock})";'
            f" flock {number}; }}",
            f'        printf \'{{"label": %s, "pid": %s, "since": "%s", "job": "%s"}}\' {q(holder)} '
            f'"$$" "$(date "+%Y-%m-%d %H:%M:%S")" "${{SLURM_JOB_ID:-}}" >{lock}',
            "    else",
            f'        echo "mlperf-compliance: warning: cannot open {lock}: the lock of the {what} is not taken"',
            "    fi",
        ]
    exports = [f"export {name}={q(value)}" for name, value in sorted(run.env.items())]
    return "\n".join(
        [
            "#!/bin/sh",
            "# The batch job of one mlperf-compliance run, written by compliance.pipeline.launch.slurm",
            "# (docs/slurm.md).",
            f"# run {run.label}, signature {run.signature}",
            "# It takes the run's locks on its node, stages the audit.config, runs the command, removes the",
            "# audit.config on every way out a shell can catch, and writes what happened to its status file.",
            f"JOB_STATUS={q(status)}",
            f"JOB_STARTED={q(started)}",
            "JOB_PID= JOB_RC= JOB_REFUSED=",
            "STAGE_HOST=${SLURMD_NODENAME:-$(hostname)}  # the Slurm node (several may share a host)",
            "",
            staging.job_shell(run),
            "job_finish() {  # the one way out: remove our audit.config, then write the status (atomically)",
            "    trap '' TERM INT HUP",
            "    stage_out",
            "    {",
            '        echo "job=${SLURM_JOB_ID:-}"',
            '        echo "node=$STAGE_HOST"',
            '        [ -z "$JOB_RC" ] || echo "exit=$JOB_RC"',
            '        [ "$1" = exit ] || echo "signal=$1"',
            '        [ -z "$JOB_REFUSED" ] || echo "refused=$JOB_REFUSED"',
            '        [ -z "$STAGE_FAILED" ] || echo "failed=$STAGE_FAILED"',
            '        [ -z "$STAGE_AFTERMATH" ] || echo "aftermath=$STAGE_AFTERMATH"',
            '        echo "audit=$STAGE_AUDIT"',
            '    } >"$JOB_STATUS.$$" && mv -f "$JOB_STATUS.$$" "$JOB_STATUS"',
            "}",
            "job_signal() {  # $1 $2: the signal's name and number (scancel, the time limit and preemption send TERM)",
            '    echo "mlperf-compliance: the job got SIG$1 on $STAGE_HOST at $(date "+%Y-%m-%d %H:%M:%S");'
            ' stopping the command and removing the audit.config"',
            '    [ -z "$JOB_PID" ] || kill -TERM "$JOB_PID" 2>/dev/null',
            '    job_finish "$1"',
            "    exit $((128 + $2))",
            "}",
            "trap 'job_signal TERM 15' TERM",
            "trap 'job_signal INT 2' INT",
            "trap 'job_signal HUP 1' HUP",
            "",
            f'echo "mlperf-compliance: Slurm job ${{SLURM_JOB_ID:-?}} of {run.label} on $STAGE_HOST,'
            ' $(date "+%Y-%m-%d %H:%M:%S")"',
            "if ! command -v sha256sum >/dev/null 2>&1; then",
            '    STAGE_FAILED="sha256sum is not on PATH on $STAGE_HOST: the job cannot tell its audit.config"',
            f'    echo "mlperf-compliance: $STAGE_FAILED"; job_finish exit; exit {EXIT_SETUP}',
            "fi",
            "JOB_LOCKS=${MLPERF_COMPLIANCE_LOCKS:-${TMPDIR:-/tmp}/mlperf-compliance-locks}",
            'if command -v flock >/dev/null 2>&1 && mkdir -p "$JOB_LOCKS" 2>/dev/null; then',
            '    chmod 1777 "$JOB_LOCKS" 2>/dev/null',
            *lock_lines,
            "else",
            '    echo "mlperf-compliance: warning: no flock or no lock folder $JOB_LOCKS on $STAGE_HOST: the run locks'
            ' are not taken"',
            "fi",
            "stage_in",
            "case $? in",
            "    0) ;;",
            f'    1) JOB_REFUSED=$STAGE_PROBLEM; echo "mlperf-compliance: refused: $JOB_REFUSED"; job_finish exit;'
            f" exit {EXIT_REFUSED} ;;",
            f'    *) echo "mlperf-compliance: $STAGE_FAILED"; job_finish exit; exit {EXIT_SETUP} ;;',
            "esac",
            *exports,
            f"printf '%s\\n' {q(f'$ cd {run.workdir} && {run.command}')}",
            'date +%s >"$JOB_STARTED.$$" && mv -f "$JOB_STARTED.$$" "$JOB_STARTED"',
            f"/bin/sh -c {q(run.command)} </dev/null &",
            "JOB_PID=$!",
            'wait "$JOB_PID"',
            "JOB_RC=$?",
            "JOB_PID=",
            "job_finish exit",
            'exit "$JOB_RC"',
            "",
        ]
    )


# -- talking to Slurm ----------------------------------------------------------------------------------------------


class _Slurm:
    """sbatch, scontrol, scancel and squeue, with retries while the controller does not answer."""

    def __init__(self, label: str, say: Callable[[str], None]):
        self.label = label
        self.say = say
        self.last = ""  # the last error seen

    @staticmethod
    def call(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, 1, "", f"{args[0]} timed out after {timeout:g} s")
        except OSError as exc:
            return subprocess.CompletedProcess(args, 1, "", f"cannot run {args[0]}: {exc.strerror or exc}")

    @staticmethod
    def error(result: subprocess.CompletedProcess[str]) -> str:
        lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        return lines[-1] if lines else f"{result.args[0]} exited with status {result.returncode}"

    def _retry(self, what: str, try_once: Callable[[], Any | None], patience: float = CONTACT_S) -> Any:
        """Call ``try_once`` until it returns something other than None (it returns None on a transient error and
        sets ``self.last``); raise _NoContact after ``patience`` seconds."""
        first: float | None = None
        pause = 1.0
        while True:
            found = try_once()
            if found is not None:
                if first is not None:
                    self.say(f"  {self.label}: the Slurm controller answers again")
                return found
            now = time.monotonic()
            if first is None:
                first = now
                self.say(f"  {self.label}: {what}: {self.last}; retrying")
            if now - first >= patience:
                raise _NoContact(f"{what}: {self.last} (for {now - first:.0f} s)")
            time.sleep(pause)
            pause = min(pause * 2, 10.0)

    def submit(self, args: list[str], name: str, token: str) -> str:
        """Submit; the job id. Raises _SubmitError (sbatch refused) or _NoContact."""

        def once() -> str | None:
            result = self.call(args)
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.strip().split(";")[0]
            self.last = self.error(result)
            if not _TRANSIENT.search(self.last):
                raise _SubmitError(self.last)
            return self.find(name, token)  # the reply may have been lost after the job was taken

        job_id: str = self._retry("sbatch", once)
        return job_id

    def query(self, job_id: str) -> JobInfo | None:
        """The job as Slurm shows it; None when Slurm does not know it (never, or past MinJobAge)."""

        def once() -> tuple[JobInfo | None] | None:
            result = self.call(["scontrol", "show", "job", "-o", job_id], timeout=60)
            info = parse_job(result.stdout) if result.returncode == 0 else None
            if info is not None:
                return (info,)
            self.last = self.error(result)
            if "Invalid job id" in self.last:
                return (None,)
            return None

        found: tuple[JobInfo | None] = self._retry(f"scontrol show job {job_id}", once)
        return found[0]

    def cancel(self, job_id: str, patience: float = CONTACT_S) -> None:
        """``scancel`` the job (a job that has ended already is fine). Raises _NoContact."""

        def once() -> bool | None:
            result = self.call(["scancel", job_id], timeout=60)
            if result.returncode == 0:
                return True
            self.last = self.error(result)
            return True if "Invalid job id" in self.last or not _TRANSIENT.search(self.last) else None

        self._retry(f"scancel {job_id}", once, patience)

    def find(self, name: str, token: str) -> str | None:
        """The id of the job named ``name`` whose comment is ``token``, if Slurm still shows one."""
        result = self.call(["squeue", "-h", "-t", "all", "-n", name, "-o", "%i %k"], timeout=60)
        for line in result.stdout.splitlines() if result.returncode == 0 else ():
            job_id, _, comment = line.strip().partition(" ")
            if comment.strip() == token:
                return job_id
        return None


# -- the launcher --------------------------------------------------------------------------------------------------


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def _workdir_lock(run: RunPlan, say: Callable[[str], None], wait: bool = True) -> Iterator[bool]:
    """Hold the run's working-directory lock (the one local runs hold) for a staging-record update; yields False
    when ``wait`` is false and another run holds it."""
    name, what = [n for n in locks.names(run) if n[0].startswith("workdir-")][0]
    fd = os.open(os.path.join(locks.folder(), name), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            say(f"  {run.label}: waiting for the {what} (another run uses it)")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)


class _Job:
    """One launch of a run through Slurm: adopt its recorded job or submit one, wait, end."""

    def __init__(self, run: RunPlan, say: Callable[[str], None]):
        self.run = run
        self.say = say
        self.files = JobFiles(run.files.job)
        self.settings = Settings.of(run)
        self.slurm = _Slurm(run.label, say)
        self.name = job_name(run)
        self.job_id: str | None = None
        self.token: str | None = None
        self.started: float | None = None  # monotonic time the command started (for the run's timeout)
        self.polls_from = time.monotonic()

    # -- the steps ----------------------------------------------------------------------------------------------
    def go(self) -> Launched:
        begin = time.monotonic()
        try:
            if not self._adopt():
                failed = self._submit()
                if failed is not None:
                    return failed
            info, stopped = self._wait()
        except (KeyboardInterrupt, Interrupted):
            self._stop()
            raise
        except _NoContact as exc:
            job = f"Slurm job {self.job_id}" if self.job_id else "its Slurm job"
            return Launched(
                Ending.NODE_FAILURE,
                None,
                f"lost contact with the Slurm controller ({exc}); {job} may still run: run again to re-attach to it",
                time.monotonic() - begin,
            )
        assert self.job_id is not None
        status = self._final_status(info, stopped)
        launched = ending(self.run, self.job_id, info, status, stopped, time.monotonic() - begin)
        self._settle(status)
        self._forget()
        return launched

    def _adopt(self) -> bool:
        """Take over the job an earlier doit submitted for this run; False when a new job must be submitted."""
        record = _read_json(self.files.record)
        if record is None:
            return False
        token = str(record.get("token", ""))
        job_id = record.get("job_id") or (self.slurm.find(self.name, token) if token else None)
        if record.get("signature") != self.run.signature:
            if job_id:
                info = self.slurm.query(str(job_id))
                if info is not None and not info.finished:
                    self.say(
                        f"  {self.run.label}: cancelling Slurm job {job_id}: it runs an earlier version of this run"
                    )
                    self.job_id = str(job_id)
                    self._cancel_and_wait()
            self._forget()
            return False
        if not job_id:
            self._forget()  # the earlier doit died before sbatch answered, and Slurm shows no such job
            return False
        job_id = str(job_id)
        info = self.slurm.query(job_id)
        status = read_status(self.files.status, job_id)
        ran = status is not None and status.exit is not None and status.signal is None
        if not ran and (info is None or info.state in RESUBMIT):
            what = "lost (Slurm no longer knows it)" if info is None else info.state.lower().replace("_", " ")
            self.say(f"  {self.run.label}: Slurm job {job_id} of an earlier doit was {what}: submitting the run again")
            self._settle(status)
            self._forget()
            return False
        self.job_id, self.token = job_id, token
        self.say(
            f"  {self.run.label}: re-attached to Slurm job {job_id} ({info.state if info else 'ended'}), "
            f"submitted by an earlier doit  (log: {self.run.files.output})"
        )
        return True

    def _submit(self) -> Launched | None:
        """Prepare the job's files and submit it; None, or how the launch failed."""
        run = self.run
        os.makedirs(self.files.folder, exist_ok=True)
        for stale in (self.files.status, self.files.started):
            Path(stale).unlink(missing_ok=True)
        with _workdir_lock(run, self.say):
            staging.expect(run)
        write_atomic(self.files.script, job_script(run, self.files))
        os.chmod(self.files.script, 0o755)
        self.token = f"mlperf-compliance:{uuid.uuid4().hex}"
        self._record()
        clear_logs(run)
        os.makedirs(os.path.dirname(run.files.output) or ".", exist_ok=True)
        Path(run.files.output).write_text(
            f"mlperf-compliance: submitting {self.files.script} to Slurm; the job rewrites this file when it starts\n",
            encoding="utf-8",
        )
        try:
            self.job_id = self.slurm.submit(
                sbatch_args(run, self.settings, self.files, self.token), self.name, self.token
            )
        except (_SubmitError, _NoContact) as exc:
            self._forget()
            with _workdir_lock(run, self.say):
                staging.settle(run, gone=True)  # nothing was placed
            return Launched(
                Ending.LAUNCH_FAILED, None, f"sbatch did not take the job of system {run.system}: {exc}", 0.0
            )
        self._record()
        self.polls_from = time.monotonic()
        self.say(
            f"  {run.label}: Slurm job {self.job_id} ({self.settings.where()}): {run.command}  "
            f"(log: {run.files.output})"
        )
        return None

    def _wait(self) -> tuple[JobInfo | None, str | None]:
        """Poll the job until it has ended (its processes gone), cancelling it at the run's timeout."""
        assert self.job_id is not None
        note = ""
        while True:
            info = self.slurm.query(self.job_id)
            now = time.monotonic()
            if info is None or info.finished:
                return info, None
            if self.started is None and info.state != "PENDING":
                self.started = self._started_at(now)
            if self.started is not None and now - self.started >= self.run.timeout and info.state != "COMPLETING":
                self.say(
                    f"  {self.run.label}: timed out after {self.run.timeout:g} s: cancelling Slurm job {self.job_id}"
                )
                return self._cancel_and_wait(), "timeout"
            if info.state == "PENDING" and info.reason in NEVER_STARTS:
                self.say(
                    f"  {self.run.label}: Slurm would never start job {self.job_id} ({info.reason}): cancelling it"
                )
                return self._cancel_and_wait(), f"never:{info.reason}"
            if info.state == "PENDING" and info.reason != note and info.reason not in ("", "None"):
                note = info.reason
                self.say(f"  {self.run.label}: Slurm job {self.job_id} is pending ({note})")
            pause = FIRST_POLL_S if now - self.polls_from < FIRST_POLLS_FOR_S else POLL_S
            if self.started is not None:
                pause = max(0.0, min(pause, self.started + self.run.timeout - now))
            time.sleep(pause)

    def _started_at(self, now: float) -> float:
        """When the command started, on this process's clock: from the job's own mark, else now."""
        try:
            epoch = float(Path(self.files.started).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return now
        return now - max(0.0, time.time() - epoch)

    def _cancel_and_wait(self, patience: float = CONTACT_S) -> JobInfo | None:
        """scancel the job and wait until it has ended (SIGTERM, KillWait, SIGKILL); Slurm's last view of it."""
        assert self.job_id is not None
        self.slurm.cancel(self.job_id, patience)
        deadline = time.monotonic() + END_WAIT_S
        while True:
            info = self.slurm.query(self.job_id)
            if info is None or info.finished or time.monotonic() > deadline:
                return info
            time.sleep(FIRST_POLL_S)

    def _final_status(self, info: JobInfo | None, stopped: str | None) -> Status | None:
        """The job's status file, waiting for it a while when the end cannot be told without it."""
        assert self.job_id is not None
        needed = stopped is None and (info is None or info.state in ("COMPLETED", "FAILED"))
        deadline = time.monotonic() + (STATUS_GRACE_S if needed else 2.0)
        while True:
            status = read_status(self.files.status, self.job_id)
            if status is not None or time.monotonic() > deadline:
                return status
            time.sleep(0.25)

    def _stop(self) -> None:
        """On Ctrl-C or SIGTERM: cancel the job (found by its token if sbatch had not answered), wait for its end,
        update the records; a second signal does not interrupt this."""
        ignored: dict[signal.Signals, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                ignored[sig] = signal.signal(sig, signal.SIG_IGN)
            except ValueError:  # not the main thread
                pass
        try:
            if self.job_id is None and self.token is not None:
                self.job_id = self.slurm.find(self.name, self.token)
            if self.job_id is None:
                self._forget()
                return
            self.say(f"  {self.run.label}: interrupted: cancelling Slurm job {self.job_id}")
            try:
                self._cancel_and_wait(patience=60.0)
            except _NoContact as exc:
                self.say(
                    f"  {self.run.label}: could not cancel Slurm job {self.job_id} ({exc}); its record is kept, "
                    "so the next run re-attaches to it (or scancel it yourself)"
                )
                return
            status = read_status(self.files.status, self.job_id)
            if status is not None and status.audit == "replaced":
                self.say(f"  {self.run.label}: {status.aftermath}")
            self._settle(status, wait=False)
            self._forget()
        finally:
            for number, previous in ignored.items():
                signal.signal(number, previous)

    # -- records ------------------------------------------------------------------------------------------------
    def _record(self) -> None:
        write_atomic(
            self.files.record,
            json.dumps(
                {
                    "job_id": self.job_id,
                    "token": self.token,
                    "signature": self.run.signature,
                    "label": self.run.label,
                    "system": self.run.system,
                    "job_name": self.name,
                    "time": time.time(),
                },
                indent=1,
            )
            + "\n",
        )

    def _forget(self) -> None:
        Path(self.files.record).unlink(missing_ok=True)

    def _settle(self, status: Status | None, wait: bool = True) -> None:
        with _workdir_lock(self.run, self.say, wait) as held:
            if held:
                staging.settle(self.run, gone=status is not None and status.placed_file_gone)


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
            return _Job(run, say).go()
        finally:
            try:
                signal.signal(signal.SIGTERM, previous)
            except (ValueError, TypeError):
                pass
