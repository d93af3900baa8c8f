"""What the doit tasks do: module-level functions with explicit arguments (picklable, for ``doit -n``).

Each returns True or a dict of values doit saves (done), or False (failed, after printing why). The promises:

* audit.config is in a working directory only while its run's command runs (the launcher's guarantee,
  :mod:`compliance.pipeline.launch.base`), and only files this project placed are ever removed
  (:mod:`compliance.pipeline.staging`);
* a run counts as done only when it finished, its logs are there, and its detail log shows the audit config was
  applied (a submission run: that none was): only then is its signature written, so an interrupted run is never
  taken for a finished one;
* a TEST folder is written whole or not at all, in the build folder and in the submission tree
  (:func:`compliance.fsutil.replace_folder`).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compliance import __version__, layout, records
from compliance.errors import InputError
from compliance.fsutil import replace_folder, write_atomic
from compliance.logs import LogError
from compliance.logs.detail import DetailLog, read_detail
from compliance.pipeline import launch
from compliance.plan import CellPlan, ReferencePlan, RunPlan
from compliance.verify import evidence, output, render
from compliance.verify.base import Request


def _forget(run: RunPlan) -> None:
    """Forget the run's previous success before it starts (so a killed run is never taken for a finished one); the
    launcher clears the old logs when it starts a new command (:func:`compliance.pipeline.launch.base.clear_logs`)."""
    Path(run.files.signature()).unlink(missing_ok=True)


def _collect_logs(run: RunPlan, started: float) -> str | None:
    """Copy the harness's logs into the build folder when it writes them elsewhere; None or why it failed."""
    if run.harness_log_dir is None:
        return None
    for name in layout.LOG_FILES:
        source = Path(run.harness_log_dir) / name
        if not source.exists() or source.stat().st_mtime < started - 1:
            return f"the harness wrote no new {name} in {run.harness_log_dir} (set log_dir, or pass {{log_dir}})"
        shutil.copy2(source, Path(run.files.logs) / name)
    return None


def _detail(run: RunPlan) -> DetailLog | str:
    try:
        return read_detail(os.path.join(run.files.logs, layout.DETAIL))
    except (OSError, LogError) as exc:
        return f"no readable detail log: {exc}"


def _execute(run: RunPlan, label: str, check: Callable[[DetailLog], str | None]) -> bool | dict[str, Any]:
    """Launch a run, check its detail log with ``check`` (None or the problem), record how it ended."""
    _forget(run)
    started = time.time()
    launched = launch.get(run.launcher.kind).launch(run)
    problem = launched.problem or _collect_logs(run, started)
    if problem is None:
        detail = _detail(run)
        problem = detail if isinstance(detail, str) else check(detail)
    records.write_run(run.files, run.signature, problem)
    if problem is not None:
        print(f"error: {label}: {problem}")
        return False
    write_atomic(run.files.signature(), run.signature)
    return {"signature": run.signature}


def run(plan: CellPlan) -> bool | dict[str, Any]:
    """Run the benchmark with the cell's audit.config; fail unless the config was found and applied."""
    def applied(detail: DetailLog) -> str | None:
        check = evidence.check_applied(detail, plan.test, plan.model, plan.cell.scenario)
        return None if check.passed else check.reason

    return _execute(plan.run, f"run {plan.cell.id}", applied)


def reference(plan: ReferencePlan) -> bool | dict[str, Any]:
    """Produce a submission run (accuracy or performance); it must show no audit config."""
    def clean(detail: DetailLog) -> str | None:
        return "LoadGen found an audit.config: this run is contaminated" if detail.audit_config_found else None

    return _execute(plan.run, f"reference {plan.id}", clean)


def verify(plan: CellPlan) -> bool:
    """Verify the cell's compliance run; write its TEST folder into the build folder; fail when the test fails."""
    verifier = plan.verifier
    request = Request(plan.test, plan.model, Path(plan.run.files.logs), Path(plan.results_dir), plan.cell.scenario,
                      plan.options)
    try:
        result = verifier.verify(request)
        output.write(plan.files.verify_dir, result, verifier)
    except InputError as exc:
        print(f"error: verify {plan.cell.id}: {exc}")
        return False
    records.write_verify_meta(plan.files.verify_meta, plan.verify_digest(__version__), plan.verify_inputs)
    print(render.console(result, verifier), end="")
    return result.verdict == "PASS"


def publish(plan: CellPlan) -> bool:
    """Copy the verified TEST folder into the submission tree, atomically, and nothing else."""
    def fill(staging: Path) -> None:
        for name in plan.verifier.files():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.join(plan.files.verified_dir, name), target)

    try:
        replace_folder(plan.tree_dir, fill)
    except OSError as exc:
        print(f"error: publish {plan.cell.id}: cannot write {plan.tree_dir}: {exc.strerror or exc}")
        return False
    return True
