"""The checks of a submission tree before upload, as doit tasks' actions (docs/upload.md):

* ``preflight:<tree>``: :func:`compliance.review.preflight.preflight` on the tree, for the plan's systems in it (their
  round; the performance rules off for a system whose spec says ``upload: {performance_rules: false}``); its rows
  go into ``build/upload/<tree>/preflight.json`` and the summary;
* ``checker:<tree>``: with ``upload: {official_checkout: PATH}`` in a system spec, the official
  ``truncate_accuracy_log.py`` and submission checker of that checkout run on a COPY of the tree (the tree itself is
  never touched: the copy is ``build/upload/<tree>/official-<checkout>/tree``), and the checker's verdict per cell,
  with its messages, goes into ``checker.json`` and the summary. This runs the code of a checkout the spec's author
  named: nothing else of it.

Each records what it depended on (the spec's parts, the stamps of the tree's files), so doit runs it again only when
one changed (:func:`compliance.freshness.tree_check_reasons`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time

from compliance import freshness, records
from compliance.errors import plural
from compliance.pipeline import process, session
from compliance.plan import TreePlan
from compliance.records import CheckRow, TreeCheckRecord
from compliance.report.model import Severity
from compliance.review import chain
from compliance.review.checker_log import CellPlace, verdicts
from compliance.review.outcome import Record
from compliance.review.preflight import Options, preflight
from compliance.specs.types import Specs

PREFLIGHT, CHECKER = "pre-flight", "official checker"
#: the longest a step of the official chain may take on a copy
STEP_TIMEOUT_S = 3600.0
Values = dict[str, object]


def _finish(step: str, tp: TreePlan, record: TreeCheckRecord, path: str) -> Values | bool:
    """Save the record; the task's values, or False when asked for on its own and it did not pass (the default
    task reports a failing row with every other, at the end)."""
    record.save(path)
    failing = [r for r in record.rows if r.status not in ("PASS", "NOT REQUIRED")]
    problem = record.problem or (
        f"{plural(len(failing), 'row')} {'does' if len(failing) == 1 else 'do'} not pass (doit summary)"
        if failing
        else ""
    )
    if problem:
        print(f"  {step} {tp.id}: {problem}", file=sys.stderr)
        if session.OUTCOME not in session.requested():
            return False
    return {"outcome": "FAIL" if problem else "PASS", "reason": problem}


def _row(record: Record, tp: TreePlan) -> CheckRow:
    """A record as a row: a cell's, a system's (no benchmark), the rest of the tree's (its path as benchmark)."""
    k = record.key
    shown = tuple((f.severity.value, f.rule, f.message) for f in record.findings)
    where = (k.system, k.benchmark, k.scenario_folder) if k.system else ("", tp.submission_dir, "")
    return CheckRow(*where, record.status, record.reason, shown)


def run_preflight(tp: TreePlan) -> Values | bool:
    """Pre-flight the tree for the plan's systems in it; record its rows."""
    specs = session.load_plan().specs
    stamps = records.tree_stamps(tp.submission_dir)
    base = TreeCheckRecord("preflight", time.time(), freshness.tree_parts(tp), stamps)
    if not os.path.isdir(tp.submission_dir):  # nothing published yet: nothing to check, no row
        print(f"  pre-flight of {tp.submission_dir}: nothing published yet")
        return _finish("preflight", tp, base, tp.files.preflight)
    options = Options(tp.round, chain.CHECKERS, True, tp.systems, tp.no_performance_rules)
    result = preflight(tp.submission_dir, specs, options)
    rows = tuple(_row(r, tp) for r in result.records if r.key.system in tp.systems or not r.key.system)
    errors = sum(1 for r in result.records for f in r.findings if f.severity is Severity.ERROR)
    print(f"  pre-flight of {tp.submission_dir}: {plural(errors, 'error')} (mlperf-compliance preflight)")
    return _finish("preflight", tp, TreeCheckRecord(**{**base.__dict__, "rows": rows}), tp.files.preflight)


# -- the official checker on a copy ------------------------------------------------------------------------------


