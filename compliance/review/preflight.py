"""Pre-flight of a whole submission tree: what the official chain after the tool (truncation, the two checkers,
preprocess, repository_checks.sh) will do to it, said before it runs (docs/rules.md §8; docs/upload.md).

Per cell (:mod:`compliance.review.preflight_cell`): every TEST folder the round requires, with the files each checker
requires there (``--checker modular``, ``old`` or both), its verify texts passing by the checker's rule, the round
checker's performance rules on its compliance runs (seeds, minimum duration and queries, samples per query,
performance sample count, early stopping, validity, LoadGen errors), the known defects of the official scripts that
hit it, the submitter's files its results need; a cell that fails a checker says that preprocess moves every scenario
of its benchmark to open. Over the tree: no file over 50 MiB that the truncation will not cut, no name
``repository_checks.sh`` refuses, each system's description. Not checked (said in the report): the latency
constraints of Server runs, equal-issue mode, the submission's own runs against the performance rules.

The result is records of :mod:`compliance.review.outcome` with findings of the shared catalogue
(:mod:`compliance.review.rules`), rendered by :mod:`compliance.report` as review's are.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from compliance.errors import InputError, plural
from compliance.layout import ACCURACY, DETAIL
from compliance.report.model import Evidence, Report, Severity
from compliance.review import chain, output, rules, seeds
from compliance.review.facts import FactCache
from compliance.review.outcome import Record
from compliance.review.preflight_cell import Context, check_cell
from compliance.review.tree import DIVISIONS, Cell, CellKey, find_root, in_scope, inside, walk
from compliance.specs.types import Model, Specs
from compliance.submission import truncation

NOT_CHECKED = "not checked: Server latency constraints, equal-issue mode, the submission runs' performance rules"
UPLOAD, SYSTEM, TREE = "upload", "system", "tree"  # the test column of a cell's, a system's, the tree's record


@dataclass
class Options:
    round: str | None = None  # None: decided from the compliance runs' seeds
    checkers: tuple[str, ...] = chain.CHECKERS
    performance_rules: bool = True
    systems: tuple[str, ...] | None = None  # only these systems' cells (None: every cell in scope)
    no_performance_rules: tuple[str, ...] = ()  # systems whose compliance runs are not held to them (said so)


@dataclass
class Preflight:
    """What pre-flight found: a record per cell, per system and for the rest of the tree, and how it went."""

    root: str
    scope: str
    round: str
    round_evidence: str
    checkers: tuple[str, ...]
    no_performance_rules: tuple[str, ...]
    records: list[Record] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0


def preflight(path: str, specs: Specs, options: Options | None = None) -> Preflight:
    """Pre-flight the tree holding ``path``, within ``path``.

    Raises:
        InputError: ``path`` is in no submission tree, a checker name is unknown, or the round is unknown or cannot
            be told from the logs.
    """
    options = options or Options()
    unknown = [c for c in options.checkers if c not in chain.CHECKERS]
    if unknown:
        raise InputError(f"--checker {unknown[0]}: not one of {', '.join(chain.CHECKERS)}, both")
    start = time.monotonic()
    root, scope = find_root(path), os.path.abspath(path)
    cells = {k: c for k, c in walk(root).items() if in_scope(c, scope)}
    if options.systems is not None:
        cells = {k: c for k, c in cells.items() if k.system in options.systems}
    cache = FactCache()
    fallback = seeds.of_specs((k.system for k in cells), specs.systems)
    decision = seeds.decide(options.round, _seeds(cells, cache), seeds.table(specs.rounds), specs.rounds, fallback)
    rnd = specs.rounds[decision.round]
    exempt = () if options.performance_rules else tuple({k.system for k in cells})
    exempt += tuple(s for s in options.no_performance_rules if s in {k.system for k in cells})
    models = {k.benchmark: m for k in cells if (m := _model(specs, k.benchmark)) is not None}
    ctx = Context(root, rnd, options.checkers, exempt, cache, models)
    result = Preflight(root, scope, rnd.name, decision.evidence, options.checkers, tuple(sorted(set(ctx.exempt))))
    found: dict[CellKey, Record] = {}
    failing: dict[CellKey, list[str]] = {}
    for key, cell in sorted(cells.items()):
        found[key] = Record(key, UPLOAD, cell.results_dir or cell.compliance_dir or root, "preflight")
        failing[key] = check_cell(found[key], cell, ctx)
    _to_open(found, failing, root)
    extra = _tree(root, scope, cells, found, ctx, options.systems)
    result.records = [found[k] for k in sorted(found)] + extra
    result.files, result.bytes = _counted(root, scope)
    result.seconds = time.monotonic() - start
    return result


def _model(specs: Specs, benchmark: str) -> Model | None:
    try:
        return specs.model(benchmark)
    except KeyError:
        return None


def _seeds(cells: dict[CellKey, Cell], cache: FactCache) -> list[object]:
    """The seeds of every compliance run in the cells (they tell the round when none is given)."""
    found: list[object] = []
    for cell in cells.values():
        for folder in cell.tests.values():
            facts = cache.get(os.path.join(folder, chain.RUN_1, DETAIL))
            if facts is not None and facts.seeds is not None:
                found.append(facts.seeds)
    return found


def _to_open(found: dict[CellKey, Record], failing: dict[CellKey, list[str]], root: str) -> None:
    """Every scenario of a closed benchmark with a failing cell: preprocess moves them all to open."""
    by_benchmark: dict[tuple[str, str, str, str], list[CellKey]] = {}
    for key in found:
        by_benchmark.setdefault((key.division, key.org, key.system, key.benchmark), []).append(key)
    for (division, _, _, benchmark), keys in by_benchmark.items():
        culprits = [f"{k.scenario_folder} {', '.join(failing[k])}" for k in keys if failing[k]]
        if division != "closed" or not culprits:
            continue
        for key in keys:
            message = (
                f"{benchmark} fails the checkers in {'; '.join(culprits)}: preprocess moves every scenario to open"
            )
            found[key].add(rules.finding("benchmark-to-open", message, os.path.relpath(found[key].path, root)))


def _owner(path: str, cells: dict[CellKey, Cell], found: dict[CellKey, Record]) -> Record | None:
    """The record of the cell whose folders hold ``path`` (None: none does)."""
    for key, cell in cells.items():
        if any(inside(path, folder) for folder in cell.folders()):
            return found[key]
    return None


def _tree(
    root: str,
    scope: str,
    cells: dict[CellKey, Cell],
    found: dict[CellKey, Record],
    ctx: Context,
    systems: tuple[str, ...] | None,
) -> list[Record]:
    """Sizes and names over the tree, each system's description, the round's preprocess at HEAD (C4)."""
    orgs = sorted({(k.division, k.org) for k in cells})
    tree: dict[tuple[str, str], Record] = {}
    for division, org in orgs:
        top = os.path.join(root, division, org)
        tree[(division, org)] = Record(CellKey(division, org, "", "", ""), TREE, top, "preflight")
        for folder, dirs, files in os.walk(top):
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(folder, name)
                if not inside(path, scope):
                    continue
                record = _owner(path, cells, found) or tree[(division, org)]
                if systems is not None and record is tree[(division, org)] and not _of_systems(path, top, systems):
                    continue
                _name_and_size(record, path, name in dirs, ctx)
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    out = []
    for division, org, system in sorted({(k.division, k.org, k.system) for k in cells}):
        record = Record(CellKey(division, org, system, "", ""), SYSTEM, os.path.join(root, division, org), "preflight")
        description = chain.system_file(division, org, system)
        if not os.path.isfile(os.path.join(root, description)):
            defect = chain.DEFECTS["C7"]
            message = f"to add: {os.path.basename(description)} (C7: {defect.what.format(file=description)})"
            record.add(
                rules.finding("user-file-missing", message, description, [Evidence(description, value="missing")])
            )
        code = chain.code_folder(ctx.rnd, division, org)
        if not os.path.isdir(os.path.join(root, code)):
            message = f"to add: {os.path.basename(code)}/ (the code the runs used)"
            record.add(rules.finding("user-file-missing", message, code, [Evidence(code, value="missing")]))
        out.append(record)
    rules_commit = ctx.rnd.rules.commit[:8] if ctx.rnd.rules else "the round's"
    for record in tree.values():
        if chain.v6_layout(ctx.rnd) is False and chain.OLD in ctx.checkers:
            defect = chain.DEFECTS["C4"]
            what = defect.what.format(round=ctx.rnd.name)
            record.add(rules.finding("official-defect", f"C4: {what}; {defect.remedy.format(commit=rules_commit)}"))
        if record.findings:
            out.append(record)
    return out


def _of_systems(path: str, top: str, systems: tuple[str, ...]) -> bool:
    """Whether a path of an organisation's folder belongs to one of ``systems`` (a folder named after it)."""
    parts = os.path.relpath(path, top).split(os.sep)
    return len(parts) > 1 and parts[1] in systems or (parts[0] == "systems" and parts[-1].rsplit(".", 1)[0] in systems)


