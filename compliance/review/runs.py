"""The submission's own runs of a cell (``accuracy/``, ``performance/run_1/``): made without an audit.config, in the
mode their folder stands for (docs/rules.md §0, §1.3; review.md §3: their detail logs are whole, so this is
checkable on every published tree)."""

from __future__ import annotations

import os

from compliance.layout import DETAIL, SUMMARY
from compliance.report.model import Evidence
from compliance.review import rules
from compliance.review.facts import FactCache, FileFacts
from compliance.review.outcome import RUN, Record
from compliance.review.tree import Cell
from compliance.verify.checks import runs
from compliance.verify.result import Outcome

#: submission run -> the LoadGen modes its folder may hold (SubmissionRun makes both in one run)
MODES = runs.RUN_MODES


def rel(path: str, root: str) -> str:
    return os.path.relpath(path, root)


def unreadable(record: Record, facts: FileFacts, root: str) -> bool:
    """Report a log that is not what its name says (``log-unreadable``); whether it was."""
    if not facts.problem:
        return False
    record.add(rules.finding("log-unreadable", f"{rel(facts.path, root)}: {facts.problem}", rel(facts.path, root)))
    return True


def review_runs(cell: Cell, cache: FactCache, root: str) -> list[Record]:
    """A record per submission run of the cell (only for results in the cell's own division)."""
    records = []
    for run, folder in sorted(cell.runs.items()):
        record = Record(cell.key, run, folder, RUN)
        records.append(record)
        detail_path = os.path.join(folder, DETAIL)
        facts = cache.get(detail_path)
        summary = cache.get(os.path.join(folder, SUMMARY))
        if summary is not None:
            record.logs["summary"] = summary.path
        if facts is None:
            record.check(
                "submission run without audit config",
                Outcome.NOT_CHECKABLE,
                f"no {DETAIL} in {rel(folder, root)}: the run's settings cannot be read",
            )
            continue
        record.logs["detail"] = detail_path
        if unreadable(record, facts, root):
            continue
        where = rel(detail_path, root)
        if facts.audit_warning:
            record.check("submission run without audit config", Outcome.FAIL, "LoadGen found an audit.config")
            record.add(
                rules.finding(
                    "submission-run-audited",
                    f"the submission's {run} run was made with an audit.config in its working directory "
                    "(LoadGen logged 'Found Audit Config file')",
                    where,
                    [Evidence(where, "warning_generic_message", "Found Audit Config file ...")],
                )
            )
        else:
            record.check("submission run without audit config", Outcome.PASS)
        mode = facts.get("effective_test_mode")
        if mode is not None and mode not in MODES[run]:
            record.check("mode", Outcome.FAIL, f"{mode}")
            record.add(
                rules.finding(
                    "submission-run-wrong-mode",
                    f"the submission's {run} run was made in mode {mode}, not {' or '.join(MODES[run])}",
                    where,
                    [Evidence(where, "effective_test_mode", mode, other_value=MODES[run][0])],
                )
            )
        elif mode is not None:
            record.check("mode", Outcome.PASS, figures={"effective_test_mode": mode})
        validity = facts.get("result_validity")
        if run == "performance" and validity is not None:
            record.figures = f"{validity}; {facts.scenario or '?'}"
    return records
