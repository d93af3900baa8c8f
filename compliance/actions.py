"""doit actions of the pipeline: module-level functions with explicit, picklable arguments (for ``doit -n``).

Each returns True or a dict of values doit saves (done), or False (failed, after printing why). The promises they keep:

* audit.config is placed in a working directory only by :func:`run`, atomically, while it holds the locks of its
  system and of that directory (so no two runs of a system overlap, whatever ``-n``), and it is removed when the
  run ends, whatever happened (exit, failure, timeout, SIGINT, SIGTERM).
* A file in a working directory is removed only when it is our own audit.config (it carries the marker comment
  of :mod:`compliance.auditconfig`); anything else there makes the step fail and say so.
* A run counts as done only when it finished, its logs are there, and its detail log shows the audit config was
  applied: only then is its signature written (an interrupted run is never taken for a finished one).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from compliance import __version__
from compliance.auditconfig import AUDIT_CONFIG, MARKER
from compliance.fsutil import replace_folder, write_atomic
from compliance.launch import LocalLauncher
from compliance.logs import DetailLog, LogError, read_detail
from compliance.plan import BUILD, ISOLATED_MARKER, LOG_FILES, CellPlan, ReferencePlan, RunPlan
from compliance.verify import evidence, layout, output, render
from compliance.verify.dispatch import verify_test
from compliance.errors import InputError

AUDIT_NAMES = (AUDIT_CONFIG, "audit.conf")  # whisper's reference harness reads audit.conf (domain.md 1.2)
LAUNCHER = LocalLauncher()


def _record(run: RunPlan, problem: str | None) -> None:
    """Record how the run ended, for the summary."""
    os.makedirs(os.path.dirname(run.status_file), exist_ok=True)
    write_atomic(run.status_file, json.dumps({"status": "FAIL" if problem else "PASS", "reason": problem or "",
                                               "signature": run.signature, "time": time.time()}) + "\n")


def signature_file(run: RunPlan, step: str = "run") -> str:
    """The file where ``step`` records the signature of the run it last completed."""
    return os.path.join(run.output_dir, f".{step}.signature")


@contextmanager
def _locks(run: RunPlan) -> Iterator[None]:
    """Hold the locks of the run's system and working directory (blocking until they are free)."""
    folder = Path(BUILD) / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"system-{run.system}", "workdir-" + hashlib.sha256(os.path.abspath(run.workdir).encode()).hexdigest()[:16]]
    with ExitStack() as stack:
        for name in names:
            handle = stack.enter_context(open(folder / f"{name}.lock", "w"))
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _holds(path: Path, text: str | None) -> bool:
    """Whether ``path`` exists and holds exactly ``text`` (a run's own staged audit.config)."""
    try:
        return text is not None and path.read_text(encoding="utf-8", errors="replace") == text
    except OSError:
        return False


def _ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def stage(plan: CellPlan) -> bool | dict:
    """Render the cell's audit.config into its build folder and check the working directory can receive it."""
    run = plan.run
    assert run.audit_text is not None
    os.makedirs(plan.build_dir, exist_ok=True)
    write_atomic(os.path.join(plan.build_dir, AUDIT_CONFIG), run.audit_text)
    problem = _prepare_workdir(run)
    if problem is not None:
        print(f"error: {problem}")
        return False
    present = Path(run.workdir) / AUDIT_CONFIG
    if present.exists() and not _ours(present):
        print(f"error: {present} exists and was not written by mlperf-compliance; it would be used by this run "
              "and by any submission run there: move it away, then rerun")
        return False
    return {"signature": run.signature}


def _prepare_workdir(run: RunPlan) -> str | None:
    """Create the working directory; an isolated one must be ours (marker file) or new. None or the problem."""
    folder = Path(run.workdir)
    if run.isolated:
        if folder.exists() and not (folder / ISOLATED_MARKER).exists():
            return (f"{folder} exists and is not a working directory made by mlperf-compliance (no {ISOLATED_MARKER} "
                    "in it): move it away, then rerun")
        if folder.exists():
            shutil.rmtree(folder)  # ours, from an earlier run: start afresh
        folder.mkdir(parents=True)
        (folder / ISOLATED_MARKER).write_text(f"working directory of {run.label}\n", encoding="utf-8")
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return None


def _clear_logs(run: RunPlan) -> None:
    for step in ("run", "unstage"):
        Path(signature_file(run, step)).unlink(missing_ok=True)
    os.makedirs(run.output_dir, exist_ok=True)
    for name in LOG_FILES:
        Path(run.output_dir, name).unlink(missing_ok=True)


def _collect_logs(run: RunPlan, started: float) -> str | None:
    """Copy the harness's logs into the build folder when it writes them elsewhere; None or why it failed."""
    if run.harness_log_dir is None:
        return None
    for name in LOG_FILES:
        source = Path(run.harness_log_dir) / name
        if not source.exists() or source.stat().st_mtime < started - 1:
            return f"the harness wrote no new {name} in {run.harness_log_dir} (set log_dir, or pass {{log_dir}})"
        shutil.copy2(source, Path(run.output_dir) / name)
    return None


