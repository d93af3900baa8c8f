"""The review of each system's part of the submission tree, as a doit task's action (``review:<system>``).

After the system's publish tasks, :func:`compliance.review.engine.review` re-verifies what the tree holds of the
system, its round given (so the user's own files are checked too: results folders, TEST folders copied by hand),
and its report (:func:`compliance.report.jsondoc.document`) goes into ``build/<system>/review.json`` with the stamps
of the files it read: the task runs again only when one of them changed, appeared or went, or what the review
depends on changed (:func:`compliance.freshness.review_reasons`). Findings of severity error fail its row in the
summary; warnings are shown as findings; a check the tree does not allow (NOT CHECKABLE, e.g. TEST06's published
folder, which keeps no detail log) is counted, and fails nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable

from compliance import __version__, freshness
from compliance.errors import InputError, plural
from compliance.pipeline import session
from compliance.plan import ReviewPlan
from compliance.records import ReviewRecord
from compliance.report.jsondoc import document
from compliance.report.model import Severity
from compliance.review.engine import Options, review
from compliance.review.output import report

#: folders of a system reviewed per process (a small system is reviewed in doit's own process)
FOLDERS_PER_PROCESS = 20


def _jobs(stamps: Iterable[str]) -> int:
    """Processes for the review: one per FOLDERS_PER_PROCESS TEST or run folders, at most one per core."""
    folders = sum(1 for name in stamps if os.path.basename(name).startswith("TEST") or name.endswith("run_1"))
    return max(1, min(os.cpu_count() or 1, folders // FOLDERS_PER_PROCESS))


def run_review(rp: ReviewPlan) -> dict[str, object] | bool:
    """Review the system's part of the tree; record the report; the task's values (False when asked for on its own
    and the review found an error)."""
    specs = session.load_plan().specs
    stamps = freshness.review_stamps(rp)  # before it reads them: a file changed meanwhile reviews again next time
    digests = freshness.review_digests(rp, stamps)
    began = time.time()
    problem, found = "", {}  # found: the report's document
    if not any(os.path.isdir(folder) for folder in rp.folders):  # nothing published (yet): no review to make
        why = f"the submission tree holds nothing of {rp.system} yet ({rp.folders[0]} is missing)"
        ReviewRecord(began, rp.parts(__version__), stamps, waiting=why, digests=digests).save(rp.record)
        print(f"  review of {rp.system}: {why}")
        return {"outcome": "PASS", "reason": ""}
    try:
        result = review(rp.scope, specs, Options(rp.round, _jobs(stamps), None, (rp.system,)))
    except InputError as exc:
        problem = f"the review could not be made: {exc}"
    else:
        found = document(report(result))
    ReviewRecord(began, rp.parts(__version__), stamps, problem, found, digests=digests).save(rp.record)
    if problem:
        return _finish(rp, problem)
    errors = sum(1 for r in found["records"] for f in r["findings"] if f["severity"] == Severity.ERROR.value)
    warnings = sum(1 for r in found["records"] for f in r["findings"] if f["severity"] == Severity.WARNING.value)
    folders = plural(len(found["records"]), "folder")
    print(f"  review of {rp.system}: {folders}, {plural(errors, 'error')}, {plural(warnings, 'warning')}")
    return _finish(rp, f"{plural(errors, 'finding')} of severity error (doit summary)" if errors else "")


def _finish(rp: ReviewPlan, problem: str) -> dict[str, object] | bool:
    """The task's values; False when it failed and was asked for on its own (the default task reports a failing
    row with every other, at the end)."""
    if problem:
        print(f"  review:{rp.system}: {problem}", file=sys.stderr)
        if session.OUTCOME not in session.requested():
            return False
    return {"outcome": "FAIL" if problem else "PASS", "reason": problem}
