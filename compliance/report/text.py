"""Text renderers: the plain table (a terminal, a log) and Markdown (a review objection, a job summary)."""

from __future__ import annotations

from tabulate import tabulate

from compliance.report import escape
from compliance.report.model import PASS, Finding, Item, Report, Severity

#: the widest a reason or figures cell gets in the plain table (the whole text is in every other output)
CELL = 110


def finding_counts(item: Item) -> str:
    """``1 error, 2 warnings`` for an item's findings ("" without any)."""
    counts = {s: 0 for s in Severity}
    for f in item.findings:
        counts[f.severity] += 1
    return ", ".join(f"{n} {s.value}{'' if n == 1 else 's'}" for s, n in counts.items() if n)


def finding_line(item: Item, finding: Finding) -> str:
    """One finding on one line: ``error test-missing closed/Org/...: message``."""
    where = finding.path or item.path
    return f"{finding.severity.value:7} {finding.rule} {escape.one_line(where)}: {escape.one_line(finding.message)}"


def table(report: Report, show: Severity = Severity.WARNING) -> str:
    """The plain table: one row per item, then the findings at least ``show`` severe, then the totals."""
    headers = [c.label for c in report.columns] + ["status", "reason", "figures", "findings"]
    rows = [
        [escape.one_line(item.fields.get(c.key, ""), 60) for c in report.columns]
        + [
            item.status,
            escape.one_line(item.reason, CELL),
            escape.one_line(item.figures, CELL),
            finding_counts(item),
        ]
        for item in report.items
    ]
    lines = [escape.one_line(line) for line in report.preamble]
    if rows:
        lines += ["", tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)]
    shown = report.findings(show)
    if shown:
        lines += ["", f"findings ({show.value} and above):"]
        lines += ["  " + finding_line(item, f) for item, f in shown]
    lines += ["", report.totals_line()]
    return "\n".join(lines) + "\n"


def _title(item: Item, report: Report) -> str:
    return " / ".join(item.fields.get(c.key, "") for c in report.columns if item.fields.get(c.key))


def _evidence_lines(finding: Finding) -> list[str]:
    lines = []
    for e in finding.evidence:
        side = f"{escape.markdown_code(e.file)}"
        if e.key:
            side += f" {escape.markdown_code(e.key)}"
        if e.value is not None:
            side += f" = {escape.markdown_code(e.value)}"
        other = ""
        if e.other_file or e.other_key or e.other_value is not None:
            other = " vs " + " ".join(
                part
                for part in (
                    escape.markdown_code(e.other_file) if e.other_file else "",
                    escape.markdown_code(e.other_key) if e.other_key else "",
                    f"= {escape.markdown_code(e.other_value)}" if e.other_value is not None else "",
                )
                if part
            )
        lines.append(f"- {side}{other}")
    return lines


def markdown(report: Report, show: Severity = Severity.WARNING, table_rows: str = "all") -> str:
    """Markdown fit to paste into a review objection: what was reviewed, the totals, one section per finding (at least
    ``show`` severe) with its evidence, rule and remedy, and the table of items (``table_rows``: ``all``, or
    ``not-pass`` for the items that did not pass)."""
    lines = [f"# {escape.markdown(report.title)}", ""]
    lines += [f"{escape.markdown(line, line_start=True)}  " for line in report.preamble]
    lines += [f"Made by {report.tool} {escape.markdown(report.version)} on {report.when}.", ""]
    lines += [f"**{escape.markdown(report.totals_line())}**", ""]
    shown = report.findings(show)
    if shown:
        lines += [f"## Findings ({show.value} and above)", ""]
    for number, (item, f) in enumerate(shown, 1):
        lines += [
            f"### {number}. {f.severity.value.upper()} `{f.rule}`: {escape.markdown(f.title)}",
            "",
            f"{escape.markdown(_title(item, report), line_start=True)}, {escape.markdown_code(f.path or item.path)}",
            "",
            escape.markdown(f.message, line_start=True),
            "",
        ]
        evidence = _evidence_lines(f)
        if evidence:
            lines += ["Evidence:", "", *evidence, ""]
        if f.rests_on:
            lines += [f"Rule: {escape.markdown(f.rests_on)}", ""]
        if f.remedy:
            lines += [f"Remedy: {escape.markdown(f.remedy)}", ""]
    chosen = [item for item in report.items if table_rows == "all" or item.status != PASS]
    if chosen:
        headers = [c.label for c in report.columns] + ["status", "reason", "figures", "findings"]
        lines += ["## Items" if table_rows == "all" else "## Items that did not pass", ""]
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "---|" * len(headers))
        for item in chosen:
            cells = [escape.markdown(item.fields.get(c.key, "")) for c in report.columns]
            cells += [item.status, escape.markdown(item.reason), escape.markdown(item.figures), finding_counts(item)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
