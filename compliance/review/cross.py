"""Checks across cells, made once every cell was reviewed: the round's required tests, orphan TEST folders, the
seeds of each run, the scenario each run was made in, and logs that are byte copies of another cell's.

What the rules allow is at most informational (review.md §3): the same run filed for a -99 and a -99.9 model, or
in both divisions; a SingleStream run filed for MultiStream or Offline on an edge system (the checker's scenario
inference, domain.md §5.3).
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Mapping

from compliance.layout import round_test_path
from compliance.report.model import Evidence
from compliance.review import rules, seeds
from compliance.review.facts import FileFacts, digest
from compliance.review.outcome import MISSING, RUN, TEST, Record
from compliance.review.tree import SYSTEMS, Cell, CellKey
from compliance.specs.types import Round, Specs, loadgen_scenario
from compliance.verify import models
from compliance.verify.checks import runs
from compliance.verify.result import Outcome

#: (run's scenario, folder's scenario) pairs the checker lets an edge system infer (lower case)
INFERRED = {("singlestream", "multistream"), ("multistream", "offline"), ("singlestream", "offline")}


def _rel(path: str, root: str) -> str:
    return os.path.relpath(path, root)


def required_tests(
    cells: Mapping[CellKey, Cell],
    records: dict[CellKey, list[Record]],
    specs: Specs,
    hints: Mapping[CellKey, tuple[str, ...]],
    rnd: Round,
    root: str,
) -> None:
    """Required tests present (closed and network divisions: the checker skips open, domain.md §5.2); TEST folders
    of tests the round does not require, without results, or with results in the other division."""
    for key, cell in cells.items():
        found = records.get(key)
        if found is None:
            continue
        match = models.resolve(specs.models, key.benchmark, hints.get(key, ()))
        model = match.model
        required = rnd.tests_for(model.name) if model is not None and match.how == models.EXACT else ()
        tests = {r.test: r for r in found if r.kind == TEST}
        for test, record in tests.items():
            where = _rel(record.path, root)
            if cell.results_dir is None:
                record.add(
                    rules.finding(
                        "orphan-test-folder", f"{key.label()} has {test} but no results in either division", where
                    )
                )
            elif cell.results_division is not None:
                record.add(
                    rules.finding(
                        "results-in-other-division",
                        f"{test} is in {key.division}, the cell's results in {cell.results_division}",
                        where,
                        [Evidence(where, other_file=_rel(cell.results_dir, root))],
                    )
                )
            if model is not None and test not in rnd.tests_for(model.name) and model.name in rnd.required:
                record.add(
                    rules.finding("test-not-required", f"round {rnd.name} requires no {test} for {model.name}", where)
                )
        has_results = cell.results_dir is not None and cell.results_division is None
        if key.division == "open" or not has_results or not _covers(found, cell):
            continue
        for test in required:
            if test in tests:
                continue
            path = _expected(rnd, key, test, cell, root)
            missing = Record(key, test, path, MISSING, model=model.name if model else None)
            missing.add(
                rules.finding(
                    "test-missing",
                    f"round {rnd.name} requires {test} for {model.name if model else key.benchmark} in the "
                    f"{key.division} division; {_rel(path, root)} is not there",
                    _rel(path, root),
                )
            )
            found.append(missing)


def _covers(found: list[Record], cell: Cell) -> bool:
    """Whether the review covers the cell whole (a review of one TEST folder does not say what else is missing)."""
    return (
        any(r.kind == RUN for r in found)
        or bool(cell.tests)
        and all(any(r.kind == TEST and r.test == t for r in found) for t in cell.tests)
    )


def _expected(rnd: Round, key: CellKey, test: str, cell: Cell, root: str) -> str:
    if cell.compliance_dir is not None:
        return os.path.join(cell.compliance_dir, test)
    k = key
    return os.path.join(root, round_test_path(rnd, k.division, k.org, k.system, k.benchmark, k.scenario_folder, test))


def system_types(root: str, keys: list[CellKey]) -> dict[tuple[str, str, str], str]:
    """(division, org, system) -> the ``system_type`` of ``systems/<system>.json`` ("" when not said)."""
    found = {}
    for division, org, system in {(k.division, k.org, k.system) for k in keys}:
        path = os.path.join(root, division, org, SYSTEMS, f"{system}.json")
        value = ""
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            value = str(data.get("system_type", "")) if isinstance(data, dict) else ""
        except (OSError, ValueError):
            pass
        found[(division, org, system)] = value
    return found


def _details(record: Record, facts: Mapping[str, FileFacts]) -> FileFacts | None:
    path = record.logs.get("detail")
    found = facts.get(path) if path else None
    return found if found is not None and not found.problem else None


def seeds_and_scenarios(
    records: dict[CellKey, list[Record]],
    facts: Mapping[str, FileFacts],
    rnd: str,
    known: Mapping[str, seeds.Seeds],
    types: Mapping[tuple[str, str, str], str],
    root: str,
) -> None:
    """Each run's seeds against the round's, and its scenario against its folder's."""
    for key, found in records.items():
        compared = any(r.kind == RUN and r.test == "performance" and "detail" in r.logs for r in found)
        for record in found:
            log = _details(record, facts)
            if log is None:
                continue
            shown = _rel(log.path, root)
            _seed(record, log, rnd, known, shown, compared)
            scenario = log.scenario
            expected = loadgen_scenario(key.scenario)
            if scenario is None or scenario == expected:
                continue
            edge = "edge" in types.get((key.division, key.org, key.system), "").lower()
            pair = (scenario.lower(), expected.lower())
            evidence = [Evidence(shown, "effective_scenario", scenario, _rel(record.path, root), "folder", expected)]
            said = [f for f in record.findings if f.rule == "scenario-mismatch"]  # by the verifier (TEST06's)
            if edge and pair in INFERRED:
                record.findings = [f for f in record.findings if f not in said]  # what the checker allows
                for check in record.checks:
                    if said and check["name"] == runs.CHECK_SCENARIO and check["outcome"] == Outcome.FAIL.value:
                        check.update(outcome=Outcome.PASS.value, reason=f"{scenario} inferred as {expected} (edge)")
                record.add(
                    rules.finding(
                        "scenario-inferred",
                        f"a {scenario} run filed as {key.scenario_folder}: the checker lets an edge system infer "
                        f"{expected} from {scenario}",
                        shown,
                        evidence,
                    )
                )
            elif not said:
                record.add(
                    rules.finding(
                        "scenario-mismatch",
                        f"the run in {key.scenario_folder}/ was made in {scenario}"
                        + ("" if edge else " (and the system is not an edge system, which alone may infer scenarios)"),
                        shown,
                        evidence,
                    )
                )