def _launch(run: RunPlan) -> str | None:
    """Launch the run (under the locks; audit.config staged when the run has one); None or why it failed."""
    started = time.time()
    with _locks(run):
        if run.audit_text is None or not os.path.isdir(run.workdir):  # a reference run has no stage step
            problem = _prepare_workdir(run)
            if problem is not None:
                return problem
        for name in AUDIT_NAMES:  # under the locks no run of this directory is going on: ours is stale
            stale = Path(run.workdir) / name
            if _ours(stale) and not _holds(stale, run.audit_text):
                stale.unlink()
                print(f"  removed {stale}, left by an interrupted run")
        present = [name for name in AUDIT_NAMES if (Path(run.workdir) / name).exists()]
        if run.audit_text is None and present:
            return (f"{os.path.join(run.workdir, present[0])} exists: this submission run would be audited. Remove "
                    "it (an interrupted compliance run may have left it), then rerun")
        staged = Path(run.workdir) / AUDIT_CONFIG
        if run.audit_text is not None:
            if staged.exists() and not _ours(staged):
                return f"{staged} exists and was not written by mlperf-compliance: move it away, then rerun"
            write_atomic(staged, run.audit_text)
        try:
            print(f"  {run.label}: {run.command}  (log: {run.stdout_log})", flush=True)
            launched = LAUNCHER.launch(run)
        except OSError as exc:
            return f"cannot start the command in {run.workdir}: {exc.strerror or exc}"
        finally:
            replaced = False
            if run.audit_text is not None and staged.exists():
                if _holds(staged, run.audit_text):
                    staged.unlink()
                else:  # never delete a file we did not write
                    replaced = True
    if replaced:
        return (f"the command replaced the staged audit.config with its own, and left it in {run.workdir}: remove it "
                "before any submission run there")
    if launched.timed_out:
        return f"timed out after {run.timeout:g} s and was stopped (log: {run.stdout_log})"
    if launched.returncode != 0:
        return f"exit status {launched.returncode} (log: {run.stdout_log})"
    return _collect_logs(run, started)


def _execute(run: RunPlan, label: str, check: Callable[[DetailLog], str | None]) -> bool | dict:
    """Launch a run, check its detail log with ``check`` (None or the problem), record how it ended."""
    _clear_logs(run)
    problem = _launch(run)
    if problem is None:
        try:
            problem = check(read_detail(os.path.join(run.output_dir, layout.DETAIL)))
        except (OSError, LogError) as exc:
            problem = f"no readable detail log: {exc}"
    _record(run, problem)
    if problem is not None:
        print(f"error: {label}: {problem}")
        return False
    write_atomic(signature_file(run), run.signature)
    return {"signature": run.signature}


def run(plan: CellPlan) -> bool | dict:
    """Run the benchmark with the cell's audit.config; fail unless the config was found and applied."""
    def applied(detail: DetailLog) -> str | None:
        check = evidence.check_applied(detail, plan.test, plan.model, plan.cell.scenario)
        return None if check.passed else check.reason

    return _execute(plan.run, f"run {plan.cell.id}", applied)


def unstage(plan: CellPlan) -> bool | dict:
    """Make sure the cell's audit.config is gone; fail loudly if another file took its place."""
    present = Path(plan.run.workdir) / AUDIT_CONFIG
    with _locks(plan.run):  # another cell sharing the directory may be running: look only between runs
        if _holds(present, plan.run.audit_text):
            present.unlink()
            print(f"  removed {present}, left by an interrupted run")
        if not present.exists():
            write_atomic(signature_file(plan.run, "unstage"), plan.run.signature)
            return {"signature": plan.run.signature}
    print(f"error: {present} appeared after the run of {plan.cell.id} and is not this cell's config "
          f"({'another cell of ours' if _ours(present) else 'not written by mlperf-compliance'}): remove it before "
          "any submission run")
    return False


def reference(plan: ReferencePlan) -> bool | dict:
    """Produce a submission run (accuracy or performance); it must show no audit config."""
    def clean(detail: DetailLog) -> str | None:
        return "LoadGen found an audit.config: this run is contaminated" if detail.audit_config_found else None

    return _execute(plan.run, f"reference {plan.id}", clean)


def verify(plan: CellPlan) -> bool:
    """Verify the cell's compliance run; write its TEST folder into the build folder; fail when the test fails."""
    try:
        result = verify_test(plan.test, plan.model, plan.results_dir, plan.run.output_dir, plan.cell.scenario,
                             dtype=plan.dtype if plan.cell.test == "TEST01" else None, strict=plan.strict)
        output.write(plan.verify_dir, result)
    except InputError as exc:
        print(f"error: verify {plan.cell.id}: {exc}")
        return False
    meta = {"config": plan.verify_digest(__version__),
            "inputs": {path: os.stat(path).st_mtime for path in plan.verify_inputs if os.path.exists(path)}}
    write_atomic(plan.verify_meta, json.dumps(meta, indent=1) + "\n")
    print(render.console(result), end="")
    return result.verdict == "PASS"


def audit(plan: CellPlan) -> bool:
    """Copy the verified TEST folder into the submission tree, atomically, and nothing else."""
    def fill(staging: Path) -> None:
        for name in layout.files(plan.cell.test):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.join(plan.verified_dir, name), target)

    try:
        replace_folder(plan.tree_dir, fill)
    except OSError as exc:
        print(f"error: audit {plan.cell.id}: cannot write {plan.tree_dir}: {exc.strerror or exc}")
        return False
    return True
