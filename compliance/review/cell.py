"""Review one cell in one worker: its submission runs, its TEST folders, and the checks between them that need no
other cell (is each compliance run a separate run of its own, with the submission's seeds and target QPS?).

A cell is the unit of parallel work (:mod:`compliance.review.engine`): its submission runs' logs, which every TEST
folder of the cell compares with, are read once, in the worker that reviews the cell.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass

from compliance.layout import DETAIL, SUMMARY
from compliance.logs import memo
from compliance.report.model import Evidence
from compliance.review import rules
from compliance.review.facts import FactCache, FileFacts, digest, same_bytes
from compliance.review.folder import Context, review_stray, review_test
from compliance.review.outcome import TEST, CellOutcome, Record
from compliance.review.runs import review_runs
from compliance.review.tree import Cell
from compliance.specs.types import Specs


@dataclass(frozen=True)
class Job:
    """One cell to review, with the tree's other names for its benchmark (``model_mapping.json``); ``tests``: only
    these TEST folders (None: all), ``runs``: its submission runs too."""

    cell: Cell
    hints: tuple[str, ...] = ()
    tests: tuple[str, ...] | None = None
    runs: bool = True


def review_cell(job: Job, specs: Specs, root: str) -> CellOutcome:
    """Review a cell; a folder that makes review fail is reported (``review-crashed``), never the end of the run."""
    start = time.monotonic()
    cell = job.cell
    outcome = CellOutcome(cell.key)
    cache = FactCache()
    ctx = Context(root, specs, cell, job.hints, cache)
    with memo.scope():  # the cell's logs parsed once, for review's checks and every verification
        _review(job, ctx, outcome)
    outcome.facts = cache.facts
    outcome.seconds = time.monotonic() - start
    return outcome


def _review(job: Job, ctx: Context, outcome: CellOutcome) -> None:
    cell, cache, root = job.cell, ctx.cache, ctx.root
    try:
        if cell.results_division is None and job.runs:
            outcome.records += review_runs(cell, cache, root)
        for test, folder in sorted(cell.tests.items()):
            if job.tests is None or test in job.tests:
                outcome.records.append(_guarded(ctx, test, folder))
        for test, folder in sorted(cell.other_tests.items()):
            if job.tests is None or test in job.tests:
                record = _guarded(ctx, test, folder, second=True)
                _twice(record, cell.tests[test], cache, root)
                outcome.records.append(record)
        stray = review_stray(cell, ctx) if job.tests is None else None
        if stray is not None:
            outcome.records.append(stray)
        _same_cell(outcome.records, cell, cache, root)
    except Exception as exc:  # a bug: say so on the cell, and go on with the others
        crashed = Record(cell.key, "cell", cell.compliance_dir or cell.results_dir or root, TEST)
        crashed.add(rules.finding("review-crashed", _crash(exc), os.path.relpath(crashed.path, root)))
        outcome.records.append(crashed)


def _crash(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {os.path.basename(where.filename)}:{where.lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"


def _guarded(ctx: Context, test: str, folder: str, second: bool = False) -> Record:
    """Review a TEST folder; a bug that stops it is a finding on that folder."""
    try:
        return review_test(test, folder, ctx, second)
    except Exception as exc:
        record = Record(ctx.cell.key, test, folder, TEST)
        record.add(rules.finding("review-crashed", _crash(exc), ctx.shown(folder)))
        return record


def _twice(record: Record, first: str, cache: FactCache, root: str) -> None:
    """A test's second folder in the cell (the other layout): the checker of the round reads one of them."""
    mine, theirs = record.logs.get("detail"), os.path.join(first, "performance", "run_1", DETAIL)
    same = ""
    if mine and os.path.isfile(theirs):
        a, b = cache.get(mine), cache.get(theirs)
        same = " (the same run: byte-identical detail logs)" if a and b and same_bytes(a, b) else ""
    record.add(
        rules.finding(
            "test-folder-twice",
            f"{record.test} is also in {os.path.relpath(first, root)}{same}; the round's checker reads one of them",
            os.path.relpath(record.path, root),
            [Evidence(os.path.relpath(record.path, root), other_file=os.path.relpath(first, root))],
        )
    )


