"""doit tasks built from the specs (dodo.py imports them): reference, run, verify, publish, the review of each
system's part of the submission tree (review), and the checks of each submission tree before upload: preflight,
checker.

Task ids are ``<step>:<system>/<benchmark>/<scenario>/<test>`` (``reference:<system>/<benchmark>/<scenario>/<mode>``),
in sorted order, each step with a group doc. What makes a task rerun:

* reference, run: never ran, failed, did not finish, a rerun was asked for (``mlperf-compliance rerun``), a field of
  its signature changed (command, environment, working directory, audit.config...), or a log is missing;
* verify: a part it depends on (test spec, model spec, verifier options, version) or an input (the runs' logs and
  records) changed;
* publish: the verdict changed since it was published or withdrawn, or a file of the TEST folder is missing; for a
  submission run (``publish:<system>/<benchmark>/<scenario>/<mode>``): the run changed since it was copied, the
  copy failed or was refused, or a file the tool wrote into the tree is missing or changed;
* review (``review:<system>``, after the system's publish tasks): a file under the system's part of the tree changed,
  appeared or went (their stamps), or the round, its cells' specs or the version changed.

* preflight (``preflight:<tree>``), checker (``checker:<tree>``, with ``upload: {official_checkout: ...}``): a file of
  the tree changed, appeared or went, or what they depend on changed (round, systems, the checkout's scripts).

Each is the freshness rule of :mod:`compliance.freshness` (``doit info TASK`` prints its reasons). A verify task
whose cell allows more attempts runs the benchmark again itself when the verdict fails by what noise can cause
(:func:`compliance.pipeline.actions.verify`): the run's record and signature it rewrites keep ``run:`` up to date.
doit's database is committed after every task (:mod:`compliance.pipeline.backend`), and the checks read the cells'
own records, so a killed doit loses only the task it was running.

The ids ``stage:``, ``unstage:`` and ``audit:`` of release 0.1 still work until 0.3: ``stage`` and ``unstage`` were
folded into ``run`` (placing and removing audit.config are steps of the run, under its locks) and ``audit`` is now
``publish``; each old id runs the task that does its work now.

Command-line variables: ``specs=DIR`` (default ``specs``), ``system=NAME[,NAME...]`` (default: every system).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from compliance import freshness, layout, records
from compliance.pipeline import actions, clean, review_task, upload
from compliance.pipeline.reporter import ProgressReporter
from compliance.pipeline.session import ALIASES, CELL_STEPS, OUTCOME, SYSTEM_STEPS, TREE_STEPS, exclusive, load_plan
from compliance.plan import CellPlan, Plan, ReferencePlan, ReviewPlan, RunPlan, TreePlan

BACKEND = "sqlite3-per-task"  # compliance.pipeline.backend, registered as a doit backend by the package's entry point


def doit_config() -> dict[str, Any]:
    """DOIT_CONFIG for dodo.py: loads the plan (so invalid specs stop every command with their problems),
    creates the build folder, which doit needs before it opens its database, and takes the build folder's lock
    for commands that execute tasks (held until the process ends)."""
    load_plan()
    os.makedirs(layout.BUILD, exist_ok=True)
    exclusive(sys.argv[1:])
    return {
        "backend": BACKEND,
        "dep_file": layout.DOIT_DB,
        "check_file_uptodate": "timestamp",
        "default_tasks": [OUTCOME],
        "continue": True,  # a campaign goes on past a failing cell; the compliance task fails at the end
        "reporter": ProgressReporter,
    }


class Fresh:
    """doit's up-to-date check of a step: the freshness rule (:mod:`compliance.freshness`), whose reasons
    ``doit info TASK`` prints through this object's repr. A run also needs doit's saved signature, so that
    ``doit forget`` makes it run again."""

    def __init__(self, step: str, reasons: Callable[[], list[freshness.Reason]], signature: str | None = None):
        self.step = step
        self.reasons = reasons
        self.signature = signature
        self.last: list[str] = []

    def __call__(self, task: Any, values: Any) -> bool:
        self.last = [str(r) for r in self.reasons()]
        if not self.last and self.signature is not None and (values or {}).get("signature") != self.signature:
            self.last.append("doit has no record of this run (new, or forgotten with doit forget)")
        return not self.last

    def __repr__(self) -> str:
        return f"{self.step} is not up to date: {'; '.join(self.last)}" if self.last else f"{self.step} is up to date"


def _run_reasons(run: RunPlan) -> list[freshness.Reason]:
    return freshness.run_reasons(run, records.read_run(run))


def _verify_reasons(cp: CellPlan) -> list[freshness.Reason]:
    return freshness.verify_reasons(cp, records.read_cell(cp))


def _publish_reasons(cp: CellPlan) -> list[freshness.Reason]:
    return freshness.publish_reasons(cp, records.read_cell(cp))


def _reference_publish_reasons(ref: ReferencePlan) -> list[freshness.Reason]:
    return freshness.reference_publish_reasons(ref, records.read_reference(ref))


def _shown(run: RunPlan) -> dict[str, Any]:
    """What ``doit info`` shows of a run: the resolved command, where it runs, with what, and where its logs go."""
    return {
        "log": run.files.output,
        "earlier logs": f"{run.files.previous_outputs[0]} (the run before) ... {run.files.previous_outputs[-1]}",
        "command": run.command,
        "workdir": run.workdir,
        "environment (added)": run.env,
        "launcher": run.launcher.kind,
        "logs": run.files.logs,
        "audit.config": (
            "staged for the run, then removed: " + layout.norm(run.workdir, "audit.config")
            if run.audit_text
            else "none (a submission run)"
        ),
        "declared inputs": list(run.inputs),
    }


def _group(step: str, doc: str | None) -> dict[str, Any]:
    return {"basename": step, "name": None, "doc": doc}


def _dependents(plan: Plan) -> dict[str, list[str]]:
    """reference id -> the cells that compare with it."""
    found: dict[str, list[str]] = {}
    for cp in plan.cells:
        for ref in cp.references:
            found.setdefault(ref.id, []).append(cp.cell.id)
    return found


def _interleaved(items: list[Any], system: Callable[[Any], str]) -> list[Any]:
    """``items`` taken in turn from each system (sorted within a system): with ``doit -n N`` the first tasks doit
    starts belong to different systems, whose runs may go in parallel, not to one system, whose runs wait for each
    other."""
    by_system: dict[str, list[Any]] = {}
    for item in items:
        by_system.setdefault(system(item), []).append(item)
    queues = [by_system[name] for name in sorted(by_system)]
    out = []
    for i in range(max((len(q) for q in queues), default=0)):
        out += [q[i] for q in queues if i < len(q)]
    return out


def task_reference() -> Iterator[dict[str, Any]]:
    """Produce the submission's accuracy and performance runs (systems that declare 'reference')."""
    yield _group("reference", task_reference.__doc__)
    plan = load_plan()
    dependents = _dependents(plan)
    for ref in _interleaved(plan.references, lambda r: r.system):
        yield {
            "basename": "reference",
            "name": ref.id,
            "actions": [(actions.reference, [ref, dependents.get(ref.id, [])])],
            "uptodate": [Fresh(f"reference:{ref.id}", partial(_run_reasons, ref.run), ref.run.signature)],
            "clean": [(clean.run, [ref.run])],
            "meta": _shown(ref.run),
        }


