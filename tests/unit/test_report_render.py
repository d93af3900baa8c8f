"""The report renderers: every format from the same objects, every string from a log escaped for its output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from jsonschema import Draft202012Validator

from compliance.errors import UnknownName
from compliance.report import escape, github, jsondoc
from compliance.report.model import Column, Evidence, Finding, Item, Report, Severity
from compliance.report.render import FORMATS, render

HOSTILE = "x\x1b[31mred\x1b[0m </td><script>alert(1)</script> | *bold* `code` [l](u) %0A:,\u202etxt\nnext"


def sample() -> Report:
    finding = Finding(
        "verify-text-pass-over-fail",
        Severity.ERROR,
        "the verify text says PASS, the logs beside it fail",
        "ratio 0.63 " + HOSTILE,
        "closed/Org/compliance/s/b/Server/TEST01/verify_performance.txt",
        (Evidence("a/verify_performance.txt", "verdict", "PASS", "a/run_1/mlperf_log_detail.txt", "score", 4.93),),
        "docs/rules.md §2.1",
        "verify the logs again",
    )
    info = Finding("log-shared-allowed", Severity.INFO, "shared", "same run as -99.9", "p/q")
    return Report(
        title="review of tree",
        columns=(
            Column("organisation", "organisation", True),
            Column("system", "system", True),
            Column("test", "test"),
        ),
        items=[
            Item(
                {"organisation": "Org", "system": "s" + HOSTILE, "test": "TEST01"},
                "FAIL",
                "r " + HOSTILE,
                "perf 0.63",
                "closed/Org/compliance/s/b/Server/TEST01",
                [finding],
                {"checks": [{"name": "performance", "outcome": "FAIL", "reason": "low", "figures": {"ratio": 0.63}}]},
            ),
            Item({"organisation": "Other", "system": "t", "test": "TEST04"}, "PASS", path="p/q", findings=[info]),
            Item({"organisation": "Other", "system": "t", "test": "TEST06"}, "NOT CHECKABLE", "truncated", path="p/r"),
        ],
        preamble=["reviewed the whole tree"],
        meta={"round": "v5.1", "seconds": 1.5},
        created=0.0,
    )


def test_every_format_renders_and_an_unknown_one_is_refused() -> None:
    report = sample()
    for fmt in FORMATS:
        assert render(report, fmt)
    with pytest.raises(UnknownName, match="did you mean 'json'"):
        render(report, "jsno")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_control_character_of_a_log_reaches_any_output(fmt: str) -> None:
    out = render(sample(), fmt)
    assert "\x1b" not in out and "\u202e" not in out
    if fmt != "json":  # JSON escapes them its own way (\u001b), and keeps the text as data
        assert "\\x1b" in out


def test_html_escapes_markup_and_is_self_contained() -> None:
    out = render(sample(), "html")
    assert "<script>alert(1)</script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "http://" not in out and "https://" not in out and "<link" not in out and "src=" not in out
    assert "1970-01-01 00:00:00 UTC" in out and "mlperf-compliance" in out
    assert 'data-organisation="Org"' in out and 'id="filter-severity"' in out


def test_markdown_sections_per_finding_with_evidence_and_escapes() -> None:
    out = render(sample(), "markdown")
    assert "### 1. ERROR `verify-text-pass-over-fail`" in out
    assert "Evidence:" in out and "`a/verify_performance.txt` `verdict` = `PASS` vs" in out
    assert "Rule: docs/rules.md §2.1" in out and "Remedy: verify the logs again" in out
    assert "<script>" not in out and "\\*bold\\*" in out and "\\|" in out and "\\[l\\]" in out
    assert "### 2." not in out  # the info is below the default threshold


def test_github_workflow_commands_escaped_by_github_s_rules() -> None:
    lines = github.workflow_commands(sample()).splitlines()
    error = lines[0]
    assert error.startswith("::error file=closed/Org/compliance/s/b/Server/TEST01/verify_performance.txt,title=")
    assert "title=verify-text-pass-over-fail%3A the verify text says PASS%2C the logs beside it fail::" in error
    message = error.split("::", 2)[2]
    assert "%250A" in message and "%0A" in message and "\n" not in message  # a literal %0A, then a real newline
    assert lines[-1].startswith("::notice title=review of tree::3 items")


def test_job_summary_is_appended_only_under_github_actions(tmp_path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n", encoding="utf-8")
    assert github.write_job_summary(sample(), environ={"GITHUB_STEP_SUMMARY": str(target)}) == str(target)
    text = target.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "## Items that did not pass" in text and "TEST04" not in text
    assert github.write_job_summary(sample(), environ={}) == ""
    assert github.in_actions({"GITHUB_ACTIONS": "true"}) and not github.in_actions({})


def test_json_keeps_numbers_and_matches_its_schema() -> None:
    document = json.loads(render(sample(), "json"))
    Draft202012Validator(jsondoc.schema()).validate(document)
    record = document["records"][0]
    assert record["checks"][0]["figures"]["ratio"] == 0.63 and document["meta"]["seconds"] == 1.5
    assert record["findings"][0]["evidence"][0]["other_value"] == 4.93
    assert document["totals"] == {
        "statuses": {"FAIL": 1, "NOT CHECKABLE": 1, "PASS": 1},
        "findings": {"error": 1, "warning": 0, "info": 1},
    }
    assert document["version"] and document["created"] == "1970-01-01 00:00:00 UTC"


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(jsondoc.schema())


def test_junit_is_xml_with_failures_and_skips() -> None:
    suite = ET.fromstring(render(sample(), "junit"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert cases[0].find("failure") is not None and "\\x1b" in cases[0].find("failure").get("message")
    assert cases[2].find("skipped").get("message") == "NOT CHECKABLE: truncated"
    report = sample()
    report.items[0].findings.append(Finding("verify-note", Severity.INFO, "a note", "second finding"))
    out = ET.fromstring(render(report, "junit")).findall("testcase")[0].find("system-out").text
    lines = out.splitlines()  # a line per finding; a line break a log put into a message stays shown, never a line
    assert len(lines) == 2 and lines[0].endswith("(remedy: verify the logs again)") and "\\x0anext" in lines[0]
    assert lines[1] == "info verify-note: second finding"


def test_table_lists_findings_at_the_threshold_and_the_totals() -> None:
    out = render(sample(), "table")
    assert "error   verify-text-pass-over-fail" in out and "log-shared-allowed" not in out
    assert render(sample(), "table", Severity.INFO).count("log-shared-allowed") == 1
    assert out.rstrip().endswith("3 items: 1 FAIL, 1 NOT CHECKABLE, 1 PASS; findings: 1 error, 0 warnings, 1 info")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("# heading", "\\# heading"),
        ("12. item", "12\\. item"),
        ("- item", "\\- item"),
        ("a_b*c", "a\\_b\\*c"),
        ("<b>&", "&lt;b\\>&amp;"),
    ],
)
def test_markdown_escape_at_the_start_of_a_line(text: str, expected: str) -> None:
    assert escape.markdown(text, line_start=True) == expected


def test_visible_shows_controls_and_keeps_newlines_when_asked() -> None:
    assert escape.visible("a\x00b\x7fc\u200bd") == "a\\x00b\\x7fc\\u200bd"
    assert escape.visible("a\nb", keep_lines=True) == "a\nb" and escape.visible("a\nb") == "a\\x0ab"
    assert escape.xml('<"&>') == "&lt;&quot;&amp;&gt;"
    assert escape.github_property("a:b,c%d\n") == "a%3Ab%2Cc%25d\\x0a"
