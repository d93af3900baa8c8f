"""Plans and cell states for fast tests of the pipeline's rules: no doit, no LoadGen, no process.

* :func:`specs` is the shipped rounds, models and tests, loaded once; :func:`bench` and :func:`system` build systems
  in code (paths relative to the test's folder); :func:`plan` builds the plan of some systems; :func:`demo_plan` is
  the shipped demo's (17 cells, 24 submission runs), with its paths moved into the test's folder.
* :func:`ran`, :func:`verified`, :func:`published` and :func:`copied` put a step's records in the build folder as the
  pipeline writes them (through the records API), so a test states a cell's history in a few lines; :func:`reviewed`
  records a clean review of each system's part of the tree as it is now.
* :func:`gen` writes a tree of files from a dict (text, bytes, a record object, or a folder).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from compliance import __version__, freshness, records
from compliance.layout import norm
from compliance.plan import CellPlan, Plan, ReferencePlan, RunPlan, build_plan, load_specs
from compliance.records import (
    PublishRecord,
    PublishState,
    ReviewRecord,
    RunRecord,
    TreeCopyRecord,
    VerifyKind,
    VerifyRecord,
)
from compliance.records.types import Record
from compliance.specs.types import BenchmarkRun, Launcher, Specs, System
from compliance.submission import upload
from compliance.verify import render
from compliance.verify.result import Check, Outcome, Result, Verdict
from tests.helpers.paths import SHIPPED_SPECS

HOST = "testhost"
HARNESS = "harness --mode {mode} --log-dir {log_dir}"  # a command (tests/helpers/harness.py runs none)


@cache
def specs() -> Specs:
    """The shipped specs (loaded once per process)."""
    return load_specs(SHIPPED_SPECS)


def bench(name: str, scenarios: tuple[str, ...] = ("Offline",), command: str = HARNESS, **changes: Any) -> BenchmarkRun:
    """A benchmark of a system that produces its own submission runs (``reference: {}``) unless ``results`` is
    given; ``changes`` sets any other field (``publish_reference``, ``attempts``, ``inputs``...)."""
    run = BenchmarkRun(
        benchmark=name,
        scenarios=tuple(scenarios),
        command=command,
        workdir=f"work/{name}",
        log_dir=None,
        env={},
        timeout=60.0,
        results=None,
        reference_command=None if changes.get("results") else command,
        isolated=False,
        launcher=Launcher("local"),
    )
    return replace(run, **changes)


def system(name: str = "box", round_: str = "v5.0", *benchmarks: BenchmarkRun, **changes: Any) -> System:
    """A closed-division system whose tree is ``submission`` (``changes``: ``division``, ``submission_dir``...)."""
    found = System(
        name=name,
        round=round_,
        division="closed",
        submitter="Acme",
        submission_dir="submission",
        benchmarks={b.benchmark: b for b in benchmarks},
        description="",
        file=f"specs/systems/{name}.yaml",
        strict_accuracy=None,
    )
    return replace(found, **changes)


def plan(*systems: System) -> Plan:
    """The plan of ``systems`` with the shipped rounds, models and tests."""
    return build_plan(replace(specs(), systems={s.name: s for s in systems}))


def demo_plan() -> Plan:
    """The shipped demo's plan, its trees and working directories under the test's folder."""
    moved = {}
    for name, found in specs().systems.items():
        benchmarks = {b: replace(run, workdir=f"build/work/{name}/{b}") for b, run in found.benchmarks.items()}
        moved[name] = replace(found, submission_dir=f"build/submission-{found.round}", benchmarks=benchmarks)
    return build_plan(replace(specs(), systems=moved))


def cell(p: Plan, cell_id: str) -> CellPlan:
    return next(cp for cp in p.cells if cp.cell.id == cell_id)


def reference(p: Plan, ref_id: str) -> ReferencePlan:
    return next(ref for ref in p.references if ref.id == ref_id)


# -- a step's records, as the pipeline writes them --------------------------------------------------------------------


def ran(
    run: RunPlan, *, reason: str = "", kind: str = "exited", logs: bool = True, signed: bool = True, **changes: Any
) -> RunRecord:
    """Record a run that ended (failed when ``reason`` is given), with its logs, and its signature when it passed
    and ``signed``; ``changes`` alters the record (``signature``, ``fields``, ``time``)."""
    if logs:
        for log in run.logs:
            Path(log).parent.mkdir(parents=True, exist_ok=True)
            Path(log).write_text(f"{os.path.basename(log)} of {run.label}\n", encoding="utf-8")
    inputs = records.input_stamps(run.inputs)
    record = RunRecord.ended(run.signature, run.signature_fields(), reason or None, kind, inputs, records.Where(HOST))
    record = replace(record, **changes)
    record.save(run.files.record)
    if record.passed and signed:
        Path(run.files.signature()).write_text(record.signature, encoding="utf-8")
    return record


def results(cp: CellPlan) -> None:
    """The submission's results a cell compares with, when the system does not produce them (``results:``)."""
    for path in cp.reference_files:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("a log of the submission\n", encoding="utf-8")


