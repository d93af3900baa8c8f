"""doit tasks built from the specs (dodo.py imports them): reference, stage, run, unstage, verify, audit.

Task ids are ``<step>:<system>/<benchmark>/<scenario>/<test>`` (``reference:<system>/<benchmark>/<scenario>/<mode>``),
in sorted order, each step with a group doc. What makes a task rerun:

* reference, stage, run, unstage: the run's signature (its resolved command, environment, folders and audit.config)
  differs from the one written after the last successful run (unstage: after its own last success), or a log is
  missing; a run clears both records when it starts, so an interrupted run is never taken for a finished one.
* verify: a log of the compliance run or of the submission runs is newer (timestamps), or the resolved test spec,
  model spec or verifier version changed (``config_changed``).
* audit: a verified file is newer, or a file of the TEST folder in the submission tree is missing.
"""

from __future__ import annotations

import fcntl
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

from doit import get_var
from doit.tools import config_changed

from compliance import __version__, actions
from compliance.commands import load_or_report
from compliance.commands.validate import validate
from compliance.plan import BUILD, Plan, RunPlan, build_plan
from compliance.reporter import ProgressReporter

STEPS = ("reference", "stage", "run", "unstage", "verify", "audit")


#: doit commands that only read: they may run while another doit executes tasks
READ_ONLY_COMMANDS = {"list", "info", "help", "summary", "dumpdb", "strace", "tabcompletion", "auto"}
_lock_handle = None


def _exclusive(argv: list[str]) -> None:
    """Refuse a second doit that would execute tasks on this build folder while another one does."""
    global _lock_handle
    words = [a for a in argv if not a.startswith("-") and "=" not in a]
    if words and words[0] in READ_ONLY_COMMANDS:
        return
    _lock_handle = open(os.path.join(BUILD, ".doit.lock"), "w")
    try:
        fcntl.flock(_lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"error: another doit is running tasks on {BUILD}/ (lock {BUILD}/.doit.lock); wait for it to end, "
              "or run read-only commands (list, info, summary)", file=sys.stderr)
        raise SystemExit(2) from None


def doit_config() -> dict:
    """DOIT_CONFIG for dodo.py; creates the build folder, which doit needs before it opens its database, and
    takes the build folder's lock for commands that execute tasks (held until the process ends)."""
    os.makedirs(BUILD, exist_ok=True)
    _exclusive(sys.argv[1:])
    return {
        "backend": "sqlite3",
        "dep_file": os.path.join(BUILD, ".doit.db"),
        "check_file_uptodate": "timestamp",
        "default_tasks": list(STEPS),
        "reporter": ProgressReporter,
    }


def specs_dir() -> str:
    """The specs folder chosen on the command line (``doit specs=DIR``), default ``specs``."""
    return get_var("specs", "specs")


@cache
def plan(folder: str) -> Plan:
    """The plan of the specs in ``folder``; invalid specs print every problem and exit with status 2."""
    specs = load_or_report(folder, sys.stderr)
    if specs is None:
        raise SystemExit(2)
    return build_plan(specs)


class RunDone:
    """Up to date when the last successful run had this signature and its logs are all there.

    The signature is checked twice: in the value doit saved for the task (so ``doit forget`` makes it rerun) and in
    the file the step writes when it succeeds (cleared when a run starts, so an interrupted run is never taken for
    a finished one, whatever doit's database says).
    """

    def __init__(self, run: RunPlan, step: str = "run"):
        self.signature = run.signature
        self.file = actions.signature_file(run, step)
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


def _group(step: str, doc: str) -> dict:
    return {"basename": step, "name": None, "doc": doc}


def task_reference():
    """Produce the submission's accuracy and performance runs (systems that declare 'reference')."""
    yield _group("reference", task_reference.__doc__)
    for ref in plan(specs_dir()).references:
        yield {"basename": "reference", "name": ref.id, "actions": [(actions.reference, [ref])], "targets": ref.run.logs,
               "uptodate": [RunDone(ref.run)], "clean": True, "meta": {"log": ref.run.stdout_log}}


def task_stage():
    """Render a cell's audit.config into its build folder; check its working directory can receive it."""
    yield _group("stage", task_stage.__doc__)
    for cp in plan(specs_dir()).cells:
        yield {"basename": "stage", "name": cp.cell.id, "actions": [(actions.stage, [cp])], "uptodate": [RunDone(cp.run)]}


def task_run_benchmark():
    """Run the benchmark with the audit.config in place (removed when the run ends); check it was applied."""
    # Named run_benchmark because doit refuses a task creator called like its 'run' command; the tasks are 'run:'.
    yield _group("run", task_run_benchmark.__doc__)
    for cp in plan(specs_dir()).cells:
        yield {"basename": "run", "name": cp.cell.id, "actions": [(actions.run, [cp])], "task_dep": [f"stage:{cp.cell.id}"],
               "targets": cp.run.logs, "uptodate": [RunDone(cp.run)], "clean": True,
               "meta": {"log": cp.run.stdout_log}}


def task_unstage():
    """Make sure the cell's audit.config is gone from the working directory."""
    yield _group("unstage", task_unstage.__doc__)
    for cp in plan(specs_dir()).cells:
        yield {"basename": "unstage", "name": cp.cell.id, "actions": [(actions.unstage, [cp])],
               "task_dep": [f"run:{cp.cell.id}"], "uptodate": [RunDone(cp.run, "unstage")]}


def task_verify():
    """Verify the compliance run against the submission's runs; write the TEST folder into the build folder."""
    yield _group("verify", task_verify.__doc__)
    for cp in plan(specs_dir()).cells:
        yield {"basename": "verify", "name": cp.cell.id, "actions": [(actions.verify, [cp])], "task_dep": [f"unstage:{cp.cell.id}"],
               "file_dep": cp.verify_inputs, "targets": cp.verified_files,
               "uptodate": [config_changed(cp.verify_config(__version__))], "clean": True,
               "meta": {"log": cp.verify_json}}


def task_audit():
    """Copy the verified TEST folder into the submission tree (atomically; nothing else there is touched)."""
    yield _group("audit", task_audit.__doc__)
    for cp in plan(specs_dir()).cells:
        yield {"basename": "audit", "name": cp.cell.id, "actions": [(actions.audit, [cp])], "file_dep": cp.verified_files,
               "targets": cp.tree_files, "uptodate": [config_changed({"tree": cp.tree_dir})]}


def _validate_action(specs: str) -> bool:
    return validate(specs, sys.stdout, sys.stderr) == 0


def task_validate():
    """Load and check every spec; report every problem at once."""
    return {"actions": [(_validate_action, [specs_dir()])], "uptodate": [False], "verbosity": 2}