def _name_and_size(record: Record, path: str, is_dir: bool, ctx: Context) -> None:
    """repository_checks.sh's names, and the 50 MiB limit (a log the truncation will cut is a pending step)."""
    why = chain.refused_name(os.path.basename(path), is_dir, os.path.islink(path))
    if why is not None:
        record.add(rules.finding("name-refused", f"{ctx.shown(path)} is {why}", ctx.shown(path)))
    if is_dir or os.path.islink(path):
        return
    size = os.path.getsize(path)
    if size <= chain.SIZE_LIMIT:
        return
    mib = f"{size / (1 << 20):.1f} MiB"
    folder = os.path.dirname(path)
    if os.path.basename(path) == ACCURACY and os.path.basename(folder) == chain.ACC:
        test = os.path.basename(os.path.dirname(folder))
        if test in truncation.REHASHED_TESTS or os.path.isfile(os.path.join(folder, "accuracy.txt")):
            message = f"{ctx.shown(path)} ({mib}) is not cut yet: run truncate_accuracy_log.py"
            record.add(rules.finding("truncation-pending", message, ctx.shown(path)))
            return
        if not test.startswith("TEST"):
            message = f"{ctx.shown(path)} ({mib}) is over 50 MiB until accuracy.txt is added and the truncation cuts it"
            record.add(rules.finding("truncation-pending", message, ctx.shown(path)))
            return
    evidence = [Evidence(ctx.shown(path), "size", size, other_value=chain.SIZE_LIMIT)]
    record.add(rules.finding("file-too-large", f"{ctx.shown(path)} is {mib}", ctx.shown(path), evidence))


