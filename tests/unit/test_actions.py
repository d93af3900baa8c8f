"""The steps doit runs (compliance/pipeline/actions.py), called as doit calls them, with a launcher that writes given
logs (no process): what each records, the TEST folder copied into the tree or withdrawn (moved, never deleted), a
submission run's copy only into a folder the tool wrote, and records that cannot be read set aside, named, redone."""

from __future__ import annotations

import errno
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from compliance import records, status
from compliance.freshness import ReasonKind, run_reasons
from compliance.pipeline import actions
from compliance.pipeline.actions import foreign_results
from compliance.records import PublishState, RunRecord, TreeCopyRecord, VerifyKind
from compliance.verify.result import Verdict
from tests.helpers import harness as h
from tests.helpers import logwriter as w
from tests.helpers import pipeline as p

LABEL = "box/retinanet/Offline/TEST01"


pytestmark = pytest.mark.usefixtures("as_doit")  # tests/unit/conftest.py


def _retinanet(tmp_path: Path, **changes):
    p.gen(tmp_path, {"results": {"Offline": h.results()}})
    plan = p.plan(p.system("box", "v5.0", p.bench("retinanet", results="results/{scenario}", **changes)))
    return plan, p.cell(plan, LABEL)


# -- run ----------------------------------------------------------------------------------------------------------


def test_a_run_records_how_it_ended_and_where(tmp_path: Path, fake_launcher: h.FakeLauncher) -> None:
    _, cp = _retinanet(tmp_path)
    assert actions.run(cp) == {"outcome": "PASS", "reason": "", "kind": "evidence", "signature": cp.run.signature}
    record = RunRecord.load(cp.run.files.record)
    assert record is not None and record.passed and record.where.host == "testhost"
    assert record.fields == cp.run.signature_fields() and record.signature == cp.run.signature
    assert Path(cp.run.files.signature()).read_text() == cp.run.signature
    fake_launcher.outcomes[LABEL] = [h.exited(3)]
    done = actions.run(cp)
    assert isinstance(done, dict) and (done["outcome"], done["kind"]) == ("FAIL", "exited")
    record = RunRecord.load(cp.run.files.record)
    assert record is not None and not record.passed and record.reason.startswith("exit status 3")
    assert not os.path.exists(cp.run.files.signature())  # never taken for a finished run


