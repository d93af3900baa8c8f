"""The compliance summary: one row per cell each system's round requires, from the results on disk.

It runs nothing: it reads the records the pipeline wrote (:mod:`compliance.records`: ``run.json`` of runs,
``verify.json`` and ``verify.meta.json`` of verifications) and says, for each cell, PASS, FAIL, NOT RUN, STALE (an
input or the spec changed since the last verification) or NOT REQUIRED (the round requires no test there, or the
division needs none), with the reason in a few words and the key figures (each test's own line, from its verifier).
A verdict that took more than one attempt says so, with what each earlier attempt fell short by
(``PASS on attempt 2 of 3; attempt 1: perf ratio 0.870 outside [0.90, 1.10]``, from verify.json's ledger).
With ``reference: {publish: true}`` a row per submission run the tool copies into the tree's results layout follows
(test ``accuracy`` or ``performance``): PASS when the run passed and its copy in the tree is current.

Layer: above the plan and the records, below the pipeline (its reporter prints the counts) and the commands.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from tabulate import tabulate

from compliance import freshness, layout, records
from compliance.plan import CellPlan, Plan, ReferencePlan
from compliance.records import read_json

PASS, FAIL, NOT_RUN, STALE, NOT_REQUIRED = "PASS", "FAIL", "NOT RUN", "STALE", "NOT REQUIRED"
FORMATS = {"plain": "simple", "github": "github", "markdown": "pipe", "html": "html", "json": None}
HEADERS = ("system", "benchmark", "scenario", "test", "status", "reason", "figures", "findings")


@dataclass
class Row:
    system: str
    benchmark: str
    scenario: str
    test: str
    status: str
    reason: str = ""
    figures: str = ""
    findings: str = ""
    kind: str = ""  # what the reason is about: run, reference, verification, copy, stale, waiting, ...


def _failed_run(cp: CellPlan) -> tuple[str, str] | None:
    """The first run the cell needs whose current record (this spec's signature) says it failed."""
    for kind, label, run in cp.needed_runs():
        record = records.read_run(run.files)
        if record and record.get("status") == records.FAIL and record.get("signature") == run.signature:
            return kind, f"{label}: {record.get('reason')}"
    return None


def _waiting(cp: CellPlan) -> str:
    """What a cell with no current verdict waits for."""
    for _, label, run in cp.needed_runs():
        reasons = freshness.run_reasons(run)
        if reasons:
            return f"waits for its {label} ({reasons[0]})"
    missing = [p for p in cp.reference_files if not os.path.exists(p)]
    if missing:
        return f"waits for the submission's results ({missing[0]} is missing)"
    return "waits for verify"


def _attempts(data: dict[str, Any] | None) -> str:
    """The attempts of the last verification in a few words ("" when it took one)."""
    ledger = data.get("attempts") if data is not None else None
    entries = records.series([e for e in ledger if isinstance(e, dict)]) if isinstance(ledger, list) else []
    if len(entries) < 2:
        return ""
    *earlier, last = entries
    told = "; ".join(
        f"attempt {e.get('attempt')}: {e.get('short') or e.get('reason') or e.get('verdict')}" for e in earlier
    )
    return f"{last.get('verdict')} on attempt {last.get('attempt')} of {last.get('of')}; {told}"


def _cell_row(cp: CellPlan) -> Row:
    c = cp.cell
    row = Row(c.system, c.benchmark, c.scenario, c.test, NOT_RUN)
    failed = _failed_run(cp)
    if failed is not None:
        row.status, row.kind, row.reason = FAIL, failed[0], failed[1]
        return row
    meta = read_json(cp.files.verify_meta)
    data = read_json(cp.files.verify_json)
    if data is not None:
        row.figures = cp.verifier.figures(data)
        row.findings = "; ".join(f.get("message", "") for f in data.get("findings", []) if isinstance(f, dict))
    stale = [
        str(r)
        for r in freshness.run_reasons(cp.run) + freshness.verify_reasons(cp)
        if r.kind != "never" or meta is not None
    ]
    if meta is None or meta.get("status") == records.NOT_VERIFIED:
        row.kind, row.reason = "waiting", _waiting(cp)
        return row
    last = meta.get("status")
    if stale:
        row.status, row.kind = STALE, "stale"
        row.reason = f"{stale[0]} (last verdict {last}{': ' + meta['reason'] if meta.get('reason') else ''})"
        return row
    tried = _attempts(data)
    if last != records.PASS:
        row.status, row.kind, row.reason = FAIL, "verification", meta.get("reason") or "the test fails"
        row.reason += f" ({tried})" if tried else ""
        return row
    publish = freshness.publish_reasons(cp)
    if publish and publish[0].kind == "failed":
        row.status, row.kind, row.reason = FAIL, "copy", str(publish[0])
        return row
    if publish:
        row.kind = "waiting"
        row.reason = (
            "verified PASS; waits for publish (not in the submission tree yet)"
            if publish[0].kind in ("never", "verdict")
            else f"verified PASS; {publish[0]}"
        )
        if publish[0].kind == "tree":
            row.status, row.kind = STALE, "stale"
        return row
    row.status, row.reason = PASS, tried
    return row


def _published_row(ref: ReferencePlan) -> Row:
    """A submission run the tool copies into the tree: PASS when it passed and its copy is current."""
    row = Row(ref.system, ref.benchmark, ref.scenario, ref.mode, NOT_RUN)
    record = records.read_run(ref.run.files)
    run_reasons = freshness.run_reasons(ref.run)
    if record and record.get("status") == records.FAIL and record.get("signature") == ref.run.signature:
        row.status, row.kind, row.reason = FAIL, "reference", f"submission {ref.mode} run: {record.get('reason')}"
        return row
    published = (read_json(ref.publish_record) or {}).get("state") == records.PUBLISHED
    if run_reasons and published:  # the tree holds the copy of a run that is no longer the truth
        row.status, row.kind, row.reason = STALE, "stale", f"the tree holds an earlier run; {run_reasons[0]}"
        return row
    if run_reasons:
        row.kind, row.reason = "waiting", f"waits for its run ({run_reasons[0]})"
        return row
    reasons = freshness.reference_publish_reasons(ref)
    if reasons and reasons[0].kind == "failed":
        row.status, row.kind, row.reason = FAIL, "copy", str(reasons[0])
    elif reasons and reasons[0].kind == "tree":
        row.status, row.kind, row.reason = STALE, "stale", str(reasons[0])
    elif reasons:
        row.kind, row.reason = "waiting", f"waits for publish ({reasons[0]})"
    else:
        copied = (read_json(ref.publish_record) or {}).get("files") or {}
        row.status, row.figures = PASS, f"{len(copied)} LoadGen logs in the tree"
    return row


def is_run_row(row: Row) -> bool:
    """Whether a row is a submission run copied into the tree (not a compliance cell)."""
    return row.test in layout.RESULT_RUNS


def rows(plan: Plan) -> list[Row]:
    """Every row of the summary, sorted by system, benchmark, scenario and test."""
    out = [_cell_row(cp) for cp in plan.cells]
    out += [_published_row(ref) for ref in plan.references if ref.tree_dir is not None]
    for cell, why in plan.uncovered:
        status = NOT_REQUIRED if why.startswith("open division") else NOT_RUN
        out.append(Row(cell.system, cell.benchmark, cell.scenario, cell.test, status, why))
    for system in plan.specs.systems.values():
        rnd = plan.specs.rounds[system.round]
        for name, run in system.benchmarks.items():
            if not rnd.tests_for(name):
                out += [
                    Row(system.name, name, scenario, "-", NOT_REQUIRED, f"round {rnd.name} requires no test")
                    for scenario in run.scenarios
                ]
    return sorted(out, key=lambda r: (r.system, r.benchmark, r.scenario, r.test))


def passed(table: list[Row]) -> bool:
    """True when every required cell passes (the exit status of the summary is 0)."""
    return all(row.status in (PASS, NOT_REQUIRED) for row in table)


def counts(table: list[Row]) -> str:
    """The statuses of the cells (``14 PASS``), then those of the submission runs in the tree, if any."""
    cells = [r for r in table if not is_run_row(r)]
    runs = [r for r in table if is_run_row(r)]
    text = _counts(cells)
    return text + (f"; submission runs in the tree: {_counts(runs)}" if runs else "")


def _counts(table: list[Row]) -> str:
    found = {
        status: sum(1 for r in table if r.status == status) for status in (PASS, FAIL, STALE, NOT_RUN, NOT_REQUIRED)
    }
    return ", ".join(f"{n} {status}" for status, n in found.items() if n)


def render(table: list[Row], fmt: str) -> str:
    """The table in ``fmt`` (plain, github, markdown, html) or the same data as JSON."""
    if fmt == "json":
        return json.dumps({"passed": passed(table), "rows": [asdict(r) for r in table]}, indent=2) + "\n"
    text = tabulate([[getattr(r, h) for h in HEADERS] for r in table], headers=HEADERS, tablefmt=FORMATS[fmt])
    cells = sum(1 for r in table if not is_run_row(r))
    return text + "\n" + ("" if fmt == "html" else f"\n{cells} cells: {counts(table)}\n")
