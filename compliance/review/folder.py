"""Review one published TEST folder: its files, its logs, its re-verification, and its verify texts against both.

The files (docs/rules.md §5.3): the checker requires the verify texts, and for TEST01/TEST04 (and v4.1's TEST05) the
detail and summary logs in ``performance/run_1/``, which may hold nothing else but the tolerated files. The official
scripts also copy the accuracy log into ``accuracy/`` (TEST01, TEST06): without it the test cannot be re-verified.
Logs left at the folder's top level are used, and said to be misfiled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.layout import ACCURACY, DETAIL, SUMMARY, VERIFY_ACCURACY, VERIFY_PERFORMANCE
from compliance.report.model import Evidence
from compliance.review import rules, texts
from compliance.review.facts import FactCache, FileFacts, same_bytes
from compliance.review.outcome import TEST, Record
from compliance.review.runs import rel, unreadable
from compliance.review.tree import Cell
from compliance.review.verification import absorb, part, run_verifier, translator
from compliance.specs.types import Specs
from compliance.verify import registry
from compliance.verify.checks import fallback, inputs, performance
from compliance.verify.result import Outcome
from compliance.verify.tests import test01, test06

RUN_1 = os.path.join("performance", "run_1")
#: files the checker requires in each test's folder (domain.md §5.3 items 1 and 4)
CHECKER_FILES = {
    "TEST01": (VERIFY_ACCURACY, VERIFY_PERFORMANCE, os.path.join(RUN_1, DETAIL), os.path.join(RUN_1, SUMMARY)),
    "TEST04": (VERIFY_PERFORMANCE, os.path.join(RUN_1, DETAIL), os.path.join(RUN_1, SUMMARY)),
    "TEST05": (VERIFY_PERFORMANCE, os.path.join(RUN_1, DETAIL), os.path.join(RUN_1, SUMMARY)),
    "TEST06": (VERIFY_ACCURACY,),
    "TEST07": (VERIFY_ACCURACY,),
    "TEST08": (VERIFY_ACCURACY,),
    "TEST09": ("verify_output_len.txt",),
}
#: what performance/run_1/ may hold besides the two logs (domain.md §5.3 item 4)
RUN_1_TOLERATED = {DETAIL, SUMMARY, ACCURACY, "mlperf_log_trace.json", "results.json", ".gitkeep"}
#: the checks each verify text claims to have passed (None: every check but the audit evidence)
CLAIMS: dict[tuple[str, str], tuple[str, ...] | None] = {
    ("TEST01", VERIFY_PERFORMANCE): (performance.CHECK_SCORE, performance.CHECK_RUNS),
    ("TEST01", VERIFY_ACCURACY): (test01.CHECK_ACCURACY,),
    ("TEST04", VERIFY_PERFORMANCE): (performance.CHECK_SCORE, performance.CHECK_RUNS),
    ("TEST05", VERIFY_PERFORMANCE): (performance.CHECK_SCORE, performance.CHECK_RUNS),
    ("TEST06", VERIFY_ACCURACY): (
        test06.CHECK_FIRST_TOKEN,
        test06.CHECK_EOS,
        test06.CHECK_LENGTH,
        test06.CHECK_SAMPLES,
    ),
}
#: each log of a compliance run: its role, LoadGen's name for it
LOG_ROLES = (("detail", DETAIL), ("summary", SUMMARY), ("accuracy", ACCURACY))


@dataclass
class Context:
    """What reviewing a TEST folder needs besides the folder: the tree, the specs, the cell, the tree's other names
    for the cell's benchmark (``model_mapping.json``), the cache of the logs' facts."""

    root: str
    specs: Specs
    cell: Cell
    hints: tuple[str, ...]
    cache: FactCache

    def shown(self, path: str) -> str:
        return rel(path, self.root)


def _locate(folder: str, cache: FactCache) -> tuple[dict[str, str], list[str]]:
    """The compliance run's logs in a TEST folder (role -> path), where the verifiers read them
    (:func:`compliance.verify.checks.inputs.compliance_log`), and those at its top level that are misfiled: not in the
    place the official scripts copy them to, or another log than the one there."""
    logs, misfiled = {}, []
    for role, name in LOG_ROLES:
        path = str(inputs.compliance_log(Path(folder), name))
        if not os.path.isfile(path):
            continue
        logs[role] = path
        proper = os.path.join(folder, inputs.PUBLISHED_PLACES[name])
        if os.path.dirname(path) == folder.rstrip(os.sep):
            top, there = cache.get(path), cache.get(proper) if os.path.isfile(proper) else None
            if there is None or top is None or not same_bytes(top, there):
                misfiled.append(path)
    return logs, misfiled


def _files(record: Record, test: str, ctx: Context) -> None:
    """The files the checker requires, and nothing performance/run_1/ may not hold."""
    folder, where = record.path, ctx.shown(record.path)
    missing = [name for name in CHECKER_FILES.get(test, ()) if not os.path.isfile(os.path.join(folder, name))]
    if missing:
        record.add(
            rules.finding(
                "test-files-missing",
                f"{test} lacks {', '.join(missing)}",
                where,
                [Evidence(ctx.shown(os.path.join(folder, name)), value="missing") for name in missing],
            )
        )
    run_1 = os.path.join(folder, RUN_1)
    checked = os.path.isdir(run_1) and test in ("TEST01", "TEST04")  # compliance_performance_check's tests
    extra = sorted(set(os.listdir(run_1)) - RUN_1_TOLERATED) if checked else []
    if extra:
        record.add(
            rules.finding(
                "test-files-unexpected",
                f"{ctx.shown(run_1)} holds {', '.join(extra)}, which the checker refuses there",
                ctx.shown(run_1),
            )
        )
    record.check("files", Outcome.FAIL if missing or extra else Outcome.PASS, ", ".join(missing + extra))


def review_test(test: str, folder: str, ctx: Context, second: bool = False) -> Record:
    """Review one TEST folder of the context's cell (``second``: a second folder of the test, in the layout the
    round's checker does not read, whose files it does not check)."""
    cell = ctx.cell
    record = Record(cell.key, test, folder, TEST)
    where = ctx.shown(folder)
    if not second:
        _files(record, test, ctx)
    record.logs, misfiled = _locate(folder, ctx.cache)
    if misfiled:
        record.add(
            rules.finding(
                "logs-misfiled",
                f"{', '.join(os.path.basename(p) for p in misfiled)} lie at the top of {test}/, not where the "
                f"official scripts put them ({RUN_1}/, accuracy/) or unlike the log there; review read them, as the "
                "verifiers do",
                where,
                [Evidence(ctx.shown(p)) for p in misfiled],
            )
        )
    for path in record.logs.values():
        facts = ctx.cache.get(path)
        if facts is not None:
            unreadable(record, facts, ctx.root)
    translate = translator(ctx.root)
    result = run_verifier(record, ctx.specs, cell.results_dir, cell.key.scenario, ctx.hints, translate)
    checks = None
    if result is not None:
        checks = absorb(record, result, where, translate)
        record.figures = registry.get(test).figures(result.to_dict())
    _texts(record, test, checks, ctx)
    return record


