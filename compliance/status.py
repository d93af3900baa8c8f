"""The compliance summary: one row per cell each system's round requires, from the results on disk.

It runs nothing: it reads the records the pipeline wrote (:mod:`compliance.records`: ``run.json`` of runs,
``verify.json`` and ``verify.meta.json`` of verifications) and says, for each cell, PASS, FAIL, NOT RUN, STALE (an
input or the spec changed since the last verification) or NOT REQUIRED (the round requires no test there, or the
division needs none), with the reason in a few words and the key figures (each test's own line, from its verifier).

Layer: above the plan and the records, below the pipeline (its reporter prints the counts) and the commands.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from tabulate import tabulate

from compliance import __version__
from compliance.plan import CellPlan, Plan
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


def _stale(cp: CellPlan) -> str | None:
    """Why the last verification no longer matches its inputs, or None."""
    meta = read_json(cp.files.verify_meta)
    if meta is None:
        return "no record of what was verified"
    if meta.get("config") != cp.verify_digest(__version__):
        return "the test or model spec changed"
    recorded = meta.get("inputs") or {}
    for path in cp.verify_inputs:
        if not os.path.exists(path):
            return f"{path} is missing"
        if recorded.get(path) != os.stat(path).st_mtime:
            return f"{path} changed"
    return None


def _cell_row(cp: CellPlan, plan: Plan) -> Row:
    c = cp.cell
    row = Row(c.system, c.benchmark, c.scenario, c.test, NOT_RUN, "not run yet")
    run = read_json(cp.run.files.record)
    data = read_json(cp.files.verify_json)
    if run is not None and run.get("status") == FAIL and (data is None or os.stat(cp.files.verify_json).st_mtime < os.stat(cp.run.files.record).st_mtime):
        row.status, row.reason = FAIL, f"run: {run.get('reason')}"
        return row
    if data is None:
        for ref in plan.references:
            if (ref.system, ref.benchmark, ref.scenario) == (c.system, c.benchmark, c.scenario):
                status = read_json(ref.run.files.record)
                if status is not None and status.get("status") == FAIL:
                    row.status, row.reason = FAIL, f"submission {ref.mode} run: {status.get('reason')}"
        return row
    failed = [f"{check['name']}: {check['reason']}" for check in data.get("checks", []) if check["outcome"] == FAIL]
    row.status = PASS if data.get("verdict") == PASS else FAIL
    row.reason = failed[0] if failed else ""
    row.figures = cp.verifier.figures(data)
    row.findings = "; ".join(f["message"] for f in data.get("findings", []))
    stale = _stale(cp)
    missing = [f for f in cp.tree_files if not os.path.exists(f)]
    if stale is None and row.status == PASS and missing:  # a failing result is never copied: that is no news
        stale = f"not in the submission tree yet ({missing[0]})"
    if stale is not None:
        row.reason = f"{stale} (last verdict {row.status}{': ' + row.reason if row.reason else ''})"
        row.status = STALE
    return row


def rows(plan: Plan) -> list[Row]:
    """Every row of the summary, sorted by system, benchmark, scenario and test."""
    out = [_cell_row(cp, plan) for cp in plan.cells]
    for cell, why in plan.uncovered:
        status = NOT_REQUIRED if why.startswith("open division") else NOT_RUN
        out.append(Row(cell.system, cell.benchmark, cell.scenario, cell.test, status, why))
    for system in plan.specs.systems.values():
        rnd = plan.specs.rounds[system.round]
        for name, run in system.benchmarks.items():
            if not rnd.tests_for(name):
                out += [Row(system.name, name, scenario, "-", NOT_REQUIRED, f"round {rnd.name} requires no test")
                        for scenario in run.scenarios]
    return sorted(out, key=lambda r: (r.system, r.benchmark, r.scenario, r.test))


def passed(table: list[Row]) -> bool:
    """True when every required cell passes (the exit status of the summary is 0)."""
    return all(row.status in (PASS, NOT_REQUIRED) for row in table)


def counts(table: list[Row]) -> str:
    found = {status: sum(1 for r in table if r.status == status) for status in (PASS, FAIL, STALE, NOT_RUN, NOT_REQUIRED)}
    return ", ".join(f"{n} {status}" for status, n in found.items() if n)


def render(table: list[Row], fmt: str) -> str:
    """The table in ``fmt`` (plain, github, markdown, html) or the same data as JSON."""
    if fmt == "json":
        return json.dumps({"passed": passed(table), "rows": [asdict(r) for r in table]}, indent=2) + "\n"
    text = tabulate([[getattr(r, h) for h in HEADERS] for r in table], headers=HEADERS, tablefmt=FORMATS[fmt])
    return text + "\n" + ("" if fmt == "html" else f"\n{len(table)} cells: {counts(table)}\n")
