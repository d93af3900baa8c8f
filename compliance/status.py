"""The compliance summary: one row per cell each system's round requires, from the records on disk.

It runs nothing: it reads each cell's records once (:func:`compliance.records.read_cell`: the runs' records,
verify.meta.json, verify.json, publish.json) and says, for each cell, PASS, FAIL, NOT CHECKABLE (the verdict: a
check could not be made from what the logs hold), NOT RUN, STALE (an input or the spec changed since the last
verification) or NOT REQUIRED (the round requires no test there, or the division needs none), with the reason in a
few words (and its :class:`RowKind`) and the key figures (each test's own line, from its verifier). A verdict that
took more than one attempt says so, with what each earlier attempt fell short by (``PASS on attempt 2 of 3; attempt
1: perf ratio 0.870 outside [0.90, 1.10]``, from verify.json's ledger). With ``reference: {publish: true}`` a row per
submission run the tool copies into the tree's results layout follows (test ``accuracy`` or ``performance``): PASS
when the run passed and its copy in the tree is current. Then the checks of each submission tree before upload
(docs/upload.md): its pre-flight (test ``pre-flight``: a row per cell of the tree, one per system, one for the rest
of the tree) and, with ``upload: {official_checkout: ...}``, the official checker's verdict per cell (test
``checker``, its messages one line each); STALE when the tree changed since, NOT RUN before they ran.

The rows are objects (:class:`Row`): besides the table's words, a row holds what the reports show of it (its
figures against their bounds, its attempts, its findings as objects, links to its logs and folders);
:func:`render` gives the plain table, :mod:`compliance.summary` every other format.

Layer: above the plan, the records and the freshness rule; below the pipeline (its reporter prints the counts) and
the commands.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import partial
from typing import Any

from tabulate import tabulate

from compliance import layout, records
from compliance.errors import plural
from compliance.freshness import (
    Reason,
    ReasonKind,
    publish_reasons,
    reference_publish_reasons,
    review_reasons,
    run_reasons,
    tree_reasons,
    verify_reasons,
)
from compliance.layout import norm
from compliance.plan import CellPlan, Plan, ReferencePlan, ReviewPlan, TreePlan
from compliance.records import (
    Bad,
    CellState,
    CheckRow,
    PublishState,
    ReferenceState,
    ReviewedFolder,
    ReviewRecord,
    RunState,
    TreeCheckRecord,
)
from compliance.report import escape
from compliance.report.measure import Measure
from compliance.report.model import Attempt, Finding, Link, Severity
from compliance.review import rules
from compliance.review.verification import RULE_OF_KIND
from compliance.verify import result as verification
from compliance.verify.result import Result, Verdict

HEADERS = ("system", "benchmark", "scenario", "test", "status", "reason", "figures", "findings")


class RowStatus(StrEnum):
    """The status of a row: each means one thing (docs/reference/statuses.md)."""

    PASS = "PASS"
    FAIL = "FAIL"
    NOT_CHECKABLE = "NOT CHECKABLE"
    STALE = "STALE"
    NOT_RUN = "NOT RUN"
    NOT_REQUIRED = "NOT REQUIRED"


class RowKind(StrEnum):
    """What a row's reason is about."""

    NONE = ""
    RUN = "run"  # the compliance run failed
    REFERENCE = "reference"  # a submission run failed
    VERIFICATION = "verification"  # the verdict
    COPY = "copy"  # the copy into the submission tree failed or was refused
    STALE = "stale"  # something changed since the verdict
    WAITING = "waiting"  # a step is still to run


@dataclass(frozen=True)
class Row:
    """One row of the summary."""

    system: str
    benchmark: str
    scenario: str
    test: str
    status: RowStatus
    reason: str = ""
    figures: str = ""
    findings: str = ""
    kind: RowKind = RowKind.NONE
    path: str = ""  # the folder of the submission tree it is about ("" when it is not there)
    measures: tuple[Measure, ...] = ()  # its figures against their bounds
    attempts: tuple[Attempt, ...] = ()  # the attempts of its verdict, when it took more than one
    links: tuple[Link, ...] = ()  # its logs and folders (those that exist)
    found: tuple[Finding, ...] = ()  # its findings as objects (``findings`` says them in a few words)
    noise: bool = False  # it fails only by what noise can cause: another measurement may pass

    def to_dict(self) -> dict[str, str]:
        """The table's words (plain table)."""
        return {
            "system": self.system,
            "benchmark": self.benchmark,
            "scenario": self.scenario,
            "test": self.test,
            "status": self.status.value,
            "reason": self.reason,
            "figures": self.figures,
            "findings": self.findings,
            "kind": self.kind.value,
        }