def _texts(record: Record, test: str, checks: list[dict[str, Any]] | None, ctx: Context) -> None:
    """Each verify text against the re-verification (its verdict) and the logs beside it (its figures)."""
    closed = ctx.cell.key.division != "open"
    # the checker takes TEST01's accuracy from its fallback's texts when the text has no TEST PASS: a fallback that
    # passed, or whose texts are there but could not be checked (the verification could not be made), is no
    # failure of the text
    made = [c for c in record.checks if c["name"] == fallback.CHECK_FALLBACK]
    texts_there = all(
        os.path.isfile(os.path.join(record.path, name)) for name in (fallback.BASELINE_TEXT, fallback.COMPLIANCE_TEXT)
    )
    fallback_ok = any(c["outcome"] == "PASS" for c in made) or (texts_there and not made and checks is None)
    for name in texts.text_files(test):
        path = os.path.join(record.path, name)
        text = texts.read(path)
        if text is None:
            continue
        shown = ctx.shown(path)
        published = texts.passes(test, name, text)
        ours, failed = part(checks, CLAIMS.get((test, name)))
        if published and ours == "FAIL":
            why = "; ".join(f"{c['name']}: {c['reason']}" for c in failed)
            record.add(
                rules.finding(
                    "verify-text-pass-over-fail",
                    f"{name} says the test passes, but the logs beside it fail it: {why}",
                    shown,
                    [Evidence(shown, "verdict", "PASS", ctx.shown(record.path), failed[0]["name"], "FAIL")],
                )
            )
        elif not published and ours == "PASS":
            record.add(
                rules.finding(
                    "verify-text-fail-over-pass",
                    f"{name} does not pass, but the logs beside it do",
                    shown,
                    [Evidence(shown, "verdict", "FAIL", ctx.shown(record.path), "re-verification", "PASS")],
                )
            )
        if not published and closed and not (name == VERIFY_ACCURACY and fallback_ok):
            record.add(
                rules.finding(
                    "verify-text-no-pass",
                    f"{name} does not pass by the checker's rule"
                    + (" (and no TEST01 fallback passes it)" if (test, name) == ("TEST01", VERIFY_ACCURACY) else ""),
                    shown,
                    [Evidence(shown, "TEST PASS", "absent")],
                )
            )
        if name == VERIFY_PERFORMANCE:
            _scores(record, text, shown, ctx)
        elif test == "TEST01" and name == VERIFY_ACCURACY:
            _counts(record, text, shown, ctx)


