"""One entry point for every output format: ``render(report, fmt)``."""

from __future__ import annotations

from compliance.errors import UnknownName, did_you_mean
from compliance.report import github, jsondoc, junit, text
from compliance.report.html import html
from compliance.report.model import Report, Severity

FORMATS = ("table", "json", "markdown", "html", "github", "junit")


def render(report: Report, fmt: str, show: Severity = Severity.WARNING) -> str:
    """The report in format ``fmt``; findings at least ``show`` severe are listed in the text formats (every one is
    in JSON, HTML and JUnit).

    Raises:
        UnknownName: an unknown format.
    """
    if fmt == "table":
        return text.table(report, show)
    if fmt == "json":
        return jsondoc.dumps(report)
    if fmt == "markdown":
        return text.markdown(report, show)
    if fmt == "html":
        return html(report)
    if fmt == "github":
        return github.workflow_commands(report, show)
    if fmt == "junit":
        return junit.junit(report)
    raise UnknownName(f"unknown format '{fmt}'{did_you_mean(fmt, FORMATS)}; known: {', '.join(FORMATS)}")