def _failed_run(cp: CellPlan, state: CellState) -> tuple[RowKind, str] | None:
    """The first run the cell needs whose current record (this spec's signature) says it failed."""
    for (kind, label, run), run_state in zip(cp.needed_runs(), state.runs, strict=True):
        record = run_state.current(run)
        if record is not None and not record.passed:
            return RowKind(kind), f"{label}: {record.reason}"
    return None


def _waiting(cp: CellPlan, state: CellState) -> str:
    """What a cell with no current verdict waits for."""
    for (_, label, run), run_state in zip(cp.needed_runs(), state.runs, strict=True):
        reasons = run_reasons(run, run_state)
        if reasons:
            return f"waits for its {label} ({reasons[0]})"
    missing = [p for p in cp.reference_files if not records.stamp(p)]
    if missing:
        return f"waits for the submission's results ({missing[0]} is missing)"
    bad = [r for r in verify_reasons(cp, state) if r.kind is ReasonKind.BAD]
    return f"waits for verify ({bad[0]})" if bad else "waits for verify"


def _attempts(state: CellState) -> str:
    """The attempts of the last verification in a few words ("" when it took one)."""
    entries = records.series(state.verdict_attempts)
    if len(entries) < 2:
        return ""
    *earlier, last = entries
    told = "; ".join(f"attempt {e.attempt}: {e.short or e.reason or e.to_dict()['verdict']}" for e in earlier)
    return f"{last.to_dict()['verdict']} on attempt {last.attempt} of {last.of}; {told}"


def _finding(note: verification.Finding, path: str) -> Finding:
    """A verification's finding (:class:`compliance.verify.result.Finding`) as the review's catalogue has it (the
    same rule, severity and remedy as ``mlperf-compliance review`` gives it: ``verify-note``, or its kind's rule)."""
    return rules.finding(RULE_OF_KIND.get(note.kind, "verify-note"), note.message, path)


def _attempts_of(state: CellState) -> tuple[Attempt, ...]:
    entries = records.series(state.verdict_attempts)
    if len(entries) < 2:
        return ()
    return tuple(
        Attempt(e.attempt, e.of, e.to_dict()["verdict"], e.short or e.reason, e.figures, e.folder) for e in entries
    )


def _links(*found: tuple[str, str]) -> tuple[Link, ...]:
    """Links to the files and folders that exist."""
    return tuple(Link(label, path) for label, path in found if path and os.path.exists(path))


def _shown(cp: CellPlan, state: CellState, result: Result | None) -> dict[str, Any]:
    """What a cell's row shows besides its status: figures, findings, measures, attempts, links."""
    shown: dict[str, Any] = {
        "path": cp.tree_dir,
        "attempts": _attempts_of(state),
        "links": _links(
            ("run.log", cp.run.files.output),
            ("LoadGen logs", cp.run.files.logs),
            ("verify.json", cp.files.verify_json),
            (f"{cp.cell.test} folder", cp.tree_dir),
        ),
    }
    if result is not None:
        data = result.to_dict()
        shown["figures"] = cp.verifier.figures(data)
        shown["measures"] = tuple(cp.verifier.measures(data))
        shown["findings"] = "; ".join(f.message for f in result.findings)
        shown["found"] = tuple(_finding(f, cp.tree_dir) for f in result.findings)
    return shown


def cell_row(cp: CellPlan, state: CellState) -> Row:
    """The row of a cell, from its state."""
    c = cp.cell
    row = partial(Row, c.system, c.benchmark, c.scenario, c.test)
    meta, result = state.verification, state.result
    shown = _shown(cp, state, result)
    failed = _failed_run(cp, state)
    if failed is not None:
        return row(RowStatus.FAIL, failed[1], kind=failed[0], path=shown["path"], links=shown["links"])
    if meta is None or meta.verdict is None:
        return row(RowStatus.NOT_RUN, _waiting(cp, state), kind=RowKind.WAITING, **shown)
    stale = run_reasons(cp.run, state.run) + verify_reasons(cp, state)
    if stale:
        last = f"last verdict {meta.status}{': ' + meta.reason if meta.reason else ''}"
        return row(RowStatus.STALE, f"{stale[0]} ({last})", kind=RowKind.STALE, **shown)
    tried = _attempts(state)
    if meta.verdict is not Verdict.PASS:
        status = RowStatus.NOT_CHECKABLE if meta.verdict is Verdict.NOT_CHECKABLE else RowStatus.FAIL
        reason = (meta.reason or "the test fails") + (f" ({tried})" if tried else "")
        noise = result is not None and result.retryable  # how to measure again: _measure_again
        return row(status, reason, kind=RowKind.VERIFICATION, noise=noise, **shown)
    publish = publish_reasons(cp, state)
    if publish:
        status, reason, kind = _unpublished(publish[0])
        return row(status, reason, kind=kind, **shown)
    return row(RowStatus.PASS, tried, **shown)


