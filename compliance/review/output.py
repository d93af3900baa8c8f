"""A :class:`compliance.review.engine.Review` as a :class:`compliance.report.model.Report`: one item per reviewed
folder, the same findings for every output."""

from __future__ import annotations

import os

from compliance.errors import plural
from compliance.report.model import Column, Item, Report, Severity
from compliance.review.engine import Review
from compliance.review.outcome import Record

COLUMNS = (
    Column("division", "division"),
    Column("organisation", "organisation", filter=True),
    Column("system", "system", filter=True),
    Column("benchmark", "benchmark", filter=True),
    Column("scenario", "scenario"),
    Column("test", "test", filter=True),
)


def item(record: Record, root: str) -> Item:
    key = record.key
    return Item(
        fields={
            "division": key.division,
            "organisation": key.org,
            "system": key.system,
            "benchmark": key.benchmark,
            "scenario": key.scenario_folder,
            "test": record.test,
        },
        status=record.status,
        reason=record.reason,
        figures=record.figures,
        path=os.path.relpath(record.path, root),
        findings=list(record.findings),
        data={"kind": record.kind, "model": record.model, "checks": record.checks},
    )


def report(result: Review, fail_at: Severity = Severity.ERROR) -> Report:
    scope = os.path.relpath(result.scope, result.root)
    shown_scope = "the whole tree" if scope == "." else scope
    megabytes = result.bytes_read / 1e6
    preamble = [
        f"reviewed {shown_scope} of {result.root}",
        f"round {result.round} ({result.round_evidence})",
        f"{plural(result.cells, 'cell')}, {plural(len(result.records), 'folder')}, {plural(result.logs_read, 'log')} "
        f"({megabytes:.0f} MB) in {result.seconds:.1f} s with {result.jobs} process{'es' if result.jobs > 1 else ''}",
    ]
    if result.not_checkable:
        count = plural(sum(result.not_checkable.values()), "check")
        preamble.append(f"{count} NOT CHECKABLE (the reasons are in each folder's checks, counted in the JSON)")
    return Report(
        title=f"mlperf-compliance review of {os.path.basename(result.root.rstrip(os.sep)) or result.root}",
        columns=COLUMNS,
        items=[item(r, result.root) for r in result.records],
        preamble=preamble,
        meta={
            "root": result.root,
            "scope": scope,
            "round": result.round,
            "round_evidence": result.round_evidence,
            "cells": result.cells,
            "logs_read": result.logs_read,
            "bytes_read": result.bytes_read,
            "seconds": round(result.seconds, 3),
            "jobs": result.jobs,
            "not_checkable": dict(result.not_checkable.most_common()),
        },
        fail_at=fail_at,
        noun="folders",
    )
