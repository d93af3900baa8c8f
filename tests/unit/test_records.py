"""The records the pipeline writes: each kind saved and loaded back, the previous release's records read (version 0),
bad records named (never taken for missing or passing ones), and a cell's records read into one state object."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from compliance.records import (
    AttemptEntry,
    Bad,
    BadRecord,
    PublishRecord,
    PublishState,
    RerunRequest,
    RunRecord,
    Source,
    TreeCopyRecord,
    VerifyKind,
    VerifyRecord,
    Where,
    read_cell,
    read_run,
    set_aside,
)
from compliance.verify.result import Check, Finding, Outcome, Result, Verdict
from tests.helpers import pipeline as p

NOW = 1765000000.25
STAMP = (1765000000.125, 1234.0)
RECORDS = [
    RunRecord(
        Verdict.PASS, "", "", "sig", {"command": "run it"}, {"conf": (STAMP, "ab12")}, NOW, Where("h", "42", "n1")
    ),
    RunRecord(Verdict.FAIL, "exit status 3 (log: run.log)", "exited", "sig", {}, {}, NOW),
    VerifyRecord(Verdict.PASS, "", VerifyKind.VERDICT, {"test spec": "d1"}, {"a/log": STAMP, "gone": None}, NOW),
    VerifyRecord(None, "run: exit status 3", VerifyKind.PREREQUISITE, {}, {}, NOW),
    VerifyRecord(Verdict.NOT_CHECKABLE, "accuracy: truncated", VerifyKind.VERDICT, {}, {}, NOW),
    PublishRecord(PublishState.PUBLISHED, NOW, STAMP, "", "", NOW),
    PublishRecord(PublishState.WITHDRAWN, None, None, "build/withdrawn/x", "", NOW),
    TreeCopyRecord("tree/accuracy", PublishState.PUBLISHED, {"log": STAMP}, None, Source(NOW, "sig", {"log": STAMP})),
    TreeCopyRecord("tree/accuracy", PublishState.REFUSED, {}, {"old": None}, None, "not ours"),
    AttemptEntry(3, 2, 1, 3, NOW, Verdict.FAIL, "performance: slow", "perf ratio 0.8", "perf 0.8", True, "a/3"),
    AttemptEntry(1, 1, 1, 2, NOW, None, "not verified: run: timed out", "", "", True, "a/1"),
    RerunRequest("mlperf-compliance rerun demo", NOW),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_each_record_is_saved_and_loaded_back_as_it_was(record, tmp_path: Path) -> None:
    path = str(tmp_path / "folder" / "record.json")
    record.save(path)
    data = json.loads(Path(path).read_text())
    assert data["version"] == 1
    assert type(record).load(path) == record
    assert type(record).load(str(tmp_path / "absent.json")) is None  # no record: None, not an error


#: records as release 0.2 wrote them (no version, no 'where'; the oldest verify.meta.json had no 'kind')
V0 = {
    RunRecord: {
        "fields": {"command": "run it"},
        "inputs": {"conf": [[1765000000.125, 1234.0], "ab12"]},
        "kind": "",
        "reason": "",
        "signature": "sig",
        "status": "PASS",
        "time": NOW,
    },
    VerifyRecord: {"inputs": {"a/log": [1.5, 10.0], "gone": None}, "parts": {}, "reason": "", "status": "PASS"},
    PublishRecord: {
        "moved_to": "",
        "reason": "",
        "state": "published",
        "time": NOW,
        "verdict": [1.5, 10.0],
        "verify": NOW,
    },
    TreeCopyRecord: {
        "files": {"mlperf_log_detail.txt": [1.5, 10.0]},
        "source": {"logs": {"mlperf_log_detail.txt": [1.5, 10.0]}, "run": NOW, "signature": "sig"},
        "state": "published",
        "tree": "tree",
    },
    AttemptEntry: {
        "attempt": 1,
        "figures": "perf 0.870 in [0.90, 1.10]",
        "folder": "build/x/attempts/1",
        "number": 1,
        "of": 3,
        "reason": "performance: slow",
        "retried": True,
        "series": 1,
        "short": "perf ratio 0.870 outside [0.90, 1.10]",
        "time": NOW,
        "verdict": "FAIL",
    },
    RerunRequest: {"by": "a test"},
}


@pytest.mark.parametrize("kind", list(V0), ids=lambda k: k.__name__)
def test_records_of_the_previous_release_load_as_version_0(kind, tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps(V0[kind]))
    record = kind.load(str(path))
    assert record is not None
    again = tmp_path / "new.json"
    record.save(str(again))  # written anew in the new format, with the same meaning
    assert kind.load(str(again)) == record
    data = json.loads(again.read_text())
    assert data["version"] == 1 and all(data[k] == v for k, v in V0[kind].items() if k not in ("inputs", "source"))


def test_version_0_values_mean_what_they_meant() -> None:
    run = RunRecord.from_dict(V0[RunRecord])
    assert run.passed and run.where == Where() and run.inputs == {"conf": ((1765000000.125, 1234.0), "ab12")}
    meta = VerifyRecord.from_dict(V0[VerifyRecord])
    assert meta.kind is VerifyKind.VERDICT and meta.inputs == {"a/log": (1.5, 10.0), "gone": None}
    entry = AttemptEntry.from_dict(V0[AttemptEntry])
    assert (entry.verdict, entry.retried, entry.to_dict()["verdict"]) == (Verdict.FAIL, True, "FAIL")


#: a bad value, and the words of the problem
BAD_VALUES = {
    "NaN as a time": ({"time": math.nan}, "time: not a time"),
    "1e300 as a time": ({"time": 1e300}, "time: not a time"),
    "a list as a time": ({"time": [1, 2]}, "time: not a time"),
    "a string as a time": ({"time": "yesterday"}, "time: not a time"),
    "a negative time": ({"time": -5}, "time: not a time"),
    "true as a time": ({"time": True}, "time: not a time"),
    "an unknown verdict": ({"verdict": "MAYBE"}, "verdict: not one of PASS, FAIL, NOT CHECKABLE"),
    "a float as a number": ({"number": 1.5}, "number: not a whole number"),
    "attempt 0": ({"attempt": 0}, "attempt: not 1 or more"),
    "a string as retried": ({"retried": "yes"}, "retried: not true or false"),
    "a number as a reason": ({"reason": 3}, "reason: not a string"),
    "no series": ({"series": None}, "series: not a whole number"),
    "a newer version": ({"version": 7}, "version 7: written by a newer release"),
    "a bad version": ({"version": "1"}, "version: not a version number"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_a_bad_value_in_a_ledger_entry_is_named(case: str) -> None:
    change, words = BAD_VALUES[case]
    with pytest.raises(BadRecord, match=words.replace("(", r"\(")):
        AttemptEntry.from_dict({**V0[AttemptEntry], **change})


@pytest.mark.parametrize(
    ("kind", "change", "words"),
    [
        (RunRecord, {"status": "NOT VERIFIED"}, "status: not one of PASS, FAIL"),
        (RunRecord, {"fields": ["command"]}, "fields: not an object"),
        (RunRecord, {"inputs": {"conf": [[math.inf, 1.0], "ab"]}}, "inputs['conf']: not a stamp"),
        (RunRecord, {"inputs": {"conf": "ab"}}, "inputs['conf']: not [stamp, digest]"),
        (RunRecord, {"where": {"host": 3}, "version": 1}, "where['host']: not a string"),
        (VerifyRecord, {"kind": "guess"}, "kind: not one of verdict"),
        (VerifyRecord, {"inputs": {"a/log": [1.0]}}, "inputs['a/log']: not a stamp"),
        (PublishRecord, {"state": "writing"}, "state: not one of published, withdrawn, absent, copy failed"),
        (PublishRecord, {"verify": math.nan}, "verify: not a time"),
        (TreeCopyRecord, {"tree": None}, "tree: not a string"),
        (TreeCopyRecord, {"source": [1]}, "source: not an object"),
        (TreeCopyRecord, {"files": {"log": "now"}}, "files['log']: not a stamp"),
        (RerunRequest, {"by": ["me"]}, "by: not a string"),
    ],
)
def test_a_bad_value_in_a_record_is_named(kind, change: dict, words: str) -> None:
    with pytest.raises(BadRecord, match=words.replace("[", r"\[").replace("(", r"\(")):
        kind.from_dict({**V0[kind], **change})


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object but a list"),
        (b"\xff\xfe", "not JSON"),
        (b'"text"', "not a JSON object but a str"),
    ],
)
def test_a_file_that_is_not_a_record_is_named(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "run.json"
    path.write_bytes(content)
    with pytest.raises(BadRecord, match=words):
        RunRecord.load(str(path))


def test_a_folder_or_a_fifo_at_a_record_path_is_named_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "run.json").mkdir()
    with pytest.raises(BadRecord, match="a folder, not a file"):
        RunRecord.load(str(tmp_path / "run.json"))
    os.mkfifo(tmp_path / "publish.json")
    with pytest.raises(BadRecord, match="not a regular file"):
        PublishRecord.load(str(tmp_path / "publish.json"))
    (tmp_path / "file").write_text("")
    with pytest.raises(BadRecord, match="a folder above it is a file"):
        RunRecord.load(str(tmp_path / "file" / "run.json"))


def test_set_aside_renames_and_never_overwrites(tmp_path: Path) -> None:
    bad = tmp_path / "run.json"
    lines = []
    for text in ("first", "second"):
        bad.write_text(text)
        lines += set_aside([Bad(str(bad), "not JSON")])
    assert (tmp_path / "run.json.bad").read_text() == "first" and (tmp_path / "run.json.bad.2").read_text() == "second"
    assert lines[0] == f"set aside {bad} is not a valid record (not JSON): moved to {bad}.bad"
    assert set_aside([Bad(str(tmp_path / "absent"), "gone")]) == []


def test_a_result_is_read_back_from_its_dict() -> None:
    result = Result("TEST01", "Offline", "resnet", official_verdict="PASS", official_notes=["note"])
    result.add(Check("accuracy", Outcome.PASS, figures={"mismatches": 0}))
    result.add(Check("performance", Outcome.FAIL, "slower", {"ratio": 0.8}, noise=True))
    result.findings.append(Finding("outputs differ after their first element", "accuracy"))
    result.attempts = [{"number": 1}, {"number": 2}]
    back = Result.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back == result and back.verdict is Verdict.FAIL and back.retryable
    with pytest.raises(ValueError, match=r"checks\[0\].outcome: unknown outcome 'MAYBE'"):
        Result.from_dict({"test": "TEST01", "checks": [{"name": "x", "outcome": "MAYBE"}]})
    with pytest.raises(ValueError, match="test: missing"):
        Result.from_dict({"checks": []})
    with pytest.raises(ValueError, match=r"attempts\[1\]: not an object"):
        Result.from_dict({"test": "TEST01", "attempts": [{}, 3]})


# -- a cell's state ----------------------------------------------------------------------------------------------------


def test_a_cells_records_are_read_into_one_state() -> None:
    cp = p.cell(p.demo_plan(), "demo/resnet/Offline/TEST01")
    p.passing(cp)
    state = read_cell(cp)
    assert [r.current(run) is not None for (_, _, run), r in zip(cp.needed_runs(), state.runs, strict=True)] == [
        True,
        True,
        True,
    ]
    assert state.run.record is not None and state.run.record.where.host == p.HOST
    assert state.run.signed == cp.run.signature and not state.run.requested
    assert state.verification is not None and state.verification.verdict is Verdict.PASS
    assert state.result is not None and state.result.test == "TEST01" and state.verdict_stamp is not None
    assert state.publication is not None and state.publication.state is PublishState.PUBLISHED
    assert state.bad_verification == state.bad_publication == () and state.ledger == ()


def test_bad_records_and_files_in_place_of_folders_are_named_in_the_state() -> None:
    cp = p.cell(p.demo_plan(), "demo/resnet/Offline/TEST01")
    p.passing(cp)
    Path(cp.run.files.record).write_text('{"status": "PASS", "time": NaN}')
    Path(cp.files.attempts_dir).write_text("a file")
    Path(cp.files.publish_record).unlink()
    Path(cp.files.publish_record).mkdir()
    state = read_cell(cp)
    assert state.run.record is None
    assert [str(b) for b in state.run.bad] == [
        f"{cp.run.files.record} is not a valid record (time: not a time (seconds since the epoch) (nan))"
    ]
    assert [str(b) for b in state.bad_verification] == [
        f"{cp.files.attempts_dir} is not a valid record (a file where a folder must be)"
    ]
    assert [str(b) for b in state.bad_publication] == [
        f"{cp.files.publish_record} is not a valid record (a folder, not a file)"
    ]
    Path(cp.run.files.logs, ".run.signature").unlink()
    for name in os.listdir(cp.run.files.logs):
        Path(cp.run.files.logs, name).unlink()
    os.rmdir(cp.run.files.logs)
    Path(cp.run.files.logs).write_text("a file")
    assert [b.why for b in read_run(cp.run).bad][1:] == ["a file where a folder must be"]


def test_a_bad_ledger_entry_is_named_and_the_good_ones_kept() -> None:
    cp = p.cell(p.demo_plan(), "demo/resnet/Offline/TEST01")
    entry = AttemptEntry.from_dict(V0[AttemptEntry])
    p.gen(
        cp.files.attempts_dir,
        {
            "1": {"attempt.json": entry},
            "2": {"attempt.json": json.dumps({**entry.to_dict(), "number": 2, "time": 1e300})},
            "3": {"logs": {}},  # an attempt a kill interrupted: no entry, skipped
            "4": {"attempt.json": AttemptEntry(**{**entry.__dict__, "number": 4})},
        },
    )
    state = read_cell(cp)
    assert [e.number for e in state.ledger] == [1, 4]
    assert [str(b) for b in state.bad_verification] == [
        f"{cp.files.attempts_dir}/2/attempt.json is not a valid record (time: not a time (seconds since the epoch) "
        "(1e+300))"
    ]


def test_a_rerun_request_that_cannot_be_read_still_asks_for_a_rerun() -> None:
    cp = p.cell(p.demo_plan(), "demo/resnet/Offline/TEST01")
    p.ran(cp.run)
    RerunRequest("a test", NOW).save(cp.run.files.rerun_request)
    assert read_run(cp.run).request == RerunRequest("a test", NOW)
    Path(cp.run.files.rerun_request).write_text("{")
    state = read_run(cp.run)
    assert state.requested and state.request is None and "not JSON" in state.bad[0].why


def _as_release_0_2(names: tuple[str, ...]) -> int:
    """Rewrite the records of the build folder named so as release 0.2 wrote them (no version, no 'where')."""
    count = 0
    for path in Path("build").rglob("*.json"):
        if path.name.endswith(names):
            data = json.loads(path.read_text())
            data.pop("version")
            data.pop("where", None)
            path.write_text(json.dumps(data))
            count += 1
    return count


def test_a_build_folder_of_the_previous_release_stays_up_to_date() -> None:
    """Every record of a passing cell as release 0.2 wrote it: the cell is still PASS and nothing runs again (the
    records are rewritten in the new format when their step next runs)."""
    from compliance import freshness, status

    plan = p.plan(p.system("box", "v5.0", p.bench("resnet", publish_reference=True)))
    for _, _, run in plan.cells[0].needed_runs() + plan.cells[1].needed_runs():
        if not os.path.exists(run.files.record):
            p.ran(run)
    assert _as_release_0_2(("run.json", "-accuracy.json", "-performance.json")) == 2 + 2  # (what verify stamps)
    for ref in plan.references:
        p.copied(ref)
    for cp in plan.cells:
        p.passing(cp)
    assert _as_release_0_2(("verify.meta.json", "publish.json")) == 2 * 2 + 2
    p.reviewed(plan)
    assert {r.test: r.status for r in status.rows(plan)} == dict.fromkeys(
        ("TEST01", "TEST04", "accuracy", "performance", "review"), status.RowStatus.PASS
    )
    for cp in plan.cells:
        state = read_cell(cp)
        assert freshness.run_reasons(cp.run, state.run) == freshness.verify_reasons(cp, state) == []
        assert freshness.publish_reasons(cp, state) == []


def test_a_deeply_nested_value_is_named_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"status": "PASS", "time": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(BadRecord, match="not JSON: maximum recursion depth exceeded"):
        RunRecord.load(str(path))
    path.write_text('{"status": "PASS", "time": ' + "[" * 50 + "]" * 50 + "}")
    with pytest.raises(BadRecord, match=r"time: not a time \(seconds since the epoch\) \(\[\[\[\["):
        RunRecord.load(str(path))
