"""The summary in every format (compliance/summary.py), from the rows of cells whose records the pipeline wrote: a
failing figure says what failed, numbers stay numbers in the JSON (which its schema accepts), failing rows become
GitHub annotations and JUnit failures, every log-derived string is escaped, and the plain table is as it was."""

from __future__ import annotations

import json
import math
import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from compliance import __version__, freshness, status, summary
from compliance.cli import main
from compliance.errors import UnknownName
from compliance.records import ReviewRecord
from compliance.report import bars, jsondoc
from compliance.report.measure import Measure
from compliance.report.model import Finding, Item, Report
from compliance.verify import registry
from compliance.verify.checks import performance
from compliance.verify.result import Check, Outcome, Result
from tests.helpers import pipeline as p
from tests.helpers.summaryrows import table

# -- figures: a failing one says what failed --------------------------------------------------------------------------


def _checks(name: str, outcome: Outcome, **figures: float) -> dict[str, dict]:
    return {name: Check(name, outcome, "", dict(figures)).to_dict()}


@pytest.mark.parametrize(
    ("figures", "outcome", "said"),
    [
        ({"speedup": 1.0, "limit": 1.1}, Outcome.PASS, "speed-up 1.000 <= 1.10"),
        ({"speedup": 145.5701, "limit": 1.1}, Outcome.FAIL, "speed-up 145.57 > 1.10"),
        ({"speedup": 1.1004, "limit": 1.1}, Outcome.FAIL, "speed-up 1.1004 > 1.10"),  # decimals enough to differ
        ({"ratio": 1.0, "tolerance": 0.1}, Outcome.PASS, "perf 1.000 in [0.90, 1.10]"),
        ({"ratio": 0.87, "tolerance": 0.1}, Outcome.FAIL, "perf 0.87 < 0.90"),
        ({"ratio": 1.15, "tolerance": 0.1}, Outcome.FAIL, "perf 1.15 > 1.10"),
        ({"slowdown": 1.0, "limit": 1 / 0.9}, Outcome.PASS, "slow-down 1.000 < 1.111"),
        ({"slowdown": 1.3, "limit": 1 / 0.9}, Outcome.FAIL, "slow-down 1.30 > 1.111"),
    ],
)
def test_performance_figures_state_the_condition_met_or_broken(figures: dict, outcome: Outcome, said: str) -> None:
    checks = _checks(performance.CHECK_SCORE, outcome, **figures)
    assert performance.figures(checks) == said
    [measure] = performance.measures(checks)
    assert measure.passed is (outcome is Outcome.PASS) and measure.text() == said


def test_the_other_tests_figures_say_what_failed() -> None:
    def data(test: str, *checks: Check) -> dict:
        return Result(test, "Offline", checks=list(checks)).to_dict()

    test09 = registry.get("TEST09")
    mean = Check("mean output length", Outcome.FAIL, "", {"mean": 1100.0, "low": 1150.38, "high": 1406.02})
    assert test09.figures(data("TEST09", mean)).startswith("mean length 1100.00 < 1150.38, ")
    mean = Check("mean output length", Outcome.PASS, "", {"mean": 1277.93, "low": 1150.38, "high": 1406.02})
    assert test09.figures(data("TEST09", mean)).startswith("mean length 1277.93 in [1150.38, 1406.02], ")
    test07 = registry.get("TEST07")
    score = {"score": 50.0, "threshold": 60.698, "metric": "exact_match"}
    assert test07.figures(data("TEST07", Check("accuracy score", Outcome.FAIL, "", score))) == "exact_match 50 < 60.698"
    test08 = registry.get("TEST08")
    count = {"matched": 1000, "minimum": 1100, "ne_mismatches": 0, "unmatched": 0}
    said = test08.figures(data("TEST08", Check("matched count", Outcome.FAIL, "", count)))
    assert said == "NE mismatches 0/1000 matched (matched 1000 < 1100), 0 unmatched"


def test_a_figure_that_is_no_finite_number_is_said_drawn_and_written_as_json() -> None:
    infinite = Measure("speed-up", math.inf, False, high=1.1)
    assert infinite.text() == "speed-up inf > 1.10" and 'data-beyond="true"' in bars.svg(infinite)
    unknown = Measure("slow-down", math.nan, False, high=1.111, high_strict=True, bound_digits=3)
    assert unknown.text() == "slow-down nan fails (needs <= 1.111)" and "<svg" in bars.svg(unknown)
    assert (
        json.loads(jsondoc.dumps(Report("r", (), [Item({}, "FAIL", measures=(infinite,))])))["records"][0]["measures"][
            0
        ]["value"]
        == "inf"
    )


def test_a_value_the_rounding_hides_is_shown_with_all_its_digits() -> None:
    assert Measure("x", 0.8999999, False, 0.9, 1.1).text() == "x 0.8999999 < 0.90"
    assert Measure("x", 1.0, False, high=1.1).text() == "x 1 fails (needs <= 1.10)"  # the check's word decides


