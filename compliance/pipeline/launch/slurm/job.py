"""One launch of a run through Slurm: adopt the job an earlier doit submitted for the run, or submit one; wait for
it; end it (docs/slurm.md, "How a run ends" and "Ctrl-C, SIGTERM, and a doit that is killed").

* **The job record** (``run.job/job.json``): the run's signature and a token (the job's ``--comment``) are written
  before ``sbatch``, the job id right after it. A doit started after the controller died finds the record of the
  same run and waits for that job, or collects its finished result, instead of submitting another; a job that was
  preempted, lost with its node, or forgotten by Slurm without a status is submitted again. A collected end is
  forgotten, so the next doit submits a new job.
* **Waiting and ending**: ``scontrol show job -o`` about once a second until the job has left COMPLETING (its
  processes are gone); ``scancel`` at the run's timeout, on Ctrl-C and on SIGTERM (then the interruption goes on,
  as for the local launcher); the end mapped by :func:`~compliance.pipeline.launch.slurm.endings.ending`.
* **Locks**: this process holds none while a job waits or runs, so no run of another system is blocked by a queued
  job. The job takes the run's two locks on its node; this process takes the directory's lock
  (:func:`compliance.pipeline.locks.workdir_held`) only for the moments it updates the staging record.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compliance.errors import Interrupted
from compliance.fsutil import write_atomic
from compliance.pipeline import locks, staging
from compliance.pipeline.launch.base import Ending, Launched, Where, clear_logs
from compliance.pipeline.launch.slurm.client import CONTACT_S, JobInfo, NoContact, Slurm, SubmitError
from compliance.pipeline.launch.slurm.endings import NEVER_STARTS, RESUBMIT, Status, ending, read_status, sentence
from compliance.pipeline.launch.slurm.script import Settings, job_name, job_script, sbatch_args, submission_environment
from compliance.plan import RunPlan
from compliance.records.io import BadRecord, load_json, save_json

POLL_S = 1.0  # the pause between two polls of a job (sbatch --wait would poll up to 32 s late)
FIRST_POLL_S = 0.2  # ... in the first seconds after a submission, when short runs end
FIRST_POLLS_FOR_S = 3.0
#: How long a finished job's status file may take to appear: NFS caches a folder's attributes (acdirmin, 30 s by
#: default), so a file created on another host may be invisible that long.
STATUS_GRACE_S = 30.0
#: How long a cancelled job may take to end: SIGTERM, then SIGKILL after the cluster's KillWait (30 s by default),
#: then the epilog.
END_WAIT_S = 120.0


class Job:
    """One launch of a run through Slurm: adopt its recorded job or submit one, wait, end."""

    def __init__(self, run: RunPlan, say: Callable[[str], None]):
        self.run = run
        self.say = say
        self.files = run.files.job_files
        self.settings = Settings.of(run)
        self.slurm = Slurm(run.label, say)
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
        except NoContact as exc:
            job = f"Slurm job {self.job_id}" if self.job_id else "its Slurm job"
            return Launched(
                Ending.NODE_FAILURE,
                None,
                f"lost contact with the Slurm controller ({exc}); {job} may still run: run again to re-attach to it",
                time.monotonic() - begin,
                where=Where(job_id=self.job_id or ""),
            )
        assert self.job_id is not None
        status = self._final_status(info, stopped)
        launched = ending(self.run, self.job_id, info, status, stopped, time.monotonic() - begin)
        self._settle(status)
        self._forget()
        return launched

    def _adopt(self) -> bool:
        """Take over the job an earlier doit submitted for this run; False when a new job must be submitted."""
        try:
            record = load_json(self.files.record)
        except BadRecord:  # unreadable: no job is known for the run; a new one is submitted
            record = None
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
        refused = self.settings.problems()
        if refused:  # validate refuses them too; a plan not made by the loader is checked here
            return Launched(
                Ending.LAUNCH_FAILED, None, f"system {run.system}: sbatch_options: {'; '.join(refused)}", 0.0
            )
        os.makedirs(self.files.folder, exist_ok=True)
        for stale in (self.files.status, self.files.started):
            Path(stale).unlink(missing_ok=True)
        try:
            with locks.workdir_held(run, self.say):
                staging.expect(run)
        except locks.LockError as exc:
            return Launched(Ending.LAUNCH_FAILED, None, str(exc), 0.0)
        write_atomic(self.files.script, job_script(run))
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
                sbatch_args(run, self.settings, self.files, self.token),
                submission_environment(run, self.files),
                self.name,
                self.token,
            )
        except (SubmitError, NoContact) as exc:
            self._forget()
            self._settle(None, gone=True)  # nothing was placed
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
            except NoContact as exc:
                self.say(
                    f"  {self.run.label}: could not cancel Slurm job {self.job_id} ({exc}); its record is kept, "
                    "so the next run re-attaches to it (or scancel it yourself)"
                )
                return
            status = read_status(self.files.status, self.job_id)
            if status is not None and status.aftermath:
                self.say(f"  {self.run.label}: {sentence(self.run, status.aftermath, status.node)}")
            self._settle(status, wait=False)
            self._forget()
        finally:
            for number, previous in ignored.items():
                signal.signal(number, previous)

    # -- records ------------------------------------------------------------------------------------------------
    def _record(self) -> None:
        save_json(
            self.files.record,
            {
                "job_id": self.job_id,
                "token": self.token,
                "signature": self.run.signature,
                "label": self.run.label,
                "system": self.run.system,
                "job_name": self.name,
                "time": time.time(),
            },
        )

    def _forget(self) -> None:
        Path(self.files.record).unlink(missing_ok=True)

    def _settle(self, status: Status | None, wait: bool = True, gone: bool | None = None) -> None:
        """Update the staging record from what the job reported (``gone``: said by this process instead)."""
        gone = gone if gone is not None else status is not None and status.placed_file_gone
        try:
            with locks.workdir_held(self.run, self.say, wait) as held:
                if held:
                    staging.settle(self.run, gone=gone)
        except locks.LockError as exc:  # the record stays: the next run there removes a file of ours
            self.say(f"  {self.run.label}: the staging record was not updated: {exc}")
