"""``doit clean TASK``: remove what a step wrote into the build folder (never the submission tree, never a working
directory)."""

from __future__ import annotations

import shutil
from pathlib import Path

from compliance.plan import CellPlan, RunPlan


def run(plan: RunPlan) -> None:
    """Remove a run's LoadGen logs, outputs (the newest and the earlier ones) and record."""
    shutil.rmtree(plan.files.logs, ignore_errors=True)
    for path in (plan.files.output, *plan.files.previous_outputs, plan.files.record):
        Path(path).unlink(missing_ok=True)


def verification(plan: CellPlan) -> None:
    """Remove a cell's verified TEST folder and the record of its verification."""
    shutil.rmtree(plan.files.verified_dir, ignore_errors=True)
    Path(plan.files.verify_meta).unlink(missing_ok=True)