# -- the formats ------------------------------------------------------------------------------------------------------


def test_rows_carry_their_measures_attempts_and_links() -> None:
    rows = {r.test: r for r in table()}
    assert rows["TEST04"].figures == "speed-up 145.57 > 1.10" and rows["TEST04"].status is status.RowStatus.FAIL
    assert [(m.name, m.value, m.high, m.passed) for m in rows["TEST04"].measures] == [
        ("speed-up", 145.5701, 1.1, False)
    ]
    assert [(a.number, a.verdict) for a in rows["TEST01"].attempts] == [(1, "FAIL"), (2, "PASS")]
    labels = {link.label for link in rows["TEST01"].links}
    assert {"run.log", "LoadGen logs", "verify.json", "TEST01 folder"} <= labels
    assert all(Path(link.path).exists() for r in rows.values() for link in r.links)


def test_json_keeps_numbers_paths_version_and_time_and_matches_its_schema() -> None:
    document = json.loads(summary.render(table(), "json", specs="specs"))
    Draft202012Validator(jsondoc.schema("summary")).validate(document)
    Draft202012Validator(jsondoc.schema("report")).validate(document)  # and the shared report's shape
    records = {r["test"]: r for r in document["records"]}
    measure = records["TEST04"]["measures"][0]
    assert (measure["value"], measure["high"], measure["passed"]) == (145.5701, 1.1, False)
    assert measure["text"] == "speed-up 145.57 > 1.10" and measure["margin"] == pytest.approx(-144.4701)
    assert records["TEST01"]["attempts"][0]["verdict"] == "FAIL" and records["TEST01"]["attempts"][1]["of"] == 2
    assert records["TEST01"]["path"].endswith("compliance/box/resnet/Offline/TEST01")
    assert document["version"] and document["created"].endswith("UTC") and document["meta"]["passed"] is False
    assert [f["rule"] for f in records["TEST04"]["findings"]] == ["test-failed", "verify-note"]
    assert document["totals"]["statuses"] == {"FAIL": 1, "PASS": 1}


