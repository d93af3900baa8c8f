"""Pre-flight of one cell of a tree: its required TEST folders as each checker reads them, the performance rules of
the round's checker on its compliance runs, the known defects that hit it, and the submitter's files it needs
(docs/rules.md §8.3-8.5). The findings go into the cell's :class:`compliance.review.outcome.Record`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.errors import InputError
from compliance.layout import ACCURACY, DETAIL, VERIFY_ACCURACY, round_test_path
from compliance.report.model import Evidence
from compliance.review import chain, rules, texts
from compliance.review.facts import FactCache, FileFacts
from compliance.review.outcome import Record
from compliance.review.tree import Cell
from compliance.specs.types import Model, Round
from compliance.submission import truncation
from compliance.verify.checks import fallback
from compliance.verify.result import Outcome, Result

#: the divisions whose cells need the round's compliance tests
TESTED_DIVISIONS = ("closed", "network")
#: scenarios whose runs end by early stopping (the checker's uses_early_stopping): no minimum query count there
EARLY_STOPPING = ("Server", "SingleStream", "MultiStream")


@dataclass
class Context:
    """What a cell's pre-flight needs: the tree's root, its round, the checkers asked for, the systems whose runs
    are not held to the performance rules, the logs' facts read once."""

    root: str
    rnd: Round
    checkers: tuple[str, ...]
    exempt: tuple[str, ...] = ()
    cache: FactCache = field(default_factory=FactCache)
    models: dict[str, Model] = field(default_factory=dict)  # by benchmark name (TEST01's fallback: its deltas)

    def shown(self, path: str) -> str:
        return os.path.relpath(path, self.root)

    def rules_apply(self, system: str) -> bool:
        return system not in self.exempt


def check_cell(record: Record, cell: Cell, ctx: Context) -> list[str]:
    """Pre-flight ``cell`` into ``record``; the tests of the cell that fail a checker (its benchmark goes to open)."""
    key = cell.key
    failing: list[str] = []
    required = ctx.rnd.tests_for(key.benchmark) if key.division in TESTED_DIVISIONS else ()
    place = os.path.join(ctx.root, os.path.dirname(_test_path(ctx, cell, "TESTxx")))
    for test in required:
        folder = os.path.join(place, test)
        if not os.path.isdir(folder):
            record.add(
                rules.finding(
                    "test-missing",
                    f"{test} is missing ({ctx.shown(folder)}): both checkers reject the cell",
                    ctx.shown(folder),
                )
            )
            failing.append(test)
            continue
        if not _test_folder(record, test, folder, ctx):
            failing.append(test)
    record.check("tests", Outcome.FAIL if failing else Outcome.PASS, ", ".join(failing))
    if required and not ctx.rules_apply(key.system):
        record.add(rules.finding("performance-rules-off", "the checker's performance rules were not applied"))
    _user_files(record, cell, ctx)
    return failing


def _test_path(ctx: Context, cell: Cell, test: str) -> str:
    k = cell.key
    return round_test_path(ctx.rnd, k.division, k.org, k.system, k.benchmark, k.scenario_folder, test)


def _missing(folder: str, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if not os.path.isfile(os.path.join(folder, n))]


def _listing(folder: str) -> set[str]:
    try:
        return {e.name for e in os.scandir(folder) if e.is_file()}
    except OSError:
        return set()


def _test_folder(record: Record, test: str, folder: str, ctx: Context) -> bool:
    """The folder of a required test as each checker reads it; False when a checker rejects it."""
    where, ok = ctx.shown(folder), True
    passes = {}
    for name in texts.text_files(test):
        text = texts.read(os.path.join(folder, name))
        passes[name] = text is not None and texts.passes(test, name, text)
        if text is not None and not passes[name]:
            if test == "TEST01" and name == VERIFY_ACCURACY:  # the checkers then read the fallback's files
                ok &= _fallback(record, folder, ctx)
                continue
            record.add(
                rules.finding("verify-text-no-pass", f"{test}/{name} does not pass by the checker's rule", where)
            )
            ok = False
    for checker in ctx.checkers:
        missing = _missing(folder, chain.required_files(test, checker))
        if missing:
            rule = "test-files-missing" if checker == chain.MODULAR else "old-checker-files"
            evidence = [Evidence(ctx.shown(os.path.join(folder, n)), value="missing") for n in missing]
            record.add(rules.finding(rule, f"{test} lacks {', '.join(missing)} ({checker} checker)", where, evidence))
            ok = False
    if chain.OLD in ctx.checkers:
        ok &= _old_checker(record, test, folder, passes, ctx)
    for checker in ctx.checkers:
        if test in chain.PERFORMANCE_CHECKED[checker]:
            ok &= _performance(record, test, folder, checker, ctx)
    return ok


