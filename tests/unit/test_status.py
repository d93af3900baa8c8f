"""The summary's rows, built from records as the pipeline writes them: each status says one thing, with its kind and
reason, in every format; a summary reads each record once."""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance import records, status
from compliance.records import AttemptEntry, PublishRecord, PublishState, RerunRequest, TreeCopyRecord, VerifyKind
from compliance.status import Row, RowKind, RowStatus
from compliance.verify.result import Check, Outcome, Result, Verdict
from tests.helpers import pipeline as p

CELL = "box/resnet/Offline/TEST04"


def _plan(**changes):
    return p.plan(p.system("box", "v5.0", p.bench("resnet", **changes)))


def _row(plan, test: str = "TEST04", benchmark: str = "resnet") -> Row:
    found = [r for r in status.rows(plan) if (r.benchmark, r.test) == (benchmark, test)]
    assert len(found) == 1, found
    return found[0]


def _said(row: Row) -> tuple[RowStatus, RowKind, str]:
    return row.status, row.kind, row.reason


def test_the_life_of_a_cell() -> None:
    plan = _plan()
    cp = p.cell(plan, CELL)
    assert _said(_row(plan)) == (RowStatus.NOT_RUN, RowKind.WAITING, "waits for its run (it has not run yet)")
    p.ran(cp.run)
    assert _said(_row(plan)) == (
        RowStatus.NOT_RUN,
        RowKind.WAITING,
        "waits for its submission performance run (it has not run yet)",
    )
    p.ran(cp.references[0].run)
    assert _said(_row(plan)) == (RowStatus.NOT_RUN, RowKind.WAITING, "waits for verify")
    p.verified(cp)
    assert _said(_row(plan)) == (
        RowStatus.NOT_RUN,
        RowKind.WAITING,
        "verified PASS; waits for publish (not in the submission tree yet)",
    )
    p.published(cp)
    assert _said(_row(plan)) == (RowStatus.PASS, RowKind.NONE, "")
    os.utime(cp.run.logs[0], (time.time() + 5, time.time() + 5))
    assert _said(_row(plan)) == (
        RowStatus.STALE,
        RowKind.STALE,
        f"{cp.run.logs[0]} changed since the last verification (last verdict PASS)",
    )
    p.verified(cp)
    p.published(cp)
    RerunRequest("mlperf-compliance rerun box", time.time()).save(cp.run.files.rerun_request)
    assert _row(plan).reason == "a rerun was asked for (mlperf-compliance rerun box) (last verdict PASS)"
    Path(cp.run.files.rerun_request).unlink()
    edited = _plan(command=p.HARNESS + " # edited")
    assert _said(_row(edited)) == (
        RowStatus.STALE,
        RowKind.STALE,
        "the command changed since the last run (last verdict PASS)",
    )
    removed = os.path.join(cp.tree_dir, "verify.json")
    Path(removed).unlink()
    assert _said(_row(plan)) == (
        RowStatus.STALE,
        RowKind.STALE,
        f"verified PASS; {removed} is missing from the submission tree",
    )


def test_a_failed_run_fails_the_cell_until_its_command_changes() -> None:
    plan = _plan(command="exit 1 # {log_dir}")
    cp = p.cell(plan, CELL)
    p.ran(cp.run, reason="exit status 1 (log: run.log)")
    p.verified(cp, None, "run: exit status 1 (log: run.log)", VerifyKind.PREREQUISITE)
    assert _said(_row(plan)) == (RowStatus.FAIL, RowKind.RUN, "run: exit status 1 (log: run.log)")
    fixed = _plan(command=p.HARNESS)
    row = _row(fixed)  # the record is of another command: no longer the truth
    assert (row.status, row.kind) == (RowStatus.NOT_RUN, RowKind.WAITING)
    assert row.reason == "waits for its run (the command changed since the last run)"


def test_a_failed_submission_run_fails_every_cell_that_needs_it() -> None:
    plan = _plan()
    for cp in plan.cells:
        p.ran(cp.run)
    performance = p.reference(plan, "box/resnet/Offline/performance")
    p.ran(performance.run, reason="exit status 3")
    p.ran(p.reference(plan, "box/resnet/Offline/accuracy").run)
    for test in ("TEST01", "TEST04"):
        assert _said(_row(plan, test)) == (
            RowStatus.FAIL,
            RowKind.REFERENCE,
            "submission performance run: exit status 3",
        )


