"""The summary in every format: its rows (:class:`compliance.status.Row`) as a report of the shared model
(:mod:`compliance.report`), rendered by the same renderers as ``review``'s.

Formats: ``plain`` (the table, as it always was: :func:`compliance.status.render`), ``markdown``, ``html`` (a
self-contained page: title, project, date, version, totals in colour, each row's figures drawn against their
bounds, its attempts, links to its logs), ``json`` (``schemas/summary.schema.json``: numbers as numbers, paths,
version and time), ``github`` (GitHub Actions workflow commands: an annotation per row that does not pass) and
``junit`` (a test case per row). A row that does not pass becomes a finding of its own (severity error, a rule id
from what failed: ``test-failed``, ``run-failed`` ...), unless it has an error finding already (a review's), so
every output that lists findings (annotations, Markdown) names it.

Links and paths are given relative to the folder the report is written into (``link_from``), so a page saved in
the project's root opens the project's logs.
"""

from __future__ import annotations

import os

from compliance import status
from compliance.errors import UnknownName, did_you_mean, plural
from compliance.report import render as renderers
from compliance.report.model import Column, Finding, Item, Link, Report, Severity
from compliance.status import Row, RowKind, RowStatus

#: every format of the summary (plain is the default)
FORMATS = ("plain", "markdown", "html", "json", "github", "junit")
#: the report renderer of each format but plain
_RENDERED = {"markdown": "markdown", "html": "html", "json": "json", "github": "github", "junit": "junit"}
COLUMNS = (
    Column("system", "system", filter=True),
    Column("benchmark", "benchmark", filter=True),
    Column("scenario", "scenario"),
    Column("test", "test", filter=True),
)

#: what a row that does not pass is, by its kind: (rule id, title, remedy)
_FAILURES: dict[RowKind, tuple[str, str, str]] = {
    RowKind.RUN: ("run-failed", "the compliance run failed", "read the run's log, mend the harness, run doit again"),
    RowKind.REFERENCE: (
        "submission-run-failed",
        "a submission run failed",
        "read the run's log, mend the harness, run doit again",
    ),
    RowKind.VERIFICATION: (
        "test-failed",
        "the test fails",
        "read verify.json; a run the system was disturbed in may be run again (mlperf-compliance rerun)",
    ),
    RowKind.COPY: ("copy-failed", "the copy into the submission tree failed", "see the reason; run doit again"),
    RowKind.STALE: ("stale", "changed since its verdict", "run doit"),
    RowKind.WAITING: ("not-run", "a step is still to run", "run doit"),
    RowKind.NONE: ("not-covered", "no task covers it", "see the reason"),
}


def _failure(row: Row) -> Finding | None:
    """The finding a row that does not pass stands for (None when it passes, or says so with a finding of its own)."""
    if row.status in (RowStatus.PASS, RowStatus.NOT_REQUIRED):
        return None
    if any(f.severity is Severity.ERROR for f in row.found):
        return None
    rule, title, remedy = _FAILURES[row.kind]
    if row.status is RowStatus.NOT_CHECKABLE:
        rule, title = "not-checkable", "a check could not be made from the logs"
    message = f"{row.status.value}: {row.reason}" if row.reason else row.status.value
    return Finding(rule, Severity.ERROR, title, message, row.path, remedy=remedy)


def _relative(path: str, link_from: str) -> str:
    return os.path.relpath(path, link_from) if path else ""


def item(row: Row, link_from: str = ".") -> Item:
    """A row as a report's item (its paths relative to ``link_from``)."""
    failure = _failure(row)
    found = [f if not f.path else _moved(f, _relative(f.path, link_from)) for f in row.found]
    if failure is not None:
        found.insert(0, _moved(failure, _relative(failure.path, link_from)))
    return Item(
        fields={"system": row.system, "benchmark": row.benchmark, "scenario": row.scenario, "test": row.test},
        status=row.status.value,
        reason=row.reason,
        figures=row.figures,
        path=_relative(row.path, link_from),
        findings=found,
        data={"kind": row.kind.value},
        measures=row.measures,
        attempts=row.attempts,
        links=tuple(Link(link.label, _relative(link.path, link_from)) for link in row.links),
    )


def _moved(finding: Finding, path: str) -> Finding:
    return Finding(
        finding.rule,
        finding.severity,
        finding.title,
        finding.message,
        path,
        finding.evidence,
        finding.rests_on,
        finding.remedy,
    )


def report(table: list[Row], project: str, specs: str, link_from: str = ".") -> Report:
    """The summary as a report: ``project`` is the project's folder, ``specs`` its specs folder."""
    systems = sorted({r.system for r in table})
    cells = sum(1 for r in table if status.is_cell_row(r))
    name = os.path.basename(os.path.abspath(project).rstrip(os.sep)) or project
    return Report(
        title=f"mlperf-compliance summary of {name}",
        columns=COLUMNS,
        items=[item(r, link_from) for r in table],
        preamble=[
            f"project {os.path.abspath(project)}, specs {specs}",
            f"systems: {', '.join(systems) or 'none'}",
            f"{plural(cells, 'cell')}: {status.counts(table)}",
        ],
        meta={
            "project": os.path.abspath(project),
            "specs": specs,
            "systems": systems,
            "passed": status.passed(table),
            "cells": cells,
            "counts": status.counts(table),
            "links_from": os.path.abspath(link_from),
        },
        noun="rows",
    )


def check_format(fmt: str) -> None:
    """Raises UnknownName for a format the summary does not have."""
    if fmt not in FORMATS:
        raise UnknownName(f"unknown format '{fmt}'{did_you_mean(fmt, FORMATS)}; known: {', '.join(FORMATS)}")


def render(table: list[Row], fmt: str, project: str = ".", specs: str = "specs", link_from: str = ".") -> str:
    """The summary in ``fmt``.

    Raises:
        UnknownName: an unknown format.
    """
    check_format(fmt)
    if fmt == "plain":
        return status.render(table)
    return renderers.render(report(table, project, specs, link_from), _RENDERED[fmt])