def task_run_benchmark() -> Iterator[dict[str, Any]]:
    """Run the benchmark with the audit.config in place (removed when the run ends); check it was applied."""
    # Named run_benchmark because doit refuses a task creator called like its 'run' command; the tasks are 'run:'.
    yield _group("run", task_run_benchmark.__doc__)
    for cp in _interleaved(load_plan().cells, lambda c: c.cell.system):
        yield {
            "basename": "run",
            "name": cp.cell.id,
            "actions": [(actions.run, [cp])],
            "uptodate": [Fresh(f"run:{cp.cell.id}", partial(_run_reasons, cp.run), cp.run.signature)],
            "clean": [(clean.run, [cp.run])],
            "meta": _shown(cp.run),
        }


def task_verify() -> Iterator[dict[str, Any]]:
    """Verify the compliance run against the submission's runs; write the TEST folder into the build folder."""
    yield _group("verify", task_verify.__doc__)
    for cp in load_plan().cells:
        deps = [f"run:{cp.cell.id}"] + [f"reference:{ref.id}" for ref in cp.references]
        yield {
            "basename": "verify",
            "name": cp.cell.id,
            "actions": [(actions.verify, [cp])],
            "task_dep": deps,
            "uptodate": [Fresh(f"verify:{cp.cell.id}", partial(_verify_reasons, cp))],
            "clean": [(clean.verification, [cp])],
            "meta": {"log": cp.files.verify_json, "output": cp.run.files.output},  # a retry runs the benchmark
        }