def _candidates(detail_path: str | None, ctx: Context) -> list[float]:
    """The numbers a verify text may print as a run's score: the detail log's metric and the summary's result
    lines, raw and, for latencies, converted to a rate (the TEST04 script's 1e9/ns; docs/rules.md §3 item 7)."""
    if detail_path is None:
        return []
    found: list[float] = []
    facts = ctx.cache.get(detail_path)
    summary = ctx.cache.get(os.path.join(os.path.dirname(detail_path), SUMMARY))
    if facts is not None and facts.scenario in performance.RESULT_KEY:
        value = facts.get(performance.RESULT_KEY[facts.scenario])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.append(float(value))
    if summary is not None:
        for key, value in summary.values.items():
            if ("per second" in key or "percentile" in key) and "token" not in key.lower():
                try:
                    found.append(float(value))
                except ValueError:
                    continue
    return found + [1e9 / v for v in found if v > 0]


def _scores(record: Record, text: str, shown: str, ctx: Context) -> None:
    printed = texts.scores(text)
    runs = ctx.cell.runs
    sides = {
        "reference": os.path.join(runs["performance"], DETAIL) if "performance" in runs else None,
        "test": record.logs.get("detail"),
    }
    for side, (value, precision) in sorted(printed.items()):
        candidates = _candidates(sides.get(side), ctx)
        if not candidates or any(texts.same_number(value, c, precision) for c in candidates):
            continue
        log = sides[side]
        assert log is not None
        facts = ctx.cache.get(log)
        actual = facts.get(performance.RESULT_KEY.get(facts.scenario or "", ""), candidates[0]) if facts else None
        record.add(
            rules.finding(
                "verify-text-figures-differ",
                f"{os.path.basename(shown)} prints the {side} score {value:g}, but the "
                f"{'submission' if side == 'reference' else 'compliance'} run beside it scores {actual}",
                shown,
                [Evidence(shown, f"{side} score", value, ctx.shown(log), "score", actual)],
            )
        )


def _counts(record: Record, text: str, shown: str, ctx: Context) -> None:
    """TEST01's accuracy counts against the logs: the accuracy run's entries (its sample count) and, when the
    compliance log is whole, the compliance run's."""
    printed = texts.counts(text)
    pairs: list[tuple[str, int | tuple[int, ...], str]] = []
    runs = ctx.cell.runs
    acc_log = ctx.cache.get(os.path.join(runs["accuracy"], ACCURACY)) if "accuracy" in runs else None
    if acc_log is not None and not acc_log.truncated and acc_log.entries is not None and not acc_log.problem:
        pairs.append(("num_acc_log_entries", acc_log.entries, acc_log.path))
    acc_detail = ctx.cache.get(os.path.join(runs["accuracy"], DETAIL)) if "accuracy" in runs else None
    if acc_detail is not None and (acc_log is None or acc_log.truncated):
        total = acc_detail.get("qsl_reported_total_count")
        if isinstance(total, int) and acc_detail.get("effective_test_mode") == "AccuracyOnly":
            pairs.append(("num_acc_log_entries", _issued(total, acc_detail), acc_detail.path))
    comp = ctx.cache.get(record.logs["accuracy"]) if "accuracy" in record.logs else None
    if comp is not None and not comp.truncated and comp.entries is not None and not comp.problem:
        pairs.append(("num_perf_log_entries", comp.entries, comp.path))
    for key, actual, path in pairs:
        value = printed.get(key)
        allowed = actual if isinstance(actual, tuple) else (actual,)
        if value is not None and value not in allowed:
            held = " or ".join(str(n) for n in allowed)
            record.add(
                rules.finding(
                    "verify-text-figures-differ",
                    f"verify_accuracy.txt says {key} = {value}, but {ctx.shown(path)} holds {held}",
                    shown,
                    [Evidence(shown, key, value, ctx.shown(path), "entries", held)],
                )
            )


def _issued(total: int, detail: FileFacts) -> tuple[int, ...]:
    """The entries an accuracy run logs: every sample once, or, when its queries hold several samples
    (MultiStream), up to the last whole query (24781 samples in queries of 8 log 24784 entries)."""
    per_query = detail.get("effective_samples_per_query")
    if isinstance(per_query, int) and per_query > 1 and total % per_query:
        return total, total + per_query - total % per_query
    return (total,)


def review_stray(cell: Cell, ctx: Context) -> Record | None:
    """The logs of the cell's compliance folder that lie outside every TEST folder (review.md §4)."""
    if not cell.stray_logs or cell.compliance_dir is None:
        return None
    record = Record(cell.key, "logs", cell.compliance_dir, "stray")
    record.add(
        rules.finding(
            "logs-misfiled",
            f"{len(cell.stray_logs)} LoadGen log(s) lie in the compliance folder outside any TEST folder: "
            + ", ".join(ctx.shown(p) for p in cell.stray_logs[:3]),
            ctx.shown(cell.compliance_dir),
            [Evidence(ctx.shown(p)) for p in cell.stray_logs[:5]],
        )
    )
    return record