def test_a_run_whose_logs_show_no_audit_config_fails_and_a_contaminated_submission_run_too(
    tmp_path: Path, fake_launcher: h.FakeLauncher
) -> None:
    _, cp = _retinanet(tmp_path)
    fake_launcher.outcomes[LABEL] = [{**h.compliance_logs(), "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0)}]
    assert actions.run(cp)["reason"].startswith("LoadGen did not find an audit.config")  # type: ignore[index]
    plan = p.plan(p.system("box", "v5.0", p.bench("retinanet")))
    ref = p.reference(plan, "box/retinanet/Offline/performance")
    contaminated = {
        **h.submission_logs("performance"),
        "mlperf_log_detail.txt": h.compliance_logs()["mlperf_log_detail.txt"],
    }
    fake_launcher.outcomes[ref.id] = [contaminated]
    done = actions.reference(ref, [LABEL])
    assert done["reason"] == "LoadGen found an audit.config: this run is contaminated"  # type: ignore[index]


@pytest.mark.parametrize("where", ["run.json", "logs", "run.rerun"])
def test_a_bad_record_or_a_file_for_a_folder_is_set_aside_and_the_run_runs(
    tmp_path: Path, fake_launcher: h.FakeLauncher, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    plan, cp = _retinanet(tmp_path)
    actions.run(cp)
    target = os.path.join(cp.files.root, where)
    if where == "run.json":
        Path(target).write_text('{"status": "PASS", "time": NaN}')
    elif where == "logs":
        shutil.rmtree(target)
        Path(target).write_text("a file")
    else:
        os.mkdir(target)
    reasons = run_reasons(cp.run, records.read_run(cp.run))
    assert reasons[0].kind is ReasonKind.BAD and reasons[0].text.startswith(f"{target} is not a valid record")
    assert f"{target} is not a valid record" in status.rows(plan)[0].reason  # the summary says why too
    done = actions.run(cp)
    assert done["outcome"] == "PASS"  # type: ignore[index]
    assert f"set aside {target} is not a valid record" in capsys.readouterr().err
    assert os.path.lexists(target + ".bad") and run_reasons(cp.run, records.read_run(cp.run)) == []


# -- verify -----------------------------------------------------------------------------------------------------------


def test_a_verifier_crash_is_a_fail_with_its_message(tmp_path: Path, fake_launcher: h.FakeLauncher, capsys) -> None:
    plan, cp = _retinanet(tmp_path)

    def boom(request):
        raise ZeroDivisionError("planted in the verifier")

    crashing = replace(cp, verifier=replace(cp.verifier, verify=boom))
    actions.run(crashing)
    done = actions.verify(crashing)
    assert done["reason"] == "the verifier crashed: ZeroDivisionError: planted in the verifier"  # type: ignore[index]
    assert "Traceback" in capsys.readouterr().err  # a bug: its traceback is shown
    meta = records.read_cell(crashing).verification
    assert meta is not None and (meta.verdict, meta.kind) == (Verdict.FAIL, VerifyKind.CRASH)
    row = status.rows(plan)[0]
    assert (row.status, row.kind, row.reason) == (
        status.RowStatus.FAIL,
        status.RowKind.VERIFICATION,
        "the verifier crashed: ZeroDivisionError: planted in the verifier",
    )


# -- publish: the TEST folder in the tree ---------------------------------------------------------------------------


def _files(folder: str) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in Path(folder).rglob("*") if path.is_file())


def test_a_passing_cell_is_copied_and_a_failing_one_withdrawn(tmp_path: Path, capsys) -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    cp = p.cell(plan, "box/resnet/Offline/TEST04")
    p.passing(cp)
    shutil.rmtree(cp.tree_dir)
    assert actions.publish(cp) == {"outcome": "PASS", "reason": ""}
    assert _files(cp.tree_dir) == sorted(cp.verifier.files())
    assert [r.status for r in status.rows(plan) if r.test == "TEST04"] == [status.RowStatus.PASS]

    p.verified(cp, Verdict.FAIL, "performance: speed-up 1.500 > 1.10")
    done = actions.publish(cp)
    assert done["reason"] == "TEST04 fails: performance: speed-up 1.500 > 1.10"  # type: ignore[index]
    assert not os.path.exists(cp.tree_dir)
    kept = list(Path("build/withdrawn/box/resnet/Offline/TEST04").iterdir())
    assert len(kept) == 1 and json.loads((kept[0] / "verify.json").read_text())["verdict"] == "PASS"
    assert f"withdrew {cp.tree_dir} from the submission tree (kept in {kept[0]})" in capsys.readouterr().err
    publication = records.read_cell(cp).publication
    assert publication is not None and (publication.state, publication.moved_to) == (
        PublishState.WITHDRAWN,
        str(kept[0]),
    )
    row = [r for r in status.rows(plan) if r.test == "TEST04"][0]
    assert (row.status, row.kind) == (status.RowStatus.FAIL, status.RowKind.VERIFICATION)
    assert actions.publish(cp)["reason"].startswith("TEST04 fails")  # type: ignore[index]
    assert records.read_cell(cp).publication.state is PublishState.ABSENT  # type: ignore[union-attr]


def test_a_tree_that_cannot_be_written_is_one_clear_failure(tmp_path: Path) -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    cp = p.cell(plan, "box/resnet/Offline/TEST04")
    p.passing(cp)
    shutil.rmtree("submission")
    Path("submission").write_text("a file, not a folder")  # as root, permissions do not stop a write: this does
    done = actions.publish(cp)
    assert done["reason"].startswith("cannot write submission/closed/Acme/compliance")  # type: ignore[index]
    row = [r for r in status.rows(plan) if r.test == "TEST04"][0]
    assert (row.status, row.kind) == (status.RowStatus.FAIL, status.RowKind.COPY)
    assert Path("submission").read_text() == "a file, not a folder"


def test_a_bad_publication_record_is_set_aside_and_the_copy_done_again(tmp_path: Path, capsys) -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    cp = p.cell(plan, "box/resnet/Offline/TEST04")
    p.passing(cp)
    Path(cp.files.publish_record).write_text('{"state": "published", "time": "yesterday"}')
    row = [r for r in status.rows(plan) if r.test == "TEST04"][0]
    assert row.status is status.RowStatus.STALE and "publish.json is not a valid record (time:" in row.reason
    assert actions.publish(cp)["outcome"] == "PASS"  # type: ignore[index]
    assert "set aside build/box/resnet/Offline/TEST04/publish.json" in capsys.readouterr().err
    assert [r for r in status.rows(plan) if r.test == "TEST04"][0].status is status.RowStatus.PASS


# -- publish: a submission run in the tree's results layout (reference: {publish: true}) ---------------------------


@pytest.fixture
def ref():
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet", publish_reference=True)))
    found = p.reference(plan, "box/resnet/Offline/performance")
    p.ran(found.run)
    return found


def test_a_submission_run_is_copied_and_withdrawn_when_it_stops_passing(ref, capsys) -> None:
    assert actions.publish_reference(ref, []) == {"outcome": "PASS", "reason": ""}
    assert _files(ref.tree_dir) == sorted(os.path.basename(log) for log in ref.run.logs)
    for log in ref.run.logs:
        assert Path(ref.tree_dir, os.path.basename(log)).read_bytes() == Path(log).read_bytes()
    p.ran(ref.run, reason="exit status 3")
    done = actions.publish_reference(ref, [])
    assert done["reason"] == "submission performance run: exit status 3"  # type: ignore[index]
    assert not os.path.exists(ref.tree_dir)
    kept = list(Path("build/withdrawn/box/resnet/Offline/reference-performance").glob("*/mlperf_log_detail.txt"))
    assert len(kept) == 1 and "withdrew " in capsys.readouterr().err


def test_a_results_folder_the_tool_did_not_write_is_never_touched(ref) -> None:
    theirs = Path(ref.tree_dir)
    theirs.mkdir(parents=True)
    (theirs / "mlperf_log_detail.txt").write_text("the user's own run\n")
    before = (theirs / "mlperf_log_detail.txt").stat()
    done = actions.publish_reference(ref, [])
    assert "holds results the tool did not write (mlperf_log_detail.txt)" in done["reason"]  # type: ignore[index]
    assert "left as it is; move it away" in done["reason"]  # type: ignore[index]
    assert _files(ref.tree_dir) == ["mlperf_log_detail.txt"]
    assert (theirs / "mlperf_log_detail.txt").stat().st_mtime_ns == before.st_mtime_ns
    theirs.rename("moved")  # the user moves their folder away: the next copy goes there
    assert actions.publish_reference(ref, [])["outcome"] == "PASS"  # type: ignore[index]
    assert Path("moved/mlperf_log_detail.txt").read_text() == "the user's own run\n"


def test_a_withdrawal_that_cannot_be_made_is_one_clear_failure(ref, monkeypatch: pytest.MonkeyPatch) -> None:
    actions.publish_reference(ref, [])
    p.ran(ref.run, reason="exit status 3")

    def read_only(source: str, target: str) -> None:
        raise OSError(errno.EROFS, "Read-only file system", source)

    monkeypatch.setattr(actions.shutil, "move", read_only)
    done = actions.publish_reference(ref, [])
    assert done["reason"] == f"cannot withdraw {ref.tree_dir}: Read-only file system"  # type: ignore[index]
    assert os.path.exists(ref.tree_dir)


def test_a_bad_ownership_record_makes_the_folder_foreign(ref, capsys) -> None:
    actions.publish_reference(ref, [])
    Path(ref.publish_record).write_text('{"tree": 3}')
    done = actions.publish_reference(ref, [])
    assert "holds results the tool did not write" in done["reason"]  # type: ignore[index]
    assert f"set aside {ref.publish_record}" in capsys.readouterr().err


def test_only_folders_holding_what_the_tool_wrote_are_its_own(ref) -> None:
    tree = Path(ref.tree_dir)
    assert foreign_results(ref, None) is None  # absent: nothing to own
    tree.mkdir(parents=True)
    (tree / "mlperf_log_detail.txt").write_text("ours")
    (tree / "mlperf_log_summary.txt").write_text("ours too")
    assert "did not write (mlperf_log_detail.txt, mlperf_log_summary.txt)" in (foreign_results(ref, None) or "")
    wrote = records.tree_stamps(str(tree))
    record = TreeCopyRecord(ref.tree_dir, PublishState.PUBLISHED, wrote)
    assert foreign_results(ref, record) is None
    interrupted = TreeCopyRecord(ref.tree_dir, PublishState.WRITING, {}, previous=wrote)
    assert foreign_results(ref, interrupted) is None  # an interrupted copy
    assert foreign_results(ref, TreeCopyRecord("elsewhere", PublishState.PUBLISHED, wrote)) is not None
    (tree / "mlperf_log_summary.txt").unlink()
    assert foreign_results(ref, record) is None  # a file of ours gone: still ours
    (tree / "accuracy.txt").write_text("the user's")
    assert "did not write (accuracy.txt)" in (foreign_results(ref, record) or "")
    (tree / "accuracy.txt").unlink()
    later = os.stat(tree / "mlperf_log_detail.txt").st_mtime + 10
    os.utime(tree / "mlperf_log_detail.txt", (later, later))  # changed since it was copied
    assert "did not write (mlperf_log_detail.txt)" in (foreign_results(ref, record) or "")


# -- the verdict of the whole ---------------------------------------------------------------------------------------


def test_the_closing_task_names_each_cell_that_does_not_pass(tmp_path: Path, monkeypatch, capsys) -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    monkeypatch.setattr(actions.session, "load_plan", lambda: plan)
    for cp in plan.cells:
        p.passing(cp)
    p.reviewed(plan)
    assert actions.outcome() is True
    p.verified(plan.cells[1], Verdict.FAIL, "performance: speed-up 1.500 > 1.10")
    assert actions.outcome() is False
    assert capsys.readouterr().out.splitlines() == [
        "  FAIL     box/resnet/Offline/TEST04: performance: speed-up 1.500 > 1.10",
        "error: 1 required cell does not pass (doit summary)",
    ]