def _same_cell(records: list[Record], cell: Cell, cache: FactCache, root: str) -> None:
    """Each compliance run against the cell's submission runs and its other tests' runs."""
    runs = cell.runs
    subs: dict[str, tuple[FileFacts | None, FileFacts | None]] = {
        run: (cache.get(os.path.join(folder, DETAIL)), cache.get(os.path.join(folder, SUMMARY)))
        for run, folder in runs.items()
    }
    perf = subs.get("performance", (None, None))[0]
    seen: list[tuple[FileFacts, Record]] = []  # the compliance detail logs so far, with their records
    for record in records:
        if record.path in cell.other_tests.values():
            continue  # a test's second folder: said by test-folder-twice
        if record.kind != TEST or "detail" not in record.logs:
            continue
        comp = cache.get(record.logs["detail"])
        if comp is None or comp.problem:
            continue
        shown = os.path.relpath(comp.path, root)
        for run, (detail, summary) in subs.items():
            _is_submission_run(record, run, comp, detail, summary, cache, root)
        first = next((r for log, r in seen if same_bytes(log, comp)), record)
        seen.append((comp, record))
        if first is not record:
            record.add(
                rules.finding(
                    "compliance-run-reused",
                    f"{record.test}'s run is {first.test}'s (byte-identical detail logs)",
                    shown,
                    [Evidence(shown, "sha256", digest(comp)[:16], os.path.relpath(first.logs["detail"], root))],
                )
            )
        if perf is not None and not perf.problem:
            _seeds(record, comp, perf, root)
            _target_qps(record, comp, perf, root)


def _is_submission_run(
    record: Record,
    run: str,
    comp: FileFacts,
    detail: FileFacts | None,
    summary: FileFacts | None,
    cache: FactCache,
    root: str,
) -> None:
    shown = os.path.relpath(comp.path, root)
    if detail is None or detail.problem:
        return
    other = os.path.relpath(detail.path, root)
    same = same_bytes(comp, detail)
    comp_summary = cache.get(record.logs["summary"]) if "summary" in record.logs else None
    if not same and summary is not None and comp_summary is not None and summary.size > 0:
        if same_bytes(comp_summary, summary):
            same = True
            shown, other = os.path.relpath(comp_summary.path, root), os.path.relpath(summary.path, root)
    if same:
        record.add(
            rules.finding(
                "compliance-run-is-submission-run",
                f"{record.test}'s log is a byte copy of the submission's {run} run's",
                shown,
                [Evidence(shown, "sha256", digest(comp)[:16], other, "sha256", digest(detail)[:16])],
            )
        )
    elif comp.identity is not None and comp.identity == detail.identity:
        record.add(
            rules.finding(
                "compliance-run-is-submission-run",
                f"{record.test}'s run started when the submission's {run} run did ({comp.identity[0]}, "
                "the same LoadGen and SUT): it is that run, not a run of its own",
                shown,
                [Evidence(shown, "test_datetime", comp.identity[0], other, "test_datetime", detail.identity[0])],
            )
        )


def _seeds(record: Record, comp: FileFacts, perf: FileFacts, root: str) -> None:
    """A compliance run repeats the submission's run: the same seeds (TEST05 changes them on purpose)."""
    if record.test == "TEST05" or comp.seeds is None or perf.seeds is None or comp.seeds == perf.seeds:
        return
    shown = os.path.relpath(comp.path, root)
    record.add(
        rules.finding(
            "seeds-differ",
            f"{record.test}'s run used the seeds {list(comp.seeds)}, the submission's performance run "
            f"{list(perf.seeds)}" + (" (every seed 0: LoadGen applied no mlperf.conf)" if not any(comp.seeds) else ""),
            shown,
            [
                Evidence(
                    shown,
                    "effective_qsl_rng_seed",
                    comp.seeds[0],
                    os.path.relpath(perf.path, root),
                    "effective_qsl_rng_seed",
                    perf.seeds[0],
                )
            ],
        )
    )


def _target_qps(record: Record, comp: FileFacts, perf: FileFacts, root: str) -> None:
    """Server compliance runs at another target QPS than the submission's (review.md §2)."""
    if comp.scenario != "Server" or perf.scenario != "Server":
        return
    mine, theirs = comp.get("effective_target_qps"), perf.get("effective_target_qps")
    if not isinstance(mine, (int, float)) or not isinstance(theirs, (int, float)) or not theirs:
        return
    if abs(mine / theirs - 1) <= 1e-6 or any(f.rule == "server-target-qps-differs" for f in record.findings):
        return  # the same, or the verifier said it
    shown = os.path.relpath(comp.path, root)
    effect = {
        "TEST01": "so its completed rate follows that target and the ±10% comparison holds by construction",
        "TEST04": "so its lighter load lowers its latencies: that is not a result cache",
    }.get(record.test, "so the comparison with the submission is made at another load")
    record.add(
        rules.finding(
            "server-target-qps-differs",
            f"{record.test}'s Server run targeted {mine:g} QPS, the submission's {theirs:g} ({mine / theirs:.3f}x), "
            + effect,
            shown,
            [
                Evidence(
                    shown,
                    "effective_target_qps",
                    mine,
                    os.path.relpath(perf.path, root),
                    "effective_target_qps",
                    theirs,
                )
            ],
        )
    )
    if record.test == "TEST04":  # the verifier's Server latency note would read as a cache: the load explains it
        record.findings = [f for f in record.findings if not (f.rule == "verify-note" and "cache" in f.message)]
