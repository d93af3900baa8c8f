"""The freshness rule, step by step, on records written as the pipeline writes them: every reason a run, a
verification, a TEST folder's copy and a submission run's copy must be done again, and none when nothing changed."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from compliance import records
from compliance.freshness import (
    ReasonKind,
    publish_reasons,
    reference_publish_reasons,
    run_reasons,
    verify_reasons,
)
from compliance.records import PublishRecord, PublishState, RerunRequest, TreeCopyRecord, VerifyKind
from tests.helpers import pipeline as p

CELL = "box/resnet/Offline/TEST04"


def _plan(**changes):
    return p.plan(p.system("box", "v5.0", p.bench("resnet", **changes)))


def _later(path: str, seconds: float = 5) -> None:
    """Give ``path`` a new time (as a new run or a user's edit would)."""
    when = os.stat(path).st_mtime + seconds
    os.utime(path, (when, when))


def _why(run) -> list[tuple[ReasonKind, str]]:
    return [(r.kind, r.text) for r in run_reasons(run, records.read_run(run))]


# -- runs -------------------------------------------------------------------------------------------------------------


def test_a_run_is_fresh_only_when_it_finished_with_this_spec() -> None:
    run = p.cell(_plan(), CELL).run
    assert _why(run) == [(ReasonKind.NEVER, "it has not run yet")]
    p.ran(run)
    assert _why(run) == []
    RerunRequest("mlperf-compliance rerun box", time.time()).save(run.files.rerun_request)
    assert _why(run) == [(ReasonKind.REQUESTED, "a rerun was asked for (mlperf-compliance rerun box)")]
    Path(run.files.rerun_request).unlink()
    Path(run.files.signature()).unlink()  # a run killed before it completed never wrote its signature
    assert _why(run) == [(ReasonKind.NEVER, "the last run did not finish (interrupted)")]
    p.ran(run)
    Path(run.logs[0]).unlink()
    assert _why(run) == [(ReasonKind.MISSING, f"{run.logs[0]} is missing")]


def test_a_failed_run_says_why_and_a_changed_spec_names_what_changed() -> None:
    run = p.cell(_plan(), CELL).run
    p.ran(run, reason="exit status 3 (log: run.log)")
    assert _why(run) == [(ReasonKind.FAILED, "the last run failed: exit status 3 (log: run.log)")]
    edited = p.cell(_plan(command=p.HARNESS + " # edited", env={"A": "1"}), CELL).run
    assert _why(edited) == [(ReasonKind.CHANGED, "the command, environment changed since the last run")]
    other = p.cell(p.plan(p.system("box", "v5.0", p.bench("resnet", workdir="elsewhere"))), CELL).run
    assert _why(other) == [(ReasonKind.CHANGED, "the working directory changed since the last run")]


def test_declared_inputs_rerun_a_run_when_their_content_changes() -> None:
    run = p.cell(_plan(inputs=("conf/*.conf",)), CELL).run
    p.gen(".", {"conf": {"user.conf": "*.Offline.target_qps = 1\n"}})
    p.ran(run)
    assert _why(run) == []
    _later("conf/user.conf")  # the same content at a new time: nothing to do
    assert _why(run) == []
    Path("conf/user.conf").write_text("*.Offline.target_qps = 2\n")
    assert _why(run) == [(ReasonKind.INPUT, "the declared input conf/user.conf changed since the last run")]
    p.ran(run)
    Path("conf/new.conf").write_text("")
    assert _why(run) == [(ReasonKind.INPUT, "the declared input conf/new.conf appeared since the last run")]
    p.ran(run)
    Path("conf/user.conf").unlink()
    assert _why(run) == [(ReasonKind.INPUT, "the declared input conf/user.conf is gone since the last run")]


def test_a_run_record_that_cannot_be_read_is_a_reason_of_its_own() -> None:
    run = p.cell(_plan(), CELL).run
    p.ran(run)
    Path(run.files.record).write_text('{"status": "PASS", "time": [1, 2]}')
    assert _why(run) == [
        (
            ReasonKind.BAD,
            f"{run.files.record} is not a valid record (time: not a time (seconds since the epoch) ([1, 2])): it is "
            "set aside and done again",
        )
    ]


# -- verifications ----------------------------------------------------------------------------------------------------


def _verify_why(cp) -> list[tuple[ReasonKind, str]]:
    return [(r.kind, r.text) for r in verify_reasons(cp, records.read_cell(cp))]


def _verified(**changes):
    cp = p.cell(_plan(**changes), CELL)
    for _, _, run in cp.needed_runs():
        p.ran(run)
    p.verified(cp)
    return cp


def test_a_verification_is_fresh_until_an_input_changes() -> None:
    cp = p.cell(_plan(), CELL)
    assert _verify_why(cp) == [(ReasonKind.NEVER, "it has not been verified yet")]
    cp = _verified()
    assert _verify_why(cp) == []
    reference_log = cp.reference_files[0]
    _later(reference_log)  # a new submission run re-verifies, without rerunning the compliance run
    assert _verify_why(cp) == [(ReasonKind.INPUT, f"{reference_log} changed since the last verification")]
    p.verified(cp)
    Path(cp.run.logs[0]).unlink()
    assert _verify_why(cp) == [(ReasonKind.INPUT, f"{cp.run.logs[0]} is missing since the last verification")]
    p.ran(cp.run)  # a new run (its record is an input: failed or not, it re-verifies)
    p.verified(cp)
    p.ran(cp.run, reason="exit status 1", logs=False)
    assert _verify_why(cp)[0][1] == f"{cp.run.files.record} changed since the last verification"


def test_a_changed_threshold_or_option_re_verifies_and_attempts_do_not() -> None:
    cp = _verified()
    stricter = replace(cp, test=replace(cp.test, thresholds=replace(cp.test.thresholds, tolerance=0.12)))
    assert _verify_why(stricter) == [(ReasonKind.CHANGED, "the test spec changed since the last verification")]
    more = replace(cp, test=replace(cp.test, attempts=3, attempt_pause=1.0))
    assert _verify_why(more) == []  # how many attempts a cell may get decides nothing about a verdict
    options = replace(cp, options={**cp.options, "accuracy_command": "score {accuracy_log}"})
    assert _verify_why(options) == [(ReasonKind.CHANGED, "the verifier options changed since the last verification")]


def test_a_verdict_needs_its_verify_json_and_a_bad_record_is_named() -> None:
    cp = _verified()
    Path(cp.files.verify_json).unlink()
    assert _verify_why(cp) == [(ReasonKind.MISSING, f"{cp.files.verify_json} is missing")]
    p.verified(cp, None, "run: exit status 3", VerifyKind.PREREQUISITE)  # not verified: no verify.json to miss
    assert not Path(cp.files.verify_json).exists() and _verify_why(cp) == []
    Path(cp.files.verify_meta).write_text('{"status": "PASS", "inputs": {"x": "now"}}')
    assert _verify_why(cp)[0][0] is ReasonKind.BAD
    assert "inputs['x']: not a stamp [mtime, size]" in _verify_why(cp)[0][1]


# -- copies into the tree ---------------------------------------------------------------------------------------------


def _publish_why(cp) -> list[tuple[ReasonKind, str]]:
    return [(r.kind, r.text) for r in publish_reasons(cp, records.read_cell(cp))]


def test_a_published_folder_is_fresh_until_the_verdict_or_the_tree_changes() -> None:
    cp = _verified()
    assert _publish_why(cp) == [(ReasonKind.NEVER, "it has not been published yet")]
    p.published(cp)
    assert _publish_why(cp) == []
    removed = os.path.join(cp.tree_dir, "verify_performance.txt")
    Path(removed).unlink()
    assert _publish_why(cp) == [(ReasonKind.TREE, f"{removed} is missing from the submission tree")]
    p.published(cp)
    p.verified(cp)  # verified again: the copy is of an earlier verdict
    assert _publish_why(cp) == [(ReasonKind.VERDICT, "the verification changed since the TEST folder was published")]


def test_a_published_folder_is_stale_when_a_file_holds_none_of_its_forms() -> None:
    """Content, not times: an edited verdict, a file that is not the tool's, a record of an earlier release."""
    cp = _verified()
    p.published(cp)
    verdict = os.path.join(cp.tree_dir, "verify_performance.txt")
    _later(verdict)
    assert _publish_why(cp) == []
    Path(verdict).write_text("TEST FAIL\n")
    assert _publish_why(cp) == [
        (ReasonKind.TREE, f"{verdict} changed in the submission tree since it was written (edited)")
    ]
    p.published(cp)
    Path(cp.tree_dir, "notes.txt").write_text("a note")
    extra = os.path.join(cp.tree_dir, "notes.txt")
    assert _publish_why(cp) == [(ReasonKind.TREE, f"{extra} is not a file the tool wrote there")]
    Path(extra).unlink()
    record = PublishRecord.load(cp.files.publish_record)
    assert record is not None and record.files
    replace(record, files={}).save(cp.files.publish_record)  # an earlier release's: the form is made from build/
    assert _publish_why(cp) == []
    Path(verdict).write_text("TEST FAIL\n")
    assert _publish_why(cp)[0][1].startswith(f"{verdict} changed")


def test_a_failed_copy_and_a_folder_that_should_be_withdrawn_are_reasons() -> None:
    cp = _verified()
    meta = records.read_cell(cp).verification
    assert meta is not None
    stamp = records.stamp(cp.files.verify_json)
    PublishRecord(PublishState.COPY_FAILED, meta.time, stamp, reason="cannot write x: No space").save(
        cp.files.publish_record
    )
    assert _publish_why(cp) == [
        (ReasonKind.FAILED, "the copy into the submission tree failed: cannot write x: No space")
    ]
    PublishRecord(PublishState.WITHDRAWN, meta.time, stamp, "build/withdrawn/x").save(cp.files.publish_record)
    assert _publish_why(cp) == []
    os.makedirs(cp.tree_dir)  # a TEST folder put back in the tree of a cell that does not pass
    assert _publish_why(cp) == [
        (ReasonKind.TREE, f"{cp.tree_dir} is in the submission tree but the cell does not pass")
    ]
    Path(cp.files.publish_record).write_text('{"state": "lost"}')
    assert _publish_why(cp)[0][0] is ReasonKind.BAD


# -- a submission run's copy in the tree ------------------------------------------------------------------------------


def _copy_why(ref) -> list[tuple[ReasonKind, str]]:
    return [(r.kind, r.text) for r in reference_publish_reasons(ref, records.read_reference(ref))]


@pytest.fixture
def ref():
    found = p.reference(_plan(publish_reference=True), "box/resnet/Offline/accuracy")
    p.ran(found.run)
    return found


def test_a_copied_submission_run_is_fresh_until_the_run_or_its_copy_changes(ref) -> None:
    assert _copy_why(ref) == [(ReasonKind.NEVER, "it has not been copied into the submission tree yet")]
    p.copied(ref)
    assert _copy_why(ref) == []
    Path(ref.tree_dir, "notes.txt").write_text("the user's, beside ours")  # theirs: not a reason
    assert _copy_why(ref) == []
    detail = os.path.join(ref.tree_dir, "mlperf_log_detail.txt")
    _later(detail)  # the same content at a new time: the same file
    assert _copy_why(ref) == []
    Path(detail).write_text("edited\n")
    edited = f"{detail} changed in the submission tree since it was written (edited)"
    assert _copy_why(ref) == [(ReasonKind.TREE, edited)]
    Path(detail).unlink()
    assert _copy_why(ref) == [(ReasonKind.TREE, f"{detail} is missing from the submission tree")]
    p.copied(ref)
    p.ran(ref.run, time=time.time() + 1)  # the run ran again
    assert _copy_why(ref) == [
        (ReasonKind.VERDICT, "the submission run changed since it was copied into the submission tree")
    ]


def test_a_refused_or_interrupted_copy_is_done_again(ref) -> None:
    for state, why in (
        (PublishState.REFUSED, "the copy into the submission tree was refused: not ours"),
        (PublishState.WRITING, "the last copy into the submission tree failed: it was interrupted"),
        (PublishState.COPY_FAILED, "the last copy into the submission tree failed: not ours"),
    ):
        TreeCopyRecord(ref.tree_dir, state, reason="" if state is PublishState.WRITING else "not ours").save(
            ref.publish_record
        )
        assert _copy_why(ref) == [(ReasonKind.FAILED, why)]
    TreeCopyRecord("elsewhere", PublishState.PUBLISHED).save(ref.publish_record)
    assert _copy_why(ref) == [(ReasonKind.CHANGED, f"its folder in the submission tree is now {ref.tree_dir}")]