def test_a_system_given_results_waits_for_them() -> None:
    plan = _plan(results="results/{scenario}")
    cp = p.cell(plan, CELL)
    p.ran(cp.run)
    assert _said(_row(plan)) == (
        RowStatus.NOT_RUN,
        RowKind.WAITING,
        "waits for the submission's results (results/Offline/performance/run_1/mlperf_log_detail.txt is missing)",
    )
    p.results(cp)
    assert _row(plan).reason == "waits for verify"


def test_failed_verifications_say_why_and_what_each_attempt_fell_short_by() -> None:
    plan = _plan()
    cp = p.cell(plan, CELL)
    for _, _, run in cp.needed_runs():
        p.ran(run)
    p.verified(cp, Verdict.FAIL, "the verifier crashed: ZeroDivisionError: planted", VerifyKind.CRASH)
    assert _said(_row(plan)) == (
        RowStatus.FAIL,
        RowKind.VERIFICATION,
        "the verifier crashed: ZeroDivisionError: planted",
    )
    result = p.result(cp, Verdict.FAIL, "speed-up 1.230 > 1.10")
    result.attempts = [
        AttemptEntry(
            1, 1, 1, 2, time.time(), Verdict.FAIL, "performance: slow", "perf ratio 0.800 outside x"
        ).to_dict(),
        AttemptEntry(2, 1, 2, 2, time.time(), Verdict.FAIL, "performance: speed-up 1.230 > 1.10").to_dict(),
    ]
    p.verified(cp, Verdict.FAIL, "performance: speed-up 1.230 > 1.10", outcome=result)
    assert _row(plan).reason == (
        "performance: speed-up 1.230 > 1.10 (FAIL on attempt 2 of 2; attempt 1: perf ratio 0.800 outside x)"
    )
    p.verified(cp, Verdict.NOT_CHECKABLE, "accuracy: the log is truncated")
    assert _said(_row(plan)) == (RowStatus.NOT_CHECKABLE, RowKind.VERIFICATION, "accuracy: the log is truncated")


def test_a_pass_on_a_later_attempt_says_so() -> None:
    plan = _plan()
    cp = p.cell(plan, CELL)
    p.passing(cp)
    result = p.result(cp)
    entries = [
        AttemptEntry(1, 1, 1, 3, time.time(), Verdict.FAIL, "x", "perf ratio 0.800 outside [0.90, 1.10]"),
        AttemptEntry(2, 1, 2, 3, time.time(), Verdict.PASS),
    ]
    result.attempts = [e.to_dict() for e in entries]
    p.verified(cp, outcome=result)
    p.published(cp)
    row = _row(plan)
    assert row.status is RowStatus.PASS
    assert row.reason == "PASS on attempt 2 of 3; attempt 1: perf ratio 0.800 outside [0.90, 1.10]"
    result.attempts.append(AttemptEntry(3, 2, 1, 3, time.time(), Verdict.PASS).to_dict())  # a rerun, one attempt
    p.verified(cp, outcome=result)
    p.published(cp)
    assert _said(_row(plan)) == (RowStatus.PASS, RowKind.NONE, "")


def test_a_failed_copy_into_the_tree_fails_the_cell() -> None:
    plan = _plan()
    cp = p.cell(plan, CELL)
    p.passing(cp)
    state = records.read_cell(cp)
    assert state.verification is not None
    why = "cannot write submission/closed: Not a directory"
    PublishRecord(PublishState.COPY_FAILED, state.verification.time, state.verdict_stamp, reason=why).save(
        cp.files.publish_record
    )
    assert _said(_row(plan)) == (RowStatus.FAIL, RowKind.COPY, f"the copy into the submission tree failed: {why}")


