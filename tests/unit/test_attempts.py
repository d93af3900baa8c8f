"""A cell's attempts (compliance/pipeline/attempts.py and the verify step's retries): what is retried and what is not,
each attempt kept with its ledger entry, a rerun's series, all through the steps themselves with a launcher that
writes given logs (tests/helpers/harness.py): no doit, no process, every verdict certain."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from compliance import records, status
from compliance.pipeline import actions, attempts, launch
from compliance.records import AttemptEntry, RerunRequest
from compliance.verify.render import CHECKER_WORDS
from compliance.verify.result import Verdict
from tests.helpers import harness as h
from tests.helpers import pipeline as p

LABEL = "box/retinanet/Offline/TEST01"


pytestmark = pytest.mark.usefixtures("as_doit")  # tests/unit/conftest.py


def _cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outcomes: list, **changes):
    """The TEST01 cell of a system given the submission's results, whose harness does ``outcomes`` in turn."""
    fake = h.FakeLauncher({LABEL: outcomes})
    monkeypatch.setitem(launch.LAUNCHERS, "local", fake)
    p.gen(tmp_path, {"results": {"Offline": h.results()}})
    plan = p.plan(p.system("box", "v5.0", p.bench("retinanet", results="results/{scenario}", **changes)))
    return plan, p.cell(plan, LABEL), fake


def _steps(cp) -> None:
    """run, verify, publish, as doit runs them."""
    actions.run(cp)
    actions.verify(cp)
    actions.publish(cp)


def _verify_json(cp) -> dict:
    return json.loads(Path(cp.files.verify_json).read_text())


def test_a_performance_failure_then_a_pass_is_a_pass_with_a_two_attempt_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(actions.time, "sleep", pauses.append)
    plan, cp, fake = _cell(
        tmp_path, monkeypatch, [h.compliance_logs(800.0), h.compliance_logs()], attempts=3, attempt_pause=1.0
    )
    _steps(cp)
    assert fake.count(LABEL) == 2 and pauses == [1.0]
    ledger = _verify_json(cp)["attempts"]
    assert [(e["attempt"], e["of"], e["verdict"], e["retried"]) for e in ledger] == [
        (1, 3, "FAIL", True),
        (2, 3, "PASS", False),
    ]
    assert ledger[0]["short"] == "perf ratio 0.800 outside [0.90, 1.10]"
    assert "perf 0.80 < 0.90" in ledger[0]["figures"] and "perf 1.000 in [0.90, 1.10]" in ledger[1]["figures"]
    for entry, score in zip(ledger, ("800", "1000"), strict=True):  # each attempt keeps its logs and its verdict
        folder = Path(entry["folder"])
        assert f"Samples per second: {score}" in (folder / "logs" / "mlperf_log_summary.txt").read_text()
        assert json.loads((folder / "verify.json").read_text())["verdict"] == entry["verdict"]
        assert f"harness call {entry['attempt']}" in (folder / "run.log").read_text()
        assert AttemptEntry.load(str(folder / "attempt.json")) == AttemptEntry.from_dict(entry)
    row = status.rows(plan)[0]
    assert (row.status, row.reason) == (
        status.RowStatus.PASS,
        "PASS on attempt 2 of 3; attempt 1: perf ratio 0.800 outside [0.90, 1.10]",
    )
    # the TEST folder in the tree: the last attempt's logs, and the ledger for a reviewer
    tree = Path(cp.tree_dir)
    assert "Samples per second: 1000" in (tree / "performance" / "run_1" / "mlperf_log_summary.txt").read_text()
    for name in ("verify_accuracy.txt", "verify_performance.txt"):
        text = (tree / name).read_text()
        told = text[text.index("This verdict is attempt 2 of 3") :].splitlines()
        assert any("Earlier attempt 1 of 3" in line and "perf ratio 0.800" in line for line in told)
        assert not any(word in line for line in told for word in CHECKER_WORDS)
        assert "TEST PASS" in text


def test_a_single_attempt_behaves_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan, cp, fake = _cell(tmp_path, monkeypatch, [h.compliance_logs(800.0), h.compliance_logs()])
    _steps(cp)
    assert fake.count(LABEL) == 1
    data = _verify_json(cp)
    assert data["verdict"] == "FAIL" and "attempts" not in data
    assert all(c.get("noise") for c in data["checks"] if c["outcome"] == "FAIL")  # said, not acted on
    row = status.rows(plan)[0]
    assert row.status is status.RowStatus.FAIL and row.reason.startswith("performance:") and "attempt" not in row.reason
    assert "attempt" not in (Path(cp.files.verified_dir) / "verify_performance.txt").read_text()
    assert not os.path.exists(cp.tree_dir)