def checkout_problem(checkout: str) -> str | None:
    """Why ``checkout`` is not a checkout of mlcommons/inference this task can run, or None."""
    tools = os.path.join(checkout, "tools", "submission")
    if not os.path.isfile(os.path.join(tools, "truncate_accuracy_log.py")):
        return f"{checkout} is not a checkout of mlcommons/inference (no tools/submission/truncate_accuracy_log.py)"
    if _checker_command(tools, "x", "x", "x", "x") is None:
        return f"{checkout} has no submission checker in tools/submission/"
    return None


def _checker_command(tools: str, tree: str, version: str, org: str, csv: str) -> list[str] | None:
    """The checker of a checkout: the modular one when it has it, else the single-file one of earlier commits."""
    args = ["--input", tree, "--version", version, "--submitter", org, "--csv", csv]
    if os.path.isfile(os.path.join(tools, "submission_checker", "main.py")):
        return [sys.executable, "-m", "submission_checker.main", *args]
    if os.path.isfile(os.path.join(tools, "submission_checker.py")):
        return [sys.executable, "submission_checker.py", *args]
    return None


def _run_step(command: list[str], cwd: str, log: str) -> int:
    """Run one step of the official chain through the tool's one way of starting a command (its guard ends it and
    what it started, on a timeout or an interruption), its output in ``log``; its exit status (124: it timed out,
    125: it could not start)."""
    header = f"$ (cd {cwd} && {shlex.join(command)})\n"
    ran = process.run(process.Command(shlex.join(command), cwd, {}, STEP_TIMEOUT_S, log, header))
    if ran.timed_out:
        return 124
    return ran.returncode if ran.returncode is not None else 125


def _places(specs: Specs, tp: TreePlan) -> list[CellPlace]:
    found = []
    for name in tp.systems:
        system = specs.systems[name]
        for benchmark, run in sorted(system.benchmarks.items()):
            for scenario in sorted(run.scenarios):
                found.append(CellPlace(system.division, system.submitter, name, benchmark, scenario))
    return found


def run_checker(tp: TreePlan, checkout: str) -> Values | bool:
    """Truncate a copy of the tree and run the checker on it, with the checkout's scripts; record its verdicts."""
    path = tp.files.official_record(checkout)
    base = TreeCheckRecord(
        "checker", time.time(), freshness.tree_parts(tp, checkout), records.tree_stamps(tp.submission_dir)
    )
    problem = checkout_problem(checkout)
    if problem is None and not os.path.isdir(tp.submission_dir):  # nothing published yet: nothing to check
        return _finish("checker", tp, base, path)
    if problem is not None:
        return _finish("checker", tp, TreeCheckRecord(**{**base.__dict__, "problem": problem}), path)
    specs = session.load_plan().specs
    folder = tp.files.official(checkout)
    shutil.rmtree(folder, ignore_errors=True)
    copy, backup = os.path.join(folder, "tree"), os.path.join(folder, "backup")
    shutil.copytree(tp.submission_dir, copy, symlinks=True)
    tools = os.path.join(checkout, "tools", "submission")
    places = _places(specs, tp)
    rows: list[CheckRow] = []
    for org in sorted({p.org for p in places}):
        truncate = os.path.join(folder, f"truncate-{org}.log")
        args = ["--input", os.path.abspath(copy), "--submitter", org, "--backup", os.path.abspath(backup)]
        _run_step([sys.executable, "truncate_accuracy_log.py", *args], tools, truncate)
        log = os.path.join(folder, f"checker-{org}.log")
        csv = os.path.abspath(os.path.join(folder, f"summary-{org}.csv"))
        command = _checker_command(tools, os.path.abspath(copy), tp.round, org, csv)
        assert command is not None
        status = _run_step(command, tools, log)
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read()
        mine = [p for p in places if p.org == org]
        for place, verdict in verdicts(text, mine, status).items():
            lines = tuple(("error", "checker", m) for m in verdict.messages)
            reason = verdict.why or (verdict.messages[0] if verdict.messages and verdict.status != "PASS" else "")
            rows.append(CheckRow(place.system, place.benchmark, place.scenario, verdict.status, reason, lines))
    print(f"  official checker ({checkout}) on a copy of {tp.submission_dir}: logs in {folder}")
    return _finish("checker", tp, TreeCheckRecord(**{**base.__dict__, "rows": tuple(rows)}), path)