def test_cells_no_test_is_required_for_or_no_verifier_covers() -> None:
    plan = p.plan(
        p.system("box", "v5.0", p.bench("resnet"), p.bench("gptj-99")),
        p.system("open", "v5.0", p.bench("resnet"), division="open"),
    )
    rows = {(r.system, r.benchmark, r.scenario, r.test): r for r in status.rows(plan)}
    assert _said(rows[("box", "gptj-99", "Offline", "-")]) == (
        RowStatus.NOT_REQUIRED,
        RowKind.NONE,
        "round v5.0 requires no test",
    )
    assert _said(rows[("open", "resnet", "Offline", "TEST01")]) == (
        RowStatus.NOT_REQUIRED,
        RowKind.NONE,
        "open division: compliance tests are not required",
    )


def test_a_record_that_cannot_be_read_is_named_in_the_row() -> None:
    plan = _plan()
    cp = p.cell(plan, CELL)
    p.passing(cp)
    Path(cp.run.files.record).write_text('{"status": "PASS", "time": 1e300}')
    row = _row(plan)
    assert (row.status, row.kind) == (RowStatus.STALE, RowKind.STALE)
    assert row.reason.startswith(f"{cp.run.files.record} is not a valid record (time: not a time")
    assert "it is set aside and done again (last verdict PASS)" in row.reason
    p.ran(cp.run, logs=False)
    Path(cp.files.verify_meta).write_text("[]")
    assert _row(plan).reason == (
        f"waits for verify ({cp.files.verify_meta} is not a valid record (not a JSON object but a list): it is set "
        "aside and done again)"
    )


# -- a submission run copied into the tree (reference: {publish: true}) --------------------------------------------


def test_the_rows_of_submission_runs_in_the_tree() -> None:
    plan = _plan(publish_reference=True)
    ref = p.reference(plan, "box/resnet/Offline/performance")
    assert _said(_row(plan, "performance")) == (
        RowStatus.NOT_RUN,
        RowKind.WAITING,
        "waits for its run (it has not run yet)",
    )
    p.ran(ref.run)
    assert _said(_row(plan, "performance")) == (
        RowStatus.NOT_RUN,
        RowKind.WAITING,
        "waits for publish (it has not been copied into the submission tree yet)",
    )
    p.copied(ref)
    row = _row(plan, "performance")
    assert (row.status, row.figures) == (RowStatus.PASS, "3 LoadGen logs in the tree")
    p.ran(ref.run, reason="exit status 3")
    assert _said(_row(plan, "performance")) == (
        RowStatus.FAIL,
        RowKind.REFERENCE,
        "submission performance run: exit status 3",
    )
    p.ran(ref.run)
    Path(ref.run.files.signature()).unlink()
    assert _said(_row(plan, "performance")) == (
        RowStatus.STALE,
        RowKind.STALE,
        "the tree holds an earlier run; the last run did not finish (interrupted)",
    )
    why = f"{ref.tree_dir} holds results the tool did not write (x): it is left as it is"
    TreeCopyRecord(ref.tree_dir, PublishState.REFUSED, reason=why).save(ref.publish_record)
    p.ran(ref.run)
    assert _said(_row(plan, "performance")) == (
        RowStatus.FAIL,
        RowKind.COPY,
        f"the copy into the submission tree was refused: {why}",
    )


# -- formats, counts, the exit status ---------------------------------------------------------------------------------


def _table() -> list[Row]:
    def row(test: str, state: RowStatus, kind: RowKind = RowKind.NONE, reason: str = "") -> Row:
        return Row("box", "resnet", "Offline", test, state, reason, kind=kind)

    return [
        row("TEST01", RowStatus.PASS),
        row("TEST04", RowStatus.FAIL, RowKind.VERIFICATION, "performance: speed-up 1.5"),
        row("TEST06", RowStatus.STALE, RowKind.STALE, "the command changed"),
        row("accuracy", RowStatus.PASS),
        row("performance", RowStatus.NOT_RUN, RowKind.WAITING, "waits for publish"),
    ]


def test_the_plain_table_holds_the_rows_and_the_counts() -> None:
    table = _table()
    assert not status.passed(table) and status.passed([table[0], table[3]])
    assert status.counts(table) == "1 PASS, 1 FAIL, 1 STALE; submission runs in the tree: 1 PASS, 1 NOT RUN"
    text = status.render(table)
    body = text.rsplit("\n\n", 1)[0]  # without the totals line
    assert "-------" in text and body.count("FAIL") == 1 and text.count("performance: speed-up 1.5") == 1
    assert text.endswith("\n\n3 cells: 1 PASS, 1 FAIL, 1 STALE; submission runs in the tree: 1 PASS, 1 NOT RUN\n")
    # every other format is the summary's report (tests/unit/test_summary_formats.py)