def _unpublished(reason: Reason) -> tuple[RowStatus, str, RowKind]:
    """(status, reason, kind) of a cell verified PASS whose TEST folder the tree does not hold as it should."""
    if reason.kind is ReasonKind.FAILED:
        return RowStatus.FAIL, str(reason), RowKind.COPY
    if reason.kind in (ReasonKind.TREE, ReasonKind.BAD):
        return RowStatus.STALE, f"verified PASS; {reason}", RowKind.STALE
    if reason.kind in (ReasonKind.NEVER, ReasonKind.VERDICT):
        return RowStatus.NOT_RUN, "verified PASS; waits for publish (not in the submission tree yet)", RowKind.WAITING
    return RowStatus.NOT_RUN, f"verified PASS; {reason}", RowKind.WAITING


def reference_row(ref: ReferencePlan, state: ReferenceState) -> Row:
    """A submission run the tool copies into the tree: PASS when it passed and its copy is current."""
    links = _links((f"{ref.mode} run log", ref.run.files.output), ("LoadGen logs", ref.run.files.logs))
    links += _links(("folder in the tree", ref.tree_dir or ""))
    row = partial(Row, ref.system, ref.benchmark, ref.scenario, ref.mode, path=ref.tree_dir or "", links=links)
    record = state.run.current(ref.run)
    if record is not None and not record.passed:
        return row(RowStatus.FAIL, f"submission {ref.mode} run: {record.reason}", kind=RowKind.REFERENCE)
    waiting = run_reasons(ref.run, state.run)
    if waiting and state.copy is not None and state.copy.state is PublishState.PUBLISHED:
        # the tree holds the copy of a run that is no longer the truth
        return row(RowStatus.STALE, f"the tree holds an earlier run; {waiting[0]}", kind=RowKind.STALE)
    if waiting:
        return row(RowStatus.NOT_RUN, f"waits for its run ({waiting[0]})", kind=RowKind.WAITING)
    reasons = reference_publish_reasons(ref, state)
    if reasons and reasons[0].kind is ReasonKind.FAILED:
        return row(RowStatus.FAIL, str(reasons[0]), kind=RowKind.COPY)
    if reasons and reasons[0].kind in (ReasonKind.TREE, ReasonKind.BAD):
        return row(RowStatus.STALE, str(reasons[0]), kind=RowKind.STALE)
    if reasons:
        return row(RowStatus.NOT_RUN, f"waits for publish ({reasons[0]})", kind=RowKind.WAITING)
    copied = state.copy.files if state.copy is not None else {}
    return row(RowStatus.PASS, figures=f"{len(copied)} LoadGen logs in the tree")


#: the test column of the rows of the checks of a tree before upload
PREFLIGHT, CHECKER = "pre-flight", "checker"
_STATUS = {s.value: s for s in RowStatus}


def _short(message: str) -> str:
    """A finding's message in a few words for the table (its first clause; the whole is in the check's report)."""
    cut = min((i for i in (message.find(" ("), message.find("; ")) if i > 0), default=len(message))
    return message[:cut] if cut <= 100 else message[:97] + "..."


def _check_row(row: CheckRow, test: str, stale: Reason | None) -> Row:
    status = _STATUS.get(row.status, RowStatus.FAIL)
    shown = (f"{rule}: {_short(message)}" for _, rule, message in row.findings if message != row.reason)
    findings = "; ".join(shown)
    found = tuple(_check_finding(*f) for f in row.findings)
    where = (row.system or "-", row.benchmark or "-", row.scenario or "-", test)
    if stale is not None:
        last = f"last {row.status}{': ' + row.reason if row.reason else ''}"
        return Row(*where, RowStatus.STALE, f"{stale} ({last})", findings=findings, kind=RowKind.STALE, found=found)
    kind = RowKind.NONE if status is RowStatus.PASS else RowKind.VERIFICATION
    return Row(*where, status, row.reason, findings=findings, kind=kind, found=found)


def _check_finding(severity: str, rule: str, message: str) -> Finding:
    """A finding of a check's record as an object (the catalogue's rule; its severity as recorded)."""
    level = next((s for s in Severity if s.value == severity), Severity.WARNING)
    known = rules.RULES.get(rule)
    if known is None:
        return Finding(rule, level, rule, message)
    return replace(rules.finding(rule, message), severity=level)