def task_publish() -> Iterator[dict[str, Any]]:
    """Copy the verified TEST folder into the submission tree when the cell passes (atomically), withdraw it
    otherwise; fails when the cell does not pass. With reference: {publish: true}, copy the submission runs the
    tool produced into the tree's results layout (never over a folder the tool did not write)."""
    yield _group("publish", task_publish.__doc__)
    plan = load_plan()
    for cp in plan.cells:
        yield {
            "basename": "publish",
            "name": cp.cell.id,
            "actions": [(actions.publish, [cp])],
            "task_dep": [f"verify:{cp.cell.id}"],
            "uptodate": [Fresh(f"publish:{cp.cell.id}", partial(_publish_reasons, cp))],
        }
    dependents = _dependents(plan)
    for ref in plan.references:
        if ref.tree_dir is None:
            continue
        yield {
            "basename": "publish",
            "name": ref.id,
            "actions": [(actions.publish_reference, [ref, dependents.get(ref.id, [])])],
            "task_dep": [f"reference:{ref.id}"],
            "uptodate": [Fresh(f"publish:{ref.id}", partial(_reference_publish_reasons, ref))],
            "meta": {"log": ref.publish_record, "copied to": ref.tree_dir},
        }


def _review_reasons(rp: ReviewPlan) -> list[freshness.Reason]:
    return freshness.review_reasons(rp, *records.read_review(rp.record))


def task_review() -> Iterator[dict[str, Any]]:
    """Review each system's part of the submission tree after its publish tasks (the user's own files in it too):
    what `mlperf-compliance review` finds there, in the summary; errors fail the system's review row."""
    yield _group("review", task_review.__doc__)
    for rp in load_plan().reviews:
        yield {
            "basename": "review",
            "name": rp.id,
            "actions": [(review_task.run_review, [rp])],
            "task_dep": list(rp.after),
            "uptodate": [Fresh(f"review:{rp.id}", partial(_review_reasons, rp))],
            "meta": {"log": rp.record},
        }


def _tree_reasons(tp: TreePlan, checkout: str | None) -> list[freshness.Reason]:
    path = tp.files.preflight if checkout is None else tp.files.official_record(checkout)
    return freshness.tree_reasons(tp, checkout, *records.read_tree_check(path))


def task_preflight() -> Iterator[dict[str, Any]]:
    """Pre-flight each submission tree after publishing: what the official truncation, checkers, preprocess and
    repository checks will do to it (docs/upload.md); its rows are in the summary."""
    yield _group("preflight", task_preflight.__doc__)
    for tp in load_plan().trees:
        yield {
            "basename": "preflight",
            "name": tp.id,
            "actions": [(upload.run_preflight, [tp])],
            "task_dep": ["publish"],
            "uptodate": [Fresh(f"preflight:{tp.id}", partial(_tree_reasons, tp, None))],
            "meta": {"log": tp.files.preflight},
        }


def task_checker() -> Iterator[dict[str, Any]]:
    """With upload: {official_checkout: PATH} in a system spec: run that checkout's truncation and submission
    checker on a copy of the tree (never the tree itself); the checker's verdict per cell is in the summary."""
    yield _group("checker", task_checker.__doc__)
    for tp in load_plan().trees:
        for checkout in tp.checkouts:
            yield {
                "basename": "checker",
                "name": tp.id if len(tp.checkouts) == 1 else f"{tp.id}@{checkout}",
                "actions": [(upload.run_checker, [tp, checkout])],
                "task_dep": ["publish"],
                "uptodate": [Fresh(f"checker:{tp.id}", partial(_tree_reasons, tp, checkout))],
                "meta": {"log": tp.files.official(checkout), "checkout": checkout},
            }


def task_compliance() -> dict[str, Any]:
    """Every step of every cell, the review of each system and the checks of each tree (the default task); fails when
    a required cell, a review or a check of a tree does not pass."""
    return {
        "actions": [actions.outcome],
        "task_dep": [*CELL_STEPS, *SYSTEM_STEPS, *TREE_STEPS],
        "uptodate": [False],
        "verbosity": 2,
        "meta": {"verdict": True},
    }


def _renamed(old: str) -> Iterator[dict[str, Any]]:
    new = ALIASES[old]
    yield _group(old, f"old name, kept until release 0.3: runs {new}")
    for cp in load_plan().cells:
        yield {"basename": old, "name": cp.cell.id, "actions": None, "task_dep": [f"{new}:{cp.cell.id}"]}


def task_stage() -> Iterator[dict[str, Any]]:
    yield from _renamed("stage")


def task_unstage() -> Iterator[dict[str, Any]]:
    yield from _renamed("unstage")


def task_audit() -> Iterator[dict[str, Any]]:
    yield from _renamed("audit")