# -- one read of each record ------------------------------------------------------------------------------------------


@pytest.fixture
def opens() -> Iterator[Counter[str]]:
    """Every file opened (by path, relative to the test's folder) while the fixture is active."""
    seen: Counter[str] = Counter()
    active = [True]
    here = os.getcwd()

    def hook(event: str, args: tuple) -> None:
        if active[0] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            seen[os.path.relpath(os.path.abspath(os.fsdecode(args[0])), here)] += 1

    sys.addaudithook(hook)
    try:
        yield seen
    finally:
        active[0] = False  # audit hooks cannot be removed: this one goes quiet


def test_the_summary_of_a_built_demo_reads_each_record_once(opens: Counter[str]) -> None:
    plan = p.demo_plan()
    for ref in plan.references:
        p.ran(ref.run)
        p.copied(ref)
    for cp in plan.cells:
        p.passing(cp)
    p.reviewed(plan)
    opens.clear()
    table = status.rows(plan)
    assert status.counts(table) == "17 PASS; submission runs in the tree: 24 PASS; review: 2 PASS"
    read = {path: n for path, n in opens.items() if path.startswith("build/")}
    names = Counter(re.sub(r"^reference-[a-z]+", "reference-<mode>", os.path.basename(path)) for path in read)
    for name, count in (("run.json", 17), ("verify.meta.json", 17), ("verify.json", 17), ("publish.json", 17)):
        assert names[name] == count, name
    assert names["reference-<mode>.json"] == names["reference-<mode>.publish.json"] == 24 and names["review.json"] == 2
    assert {path: n for path, n in read.items() if n > 1} == {}  # each once, a submission run's shared by its cells


def test_a_refused_copy_fails_its_row_only_the_cells_compare_with_the_runs_in_build() -> None:
    plan = _plan(publish_reference=True)
    for ref in plan.references:
        p.ran(ref.run)
        p.copied(ref)
    for cp in plan.cells:
        p.passing(cp)
    performance = p.reference(plan, "box/resnet/Offline/performance")
    why = f"{performance.tree_dir} holds results the tool did not write (mlperf_log_detail.txt): it is left as it is"
    TreeCopyRecord(performance.tree_dir, PublishState.REFUSED, reason=why).save(performance.publish_record)
    rows = {r.test: r.status for r in status.rows(plan) if r.test != status.REVIEW}
    assert rows == {
        "TEST01": RowStatus.PASS,
        "TEST04": RowStatus.PASS,
        "accuracy": RowStatus.PASS,
        "performance": RowStatus.FAIL,
    }


# -- failures noise can cause: how to measure again -------------------------------------------------------------------


def _noisy(cp, noise: bool = True) -> None:
    p.ran(cp.run)
    outcome = Result(cp.cell.test, "Offline", "resnet", [Check("performance", Outcome.FAIL, "ratio 1.16", noise=noise)])
    p.verified(cp, Verdict.FAIL, "performance: ratio 1.16", outcome=outcome)


def test_a_noise_failure_says_how_to_measure_again_and_several_point_at_the_submission_run() -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    test01, test04 = p.cell(plan, "box/resnet/Offline/TEST01"), p.cell(plan, CELL)
    for ref in test04.references:
        p.ran(ref.run)
    _noisy(test04)
    assert _row(plan).reason == "performance: ratio 1.16; to measure again: mlperf-compliance rerun " + CELL
    _noisy(test01)
    for test in ("TEST01", "TEST04"):  # both compare with the one submission run: the likelier one to be disturbed
        assert _row(plan, test).reason == (
            "performance: ratio 1.16; 2 compliance runs fail against the same submission run, which may be the one "
            "disturbed: mlperf-compliance rerun box/resnet/Offline --submission-runs"
        )
    _noisy(test01, noise=False)  # a failure noise cannot cause: no such advice
    assert _row(plan, "TEST01").reason == "performance: ratio 1.16"
    assert _row(plan).reason.endswith("rerun " + CELL)