def test_failing_rows_are_github_annotations_and_junit_failures() -> None:
    rows = table()
    lines = summary.render(rows, "github").splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 1 and errors[0].startswith("::error file=submission/closed/")
    assert "title=test-failed%3A the test fails::FAIL: performance: the compliance run is 146x as fast" in errors[0]
    assert "\x1b" not in errors[0] and "%0A" in errors[0]  # the log's newline escaped as GitHub decodes it
    assert (
        lines[-1].startswith("::notice title=mlperf-compliance summary of ") and "2 rows: 1 FAIL, 1 PASS" in lines[-1]
    )
    suite = ET.fromstring(summary.render(rows, "junit"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "1", "0")
    [failure] = suite.iter("failure")
    assert "\\x1b" in failure.get("message", "")


@pytest.mark.parametrize("fmt", ["markdown", "html", "github", "junit", "plain"])
def test_every_log_derived_string_is_escaped(fmt: str) -> None:
    out = summary.render(table(), fmt)
    assert "\x1b" not in out and "\u202e" not in out and "\\x1b" in out  # made visible
    if fmt in ("markdown", "html"):
        assert "<script>alert" not in out and "</td><script>" not in out
    if fmt == "markdown":  # no table cell broken, no emphasis, link or autolink made
        assert "\\| \\*b\\* \\[l\\](http&#58;//evil.example)" in out
        rows = [line for line in out.splitlines() if line.startswith("| box")]
        assert len(rows) == 2 and all(len(re.split(r"(?<!\\)\|", line)) == 10 for line in rows)


def test_html_is_a_page_with_title_project_date_totals_and_bars() -> None:
    out = summary.render(table(), "html", project=".", specs="specs")
    assert "<title>mlperf-compliance summary of " in out and "specs specs" in out and " UTC" in out
    assert 'class="bar"' in out and 'data-passed="false"' in out and 'data-beyond="true"' in out
    assert "speed-up 145.57 &gt; 1.10" in out and "speed-up: 144.47 beyond" in out
    assert 'href="http' not in out and "<link" not in out and "src=" not in out  # self-contained
    assert '<ol class="attempts">' in out and 'href="build/box/resnet/Offline/TEST01/run.log"' in out


def test_the_plain_table_is_as_it_was() -> None:
    rows = table()
    assert summary.render(rows, "plain") == status.render(rows)
    assert "speed-up 145.57 > 1.10" in status.render(rows) and "\\x1b[31m" in status.render(rows)
    with pytest.raises(UnknownName, match="did you mean 'json'"):
        summary.render(rows, "jsno")


# -- the command ------------------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose specs are the shipped ones plus a system 'box', with no record yet."""
    from tests.helpers.projects import make_project, system_yaml

    root = make_project(tmp_path / "p", {"box": system_yaml("box", "v5.0", {"resnet": {"scenarios": ["Offline"]}})})
    return root


def test_output_file_links_from_its_folder_and_github_actions_gets_a_job_summary(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    job = project / "job-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(job))
    (project / "reports").mkdir()
    assert main(["summary", "--format", "html", "-o", "reports/summary.html"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "report in reports/summary.html" in captured.err
    page = (project / "reports" / "summary.html").read_text(encoding="utf-8")
    assert "mlperf-compliance summary of p" in page and "NOT RUN" in page
    assert "## Items that did not pass" in job.read_text(encoding="utf-8")
    assert main(["summary"]) == 1  # plain, under Actions: the table, then an annotation per row that does not pass
    out = capsys.readouterr().out
    assert "-------" in out and out.count("::error file=") == 3 and "::notice title=" in out  # 2 cells, the review


# -- the review's row -------------------------------------------------------------------------------------------------


def test_the_review_row_says_what_its_record_says() -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    [rp] = plan.reviews
    assert rp.after == ("publish:box/resnet/Offline/TEST01", "publish:box/resnet/Offline/TEST04")

    def row() -> status.Row:
        [found] = [r for r in status.rows(plan) if r.test == status.REVIEW]
        return found

    assert (row().status, row().reason) == (
        status.RowStatus.NOT_RUN,
        "waits for the review (the review has not run yet)",
    )
    ReviewRecord(time.time(), rp.parts(__version__), freshness.review_stamps(rp), waiting="no tree").save(rp.record)
    assert (row().status, row().reason) == (status.RowStatus.NOT_RUN, "nothing to review: no tree")
    folder = Path(rp.folders[0]) / "resnet" / "Offline" / "TEST01"
    folder.mkdir(parents=True)
    error = Finding.from_dict(
        {"rule": "test-missing", "severity": "error", "title": "t", "message": "TEST04 is missing", "path": "x/TEST04"}
    )
    report = {
        "records": [
            {"benchmark": "resnet", "scenario": "Offline", "test": "TEST01", "path": "x", "status": "PASS"},
            {
                "benchmark": "resnet",
                "scenario": "Offline",
                "test": "TEST04",
                "path": "x/TEST04",
                "status": "FAIL",
                "findings": [error.to_dict()],
            },
        ]
    }
    ReviewRecord(time.time(), rp.parts(__version__), freshness.review_stamps(rp), "", report).save(rp.record)
    found = row()
    assert (found.status, found.kind, found.reason) == (
        status.RowStatus.FAIL,
        status.RowKind.VERIFICATION,
        "TEST04 resnet/Offline: TEST04 is missing",
    )
    assert found.figures == "2 folders reviewed: 1 PASS, 1 FAIL" and found.found[0].path == "submission/x/TEST04"
    (folder / "accuracy.txt").write_text("the user's\n", encoding="utf-8")
    assert row().status is status.RowStatus.STALE and row().reason.startswith(
        f"{folder}/accuracy.txt appeared since the review (last review FAIL: TEST04"
    )
    ReviewRecord(time.time(), rp.parts(__version__), freshness.review_stamps(rp), "the tree is gone").save(rp.record)
    assert (row().status, row().reason) == (status.RowStatus.FAIL, "the tree is gone")
    Path(rp.record).write_text('{"version": 1, "time": 1, "report": {"records": 3}}', encoding="utf-8")
    assert (
        row().status is status.RowStatus.NOT_RUN
        and "is not a valid record (report.records: not a list)" in row().reason
    )


def test_a_reviewed_file_rewritten_with_its_bytes_is_no_change_and_other_bytes_are() -> None:
    # the official truncation rewrites a log it already cut: same bytes, a new stamp (issue 21, the review's row)
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    [rp] = plan.reviews
    folder = Path(rp.folders[0]) / "resnet" / "Offline" / "TEST01"
    folder.mkdir(parents=True)
    log = folder / "mlperf_log_accuracy.json"
    log.write_text("[\n{...}\n]\n", encoding="utf-8")
    stamps = freshness.review_stamps(rp)
    report = {
        "records": [{"benchmark": "resnet", "scenario": "Offline", "test": "TEST01", "path": "x", "status": "PASS"}]
    }
    record = ReviewRecord(
        time.time(), rp.parts(__version__), stamps, "", report, digests=freshness.review_digests(rp, stamps)
    )
    record.save(rp.record)
    later = time.time() + 10
    os.utime(log, (later, later))
    assert freshness.review_reasons(rp, ReviewRecord.load(rp.record), ()) == []
    log.write_text("[\n{,,,}\n]\n", encoding="utf-8")  # as long, other bytes
    [reason] = freshness.review_reasons(rp, ReviewRecord.load(rp.record), ())
    assert reason.text == f"{log} changed since the review"