def _fallback(record: Record, folder: str, ctx: Context) -> bool:
    """TEST01 without TEST PASS in verify_accuracy.txt: both checkers require accuracy/ to hold exactly the
    fallback's files, and its two accuracy texts within the model's deltas (docs/rules.md §5.3, §2.1 Part III)."""
    where = ctx.shown(folder)
    lead = "TEST01/verify_accuracy.txt does not pass and the fallback's "
    if not _exactly(record, "verify-text-no-pass", folder, chain.ACC, chain.OLD_TEST01_FALLBACK, ctx, lead):
        return False
    model = ctx.models.get(record.key.benchmark)
    result = Result("TEST01")
    texts_ = (Path(folder, fallback.BASELINE_TEXT), Path(folder, fallback.COMPLIANCE_TEXT))
    try:
        passed = fallback.from_texts(result, model, record.key.benchmark, texts_)
    except InputError as exc:
        record.add(rules.finding("verify-text-no-pass", f"TEST01's fallback: {exc}", where))
        return False
    check = result.checks[-1]
    cause = str(check.cause) if check.cause else ""
    record.check("TEST01 fallback", check.outcome, check.reason, cause=cause)
    if passed is False:
        record.add(rules.finding("fallback-out-of-delta", f"TEST01's fallback: {check.reason}", where))
    return passed is not False


def _exactly(
    record: Record,
    rule: str,
    folder: str,
    sub: str,
    wanted: frozenset[str],
    ctx: Context,
    lead: str = "",
    tolerated: bool = False,
) -> bool:
    """Whether ``folder/sub`` holds exactly the files ``wanted`` (with ``tolerated``: and the files the checker's
    files_diff tolerates); else a finding of ``rule`` saying what differs."""
    inner = os.path.join(folder, sub)
    diff = _listing(inner) ^ wanted
    if tolerated:
        diff -= chain.OLD_RUN_1_TOLERATED
    if not diff:
        return True
    message = (
        f"{lead}{ctx.shown(inner)} must hold exactly {', '.join(sorted(wanted))} (differs by {', '.join(sorted(diff))})"
    )
    record.add(rules.finding(rule, message, ctx.shown(folder)))
    return False


def _old_checker(record: Record, test: str, folder: str, passes: dict[str, bool], ctx: Context) -> bool:
    """The old checker's file lists (TEST01, TEST04) and its known defects (TEST07, TEST08, TEST09)."""
    where, ok = ctx.shown(folder), True
    if test in ("TEST01", "TEST04"):
        ok &= _exactly(record, "old-checker-files", folder, chain.RUN_1, chain.OLD_RUN_1, ctx, tolerated=True)
    if test == "TEST01" and passes.get("verify_accuracy.txt"):
        ok &= _exactly(record, "old-checker-files", folder, chain.ACC, chain.OLD_TEST01_ACCURACY, ctx)
    if test in ("TEST07", "TEST08"):
        defect = chain.DEFECTS["C1"]
        record.add(rules.finding("official-defect", f"C1: {defect.what.format(test=test)}; {defect.remedy}", where))
    return ok


def _detail(folder: str, ctx: Context) -> FileFacts | None:
    path = os.path.join(folder, chain.RUN_1, DETAIL)
    return ctx.cache.get(path) if os.path.isfile(path) else None


def _performance(record: Record, test: str, folder: str, checker: str, ctx: Context) -> bool:
    """The round checker's performance rules on a compliance run (docs/rules.md §8.4); False when it breaks one
    (TEST07/08/09 under the old checker: defect C2, a warning)."""
    where = ctx.shown(folder)
    facts = _detail(folder, ctx)
    if not ctx.rules_apply(record.key.system):
        return True
    if facts is None or facts.problem:
        why = "no detail log" if facts is None else facts.problem
        record.check(f"performance rules ({test})", Outcome.NOT_CHECKABLE, why, cause="no detail log")
        return True
    k = record.key
    problems = broken_rules(facts, ctx.rnd, k.benchmark, k.scenario, k.division)
    if checker == chain.OLD and chain.equal_issue(ctx.rnd, k.benchmark, k.division):
        if facts.get("effective_sample_concatenate_permutation") is not True:
            problems.append("not in equal-issue mode (sample_concatenate_permutation), which the old checker requires")
    if test not in ("TEST01", "TEST04"):  # only the old checker holds these to them, by a defect
        if problems and checker == chain.OLD:
            defect = chain.DEFECTS["C2"]
            record.add(
                rules.finding(
                    "official-defect",
                    f"C2: {defect.what.format(test=test, why='; '.join(problems))}; {defect.remedy}",
                    where,
                )
            )
        return True
    shown = ctx.shown(facts.path)
    for problem in problems:  # a rule both checkers apply is said once (Record.add)
        record.add(rules.finding("performance-rule", f"{test}: {problem}", where, [Evidence(shown)]))
    if facts.errors:
        errors = "; ".join(facts.errors[:3])
        record.add(rules.finding("loadgen-errors", f"{test}: {len(facts.errors)} LoadGen error(s): {errors}", where))
    outcome = Outcome.FAIL if problems or facts.errors else Outcome.PASS
    record.check(f"performance rules ({test}, {checker} checker)", outcome)
    return not problems and not facts.errors


