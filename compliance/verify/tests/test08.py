"""TEST08: DLRMv3 predictions in performance mode match the accuracy run's, by normalized entropy (docs/rules.md §2.5).

Vocabulary: a *key* is an entry's ``(ts_idx, query_idx)`` (:mod:`compliance.logs.dlrm`); a compliance entry is
*matched* when the accuracy run's log holds an entry of its key; a sample's *NE* is its weighted cross-entropy over
the baseline entropy of its weighted mean label times its total weight, with predictions and labels clipped to
[1e-7, 1 - 1e-7], and the accuracy run's labels and weights used for both runs.

Memory: the compliance log (about 4096 sampled responses) is held; the accuracy log is streamed, and only the
entries of the compliance run's ``qsl_idx`` are parsed (the others are skipped by the compiled scanner). When a
compliance key is not at its ``qsl_idx`` in the accuracy log, the whole accuracy log is read a second time.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compliance import layout
from compliance.logs import LogError
from compliance.logs.dlrm import DlrmEntry, DlrmLog, Key
from compliance.report.measure import Measure
from compliance.specs.types import Model, TestSpec
from compliance.verify import official
from compliance.verify.base import Request, Verifier, no_options
from compliance.verify.checks import evidence, inputs
from compliance.verify.result import EXAMPLES, Cause, Check, Outcome, Result, Tally

CHECK_ENTRIES = "entries"
CHECK_KEYS = "keys matched"
CHECK_NE = "normalized entropy"
CHECK_COUNT = "matched count"
ACCURACY_CHECKS = (
    inputs.CHECK_LOGS,
    inputs.CHECK_AGREE,
    evidence.CHECK_APPLIED,
    evidence.CHECK_CLEAN_REFERENCES,
    CHECK_ENTRIES,
    CHECK_KEYS,
    CHECK_NE,
    CHECK_COUNT,
)
EPS = official.TEST08_EPS  # the clipping of the official NE (and ours)
BUCKETS = 64


@dataclass
class _Perf:
    """One compliance entry: its sample, key and predictions."""

    ordinal: int
    qsl_idx: Any
    key: Key
    predictions: array


@dataclass
class _Acc:
    """The compared part of one accuracy entry."""

    qsl_idx: Any
    n: int
    values: array  # [ts, q, predictions(n), labels(n), weights(n), n]

    def part(self, i: int) -> array:
        return self.values[2 + i * self.n : 2 + (i + 1) * self.n]


def normalized_entropy(predictions: Any, labels: Any, weights: Any) -> float | None:
    """The NE of one sample (module docstring), or None when its total weight is 0 (it has no NE)."""
    total = math.fsum(weights)
    if total == 0:
        return None
    log, lo, hi = math.log, EPS, 1 - EPS
    p = [lo if v < lo else hi if v > hi else v for v in predictions]
    y = [lo if v < lo else hi if v > hi else v for v in labels]
    cross = -math.fsum(w * (b * log(a) + (1 - b) * log(1 - a)) for a, b, w in zip(p, y, weights, strict=True))
    mean = math.fsum(w * b for b, w in zip(y, weights, strict=True)) / total
    base = -(mean * log(mean) + (1 - mean) * log(1 - mean))
    return cross / (total * base) if base > 0 else None


def verify(request: Request) -> Result:
    """Verify a TEST08 compliance run against the submission's accuracy run.

    Raises:
        InputError: a required file is missing or unreadable.
    """
    test, model = request.test, request.model
    results, paths = inputs.compared_logs(request, ("accuracy",))
    result = Result("TEST08", model=model.name if model else None, inputs=dict(paths))
    tolerance, fraction = test.thresholds.ne_tolerance, test.thresholds.min_matched_fraction
    result.settings = {"ne_tolerance": tolerance, "min_matched_fraction": fraction}
    comp = inputs.detail(paths["compliance_detail"], result)
    inputs.summary_complete(paths["compliance_summary"], result, comp)
    ref_acc = inputs.accuracy_run_detail(results, result)
    result.scenario = comp.scenario if comp else None
    if comp is not None:
        result.add(evidence.check_applied(comp, test, model))
    result.add(evidence.references_clean({"accuracy": ref_acc} if ref_acc is not None else {}))
    inputs.log_errors(result, {"compliance": comp, "submission accuracy": ref_acc})
    try:
        _compare(result, paths, tolerance, _minimum(comp, test, model, fraction))
    except LogError as exc:
        result.add(Check(inputs.CHECK_LOGS, Outcome.FAIL, str(exc)))
        result.official_verdict = "FAIL"
        result.official_notes = ["json.load fails on a log: the script crashes"]
    return result


def _minimum(comp: Any, test: TestSpec, model: Model | None, fraction: float) -> dict[str, Any]:
    """The fewest matched entries that pass: ``fraction`` of the responses LoadGen was set to log, i.e. of the
    sampling target, or of the samples issued when fewer (LoadGen then logs them all) (docs/rules.md §2.5)."""
    target = comp.get("effective_accuracy_log_sampling_target") if comp is not None else None
    if not isinstance(target, int) or isinstance(target, bool):
        target = evidence.expected_settings(test, model, "Offline").get("accuracy_log_sampling_target")
    queries = comp.get("generated_query_count") if comp is not None else None
    per_query = comp.get("generated_samples_per_query") if comp is not None else None
    issued = queries * per_query if isinstance(queries, int) and isinstance(per_query, int) else None
    expected = min(x for x in (target, issued) if isinstance(x, (int, float))) if (target or issued) else 1
    return {
        "sampling_target": target,
        "issued": issued,
        "expected": expected,
        "minimum": max(1, math.ceil(fraction * expected)),
    }


def _read_compliance(path: str, entries: Tally, keys: Tally) -> tuple[list[_Perf], int, bool]:
    """The compliance log's entries in order, how many it has and whether it is truncated; layout and
    key-consistency problems tallied."""
    perf: list[_Perf] = []
    sample_of: dict[Key, Any] = {}
    key_of: dict[Any, Key] = {}
    log = DlrmLog(path, accuracy_layout=False)
    for e in log:
        if e.problem or e.values is None or e.key is None:
            entries.add(f"compliance {e.where}: {e.problem}")
            continue
        # each key is one sample and each sample one key (8.3: a SUT that labels every response with one key)
        if sample_of.setdefault(e.key, e.qsl_idx) != e.qsl_idx:
            keys.add(f"compliance {e.where}: key {e.key} was logged for qsl_idx {sample_of[e.key]} too")
        if key_of.setdefault(e.qsl_idx, e.key) != e.key:
            keys.add(f"compliance {e.where}: key {e.key}, but the sample was logged with key {key_of[e.qsl_idx]}")
        perf.append(_Perf(e.ordinal, e.qsl_idx, e.key, e.values[2:]))
    return perf, log.entries, log.truncated


def _accuracy_entry(e: DlrmEntry, found: dict[Key, _Acc], entries: Tally, duplicates: Tally) -> None:
    if e.problem or e.key is None:
        entries.add(f"accuracy {e.where}: {e.problem}")
        return
    if e.values is None:
        return  # not a key of the compliance log
    if e.key in found:
        duplicates.add(f"accuracy {e.where}: key {e.key} is also the key of qsl_idx {found[e.key].qsl_idx}")
        return
    found[e.key] = _Acc(e.qsl_idx, int(e.values[-1]), e.values)


def _read_accuracy(
    path: str, perf: list[_Perf], entries: Tally, duplicates: Tally
) -> tuple[dict[Key, _Acc], int, bool, bool]:
    """The accuracy entries of the compliance keys; (them, entries in the log, truncated, whole log read)."""
    wanted_keys = {p.key for p in perf}
    before = entries.count, list(entries.examples)  # the compliance log's problems, kept if the log is read again
    samples = {p.qsl_idx for p in perf if isinstance(p.qsl_idx, int) and not isinstance(p.qsl_idx, bool)}
    found: dict[Key, _Acc] = {}
    log = DlrmLog(path, accuracy_layout=True, wanted=samples, keep=lambda key: key in wanted_keys)
    seen_samples: set[Any] = set()
    for e in log:
        if e.qsl_idx in seen_samples:
            duplicates.add(f"accuracy {e.where}: the sample is logged again")
        seen_samples.add(e.qsl_idx)
        _accuracy_entry(e, found, entries, duplicates)
    missing = wanted_keys - found.keys()
    if not missing or log.truncated:
        return found, log.entries, log.truncated, False
    # Some compliance keys are not at their qsl_idx: read the whole log, every key checked unique in it
    found.clear()
    entries.count, entries.examples = before[0], list(before[1])
    duplicates.count, duplicates.examples = 0, []
    buckets = [array("q") for _ in range(BUCKETS)]
    log = DlrmLog(path, accuracy_layout=True, keep=lambda key: key in wanted_keys)
    for e in log:
        if e.key is not None:
            packed = e.key[0] << 24 | e.key[1]
            buckets[(packed * 0x9E3779B97F4A7C15 >> 58) & (BUCKETS - 1)].append(packed)
        _accuracy_entry(e, found, entries, duplicates)
    for bucket in buckets:
        keys = sorted(bucket)
        for a, b in zip(keys, keys[1:], strict=False):
            if a == b and (a >> 24, a & 0xFFFFFF) not in wanted_keys:
                duplicates.add(f"accuracy log: key ({a >> 24}, {a & 0xFFFFFF}) is the key of more than one entry")
    return found, log.entries, log.truncated, True


def _compare(result: Result, paths: dict[str, str], tolerance: float, minimum: dict[str, Any]) -> None:
    entries, keys, duplicates = Tally(), Tally(), Tally()
    perf, perf_entries, comp_truncated = _read_compliance(paths["compliance_accuracy_log"], entries, keys)
    found, acc_entries, acc_truncated, whole = _read_accuracy(
        paths["reference_accuracy_log"], perf, entries, duplicates
    )
    if whole:
        result.note(
            "some compliance keys are not at their qsl_idx in the accuracy log: the whole log was read to find them"
        )
    unmatched, mismatches = Tally(), Tally()
    matched = 0
    state: dict[str, Any] = {"matched": 0, "unmatched": 0, "mismatches": 0, "crash": ""}
    if acc_truncated:
        state["crash"] = "json.load fails on the truncated accuracy log"
    truncated = [
        name for name, cut in (("the compliance", comp_truncated), ("the accuracy run's", acc_truncated)) if cut
    ]
    for p in perf:
        acc = found.get(p.key)
        if acc is None:
            if truncated:  # its entry may be in the part the truncation cut: not checkable, not a failure
                continue
            unmatched.add(f"compliance entry {p.ordinal} (qsl_idx {p.qsl_idx}): no accuracy entry has key {p.key}")
            state["unmatched"] += 1
            continue
        matched += 1
        _one(p, acc, tolerance, entries, mismatches, state)
    figures = {
        "accuracy_entries": acc_entries,
        "compliance_entries": perf_entries,
        "matched": matched,
        "unmatched": unmatched.count,
        "ne_mismatches": mismatches.count,
        "invalid_entries": entries.count,
        "inconsistent_keys": keys.count,
        "duplicate_keys": duplicates.count,
        "tolerance": tolerance,
        **minimum,
    }
    result.add(_check(CHECK_ENTRIES, entries, "entries are not in the DLRMv3 layout or hold values out of range", {}))
    key_problems = Tally(unmatched.count + keys.count + duplicates.count)
    key_problems.examples = (unmatched.examples + keys.examples + duplicates.examples)[:EXAMPLES]
    what = (
        f"{unmatched.count} compliance entries unmatched, {keys.count} with inconsistent keys, "
        f"{duplicates.count} ambiguous accuracy entries"
    )
    result.add(_check(CHECK_KEYS, key_problems, what, {}, counted=False))
    result.add(_check(CHECK_NE, mismatches, f"of {matched} matched samples differ by more than {tolerance:.2%}", {}))
    if truncated:  # a published folder after the mandatory truncation (docs/rules.md §8.1)
        reason = (
            f"{' and '.join(truncated)} log{'s are' if len(truncated) > 1 else ' is'} truncated (the submission tools "
            f"keep the first and last 4 KiB): {matched} of the {perf_entries} compliance entries that survive could "
            "be compared; TEST08 needs all of them"
        )
        result.add(Check(CHECK_COUNT, Outcome.NOT_CHECKABLE, reason, figures, cause=Cause.TRUNCATED_LOG))
    elif matched < minimum["minimum"]:
        reason = (
            f"{matched} matched entries, fewer than {minimum['minimum']} "
            f"({result.settings['min_matched_fraction']:.0%} of the {minimum['expected']} responses LoadGen was set "
            "to log)"
        )
        result.add(Check(CHECK_COUNT, Outcome.FAIL, reason, figures))
    else:
        result.add(Check(CHECK_COUNT, Outcome.PASS, "", figures))
    result.check(CHECK_NE).figures.update(examples=mismatches.examples)  # type: ignore[union-attr]
    result.official_verdict, result.official_notes = official.test08_verdict(state)


def _check(name: str, tally: Tally, what: str, figures: dict, counted: bool = True) -> Check:
    if not tally.count:
        return Check(name, Outcome.PASS, "", figures)
    head = f"{tally.count} {what}" if counted else what
    return Check(name, Outcome.FAIL, f"{head}, e.g. {tally.examples[0]}", {**figures, "examples": tally.examples})


def _one(p: _Perf, acc: _Acc, tolerance: float, entries: Tally, mismatches: Tally, state: dict) -> None:
    """Compare one matched compliance entry with its accuracy entry (and emulate the official comparison)."""
    where = f"key {p.key} (compliance entry {p.ordinal})"
    preds, labels, weights = acc.part(0), acc.part(1), acc.part(2)
    ours = p.predictions
    state["matched"] += 1
    bad_acc = _out_of_range(preds, labels, weights)
    if len(ours) != acc.n or bad_acc or not math.isfinite(sum(ours)) or min(ours) < 0 or max(ours) > 1:
        official.test08_one(ours, preds, labels, weights, tolerance, state)  # the rare cases: the official way
        if len(ours) != acc.n:
            entries.add(f"{where}: {len(ours)} predictions for the accuracy run's {acc.n} candidates")
        elif bad_acc:
            entries.add(f"accuracy entry of {where}: {bad_acc}")
        elif not math.isfinite(sum(ours)):
            mismatches.add(f"{where}: a prediction is NaN or infinite")
        else:
            entries.add(f"{where}: a prediction outside [0, 1]")
        return
    if ours == preds:  # the same float32 values (an honest, deterministic run): the same NE, for both verdicts
        return
    acc_ne = normalized_entropy(preds, labels, weights)
    if acc_ne is None:  # weight 0 on every candidate: no NE; the predictions themselves must agree
        worst = max(abs(a - b) / max(abs(a), EPS) for a, b in zip(ours, preds, strict=True))
        if worst > tolerance:
            mismatches.add(f"{where}: weight 0, predictions differ by up to {worst:.2%}")
        return  # the official script skips it: both its NEs are 0
    perf_ne = normalized_entropy(ours, labels, weights)
    assert perf_ne is not None
    diff = abs(perf_ne - acc_ne) / abs(acc_ne)
    if not diff <= tolerance:
        mismatches.add(f"{where}: NE {acc_ne:.6g} in the accuracy run, {perf_ne:.6g} here ({diff:.2%})")
        state["mismatches"] += 1  # finite, in range: the official NEs are these


def _out_of_range(preds: array, labels: array, weights: array) -> str:
    # sums, min and max run in C; a sum of float32 values cannot overflow a double, so it is finite iff all are
    if not all(math.isfinite(sum(part)) for part in (preds, labels, weights)):
        return "a value is NaN or infinite"
    if min(preds) < 0 or max(preds) > 1 or min(labels) < 0 or max(labels) > 1:
        return "a prediction or label outside [0, 1]"
    if min(weights) < 0:
        return "a negative weight"
    return ""


# -- rendering -----------------------------------------------------------------------------------------------------


def _render(result: Result) -> dict[str, str]:
    """verify_accuracy.txt: the official script's count lines (it prints them and writes no file), our checks, and
    a last line exactly ``TEST PASS`` or ``TEST FAIL`` (the checker wants a line exactly ``TEST PASS``)."""
    count = result.check(CHECK_COUNT)
    f = count.figures if count else {}
    lines = []
    if "matched" in f:
        lines += [
            f"num_acc_log_entries = {f['accuracy_entries']}",
            f"num_perf_log_entries = {f['compliance_entries']}",
            f"num_matched = {f['matched']}",
            f"num_unmatched = {f['unmatched']}",
            f"num_ne_mismatch = {f['ne_mismatches']}",
            f"num_invalid_entries = {f['invalid_entries']}",
            f"min_matched = {f['minimum']}",
            f"tolerance = {f['tolerance']:.2%}",
        ]
    ne = result.check(CHECK_NE)
    for example in ne.figures.get("examples", []) if ne else []:
        lines.append(f"  NE mismatch at {example}")
    lines.append("")
    for check in result.checks:
        lines.append(f"{check.name}: {check.outcome.value}" + (f": {check.reason}" if check.reason else ""))
    passed = all(c.passed for c in result.checks if c.name in ACCURACY_CHECKS) and result.verdict == "PASS"
    lines += ["", "TEST PASS" if passed else "TEST FAIL"]
    return {layout.VERIFY_ACCURACY: "\n".join(lines) + "\n"}


def _measures(data: Mapping[str, Any]) -> tuple[Measure, ...]:
    checks = {c["name"]: c for c in data.get("checks", [])}
    check = checks.get(CHECK_COUNT, {})
    f = check.get("figures", {})
    if "matched" not in f:
        return ()
    passed = check.get("outcome") != Outcome.FAIL.value
    return (Measure("matched", f["matched"], passed, low=f["minimum"], digits=0, bound_digits=0, unit="samples"),)


def _figures(data: Mapping[str, Any]) -> str:
    checks = {c["name"]: c for c in data.get("checks", [])}
    f = checks.get(CHECK_COUNT, {}).get("figures", {})
    if "matched" not in f:
        return ""
    count = _measures(data)[0]
    matched = f"(min {f['minimum']})" if count.passed else f"({count.text()})"
    return f"NE mismatches {f['ne_mismatches']}/{f['matched']} matched {matched}, {f['unmatched']} unmatched"


def _check_detail(check: Check) -> str:
    f = check.figures
    if check.name == CHECK_COUNT and "matched" in f:
        return f"{f['matched']} matched, at least {f['minimum']} needed"
    return ""


VERIFIER = Verifier(
    name="TEST08",
    summary="DLRMv3 predictions in performance mode match the accuracy run's (normalized entropy within 0.1%)",
    reference_runs=("accuracy",),
    needs_scenario=False,
    text_files=(layout.VERIFY_ACCURACY,),
    copies=inputs.RUN_COPIES,
    options=(),
    resolve=no_options,
    verify=verify,
    render=_render,
    figures=_figures,
    measures=_measures,
    check_detail=_check_detail,
)
