"""Talking to Slurm: ``sbatch``, ``scontrol show job -o``, ``scancel`` and ``squeue``, retried while the controller
does not answer, and what ``scontrol`` prints, parsed.

There is no ``sacct`` without slurmdbd, which many clusters lack, so a job is followed with ``scontrol show job
-o`` (finished jobs stay visible for ``MinJobAge``, 300 s by default). A controller that restarts, is busy or is
unreachable for a while is retried with growing pauses (jobs survive a controller restart); after ``patience``
seconds without an answer :class:`NoContact` is raised.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

COMMANDS = ("sbatch", "scontrol", "scancel", "squeue")
#: How long the controller may stay unreachable before a run is given up (the job record is kept for a re-attach).
CONTACT_S = 300.0
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
#: sbatch, scontrol, scancel errors that pass (the controller restarts, is busy, or the network hiccups)
_TRANSIENT = re.compile(
    r"Unable to contact|Socket timed out|Zero Bytes|Connection refused|connect failure|"
    r"Communication|temporarily unavailable|Transport endpoint|timed out|standby|"
    r"Resource temporarily",
    re.I,
)
_FIELD = re.compile(r"(?:^|\s)([A-Za-z][\w:/.]*)=")  # a key of scontrol's one-line output (values may hold spaces)


class NoContact(Exception):
    """The Slurm controller has not answered for the whole patience."""


class SubmitError(Exception):
    """sbatch refused the job (the message is sbatch's)."""


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


class Slurm:
    """sbatch, scontrol, scancel and squeue for one run (``label`` in what is said), with retries."""

    def __init__(self, label: str, say: Callable[[str], None]):
        self.label = label
        self.say = say
        self.last = ""  # the last error seen

    @staticmethod
    def call(
        args: list[str], timeout: float = 120, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env
            )
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
        sets ``self.last``); raise NoContact after ``patience`` seconds."""
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
                raise NoContact(f"{what}: {self.last} (for {now - first:.0f} s)")
            time.sleep(pause)
            pause = min(pause * 2, 10.0)

    def submit(self, args: list[str], env: Mapping[str, str], name: str, token: str) -> str:
        """Submit with ``env`` as the job's environment (sbatch passes its own: ``--export=ALL``); the job id.
        Raises SubmitError (sbatch refused) or NoContact."""

        def once() -> str | None:
            result = self.call(args, env=env)
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.strip().split(";")[0]
            self.last = self.error(result)
            if not _TRANSIENT.search(self.last):
                raise SubmitError(self.last)
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
        """``scancel`` the job (a job that has ended already is fine). Raises NoContact."""

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