def _counted(root: str, scope: str) -> tuple[int, int]:
    files = size = 0
    for division in DIVISIONS:
        for folder, _, names in os.walk(os.path.join(root, division)):
            for name in names:
                path = os.path.join(folder, name)
                if inside(path, scope) and os.path.isfile(path):
                    files += 1
                    size += os.path.getsize(path)
    return files, size


def report(result: Preflight, fail_at: Severity = Severity.ERROR) -> Report:
    """The pre-flight as a report every renderer takes."""
    scope = os.path.relpath(result.scope, result.root)
    checkers = " and ".join(f"the {c} checker" for c in result.checkers)
    preamble = [
        f"pre-flight of {'the whole tree' if scope == '.' else scope} of {result.root}",
        f"round {result.round} ({result.round_evidence}); {checkers}",
        f"{plural(result.files, 'file')} ({result.bytes / 1e6:.0f} MB) in {result.seconds:.1f} s",
        NOT_CHECKED,
    ]
    if result.no_performance_rules:
        shown = ", ".join(result.no_performance_rules)
        preamble.append(f"the checker's performance rules were not applied to the runs of {shown} (asked so)")
    return Report(
        title=f"mlperf-compliance pre-flight of {os.path.basename(result.root.rstrip(os.sep)) or result.root}",
        columns=output.COLUMNS,  # review's columns: a record's test is upload, system or tree here
        items=[output.item(r, result.root) for r in result.records],
        preamble=preamble,
        meta={
            "root": result.root,
            "scope": scope,
            "round": result.round,
            "round_evidence": result.round_evidence,
            "checkers": list(result.checkers),
        },
        fail_at=fail_at,
        noun="items",
    )