@pytest.mark.parametrize(
    ("outcomes", "attempts_", "words"),
    [
        ([h.compliance_logs(differ=True), h.compliance_logs()], 3, "accuracy:"),
        ([h.exited(3), h.compliance_logs()], 3, "run: exit status 3"),
    ],
    ids=["an accuracy mismatch", "a harness error"],
)
def test_what_noise_cannot_cause_is_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outcomes: list, attempts_: int, words: str
) -> None:
    plan, cp, fake = _cell(tmp_path, monkeypatch, outcomes, attempts=attempts_)
    _steps(cp)
    assert fake.count(LABEL) == 1
    row = status.rows(plan)[0]
    assert row.status is status.RowStatus.FAIL and row.reason.startswith(words) and "attempt" not in row.reason


@pytest.mark.parametrize(
    ("first", "verdict", "words"),
    [
        (h.compliance_logs(valid=False), "FAIL", "runs comparable: the compliance run is INVALID"),
        (h.timed_out(), "NOT VERIFIED", "timed out"),
    ],
    ids=["an INVALID run", "a timed-out run"],
)
def test_an_invalid_or_timed_out_run_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first, verdict: str, words: str
) -> None:
    plan, cp, fake = _cell(tmp_path, monkeypatch, [first, h.compliance_logs()], attempts=2)
    _steps(cp)
    assert fake.count(LABEL) == 2
    ledger = _verify_json(cp)["attempts"]
    assert [e["verdict"] for e in ledger] == [verdict, "PASS"] and words in ledger[0]["short"]
    assert status.rows(plan)[0].status is status.RowStatus.PASS


def test_a_cell_that_fails_every_attempt_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan, cp, fake = _cell(tmp_path, monkeypatch, [h.compliance_logs(800.0), h.compliance_logs(1150.0)], attempts=2)
    _steps(cp)
    assert fake.count(LABEL) == 2
    row = status.rows(plan)[0]
    assert row.status is status.RowStatus.FAIL and row.reason.startswith("performance: result_samples_per_second 1150")
    assert row.reason.endswith(
        "(FAIL on attempt 2 of 2; attempt 1: perf ratio 0.800 outside [0.90, 1.10]); "
        "to measure again: mlperf-compliance rerun box/retinanet/Offline/TEST01"
    )
    assert [e["verdict"] for e in _verify_json(cp)["attempts"]] == ["FAIL", "FAIL"]


def test_a_rerun_starts_a_new_series_and_keeps_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan, cp, fake = _cell(tmp_path, monkeypatch, [h.compliance_logs(800.0), h.compliance_logs()], attempts=3)
    _steps(cp)
    RerunRequest("mlperf-compliance rerun box/retinanet", time.time()).save(cp.run.files.rerun_request)
    assert "a rerun was asked for" in status.rows(plan)[0].reason
    _steps(cp)  # the third call passes at once (the harness repeats its last logs)
    assert fake.count(LABEL) == 3 and not os.path.exists(cp.run.files.rerun_request)
    ledger = _verify_json(cp)["attempts"]
    assert [(e["series"], e["attempt"], e["verdict"]) for e in ledger] == [
        (1, 1, "FAIL"),
        (1, 2, "PASS"),
        (2, 1, "PASS"),
    ]
    assert _said(status.rows(plan)[0]) == (status.RowStatus.PASS, "")  # the last verification took one attempt


def _said(row: status.Row) -> tuple[status.RowStatus, str]:
    return row.status, row.reason


def test_numbers_are_never_reused_and_a_bad_entry_is_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, cp, fake = _cell(tmp_path, monkeypatch, [h.compliance_logs(800.0), h.compliance_logs()], attempts=2)
    first = AttemptEntry(1, 1, 1, 2, time.time(), Verdict.FAIL, folder=cp.files.attempt_dir(1))
    p.gen(
        cp.files.attempts_dir,
        {
            "1": {"attempt.json": first},
            "2": {"logs": {}},  # an attempt a killed doit was running: no entry
            "3": {"attempt.json": json.dumps({**first.to_dict(), "number": 3, "time": float("nan")})},
        },
    )
    series = attempts.Series(cp, records.read_cell(cp).ledger)
    assert (series.number, series.series) == (1, 2)
    _steps(cp)
    err = capsys.readouterr().err
    assert f"set aside {cp.files.attempts_dir}/3/attempt.json is not a valid record (time: not a time" in err
    assert os.path.exists(f"{cp.files.attempts_dir}/3/attempt.json.bad")
    ledger = _verify_json(cp)["attempts"]
    assert [(e["number"], e["series"], e["attempt"]) for e in ledger] == [(1, 1, 1), (4, 2, 1), (5, 2, 2)]
    assert records.read_cell(cp).bad_verification == ()
