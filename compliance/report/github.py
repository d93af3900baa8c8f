"""GitHub Actions: workflow-command annotations, and the job summary (``$GITHUB_STEP_SUMMARY``).

An annotation is one line ``::error file=PATH,title=TITLE::MESSAGE`` (``warning`` and ``notice`` likewise), escaped
as GitHub decodes them (:func:`compliance.report.escape.github_message`). GitHub shows at most a few tens of
annotations per step, so the most severe come first and the job summary holds the whole report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from compliance.report import escape
from compliance.report.model import Report, Severity
from compliance.report.text import markdown

#: severity -> workflow command
COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def workflow_commands(report: Report, show: Severity = Severity.WARNING) -> str:
    """One workflow command per finding at least ``show`` severe, then a notice with the totals."""
    lines = []
    for item, finding in report.findings(show):
        path = finding.path or item.path
        properties = [f"file={escape.github_property(path)}"] if path else []
        properties.append(f"title={escape.github_property(f'{finding.rule}: {finding.title}')}")
        message = finding.message + (f" Remedy: {finding.remedy}" if finding.remedy else "")
        lines.append(f"::{COMMANDS[finding.severity]} {','.join(properties)}::{escape.github_message(message)}")
    lines.append(
        f"::notice title={escape.github_property(report.title)}::{escape.github_message(report.totals_line())}"
    )
    return "\n".join(lines) + "\n"


def in_actions(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this runs as a step of a GitHub Actions job."""
    return (environ if environ is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def write_job_summary(
    report: Report, show: Severity = Severity.WARNING, environ: Mapping[str, str] | None = None
) -> str:
    """Append the report's Markdown (the items that did not pass) to ``$GITHUB_STEP_SUMMARY``; the file written, or
    "" when there is none to write to."""
    env = environ if environ is not None else os.environ
    target = env.get("GITHUB_STEP_SUMMARY", "")
    if not target:
        return ""
    with open(target, "a", encoding="utf-8") as out:
        out.write(markdown(report, show, table_rows="not-pass") + "\n")
    return target