def tree_rows(
    tp: TreePlan, test: str, found: TreeCheckRecord | None, bad: tuple[Bad, ...], reasons: list[Reason]
) -> list[Row]:
    """The rows of a check of a submission tree before upload (``test``: pre-flight or checker); none before it
    first ran (the summary then says nothing of it), NOT RUN while its record cannot be read."""
    if found is None and not bad:
        return []
    if found is None:
        why = f"waits for the {test} ({reasons[0] if reasons else bad[0]})"
        return [Row(s, "-", "-", test, RowStatus.NOT_RUN, why, kind=RowKind.WAITING) for s in tp.systems]
    if found.problem:
        return [Row(s, "-", "-", test, RowStatus.FAIL, found.problem, kind=RowKind.VERIFICATION) for s in tp.systems]
    stale = reasons[0] if reasons else None
    return [_check_row(r, test, stale) for r in found.rows]


#: the test column of a system's review row
REVIEW = "review"
#: the most findings a review row's findings column names (every one is in the other formats)
SHOWN_FINDINGS = 3


def _where(folder: ReviewedFolder) -> str:
    return f"{folder.test} {folder.benchmark}/{folder.scenario}" if folder.benchmark else folder.test or folder.path


def review_row(rp: ReviewPlan, record: ReviewRecord | None, bad: tuple[Bad, ...], reasons: list[Reason]) -> Row:
    """The row of the review of a system's part of the tree: FAIL with a finding of severity error, PASS otherwise
    (its warnings shown as findings; checks the tree does not allow, NOT CHECKABLE, counted in its figures);
    NOT RUN before it ran or while the tree holds nothing of the system, STALE when the tree changed since."""
    row = partial(Row, rp.system, "-", "-", REVIEW, path=rp.scope, links=_links(("review.json", rp.record)))
    if record is None:
        why = (
            f"waits for the review ({reasons[0] if reasons else bad[0]})" if reasons or bad else "waits for the review"
        )
        return row(RowStatus.NOT_RUN, why, kind=RowKind.WAITING)
    if record.waiting:  # nothing of the system was in the tree when it ran
        why = f"waits for the review ({reasons[0]})" if reasons else f"nothing to review: {record.waiting}"
        return row(RowStatus.NOT_RUN, why, kind=RowKind.WAITING)
    if record.problem:
        status, reason, kind = RowStatus.FAIL, record.problem, RowKind.VERIFICATION
        shown: dict[str, Any] = {}
    else:
        folders = record.folders
        found = [(folder, f) for folder in folders for f in folder.findings]
        errors = [(folder, f) for folder, f in found if f.severity is Severity.ERROR]
        told = [(folder, f) for folder, f in found if f.severity.rank >= Severity.WARNING.rank]
        told.sort(key=lambda pair: -pair[1].severity.rank)
        counted = Counter(folder.status for folder in folders)
        words = ", ".join(f"{n} {s}" for s, n in sorted(counted.items(), key=lambda kv: -kv[1]))
        more = f"; {len(told) - SHOWN_FINDINGS} more (doit summary --format html)" if len(told) > SHOWN_FINDINGS else ""
        shown = {
            "figures": f"{plural(len(folders), 'folder')} reviewed: {words or 'none'}",
            "findings": "; ".join(
                f"{f.severity.value} {f.rule} {_where(folder)}: {f.message}" for folder, f in told[:SHOWN_FINDINGS]
            )
            + more,
            "found": tuple(replace(f, path=norm(rp.submission_dir, f.path or folder.path)) for folder, f in found),
        }
        status = RowStatus.FAIL if errors else RowStatus.PASS
        reason = f"{_where(errors[0][0])}: {errors[0][1].message}" if errors else ""
        reason += f" (and {plural(len(errors) - 1, 'other error')})" if len(errors) > 1 else ""
        kind = RowKind.VERIFICATION if errors else RowKind.NONE
    if reasons:
        last = f"last review {status.value}{': ' + reason if reason else ''}"
        return row(RowStatus.STALE, f"{reasons[0]} ({last})", kind=RowKind.STALE, **shown)
    return row(status, reason, kind=kind, **shown)


def is_run_row(row: Row) -> bool:
    """Whether a row is a submission run copied into the tree (not a compliance cell)."""
    return row.test in layout.RESULT_RUNS


def is_tree_row(row: Row) -> bool:
    """Whether a row is a check of a submission tree before upload (pre-flight, the official checker)."""
    return row.test in (PREFLIGHT, CHECKER)


def is_cell_row(row: Row) -> bool:
    """Whether a row is a compliance cell's (not a submission run's, nor a system's review, nor a check of a tree's)."""
    return not is_run_row(row) and row.test != REVIEW and not is_tree_row(row)