def _seed(
    record: Record, log: FileFacts, rnd: str, known: Mapping[str, seeds.Seeds], shown: str, compared: bool
) -> None:
    """The run's seeds against the round's (a compliance run whose seeds are no round's, beside a submission run,
    is ``seeds-differ``: the cell's own check)."""
    if log.seeds is None:
        return
    found = seeds.round_of(log.seeds, known)
    evidence = [Evidence(shown, "effective_qsl_rng_seed", log.seeds[0], other_value=known.get(rnd, (None,))[0])]
    if found is None:
        if record.kind != TEST or not compared:
            record.add(
                rules.finding(
                    "seeds-unknown",
                    f"the seeds {list(log.seeds)} are no known round's"
                    + (" (every seed 0: LoadGen applied no mlperf.conf)" if not any(log.seeds) else ""),
                    shown,
                    evidence,
                )
            )
        return
    name, test05 = found
    if name != rnd:
        message = f"the run carries the seeds of round {name}, not {rnd}"
        record.add(rules.finding("seeds-other-round", message, shown, evidence))
    elif test05 and record.test != "TEST05":
        record.add(
            rules.finding(
                "seeds-other-round", f"the run carries {rnd}'s TEST05 seeds, in a {record.test} folder", shown, evidence
            )
        )


_SIBLING = re.compile(r"-99(\.9)?$")


def _allowed(a: CellKey, b: CellKey) -> bool:
    """Whether the rules let two cells share a run: a -99/-99.9 pair, the same cell in both divisions, or a scenario
    inferred from another (the scenario check says whether the system may infer it)."""
    if (a.division, a.org, a.system, a.benchmark) == (b.division, b.org, b.system, b.benchmark):
        pair = (a.scenario_folder.lower(), b.scenario_folder.lower())
        return pair in INFERRED or pair[::-1] in INFERRED
    if (a.org, a.system, a.scenario_folder.lower()) != (b.org, b.system, b.scenario_folder.lower()):
        return False
    if a.benchmark == b.benchmark:
        return a.division != b.division
    return _SIBLING.sub("", a.benchmark) == _SIBLING.sub("", b.benchmark) and bool(
        _SIBLING.search(a.benchmark) and _SIBLING.search(b.benchmark)
    )


def copies(records: dict[CellKey, list[Record]], facts: Mapping[str, FileFacts], root: str) -> None:
    """Detail logs byte-identical across cells. A detail log holds the run's start time and every timing LoadGen
    measured, so two runs never write the same one; a summary log of a short accuracy run may be the same for two
    runs, and is compared only with its own cell's (:mod:`compliance.review.cell`)."""
    by_size: dict[int, list[tuple[Record, FileFacts]]] = defaultdict(list)
    for found in records.values():
        for record in found:
            log = facts.get(record.logs.get("detail", ""))
            if log is not None and log.size and not log.problem:
                by_size[log.size].append((record, log))
    holders: dict[str, list[tuple[Record, str]]] = defaultdict(list)
    for group in by_size.values():  # only logs of the same size can be copies: only those are hashed
        if len({r.key for r, _ in group}) > 1:
            for record, log in group:
                holders[digest(log)].append((record, log.path))
    for copies_of in holders.values():
        if len({r.key for r, _ in copies_of}) < 2:
            continue
        for record, path in copies_of:
            others = [(r, p) for r, p in copies_of if r.key != record.key]
            if not others or any(f.rule in ("log-copied", "log-shared-allowed") for f in record.findings):
                continue
            other, other_path = others[0]
            allowed = all(_allowed(record.key, r.key) for r, _ in others)
            shown = _rel(path, root)
            record.add(
                rules.finding(
                    "log-shared-allowed" if allowed else "log-copied",
                    f"{os.path.basename(path)} is byte-identical to {_rel(other_path, root)}"
                    + (f" and {len(others) - 1} more" if len(others) > 1 else ""),
                    shown,
                    [Evidence(shown, "sha256", facts[path].digest[:16], _rel(other_path, root))],
                )
            )
