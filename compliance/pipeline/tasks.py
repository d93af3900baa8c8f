"""doit tasks built from the specs (dodo.py imports them): reference, run, verify, publish.

Task ids are ``<step>:<system>/<benchmark>/<scenario>/<test>`` (``reference:<system>/<benchmark>/<scenario>/<mode>``),
in sorted order, each step with a group doc. What makes a task rerun:

* reference, run: the run's signature (its resolved command, environment, folders and audit.config) differs from
  the one written after the last successful run, or a log is missing; a run clears its record when it starts, so
  an interrupted run is never taken for a finished one.
* verify: a log of the compliance run or of the submission runs is newer (timestamps), or the resolved test spec,
  model spec, verifier options or verifier version changed (``config_changed``).
* publish: a verified file is newer, or a file of the TEST folder in the submission tree is missing.

The ids ``stage:``, ``unstage:`` and ``audit:`` of release 0.1 still work until 0.3: ``stage`` and ``unstage`` were
folded into ``run`` (placing and removing audit.config are steps of the run, under its locks) and ``audit`` is now
``publish``; each old id runs the task that does its work now.

Command-line variables: ``specs=DIR`` (default ``specs``), ``system=NAME[,NAME...]`` (default: every system).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from doit.tools import config_changed

from compliance import __version__, layout
from compliance.pipeline import actions
from compliance.pipeline.reporter import ProgressReporter
from compliance.pipeline.session import exclusive, load_plan
from compliance.plan import RunPlan

STEPS = ("reference", "run", "verify", "publish")
#: old task ids (release 0.1) -> the step that does their work now
RENAMED = {"stage": "run", "unstage": "run", "audit": "publish"}
def doit_config() -> dict[str, Any]:
    """DOIT_CONFIG for dodo.py: loads the plan (so invalid specs stop every command with their problems),
    creates the build folder, which doit needs before it opens its database, and takes the build folder's lock
    for commands that execute tasks (held until the process ends)."""
    load_plan()
    os.makedirs(layout.BUILD, exist_ok=True)
    exclusive(sys.argv[1:])
    return {
        "backend": "sqlite3",
        "dep_file": layout.DOIT_DB,
        "check_file_uptodate": "timestamp",
        "default_tasks": list(STEPS),
        "reporter": ProgressReporter,
    }


class RunDone:
    """Up to date when the last successful run had this signature and its logs are all there.

    The signature is checked twice: in the value doit saved for the task (so ``doit forget`` makes it rerun) and in
    the file the run writes when it succeeds (cleared when a run starts, so an interrupted run is never taken for
    a finished one, whatever doit's database says).
    """

    def __init__(self, run: RunPlan):
        self.signature = run.signature
        self.file = run.files.signature()
        self.logs = run.logs

    def __call__(self, task: Any, values: Any) -> bool:
        if (values or {}).get("signature") != self.signature:
            return False
        try:
            done = Path(self.file).read_text(encoding="utf-8") == self.signature
        except OSError:
            return False
        return done and all(os.path.exists(log) for log in self.logs)

    def __repr__(self) -> str:
        return f"RunDone(signature {self.signature} saved by doit and in {self.file}, logs present)"


def _group(step: str, doc: str | None) -> dict[str, Any]:
    return {"basename": step, "name": None, "doc": doc}


def task_reference() -> Iterator[dict[str, Any]]:
    """Produce the submission's accuracy and performance runs (systems that declare 'reference')."""
    yield _group("reference", task_reference.__doc__)
    for ref in load_plan().references:
        yield {"basename": "reference", "name": ref.id, "actions": [(actions.reference, [ref])],
               "targets": ref.run.logs, "uptodate": [RunDone(ref.run)], "clean": True,
               "meta": {"log": ref.run.files.output}}


def task_run_benchmark() -> Iterator[dict[str, Any]]:
    """Run the benchmark with the audit.config in place (removed when the run ends); check it was applied."""
    # Named run_benchmark because doit refuses a task creator called like its 'run' command; the tasks are 'run:'.
    yield _group("run", task_run_benchmark.__doc__)
    for cp in load_plan().cells:
        yield {"basename": "run", "name": cp.cell.id, "actions": [(actions.run, [cp])], "targets": cp.run.logs,
               "uptodate": [RunDone(cp.run)], "clean": True, "meta": {"log": cp.run.files.output}}


def task_verify() -> Iterator[dict[str, Any]]:
    """Verify the compliance run against the submission's runs; write the TEST folder into the build folder."""
    yield _group("verify", task_verify.__doc__)
    for cp in load_plan().cells:
        yield {"basename": "verify", "name": cp.cell.id, "actions": [(actions.verify, [cp])],
               "task_dep": [f"run:{cp.cell.id}"], "file_dep": cp.verify_inputs, "targets": cp.verified_files,
               "uptodate": [config_changed(cp.verify_config(__version__))], "clean": True,
               "meta": {"log": cp.files.verify_json}}


def task_publish() -> Iterator[dict[str, Any]]:
    """Copy the verified TEST folder into the submission tree (atomically; nothing else there is touched)."""
    yield _group("publish", task_publish.__doc__)
    for cp in load_plan().cells:
        yield {"basename": "publish", "name": cp.cell.id, "actions": [(actions.publish, [cp])],
               "file_dep": cp.verified_files, "targets": cp.tree_files,
               "uptodate": [config_changed({"tree": cp.tree_dir})]}


def _renamed(old: str) -> Iterator[dict[str, Any]]:
    new = RENAMED[old]
    yield _group(old, f"old name, kept until release 0.3: runs {new}")
    for cp in load_plan().cells:
        yield {"basename": old, "name": cp.cell.id, "actions": None, "task_dep": [f"{new}:{cp.cell.id}"]}


def task_stage() -> Iterator[dict[str, Any]]:
    yield from _renamed("stage")


def task_unstage() -> Iterator[dict[str, Any]]:
    yield from _renamed("unstage")


def task_audit() -> Iterator[dict[str, Any]]:
    yield from _renamed("audit")