def broken_rules(facts: FileFacts, rnd: Round, benchmark: str, scenario: str, division: str) -> list[str]:
    """The performance rules of the round's checker a run's detail log breaks, in words (docs/rules.md §8.4)."""
    out: list[str] = []
    seeds = rnd.seeds
    if seeds is not None:
        expected = (seeds.qsl, seeds.sample_index, seeds.schedule)
        if facts.seeds != expected:
            out.append(f"seeds {facts.seeds} are not the round's {expected}")
    rules_ = rnd.rules
    if rules_ is not None:
        keys = ("effective_min_duration_ms", "effective_min_query_count", "effective_samples_per_query")
        out += [f"{key} is not logged (the checker reads it)" for key in keys if _number(facts, key) is None]
    value = _number(facts, "effective_min_duration_ms")
    if rules_ is not None and value is not None and value < rules_.min_duration_ms:
        out.append(f"min_duration {value:g} ms < {rules_.min_duration_ms} ms")
    if rules_ is not None and scenario not in EARLY_STOPPING:
        least = rules_.min_query_count(benchmark, scenario)
        value = _number(facts, "effective_min_query_count")
        if least is not None and value is not None and value < least:
            out.append(f"min_query_count {value:g} < {least}")
    if rules_ is not None and scenario == "Offline" and division == "closed":
        least = rules_.offline_min_samples_per_query.get(benchmark)
        value = _number(facts, "effective_samples_per_query")
        if least is not None and value is not None and value < least:
            out.append(f"samples per query {value:g} < {least} (Offline, closed)")
    least = rnd.datasets.get(benchmark, {}).get("performance_samples")
    value = _number(facts, "effective_performance_sample_count")
    if isinstance(least, int) and value is not None and value < least:
        out.append(f"performance_sample_count {value:g} < {least}")
    if scenario in EARLY_STOPPING and facts.get("early_stopping_met") is False:
        out.append("early stopping not met")
    validity = facts.get("result_validity")
    if validity is not None and validity != "VALID":
        out.append(f"the result is {validity}")
    return out


def _number(facts: FileFacts, key: str) -> float | None:
    value: Any = facts.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _user_files(record: Record, cell: Cell, ctx: Context) -> None:
    """The submitter's files of the cell's results (a warning each: the tool cannot write them)."""
    if cell.results_dir is None:
        return
    k = cell.key
    division = cell.results_division or k.division
    missing = []
    for wanted in chain.user_files(ctx.rnd, division, k.org, k.system, k.benchmark, k.scenario_folder):
        path = os.path.join(ctx.root, wanted.path)
        folder, name = os.path.split(path)
        if wanted.folder:
            found = os.path.isdir(path)
        else:
            found = any(_matches(n, name) for n in _listing(folder)) if "*" in name else os.path.isfile(path)
        if not found:
            missing.append(wanted)
    if missing:
        names = ", ".join(os.path.basename(w.path) + ("/" if w.folder else "") for w in missing)
        evidence = [Evidence(w.path, w.what, "missing") for w in missing]
        record.add(rules.finding("user-file-missing", f"to add: {names}", ctx.shown(cell.results_dir), evidence))
    _hash_line(record, os.path.join(cell.results_dir, chain.ACC), ctx)


def _matches(name: str, pattern: str) -> bool:
    head, _, tail = pattern.partition("*")
    return name.startswith(head) and name.endswith(tail)


def _hash_line(record: Record, folder: str, ctx: Context) -> None:
    """accuracy.txt's hash against a whole log beside it (a cut log's original is not in the tree)."""
    text = texts.read(os.path.join(folder, "accuracy.txt"))
    log = os.path.join(folder, ACCURACY)
    if text is None or not os.path.isfile(log):
        return
    recorded = truncation.recorded_hash(text)
    facts = ctx.cache.get(log)
    if recorded is None:
        if facts is not None and facts.size >= truncation.VIEWABLE_SIZE and not facts.truncated:
            message = f"{ctx.shown(log)} ({facts.size:,} bytes) is not cut and accuracy.txt has no hash line"
            record.add(rules.finding("truncation-pending", message, ctx.shown(folder)))
        return
    if facts is None or facts.truncated:
        return
    actual = truncation.sha256_file(log)
    if recorded != actual:
        message = f"accuracy.txt records hash={recorded[:12]}..., the log beside it is {actual[:12]}..."
        record.add(rules.finding("accuracy-hash-mismatch", message, ctx.shown(folder), [Evidence(ctx.shown(log))]))