def result(cp: CellPlan, verdict: Verdict = Verdict.PASS, reason: str = "") -> Result:
    """A result of the cell's test with one check of that outcome."""
    outcome = {Verdict.PASS: Outcome.PASS, Verdict.FAIL: Outcome.FAIL, Verdict.NOT_CHECKABLE: Outcome.NOT_CHECKABLE}
    return Result(cp.cell.test, cp.cell.scenario, cp.model.name, [Check("a check", outcome[verdict], reason)])


def verified(
    cp: CellPlan,
    verdict: Verdict | None = Verdict.PASS,
    reason: str = "",
    kind: VerifyKind = VerifyKind.VERDICT,
    outcome: Result | None = None,
) -> VerifyRecord:
    """Record a verification as the verify step writes it: the TEST folder in the build folder (every file of the
    test, verify.json the result's) when it gave a verdict, and verify.meta.json with its inputs' stamps now."""
    if kind is VerifyKind.VERDICT:
        assert verdict is not None
        outcome = outcome or result(cp, verdict, reason)
        for path in cp.verified_files:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(f"{os.path.basename(path)}\n", encoding="utf-8")
        Path(cp.files.verify_json).write_text(render.verify_json(outcome), encoding="utf-8")
    inputs = {path: records.stamp(path) for path in cp.verify_inputs}
    meta = VerifyRecord(verdict, reason, kind, cp.verify_parts(__version__), inputs, time.time())
    meta.save(cp.files.verify_meta)
    return meta


def published(cp: CellPlan) -> PublishRecord:
    """Record the cell's TEST folder as copied into the tree (its upload form, with the identity of each file
    written, as the publish step does)."""
    identities = {}
    for planned in freshness.tree_form(cp):
        target = Path(cp.tree_dir) / planned.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if planned.data is None:
            target.write_bytes(Path(norm(cp.files.verified_dir, planned.name)).read_bytes())
        else:
            target.write_bytes(planned.data)
        identities[planned.name] = planned.identity.with_stamp(upload.file_stamp(str(target)))
    meta = VerifyRecord.load(cp.files.verify_meta)
    assert meta is not None
    verdict = records.stamp(cp.files.verify_json)
    record = PublishRecord(PublishState.PUBLISHED, meta.time, verdict, time=time.time(), files=identities)
    record.save(cp.files.publish_record)
    return record


def copied(ref: ReferencePlan) -> TreeCopyRecord:
    """Record a submission run's logs as copied into the tree's results layout (as the publish step does)."""
    assert ref.tree_dir is not None
    os.makedirs(ref.tree_dir, exist_ok=True)
    for log in ref.run.logs:
        target = Path(ref.tree_dir) / os.path.basename(log)
        target.write_bytes(Path(log).read_bytes())
        os.utime(target, (os.stat(log).st_atime, os.stat(log).st_mtime))
    source = freshness.reference_source(ref, records.read_run(ref.run))
    identities = {
        p.name: p.identity.with_stamp(upload.file_stamp(os.path.join(ref.tree_dir, p.name)))
        for p in upload.results_folder(ref.mode, ref.run.logs)
    }
    stamps = records.tree_stamps(ref.tree_dir)
    record = TreeCopyRecord(ref.tree_dir, PublishState.PUBLISHED, stamps, None, source, identities=identities)
    record.save(ref.publish_record)
    return record


def passing(cp: CellPlan) -> None:
    """A cell whose every step passed: its runs (those that ran already are kept), its verification, its TEST folder
    in the tree."""
    for _, _, run in cp.needed_runs():
        if not os.path.exists(run.files.record):
            ran(run)
    if not cp.references:
        results(cp)
    verified(cp)
    published(cp)


def reviewed(plan: Plan) -> None:
    """Record a review of each system's part of the tree, as it is now, that found nothing (its row: PASS)."""
    for rp in plan.reviews:
        stamps = freshness.review_stamps(rp)
        ReviewRecord(time.time(), rp.parts(__version__), stamps, "", {"records": []}).save(rp.record)


# -- files ------------------------------------------------------------------------------------------------------------


def gen(root: Path | str, tree: dict[str, Any]) -> None:
    """Create files under ``root`` from a nested dict: text (str), bytes, a record (saved as the pipeline saves
    it), or a folder (dict)."""
    for name, content in tree.items():
        path = Path(root) / name
        if isinstance(content, dict):
            path.mkdir(parents=True, exist_ok=True)
            gen(path, content)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Record):
            content.save(str(path))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