def _measure_again(out: list[Row], plan: Plan) -> list[Row]:
    """The reason of a cell that fails by what noise can cause ends with how to measure again; where several of a
    scenario do, they compare with one submission run, the likelier one to have been disturbed: how to measure it
    again (the tool's own run), or that it may be."""
    noisy = Counter((r.system, r.benchmark, r.scenario) for r in out if r.noise)
    produced = {(f.system, f.benchmark, f.scenario) for f in plan.references if f.mode == "performance"}
    for i, r in enumerate(out):
        if not r.noise:
            continue
        key = (r.system, r.benchmark, r.scenario)
        if noisy[key] < 2:
            tail = f"to measure again: mlperf-compliance rerun {'/'.join((*key, r.test))}"
        else:
            what = (
                f"mlperf-compliance rerun {'/'.join(key)} --submission-runs"
                if key in produced
                else "measure it again before the compliance runs"
            )
            tail = (
                f"{noisy[key]} compliance runs fail against the same submission run, which may be the one disturbed: "
            )
            tail += what
        out[i] = replace(r, reason=f"{r.reason}; {tail}")
    return out


def rows(plan: Plan) -> list[Row]:
    """Every row of the summary, sorted by system, benchmark, scenario and test; each record is read once."""
    known: dict[str, RunState] = {}  # a submission run's state, read once for all the cells that compare with it
    out = _measure_again([cell_row(cp, records.read_cell(cp, known)) for cp in plan.cells], plan)
    out += [reference_row(ref, records.read_reference(ref, known)) for ref in plan.references if ref.tree_dir]
    for cell, why in plan.uncovered:
        open_division = plan.specs.systems[cell.system].division == "open"
        status = RowStatus.NOT_REQUIRED if open_division else RowStatus.NOT_RUN
        out.append(Row(cell.system, cell.benchmark, cell.scenario, cell.test, status, why))
    for tp in plan.trees:
        for checkout in (None, *tp.checkouts):
            path = tp.files.preflight if checkout is None else tp.files.official_record(checkout)
            found, bad = records.read_tree_check(path)
            reasons = tree_reasons(tp, checkout, found, bad)
            out += tree_rows(tp, PREFLIGHT if checkout is None else CHECKER, found, bad, reasons)
    for system in plan.specs.systems.values():
        rnd = plan.specs.rounds[system.round]
        for name, run in system.benchmarks.items():
            if not rnd.tests_for(name):
                out += [
                    Row(system.name, name, scenario, "-", RowStatus.NOT_REQUIRED, f"round {rnd.name} requires no test")
                    for scenario in run.scenarios
                ]
    for rp in plan.reviews:
        record, bad = records.read_review(rp.record)
        out.append(review_row(rp, record, bad, review_reasons(rp, record, bad)))
    # a system's cells and submission runs first, then its review and the checks of its tree
    return sorted(
        out, key=lambda r: (r.system, r.test in (REVIEW, PREFLIGHT, CHECKER), r.benchmark, r.scenario, r.test)
    )


def passed(table: list[Row]) -> bool:
    """True when every required cell passes (the exit status of the summary is 0)."""
    return all(row.status in (RowStatus.PASS, RowStatus.NOT_REQUIRED) for row in table)


def counts(table: list[Row]) -> str:
    """The statuses of the cells (``14 PASS``), then those of the submission runs in the tree, of the reviews, of the
    pre-flight and of the official checker, if any."""
    text = _counts([r for r in table if is_cell_row(r)])
    for label, chosen in (
        ("submission runs in the tree", [r for r in table if is_run_row(r)]),
        ("review", [r for r in table if r.test == REVIEW]),
        ("pre-flight", [r for r in table if r.test == PREFLIGHT]),
        ("official checker", [r for r in table if r.test == CHECKER]),
    ):
        text += f"; {label}: {_counts(chosen)}" if chosen else ""
    return text


def _counts(table: list[Row]) -> str:
    found = {status: sum(1 for r in table if r.status is status) for status in RowStatus}
    return ", ".join(f"{n} {status}" for status, n in found.items() if n)


def render(table: list[Row]) -> str:
    """The plain table, then the counts (every other format: :mod:`compliance.summary`)."""
    data = [[escape.one_line(r.to_dict()[h]) for h in HEADERS] for r in table]  # a log's control characters shown
    cells = sum(1 for r in table if is_cell_row(r))
    return tabulate(data, headers=HEADERS, tablefmt="simple") + f"\n\n{plural(cells, 'cell')}: {counts(table)}\n"
